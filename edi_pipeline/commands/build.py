"""``edi-pipeline build``: encounters → coded, scrubbed, pyx12-validated 837P files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edi_pipeline.app.run import execute, settings_for


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
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Practice configuration TOML (default: the bundled demo practice).",
)
@click.option(
    "--ledger",
    metavar="PATH",
    help="Ledger (default: $EDI_PIPELINE_LEDGER, the configuration, or ./edi-out/ledger.sqlite).",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="pyx12 validation processes (default: one per CPU).",
)
@click.option("--json", "as_json", is_flag=True, help="Print report.json on stdout.")
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
    outcome = execute(settings)
    if as_json:
        click.echo(json.dumps(outcome.report(), indent=2))
        click.echo(outcome.summary(), err=True)
    else:
        click.echo(outcome.summary())
    sys.exit(outcome.exit_code)
