"""The reprocess workflow: rejected (or corrected) claims go out again, with new control numbers.

Selection: ``--claim ID`` (one encounter), ``--file FILE`` (a corrected encounter export: every
encounter in it), ``--rejected`` (every claim a TA1, 999 or 277CA rejected). The encounters
themselves come from the corrected file, or from ``--input`` exports for ``--claim`` and
``--rejected``: the ledger keeps identifiers and hashes, never the patient's record.

For each selected encounter, ``acks.resubmit.plan`` decides from the newest claim's status:
rebuild the same claim (a rejection: the payer never adjudicated it), send a replacement
(frequency 7 + REF*F8 when the payer has the claim and its number is known), or refuse (still
in flight, or the payer's number is missing: never a second original for the same encounter).
Each encounter is coded again with today's maps and scrubbed again (a fix may have cleared a
hold, or a new rule may hold it), validated with pyx12 (``app.build.validate_claims``), then
released like ``build`` does, with the same code (``app.build.stage_interchange`` and
``record_built_claim``): one ledger transaction takes ISA13/GS06 and the line control numbers,
records the interchange, claims, lines and positions; the file is staged before the commit and
renamed after it, so ``build``'s crash recovery covers these files too.

Why not ``app.build.release``: it refuses every claim that already has a build, by design, so
that re-running ``build`` never sends anything twice; reprocess is the one sanctioned way to
send a claim again, and it checks the plan again inside its transaction instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline.acks.resubmit import Plan, plan
from edi_pipeline.app.build import (
    ErrorItem,
    record_built_claim,
    record_rejected_claim,
    stage_interchange,
    validate_claims,
)
from edi_pipeline.app.outbound import Stages
from edi_pipeline.claim837 import claim_problems
from edi_pipeline.errors import SettingsError
from edi_pipeline.files import private_dir, publish
from edi_pipeline.ledger import claims as ledger_claims
from edi_pipeline.ledger import interchanges as ledger_ix
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.ledger.claims import ClaimKey, ClaimRecord
from edi_pipeline.maps import Maps
from edi_pipeline.models import Claim, Encounter, Hold, Rejection
from edi_pipeline.practice import Practice, Receiver

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Selection:
    claim: str | None = None
    file: Path | None = None
    rejected: bool = False
    inputs: tuple[Path, ...] = ()

    def check(self) -> None:
        chosen = sum([self.claim is not None, self.file is not None, self.rejected])
        if chosen != 1:
            raise SettingsError("choose exactly one of --claim ID, --file FILE or --rejected")
        if self.file is None and not self.inputs:
            raise SettingsError(
                "the ledger keeps no patient records: give the encounter export(s) the claim "
                "comes from with --input FILE (or a corrected export with --file FILE)"
            )


@dataclass(frozen=True, slots=True)
class Item:
    """What reprocess did for one encounter."""

    encounter_id: str
    action: str  # rebuilt, replaced, held, refused, rejected, not_found, no_encounter
    previous_status: str | None = None
    frequency: str | None = None
    payer_claim_number: str | None = None  # REF*F8 sent
    isa13: str | None = None
    message: str = ""
    holds: tuple[Hold, ...] = ()
    errors: tuple[ErrorItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Interchange:
    file: str
    isa13: str
    claims: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ReprocessReport:
    items: tuple[Item, ...]
    interchanges: tuple[Interchange, ...] = ()
    intake_rejections: tuple[Rejection, ...] = ()

    @property
    def exit_code(self) -> int:
        sent = {"rebuilt", "replaced"}
        bad = any(i.action not in sent for i in self.items) or self.intake_rejections
        return 1 if bad or not self.items else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "claims": [
                {
                    "encounter_id": i.encounter_id,
                    "action": i.action,
                    "previous_status": i.previous_status,
                    "frequency": i.frequency,
                    "payer_claim_number": i.payer_claim_number,
                    "isa13": i.isa13,
                    "message": i.message,
                    "holds": [
                        {"rule": h.rule, "category": h.category, "message": h.message}
                        for h in i.holds
                    ],
                    "errors": [e.as_dict() for e in i.errors],
                }
                for i in self.items
            ],
            "interchanges": [
                {"file": x.file, "isa13": x.isa13, "claims": x.claims} for x in self.interchanges
            ],
            "rejected_records": [
                {"file": r.file, "record": r.record, "encounter_id": r.encounter_id}
                for r in self.intake_rejections
            ],
        }


@dataclass
class _Work:
    encounter: Encounter
    previous: ClaimRecord
    plan: Plan
    claim: Claim | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ the workflow


def reprocess(
    selection: Selection,
    *,
    practice: Practice,
    maps: Maps,
    ledger: Ledger,
    out_dir: Path,
    now: datetime | None = None,
    stages: Stages | None = None,
    processes: int | None = None,
) -> ReprocessReport:
    selection.check()
    stages = stages or Stages()
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    x12_now = now.astimezone()
    encounters, rejections = _read(selection, stages, maps)
    targets = _targets(selection, encounters, ledger, practice)
    items: list[Item] = []
    work: list[_Work] = []
    for encounter_id in targets:
        previous = newest_claim(ledger, practice.key, encounter_id)
        if previous is None:
            items.append(Item(encounter_id, "not_found", message="never built: use build"))
            continue
        decided = _decide(ledger, previous, explicit=not selection.rejected)
        if decided.action == "refuse":
            items.append(_refused(previous, decided))
            continue
        encounter = encounters.get(encounter_id)
        if encounter is None:
            items.append(
                Item(
                    encounter_id,
                    "no_encounter",
                    previous.status,
                    message="its encounter is not in the given export(s): pass the corrected "
                    "export with --file or --input",
                )
            )
            continue
        work.append(_Work(encounter, previous, decided))
    to_build = _code_and_scrub(work, items, stages, maps, ledger, practice, now)
    interchanges: list[Interchange] = []
    by_receiver: dict[str, list[_Work]] = {}
    for w in to_build:
        assert w.claim is not None
        by_receiver.setdefault(practice.receiver_for(w.claim.payer_id).key, []).append(w)
    receivers = {r.key: r for r in practice.receivers}
    for key, batch in by_receiver.items():
        receiver = receivers[key]
        failed = validate_claims(
            [w.claim for w in batch],  # type: ignore[misc]
            practice,
            receiver,
            maps.payers,
            out_dir=private_dir(out_dir),
            now=x12_now,
            processes=processes or 1,
            validator=stages.validator,
        )
        passing = []
        for k, w in enumerate(batch):
            if k in failed:
                items.append(_invalid(ledger, w, failed[k], now))
            else:
                passing.append(w)
        if passing:
            done, made = _release(ledger, passing, practice, receiver, maps, out_dir, now, x12_now)
            items.extend(done)
            if made is not None:
                interchanges.append(made)
    order = {e: n for n, e in enumerate(targets)}
    items.sort(key=lambda i: order.get(i.encounter_id, len(order)))
    report = ReprocessReport(tuple(items), tuple(interchanges), tuple(rejections))
    log.info(
        "reprocess.finished",
        rebuilt=sum(i.action == "rebuilt" for i in items),
        replaced=sum(i.action == "replaced" for i in items),
        refused=sum(i.action == "refused" for i in items),
        held=sum(i.action == "held" for i in items),
        interchanges=len(interchanges),
    )
    return report


def newest_claim(ledger: Ledger, practice: str, encounter_id: str) -> ClaimRecord | None:
    """The encounter's claim in play: the newest one created (a replacement after its original)."""
    found = ledger_claims.claims_by_encounter(ledger, encounter_id, practice)
    return max(found, key=lambda c: c.id) if found else None


