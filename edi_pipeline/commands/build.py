"""``edi-pipeline build``: encounters → coded, scrubbed, pyx12-validated 837P files."""

from __future__ import annotations

from pathlib import Path

import click

from edi_pipeline.app.run import execute, settings_for
from edi_pipeline.commands import _options as opts


@click.command("build")
@click.argument(
    "inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the 837P files, report.json and the quarantine.",
)
@opts.config_option(opts.CONFIG_OR_DEMO)
@opts.outbound_ledger_option
@opts.processes_option
@opts.report_json_option
def command(
    inputs: tuple[Path, ...],
    out_dir: Path,
    config: Path | None,
    ledger: str | None,
    processes: int | None,
    as_json: bool,
) -> None:
    """Code, scrub and build encounters into 837P interchanges validated by pyx12.

    One interchange per receiver; claims that fail validation are not released and are
    reported with their segment; held claims say why. Writes DIR/report.json. Re-running the
    same input builds nothing new and says so. Exit 1 when records or claims were rejected or
    held, 2 on a usage or configuration error.

    Example: edi-pipeline build exports/2025-03-04.json --out edi-out --config practice.toml
    """
    settings = settings_for(
        inputs,
        config=config,
        out_dir=out_dir,
        ledger=ledger,
        processes=processes,
        demo_when_empty=False,
    )
    opts.finish_outbound(execute(settings), as_json)
