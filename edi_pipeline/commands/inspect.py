"""``edi-pipeline inspect FILE... [--json] [--delimiters ELEM,COMP,REP,SEG]`` (cli.md)."""

from __future__ import annotations

import json
import sys

import click

from edi_pipeline.app import inspect as app
from edi_pipeline.x12.reader import Delimiters


def _delimiters(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> Delimiters | None:
    if value is None:
        return None
    try:
        return Delimiters.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("inspect")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--delimiters",
    metavar="ELEM,COMP,REP,SEG",
    callback=_delimiters,
    help="Use these delimiters instead of reading them from the ISA (for files with no ISA "
    "whose delimiters cannot be inferred), e.g. '*,:,^,~' or '*,>,none,\\n'.",
)
def command(files: tuple[str, ...], as_json: bool, delimiters: Delimiters | None) -> None:
    """Read any X12 file (837P, 835, 999, 277CA, TA1, others) and show its delimiters, envelopes,
    transaction sets with their implementation guide, segment and claim counts, and every
    structural problem with its segment number, segment id and byte offset.

    Each file is read in turn, whatever happens to the one before. Exit 0 when nothing is wrong,
    1 when a file has structural errors, 2 when a file cannot be read at all.

    Example: edi-pipeline inspect claims.837 remit.835 --json
    """
    report = app.inspect_files(files, delimiters=delimiters)
    if as_json:
        click.echo(json.dumps(app.report_json(report), indent=2))
    else:
        for line in app.render_text(report):
            click.echo(line)
    sys.exit(report.exit_code)