def _decide(ledger: Ledger, claim: ClaimRecord, *, explicit: bool) -> Plan:
    built_before = bool(ledger_ix.claim_interchanges(ledger, claim.id))
    return plan(
        claim.status,
        claim.frequency,
        claim.payer_claim_number,
        built_before=built_before,
        explicit=explicit,
    )


def _refused(previous: ClaimRecord, decided: Plan) -> Item:
    log.info("reprocess.claim_refused", encounter_id=previous.encounter_id, status=previous.status)
    return Item(previous.encounter_id, "refused", previous.status, message=decided.reason)


def _read(
    selection: Selection, stages: Stages, maps: Maps
) -> tuple[dict[str, Encounter], list[Rejection]]:
    paths = ([selection.file] if selection.file else []) + list(selection.inputs)
    encounters: dict[str, Encounter] = {}
    rejections: list[Rejection] = []
    for path in paths:
        for item in stages.read(path, maps):
            if isinstance(item, Rejection):
                rejections.append(item)
            else:
                encounters[item.encounter_id] = item  # a later export corrects an earlier one
    return encounters, rejections


def _targets(
    selection: Selection, encounters: dict[str, Encounter], ledger: Ledger, practice: Practice
) -> list[str]:
    if selection.claim is not None:
        return [selection.claim]
    if selection.file is not None:
        return list(encounters)
    rows = ledger.query(
        "SELECT DISTINCT c.encounter_id FROM claims c JOIN practices p ON p.id = c.practice_id "
        "WHERE p.key = ? AND c.status IN ('rejected', 'payer_rejected') ORDER BY c.encounter_id",
        (practice.key,),
    )
    return [r["encounter_id"] for r in rows]


