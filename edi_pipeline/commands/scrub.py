"""``edi-pipeline scrub INPUT... [--json] [--ledger PATH] [--as-of DATE]``: every claim clean or
held with its reasons, and ``--override CLAIM_ID:RULE_ID --reason TEXT`` to let one through."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edi_pipeline.app import scrub as app
from edi_pipeline.maps import load_maps
from edi_pipeline.models import money

if TYPE_CHECKING:
    from edi_pipeline.ledger import Ledger


def _as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD (got {value!r})") from None


@click.command("scrub")
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--ledger",
    "ledger_option",
    default=None,
    help="Ledger for claim history, overrides and held claims (path or postgresql:// URL; "
    "default $EDI_PIPELINE_LEDGER, the practice's ledger, else ./edi-out/ledger.sqlite when it "
    "exists).",
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    callback=_as_of,
    help="Scrub as if submitting on this day, YYYY-MM-DD (default: today). Rules dated by "
    "submission (timely filing) compare with it.",
)
@click.option(
    "--config",
    "config",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Practice configuration (default: the bundled demo practice).",
)
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="CLAIM_ID:RULE_ID",
    help="Record that this rule no longer holds this claim (repeatable); needs --reason.",
)
@click.option("--reason", default=None, help="Why the override is justified (kept in the ledger).")
def command(
    inputs: tuple[Path, ...],
    as_json: bool,
    ledger_option: str | None,
    as_of: date | None,
    config: Path | None,
    overrides: tuple[str, ...],
    reason: str | None,
) -> None:
    """Code encounters and check each claim against its payer's rules: clean, or held with
    every rule it breaks (id, category, message, source). Held claims are stored in the ledger
    with their holds and are not built; fix the encounter and scrub or run it again, or record
    an override with a reason.

    Exit 0 when every claim is clean, 1 when a claim is held or a record was rejected or could
    not be coded, 2 on a usage or map error.

    \b
    Examples:
      edi-pipeline scrub fixtures/demo/scrub_encounters.json --json --as-of 2026-11-23
      edi-pipeline scrub --override S-AET-BIOSIM:aetna-infliximab-biosimilar-first \\
        --reason "documented intolerance to Inflectra, chart note 2026-10-02"
    """
    from edi_pipeline.practice import load_practice

    if not inputs and not overrides:
        raise click.UsageError("give INPUT files to scrub, or --override CLAIM_ID:RULE_ID")
    if reason is not None and not overrides:
        raise click.UsageError("--reason goes with --override")
    maps = load_maps()
    practice = load_practice(config)
    parsed = [app.parse_override(o) for o in overrides]
    ledger = _open_ledger(ledger_option, practice.ledger, required=bool(overrides))
    try:
        if parsed:
            app.record_overrides(
                ledger, practice.key, parsed, reason or "", maps=maps, now=datetime.now(UTC)
            )
            if not as_json:
                for claim_id, rule in parsed:
                    click.echo(f"override recorded: {claim_id} {rule}", err=True)
        if not inputs:
            sys.exit(0)
        run = app.scrub_files(
            inputs,
            maps=maps,
            as_of=as_of or date.today(),
            ledger=ledger,
            practice=practice.key,
            now=datetime.now(UTC),
        )
        recorded = {}
        if ledger is not None:
            from edi_pipeline.ledger.scrub import overrides as ledger_overrides

            recorded = {k: dict(v) for k, v in ledger_overrides(ledger, practice.key).items()}
    finally:
        if ledger is not None:
            ledger.close()
    if as_json:
        sys.stdout.write(json.dumps(app.run_json(run, recorded), indent=1) + "\n")
    else:
        _human(run)
    sys.exit(run.exit_code)


def _open_ledger(option: str | None, configured: str | None, *, required: bool) -> Ledger | None:
    """``--ledger``, else ``$EDI_PIPELINE_LEDGER``, else the practice's ledger (created when
    missing); otherwise ``./edi-out/ledger.sqlite`` when it exists (or must, for an override)."""
    from edi_pipeline.ledger import DEFAULT_PATH, ENV_VAR, ledger_spec, open_ledger

    if option or os.environ.get(ENV_VAR) or configured:
        return open_ledger(ledger_spec(option, configured))
    default = Path.cwd() / DEFAULT_PATH
    if default.exists() or required:
        return open_ledger(default)
    return None


def _human(run: app.ScrubRun) -> None:
    for o in run.outcomes:
        if o.scrubbed is None:
            click.echo(f"{o.encounter_id}: not coded")
            for p in o.problems:
                if p.severity == "error":
                    click.echo(f"  {p.where.field}: {p.message}")
            continue
        claim = o.scrubbed.claim
        click.echo(
            f"{claim.encounter_id} ({claim.payer_id}, {claim.date_of_service}, "
            f"{money(claim.total_charge)}): {o.status}"
        )
        for h in o.scrubbed.holds:
            click.echo(f"  [{h.category}] {h.rule}: {h.message}")
            click.echo(f"      source: {h.source}")
        for h in o.scrubbed.overridden:
            click.echo(f"  overridden: {h.rule}")
    for r in run.rejected:
        click.echo(f"{r.file} record {r.record} ({r.encounter_id or 'no id'}): rejected")
        for p in r.problems:
            if p.severity == "error":
                click.echo(f"  {p.where.field}: {p.message}")
    clean = sum(1 for o in run.outcomes if o.status == "clean")
    click.echo(
        f"{clean} clean, {len(run.held)} held ({money(run.held_dollars)}), "
        f"{sum(1 for o in run.outcomes if o.status == 'not_coded')} not coded, "
        f"{len(run.rejected)} rejected (as of {run.as_of})"
    )
