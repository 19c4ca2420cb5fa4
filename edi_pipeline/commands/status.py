"""``edi-pipeline status [--claim ID] [--json] [--ledger PATH]``: each claim's place in its life."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edi_pipeline.app import status as app
from edi_pipeline.commands._options import (
    CONFIG_FOR_LEDGER,
    config_option,
    ledger_from,
    read_ledger_option,
)


@click.command("status")
@click.option("--claim", "claim", default=None, help="Only this encounter's claim(s) (CLM01).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (cli.md) on stdout.")
@config_option(CONFIG_FOR_LEDGER)
@read_ledger_option
def command(
    claim: str | None, as_json: bool, config: Path | None, ledger_option: str | None
) -> None:
    """Show where each claim is: held, built, sent, accepted or rejected and why, paid, denied.

    Reasons come from the holds, the acknowledgments (segment, element and line in plain
    words) and the remittances; the history lists every status the claim went through.

    Exit 0, or 1 when --claim names a claim the ledger does not know.

    Example: edi-pipeline status --claim E1001 --json
    """
    with ledger_from(config, ledger_option) as ledger:
        report = app.status(ledger, claim)
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), indent=1) + "\n")
    elif report.missing:
        click.echo(f"no claim for encounter {report.missing} in the ledger", err=True)
    else:
        for entry in report.claims:
            freq = "" if entry["frequency"] == "1" else f" (frequency {entry['frequency']})"
            click.echo(f"{entry['encounter_id']}{freq}: {entry['status']}")
            for reason in entry["reasons"]:
                line = f" line {reason['line']}" if reason.get("line") else ""
                click.echo(
                    f"  {reason['source']} {reason.get('code') or ''}{line}: {reason['message']}"
                )
            if claim is not None:
                for h in entry["history"]:
                    click.echo(f"    {h['at']} {h['status']} {h.get('source', '')}")
        if not report.claims:
            click.echo("the ledger holds no claims yet")
    sys.exit(report.exit_code)
