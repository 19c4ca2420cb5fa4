"""The scrub workflow: encounter exports → intake → coding → payer rules → clean or held.

``scrub_files`` reads every record, codes each accepted encounter and scrubs each claim against
its payer's rules. Claims are scrubbed in date-of-service order so that a claim sees the earlier
claims of the same batch (the second of two infusions in one export is checked against the
first), layered over the ledger's history when there is a ledger; results come back in input
order. With a ledger, held claims are stored with their holds (not built), the coded facts of
every claim are kept for later history, and recorded overrides are applied.

``record_overrides`` stores a person's decision that one rule does not hold one claim, with the
reason; every later scrub of that claim lets it through and reports the override.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import structlog

from edi_pipeline.coding import code
from edi_pipeline.errors import SettingsError
from edi_pipeline.intake import read_file
from edi_pipeline.maps import Maps
from edi_pipeline.models import Claim, Hold, Problem, Rejection, Scrubbed, money
from edi_pipeline.scrub import (
    ClaimHistory,
    InMemoryHistory,
    LayeredHistory,
    ScrubContext,
    scrub,
)

log = structlog.get_logger()

Status = Literal["clean", "held", "not_coded"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One accepted encounter: its scrubbed claim, or the coding problems that kept it back."""

    encounter_id: str
    file: str | None
    record: int | None
    scrubbed: Scrubbed | None
    problems: tuple[Problem, ...] = ()  # coding problems (errors and warnings)

    @property
    def status(self) -> Status:
        if self.scrubbed is None:
            return "not_coded"
        return "clean" if self.scrubbed.clean else "held"


@dataclass
class ScrubRun:
    """Everything one scrub run decided, in input order."""

    as_of: date
    outcomes: list[Outcome] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    recorded: bool = False  # verdicts were stored in a ledger

    @property
    def held(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "held"]

    @property
    def held_dollars(self) -> Decimal:
        return sum(
            (o.scrubbed.claim.total_charge for o in self.held if o.scrubbed is not None),
            Decimal("0.00"),
        )

    @property
    def exit_code(self) -> int:
        """0 every claim clean; 1 some held, not coded or rejected (the run still completed)."""
        ok = not self.rejected and all(o.status == "clean" for o in self.outcomes)
        return 0 if ok else 1


def scrub_files(
    paths: Iterable[Path],
    *,
    maps: Maps,
    as_of: date,
    ledger: Any = None,
    practice: str | None = None,
    now: datetime | None = None,
) -> ScrubRun:
    """Read, code and scrub every encounter of ``paths``; with a ledger, record the verdicts.

    ``as_of`` is the submission day the rules compare with (the CLI passes today or
    ``--as-of``); ``now`` stamps what is written to the ledger.
    """
    run = ScrubRun(as_of=as_of)
    known: frozenset[str] = frozenset()
    history: ClaimHistory
    batch = InMemoryHistory()
    overrides: dict[str, dict[str, str]] = {}
    if ledger is not None:
        if practice is None:
            raise SettingsError("scrub with a ledger needs the practice key", code="practice")
        from edi_pipeline.ledger import claims as ledger_claims
        from edi_pipeline.ledger.scrub import LedgerHistory
        from edi_pipeline.ledger.scrub import overrides as ledger_overrides

        known = frozenset(
            c.encounter_id for c in ledger_claims.all_claims(ledger) if c.status != "held"
        )
        from_ledger = LedgerHistory(ledger)
        history = LayeredHistory(batch, from_ledger)
        overrides = {k: dict(v) for k, v in ledger_overrides(ledger, practice).items()}
    else:
        history = batch

    coded: list[tuple[int, Claim]] = []
    for path in paths:
        for item in read_file(path, maps, known_ids=known):
            if isinstance(item, Rejection):
                run.rejected.append(item)
                continue
            result = code(item, maps)
            outcome = Outcome(
                encounter_id=item.encounter_id,
                file=item.source.file,
                record=item.source.record,
                scrubbed=None,
                problems=result.problems,
            )
            run.outcomes.append(outcome)
            if result.claim is not None:
                coded.append((len(run.outcomes) - 1, result.claim))

    if ledger is not None:
        from_ledger.prefetch(c for _, c in coded)  # a few queries for the whole batch
    ctx = ScrubContext.from_maps(maps, as_of=as_of, history=history, overrides=overrides)
    order = sorted(coded, key=lambda pair: (pair[1].date_of_service, pair[0]))
    for index, claim in order:
        verdict = scrub(claim, ctx)
        if verdict.clean:
            batch.add_claim(claim)
        old = run.outcomes[index]
        run.outcomes[index] = Outcome(old.encounter_id, old.file, old.record, verdict, old.problems)

    if ledger is not None:
        from edi_pipeline.ledger.scrub import record_scrub

        stamp = now or datetime.now()
        with ledger.transaction():
            for o in run.outcomes:
                if o.scrubbed is not None:
                    record_scrub(ledger, practice, o.scrubbed, stamp)  # type: ignore[arg-type]
        run.recorded = True

    by_status = Counter(o.status for o in run.outcomes)
    log.info(
        "scrub.finished",
        claims=by_status["clean"] + by_status["held"],
        clean=by_status["clean"],
        held=by_status["held"],
        not_coded=by_status["not_coded"],
        rejected=len(run.rejected),
        held_dollars=money(run.held_dollars),
    )
    return run


