"""``edi-pipeline code INPUT... [--json]``: intake + coding, the lines the pipeline would bill."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edi_pipeline.app import code as app
from edi_pipeline.commands._options import json_option
from edi_pipeline.maps import load_maps
from edi_pipeline.models import money


@click.command("code")
@click.argument(
    "inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@json_option()
def command(inputs: tuple[Path, ...], as_json: bool) -> None:
    """Read encounter exports and derive every claim's service lines from the clinical facts:
    drug units with JW/JZ, NDC quantities, administration tiers, joint procedures with their
    modifiers, E/M, labs and charges. Each line says what it was derived from. No payer policy
    (see scrub) and no X12 (see build).

    Exit 0 when every record was coded, 1 when a record was rejected at intake or an encounter
    could not be coded with certainty (each named with its field), 2 on a usage or map error.

    Example: edi-pipeline code fixtures/demo/encounters.json --json
    """
    maps = load_maps()
    run = app.code_files(inputs, maps=maps)
    if as_json:
        sys.stdout.write(json.dumps(app.run_json(run), indent=1, ensure_ascii=False) + "\n")
    else:
        _human(run)
    sys.exit(run.exit_code)


def _human(run: app.CodeRun) -> None:
    for coded in run.coded:
        claim = coded.claim
        if claim is None:
            click.echo(f"{coded.encounter.encounter_id}: not coded")
            for p in coded.problems:
                if p.severity == "error":
                    click.echo(f"  {p.where.field}: {p.message}")
            continue
        click.echo(
            f"{claim.encounter_id} ({claim.payer_id}, {claim.date_of_service}, "
            f"{money(claim.total_charge)})"
        )
        for n, line in enumerate(claim.lines, start=1):
            modifiers = "-".join(line.modifiers)
            code = f"{line.procedure}{'-' + modifiers if modifiers else ''}"
            ndc = f"  NDC {line.ndc} {line.ndc_unit}{line.ndc_quantity}" if line.ndc else ""
            click.echo(
                f"  {n:>2} {code:<14} x{line.units:<5} {money(line.charge):>10}{ndc}"
                f"   {line.derived_from}"
            )
        for note in claim.notes:
            click.echo(f"     note: {note}")
        for p in coded.problems:
            click.echo(f"     warning {p.where.field}: {p.message}")
    for r in run.rejected:
        click.echo(f"{r.file} record {r.record} ({r.encounter_id or 'no id'}): rejected")
        for p in r.problems:
            if p.severity == "error":
                click.echo(f"  {p.where.field}: {p.message}")
    claims = run.claims
    click.echo(f"{len(claims)} coded, {len(run.not_coded)} not coded, {len(run.rejected)} rejected")
