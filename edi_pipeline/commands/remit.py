"""``edi-pipeline remit FILE... [--json] [--ledger PATH]``: 835s to balanced, matched, classified
claims (cli.md). JSON goes to stdout claim by claim as each is read, so any file size streams."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from edi_pipeline.app import remit as app
from edi_pipeline.maps import load_maps
from edi_pipeline.models import money


@click.command("remit")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (cli.md) on stdout.")
@click.option(
    "--ledger",
    "ledger_option",
    default=None,
    help="Ledger to match against and post to (path or postgresql:// URL; default "
    "$EDI_PIPELINE_LEDGER, else ./edi-out/ledger.sqlite when it exists).",
)
def command(files: tuple[Path, ...], as_json: bool, ledger_option: str | None) -> None:
    """Read 835 remittances: balance them, match them to the claims we sent, and classify every
    adjustment into a root cause with its fix and the dollars at stake.

    Exit 0 when every file was read and balances, 1 when a file is out of balance, unreadable
    or has bad segments (the rest is still read and reported), 2 on a usage or map error.

    Example: edi-pipeline remit payer-2025-01-10.835 --json
    """
    maps = load_maps()
    ledger = app.open_remit_ledger(ledger_option)
    out = sys.stdout
    first = True

    def emit(result: app.ClaimResult) -> None:
        nonlocal first
        out.write(("" if first else ",\n") + json.dumps(app.claim_json(result)))
        first = False

    try:
        if as_json:
            out.write('{"claims": [\n')
        run = app.run(
            files,
            maps=maps,
            ledger=ledger,
            now=datetime.now(UTC),
            on_claim=emit if as_json else None,
        )
    finally:
        if ledger is not None:
            ledger.close()
    if as_json:
        out.write('\n],\n"files": ')
        out.write(json.dumps([app.file_json(f) for f in run.files]))
        out.write(',\n"summary": ')
        out.write(json.dumps(app.summary_json(run)))
        out.write("}\n")
    else:
        _human(run)
    sys.exit(run.exit_code)


def _human(run: app.RemitRun) -> None:
    for f in run.files:
        verdict = "balanced" if f.balanced else ("UNREADABLE" if not f.readable else "NOT balanced")
        click.echo(f"{f.file}: {f.transactions} payment(s), {f.claims} claim(s), {verdict}")
        for imb in f.imbalances:
            click.echo(
                f"  {imb.level} ST02 {imb.st02} {imb.claim or ''} {imb.formula}: expected "
                f"{money(imb.expected)}, "
                f"computed {money(imb.computed)} (segment {imb.where.segment_index})"
            )
        for p in f.problems:
            click.echo(f"  {p.severity}: segment {p.where.segment_index}: {p.message}")
    click.echo(
        f"{run.claims} claims ({run.matched} matched), charged {money(run.charge)}, paid "
        f"{money(run.paid)}, denied {money(run.denied_dollars)}"
    )
    for cause, amount in sorted(run.by_root_cause.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {cause}: {money(amount)}")
    for entry in run.unmatched_claims[:20]:
        click.echo(f"  unmatched claim {entry['patient_control_number']} ({entry['file']})")
    for claim, line in run.unreported_lines[:20]:
        click.echo(
            f"  not reported: claim {claim.patient_control_number} line {line.number} "
            f"{line.procedure}"
        )
