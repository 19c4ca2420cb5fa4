"""``edi-pipeline validate FILE... [--json] [--processes N]`` (cli.md)."""

from __future__ import annotations

import json
import sys

import click

from edi_pipeline.app import validate as app


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Validate files in this many worker processes.",
)
def command(files: tuple[str, ...], as_json: bool, processes: int) -> None:
    """TR3 validation of 837P (005010X222A1, and X222A2 read with the A1 map), 835, 999 and
    277CA files with pyx12, plus the checks pyx12 does not make: CLM02 equals the line charges,
    diagnosis pointers resolve, dates are real and not in the future, NPI check digits, ICD-10-CM
    code shapes, HL parent ids. Every error names its segment, loop and (837P) claim.

    Exit 0 when every file is valid, 1 when any has errors, 2 when a file cannot be read.

    Example: edi-pipeline validate edi-out/claims-000000001.837 --json
    """
    report = app.validate_files(files, processes=processes)
    if as_json:
        click.echo(json.dumps(app.report_json(report), indent=2))
    else:
        for line in app.render_text(report):
            click.echo(line)
    sys.exit(report.exit_code)
