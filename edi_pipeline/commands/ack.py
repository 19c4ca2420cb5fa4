"""``edi-pipeline ack FILE... [--json] [--ledger PATH]``: read TA1/999/277CA acknowledgments, tie
each verdict to our interchange, claim and line, and move the claims in the ledger (cli.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edi_pipeline.app import ack as app
from edi_pipeline.commands._options import (
    CONFIG_FOR_LEDGER,
    config_option,
    json_option,
    ledger_from,
    read_ledger_option,
)
from edi_pipeline.maps import load_maps


@click.command("ack")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@json_option()
@config_option(CONFIG_FOR_LEDGER)
@read_ledger_option
def command(
    files: tuple[Path, ...], as_json: bool, config: Path | None, ledger_option: str | None
) -> None:
    """Read TA1, 999 and 277CA acknowledgments and mark our claims accepted or rejected.

    Every rejection is tied to the interchange (ISA13), transaction set (ST02), claim (CLM01)
    and, where the acknowledgment says, the service line and segment, with a plain-language
    reason. A verdict about something we never sent is reported, not dropped. The same file
    content is ingested once.

    Exit 0 when everything was accepted, 1 when a claim was rejected, a verdict matched
    nothing we sent or a file could not be read cleanly, 2 on a usage or map error.

    Example: edi-pipeline ack inbound/clearinghouse-2025-01-15.999 --json
    """
    maps = load_maps()
    with ledger_from(config, ledger_option) as ledger:
        report = app.ingest_ack_files(files, ledger, maps)
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), indent=1) + "\n")
    else:
        _human(report)
    sys.exit(report.exit_code)


def _human(report: app.AckReport) -> None:
    for f in report.files:
        kinds = "/".join(f.kinds) or "no acknowledgment"
        if f.duplicate_of:
            click.echo(f"{f.file}: {kinds}, already ingested at {f.duplicate_of}; nothing changed")
        else:
            click.echo(f"{f.file}: {kinds}, {len(f.outcomes)} claim verdict(s)")
        for p in f.problems:
            where = f"segment {p.where.segment_index} ({p.where.segment_id})"
            if p.where.element:
                where += f" {p.where.element}"
            click.echo(f"  {p.severity}: {where}: {p.message}")
        for o in f.outcomes:
            v = o.verdict
            move = (
                f"{o.status_before} -> {o.status_after}"
                if o.applied
                else f"{o.status_before} (unchanged: {o.note})"
            )
            click.echo(f"  claim {v.claim.encounter_id} [{v.source}]: {move}")
            for r in v.reasons:
                click.echo(f"    {r.code or '-'}: {r.message}")
        for u in f.unmatched:
            click.echo(f"  NOT OURS {u.source} {u.reference}: {u.message}")
    s = report.as_json()["summary"]
    click.echo(
        f"{s['accepted']} accepted, {s['rejected']} rejected, {s['payer_accepted']} accepted by "
        f"the payer, {s['payer_rejected']} rejected by the payer, {s['unmatched']} unmatched, "
        f"{s['errors']} file error(s)"
    )