def parse_override(text: str) -> tuple[str, str]:
    """``CLAIM_ID:RULE_ID`` → (claim id, rule id); SettingsError naming the option otherwise."""
    claim_id, sep, rule = text.partition(":")
    if not sep or not claim_id.strip() or not rule.strip():
        raise SettingsError(
            f"--override {text!r}: expected CLAIM_ID:RULE_ID (the encounter id and the rule id "
            "printed in the hold)",
            code="override_syntax",
        )
    return claim_id.strip(), rule.strip()


def record_overrides(
    ledger: Any,
    practice: str,
    overrides: Sequence[tuple[str, str]],
    reason: str,
    *,
    maps: Maps,
    now: datetime,
) -> None:
    """Record each (claim id, rule id) override with its reason; the rule must exist."""
    from edi_pipeline.ledger.scrub import record_override

    if not reason.strip():
        raise SettingsError("--override needs --reason TEXT saying why", code="override_reason")
    known = {r.id for rules in maps.payer_rules.values() for r in rules}
    for claim_id, rule in overrides:
        if rule not in known:
            raise SettingsError(
                f"--override {claim_id}:{rule}: no payer rule has the id {rule!r}",
                code="override_rule",
            )
    with ledger.transaction():
        for claim_id, rule in overrides:
            record_override(ledger, practice, claim_id, rule, reason, now)
            log.info("scrub.override_recorded", claim_id=claim_id, rule=rule)


# ------------------------------------------------------------------ JSON


def _hold_json(hold: Hold, reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": hold.rule,
        "category": hold.category,
        "message": hold.message,
        "source": hold.source,
    }
    if reason is not None:
        out["reason"] = reason
    return out


def _problem_json(p: Problem) -> dict[str, Any]:
    return {"code": p.code, "field": p.where.field, "message": p.message, "severity": p.severity}


def run_json(run: ScrubRun, overrides: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """The ``scrub --json`` document: every claim clean or held with reasons (cli.md shapes)."""
    overrides = overrides or {}
    claims: list[dict[str, Any]] = []
    not_coded: list[dict[str, Any]] = []
    by_category: Counter[str] = Counter()
    dollars_by_category: dict[str, Decimal] = {}
    for o in run.outcomes:
        if o.scrubbed is None:
            not_coded.append(
                {
                    "encounter_id": o.encounter_id,
                    "file": o.file,
                    "record": o.record,
                    "status": "not_coded",
                    "problems": [_problem_json(p) for p in o.problems],
                }
            )
            continue
        claim = o.scrubbed.claim
        entry: dict[str, Any] = {
            "encounter_id": claim.encounter_id,
            "payer": claim.payer_id,
            "date_of_service": claim.date_of_service.isoformat(),
            "status": o.status,
            "charge": money(claim.total_charge),
            "holds": [_hold_json(h) for h in o.scrubbed.holds],
            "overridden": [
                _hold_json(h, overrides.get(claim.encounter_id, {}).get(h.rule))
                for h in o.scrubbed.overridden
            ],
            "lines": [
                {
                    "procedure": ln.procedure,
                    "modifiers": list(ln.modifiers),
                    "units": str(ln.units),
                    "charge": money(ln.charge),
                    "ndc": ln.ndc,
                    "ndc_quantity": None if ln.ndc_quantity is None else str(ln.ndc_quantity),
                    "ndc_unit": ln.ndc_unit,
                }
                for ln in claim.lines
            ],
        }
        for category in {h.category for h in o.scrubbed.holds}:
            by_category[category] += 1
            dollars_by_category[category] = (
                dollars_by_category.get(category, Decimal("0.00")) + claim.total_charge
            )
        claims.append(entry)
    counts = Counter(o.status for o in run.outcomes)
    return {
        "as_of": run.as_of.isoformat(),
        "claims": claims,
        "not_coded": not_coded,
        "rejected": [
            {
                "file": r.file,
                "record": r.record,
                "encounter_id": r.encounter_id,
                "errors": [
                    {"field": p.where.field, "message": p.message}
                    for p in r.problems
                    if p.severity == "error"
                ],
            }
            for r in run.rejected
        ],
        "summary": {
            "claims": counts["clean"] + counts["held"],
            "clean": counts["clean"],
            "held": counts["held"],
            "held_dollars": money(run.held_dollars),
            "not_coded": counts["not_coded"],
            "rejected": len(run.rejected),
            "held_by_category": dict(sorted(by_category.items())),
            "held_dollars_by_category": {
                k: money(v) for k, v in sorted(dollars_by_category.items())
            },
            "recorded_in_ledger": run.recorded,
        },
    }
