"""``edi-pipeline run``: the whole outbound job (intake → coding → scrub → build)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from edi_pipeline.app.deliver import DeliverySettings
from edi_pipeline.app.run import execute, settings_for
from edi_pipeline.commands import _options as opts


@click.command("run")
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@opts.config_option(opts.CONFIG_OR_DEMO)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: ./edi-out).",
)
@opts.outbound_ledger_option
@opts.processes_option
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Submission day the payer rules are checked for (default: today; the demo's own day).",
)
@click.option(
    "--to",
    "deliver_to",
    metavar="DEST",
    help="Deliver after the build: folder:DIR or sftp://user@host:port/path "
    "(default: $EDI_PIPELINE_DELIVER_TO; none: build only).",
)
@click.option("--identity", type=click.Path(dir_okay=False, path_type=Path), help="SFTP key.")
@click.option(
    "--known-hosts", type=click.Path(dir_okay=False, path_type=Path), help="SFTP known_hosts."
)
@opts.report_json_option
def command(
    inputs: tuple[Path, ...],
    config: Path | None,
    out_dir: Path | None,
    ledger: str | None,
    processes: int | None,
    as_of: datetime | None,
    deliver_to: str | None,
    identity: Path | None,
    known_hosts: Path | None,
    as_json: bool,
) -> None:
    """Run the outbound job: read encounters, code, scrub, build validated 837P files.

    With no INPUT and no --config it runs the bundled demo practice and encounters and writes
    to ./edi-out/ (it says so on stderr). Prints a summary: claims built, held, rejected, and
    their dollars; DIR/report.json has the details. Exit 1 when records or claims were
    rejected or held, 2 on a usage or configuration error.

    With --to (or EDI_PIPELINE_DELIVER_TO) the built interchanges are then delivered exactly
    once, as `edi-pipeline deliver` does.

    Example: edi-pipeline run exports/today.jsonl --config practice.toml --to folder:/srv/outbox
    """
    settings = settings_for(
        inputs,
        config=config,
        out_dir=out_dir,
        ledger=ledger,
        processes=processes,
        as_of=as_of.date() if as_of else None,
        demo_when_empty=True,
    )
    delivery = (
        DeliverySettings.from_options(deliver_to, identity=identity, known_hosts=known_hosts)
        if deliver_to
        else None
    )
    opts.finish_outbound(execute(settings, delivery=delivery), as_json)
