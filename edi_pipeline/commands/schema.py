"""``edi-pipeline schema encounter``: print the published JSON Schema of one encounter."""

from __future__ import annotations

import sys

import click

from edi_pipeline.intake import schema_text

SCHEMAS = {"encounter": schema_text}


@click.command("schema")
@click.argument("name", type=click.Choice(sorted(SCHEMAS)))
def command(name: str) -> None:
    """Print a published JSON Schema (draft 2020-12) on stdout.

    ``encounter`` is the input contract of intake: one encounter of a JSON or JSON Lines export
    (CSV rows are grouped into the same shape). Validate an export with any JSON Schema tool
    before sending it; intake applies the same schema plus named semantic rules.

    Example: edi-pipeline schema encounter > encounter.schema.json
    """
    sys.stdout.write(SCHEMAS[name]())


__all__ = ["command"]
