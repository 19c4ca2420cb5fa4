"""``edi-pipeline reprocess [--claim ID | --file FILE | --rejected]``: send rejected or corrected
claims again with new control numbers (frequency 7 + REF*F8 where the payer has the claim)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edi_pipeline.app import reprocess as app
from edi_pipeline.commands._options import CONFIG_OR_DEMO, config_option, json_option
from edi_pipeline.ledger import ledger_spec, open_ledger
from edi_pipeline.maps import load_maps
from edi_pipeline.practice import load_practice

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("reprocess")
@click.option("--claim", default=None, help="The encounter (CLM01) whose claim to send again.")
@click.option("--file", "file", type=_FILE, default=None, help="A corrected encounter export.")
@click.option("--rejected", is_flag=True, help="Every claim a TA1, 999 or 277CA rejected.")
@click.option(
    "--input",
    "inputs",
    type=_FILE,
    multiple=True,
    help="Encounter export(s) to take the encounters from (with --claim or --rejected).",
)
@click.option(
    "--out",
    "out_dir",
    default=Path("edi-out"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the new 837P files.",
)
@config_option(CONFIG_OR_DEMO)
@click.option("--ledger", "ledger_option", metavar="PATH", help="Ledger path or URL.")
@json_option()
def command(
    claim: str | None,
    file: Path | None,
    rejected: bool,
    inputs: tuple[Path, ...],
    out_dir: Path,
    config: Path | None,
    ledger_option: str | None,
    as_json: bool,
) -> None:
    """Rebuild rejected claims after their encounter or the maps were fixed.

    A claim a TA1, 999 or 277CA rejected is rebuilt as the same claim with new control
    numbers (the payer never adjudicated it). A claim the payer has is corrected by a
    replacement, frequency 7 with REF*F8, when its payer claim number is known; never by a
    second original. Claims still in flight are left alone. Each claim is coded, scrubbed and
    validated with pyx12 again before it is released.

    Exit 0 when every selected claim went out, 1 when one was refused, held or rejected, 2 on
    a usage or configuration error.

    Example: edi-pipeline reprocess --file corrected/2025-03-04.json --config practice.toml
    """
    practice = load_practice(config)
    selection = app.Selection(claim=claim, file=file, rejected=rejected, inputs=inputs)
    selection.check()
    maps = load_maps()
    ledger = open_ledger(ledger_spec(ledger_option, configured=practice.ledger))
    try:
        report = app.reprocess(
            selection, practice=practice, maps=maps, ledger=ledger, out_dir=out_dir
        )
    finally:
        ledger.close()
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), indent=1) + "\n")
    else:
        for item in report.items:
            where = f" into {item.isa13}" if item.isa13 else ""
            click.echo(f"{item.encounter_id}: {item.action}{where}: {item.message}")
            for hold in item.holds:
                click.echo(f"  hold {hold.rule}: {hold.message}")
            for error in item.errors:
                click.echo(f"  {error.field}: {error.message}")
        for r in report.intake_rejections:
            click.echo(f"{r.file} record {r.record}: rejected at intake (see the quarantine)")
        for x in report.interchanges:
            click.echo(f"wrote {x.file} (ISA13 {x.isa13}, {x.claims} claims)")
        if not report.items:
            click.echo("nothing selected to reprocess")
    sys.exit(report.exit_code)