def _code_and_scrub(
    work: Sequence[_Work],
    items: list[Item],
    stages: Stages,
    maps: Maps,
    ledger: Ledger,
    practice: Practice,
    now: datetime,
) -> list[_Work]:
    from edi_pipeline.ledger.scrub import record_scrub

    scrub = stages.scrubber(maps, ledger, now.date(), practice_key=practice.key)
    ready: list[_Work] = []
    for w in work:
        coded = stages.code(w.encounter, maps)
        if coded.claim is None:
            errors = tuple(
                ErrorItem(p.where.field or "encounter", p.message, p.code)
                for p in coded.problems
                if p.severity == "error"
            )
            items.append(
                Item(
                    w.previous.encounter_id,
                    "rejected",
                    w.previous.status,
                    message="the corrected encounter still cannot be coded",
                    errors=errors,
                )
            )
            continue
        claim = replace(
            coded.claim, frequency=w.plan.frequency, payer_claim_number=w.plan.payer_claim_number
        )
        problems = claim_problems(claim, practice, maps.payers, numbered=False)
        if problems:
            items.append(
                Item(
                    claim.encounter_id,
                    "rejected",
                    w.previous.status,
                    message="the claim still has problems",
                    errors=tuple(
                        ErrorItem(p.where.field or "claim", p.message, p.code) for p in problems
                    ),
                )
            )
            continue
        scrubbed = scrub(claim)
        with ledger.transaction():
            held = record_scrub(
                ledger, practice.key, scrubbed, now, record_hash=w.encounter.record_hash
            )
        if held:
            items.append(
                Item(
                    claim.encounter_id,
                    "held",
                    w.previous.status,
                    claim.frequency,
                    message="held by payer rules after correction",
                    holds=scrubbed.holds,
                )
            )
            continue
        w.claim = claim
        ready.append(w)
    return ready


def _invalid(ledger: Ledger, w: _Work, errors: Sequence[ErrorItem], now: datetime) -> Item:
    claim = w.claim
    assert claim is not None
    with ledger.transaction():
        record_rejected_claim(
            ledger,
            ClaimKey(w.previous.practice, claim.encounter_id, claim.frequency),
            claim,
            errors,
            record_hash=w.encounter.record_hash,
            source="pyx12",
            now=now,
        )
    return Item(
        claim.encounter_id,
        "rejected",
        w.previous.status,
        claim.frequency,
        message="pyx12 rejects the rebuilt claim",
        errors=tuple(errors),
    )


def _release(
    ledger: Ledger,
    work: Sequence[_Work],
    practice: Practice,
    receiver: Receiver,
    maps: Maps,
    out_dir: Path,
    now: datetime,
    x12_now: datetime,
) -> tuple[list[Item], Interchange | None]:
    out_dir = private_dir(out_dir).resolve()
    items: list[Item] = []
    with ledger.transaction():
        fresh: list[_Work] = []
        for w in work:  # decide again under the write lock: another reprocess may have won
            current = newest_claim(ledger, practice.key, w.previous.encounter_id)
            if (
                current is None
                or current.id != w.previous.id
                or current.status != w.previous.status
            ):
                items.append(
                    Item(
                        w.previous.encounter_id,
                        "refused",
                        current.status if current else None,
                        message="changed while reprocessing (another run sent it); not sent twice",
                    )
                )
                continue
            fresh.append(w)
        if not fresh:
            return items, None
        staged = stage_interchange(
            ledger,
            [w.claim for w in fresh],  # type: ignore[misc]
            practice,
            receiver,
            maps.payers,
            out_dir=out_dir,
            now=now,
            x12_now=x12_now,
        )
        built, claims, final = staged.built, staged.claims, staged.final
        for w, claim, span in zip(fresh, claims, built.claims, strict=True):
            items.append(
                _record_build(
                    ledger, practice, w, claim, span, staged.interchange_id, built.isa13, now
                )
            )
    publish(staged.tmp, final)
    log.info(
        "reprocess.interchange_written",
        isa13=built.isa13,
        receiver=receiver.key,
        claims=len(claims),
        file=str(final),
    )
    return items, Interchange(str(final), built.isa13, len(claims), staged.sha256)


def _record_build(
    ledger: Ledger,
    practice: Practice,
    w: _Work,
    claim: Claim,
    span: Any,
    interchange_id: int,
    isa13: str,
    now: datetime,
) -> Item:
    previous = w.previous
    action = "replaced" if w.plan.action == "replace" else "rebuilt"
    claim_id = record_built_claim(
        ledger,
        practice,
        claim,
        span,
        interchange_id,
        record_hash=w.encounter.record_hash,
        source="reprocess",
        message=f"{w.plan.reason}; interchange {isa13} transaction {span.st02}",
        now=now,
    )
    if action == "replaced" and previous.id != claim_id:
        ledger_claims.record_status(
            ledger,
            previous.id,
            "replaced",
            now,
            source="reprocess",
            code="frequency_7",
            message=f"replaced by the frequency 7 claim in interchange {isa13}",
        )
    log.info(
        "reprocess.claim_rebuilt",
        encounter_id=claim.encounter_id,
        frequency=claim.frequency,
        previous_status=previous.status,
        isa13=isa13,
    )
    return Item(
        claim.encounter_id,
        action,
        previous.status,
        claim.frequency,
        claim.payer_claim_number,
        isa13,
        w.plan.reason,
    )
