"""The outbound pipeline shared by ``build`` and ``run``: intake → coding → scrub → build.

Every input record ends in exactly one place, and the counts are checked to add up:

    records read = built + already built + held + rejected (intake, coding, build, pyx12)

Stages are called through small hooks so each can be replaced in one spot:
``Stages.read`` (intake), ``Stages.code`` (coding), ``Stages.scrubber`` (scrub: a factory
given the maps, the ledger and the day, returning ``claim -> Scrubbed``) and
``Stages.validator`` (pyx12). The defaults are the real stages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline.app.build import (
    TWICE,
    BuildBatch,
    ClaimOutcome,
    ErrorItem,
    InterchangeOutcome,
    ToBuild,
    Validator,
    build_claims,
    default_validator,
    recover,
    rejected_outcome,
    sweep_orphans,
)
from edi_pipeline.errors import BuildError, LedgerError
from edi_pipeline.files import private_dir, write_atomic
from edi_pipeline.ledger import claims as ledger_claims
from edi_pipeline.ledger import ledger_spec, open_ledger
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.ledger.claims import ClaimKey
from edi_pipeline.maps import Maps, load_maps
from edi_pipeline.models import Claim, Coded, Encounter, Rejection, Scrubbed, money
from edi_pipeline.practice import Practice

log = structlog.get_logger()

Scrubber = Callable[[Claim], Scrubbed]
ScrubberFactory = Callable[..., Scrubber]  # (maps, ledger, as_of, *, practice_key, claims)


def default_scrubber(
    maps: Maps,
    ledger: Ledger,
    as_of: date,
    *,
    practice_key: str | None = None,
    claims: Iterable[Claim] = (),
) -> Scrubber:
    """The scrub stage over the payers' rules, with the member's history from the ledger and
    from the claims earlier in this batch (the second infusion of an export sees the first).

    ``claims`` (the batch about to be scrubbed) lets the ledger history be fetched in a few
    queries instead of one per claim; ``practice_key`` brings in the recorded overrides, so a
    hold a person has overridden with ``scrub --override`` does not stop ``run``.
    """
    from edi_pipeline.ledger.scrub import LedgerHistory, overrides
    from edi_pipeline.scrub import InMemoryHistory, LayeredHistory, ScrubContext, scrub

    batch = InMemoryHistory()
    from_ledger = LedgerHistory(ledger)
    from_ledger.prefetch(claims)
    recorded = (
        {k: dict(v) for k, v in overrides(ledger, practice_key).items()} if practice_key else {}
    )
    ctx = ScrubContext.from_maps(
        maps,
        as_of=as_of,
        history=LayeredHistory(batch, from_ledger),
        overrides=recorded,
    )

    def run(claim: Claim) -> Scrubbed:
        result = scrub(claim, ctx)
        if result.clean:
            batch.add_claim(claim)
        return result

    return run


def default_read(path: Path, maps: Maps) -> Iterable[Encounter | Rejection]:
    from edi_pipeline.intake import read_file

    return read_file(path, maps)


def default_code(encounter: Encounter, maps: Maps) -> Coded:
    from edi_pipeline.coding import code

    return code(encounter, maps)


@dataclass(frozen=True)
class Stages:
    read: Callable[[Path, Maps], Iterable[Encounter | Rejection]] = default_read
    code: Callable[[Encounter, Maps], Coded] = default_code
    scrubber: ScrubberFactory = default_scrubber
    validator: Validator = default_validator


@dataclass(frozen=True)
class Settings:
    inputs: tuple[Path, ...]
    practice: Practice
    out_dir: Path
    ledger: str | None = None  # --ledger; None: environment, configuration, default
    processes: int | None = None  # pyx12 validation processes (default: CPU count)
    now: datetime | None = None  # default: the clock (tests freeze it)
    as_of: date | None = None  # the day payer rules are checked for (default: today)
    as_of_by_input: tuple[tuple[str, date], ...] = ()  # per input file, overriding as_of
    notes: tuple[str, ...] = ()  # what the command decided for the user ("using the demo…")
    # Build through the shared build queue (the watcher does): claims that pass scrub are
    # queued, then this process builds ready claims of any export until none is free, and
    # each claim of this input is reported as built (by whichever worker), rejected or queued.
    queue: bool = False
    owner: str | None = None  # lease owner for queue batches (default: a new one)
    recover: bool = True  # finish a crashed run's interchanges and sweep orphans first


@dataclass
class Outcome:
    """Everything one run did, in the shapes the report and the summary need."""

    settings: Settings
    records: int = 0
    claims: list[ClaimOutcome] = field(default_factory=list)
    held: list[tuple[Claim, Scrubbed]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    interchanges: list[InterchangeOutcome] = field(default_factory=list)
    quarantine: list[Path] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    report_path: Path | None = None
    delivery: Any = None  # deliver.DeliveryResult when run delivered after the build

    # ---- counts
    def count(self, status: str) -> int:
        return sum(1 for c in self.claims if c.status == status)

    @property
    def built(self) -> int:
        return self.count("built")

    @property
    def already_built(self) -> int:
        return self.count("already_built")

    @property
    def queued(self) -> int:
        return self.count("queued")

    @property
    def adds_up(self) -> bool:
        return self.records == (
            self.built + self.already_built + self.queued + len(self.held) + len(self.rejected)
        )

    def dollars(self, status: str) -> Decimal:
        if status == "held":
            return sum((c.total_charge for c, _ in self.held), Decimal("0.00"))
        return sum((c.charge for c in self.claims if c.status == status), Decimal("0.00"))

    @property
    def exit_code(self) -> int:
        undelivered = self.delivery is not None and self.delivery.exit_code != 0
        return 1 if self.held or self.rejected or undelivered else 0

    # ---- report.json (cli.md)
    def report(self) -> dict[str, Any]:
        claims: list[dict[str, Any]] = []
        queued = [
            {"encounter_id": c.encounter_id, "charge": money(c.charge), "note": c.note}
            for c in self.claims
            if c.status == "queued"
        ]
        for c in self.claims:
            if c.status not in ("built", "already_built"):
                continue
            entry: dict[str, Any] = {
                "encounter_id": c.encounter_id,
                "status": "built",
                "charge": money(c.charge),
                "interchange": c.isa13,
                "lines": [_line(ln) for ln in c.lines],
            }
            if c.status == "already_built":
                entry["already_built"] = True
                entry["note"] = c.note
            claims.append(entry)
        for claim, scrubbed in self.held:
            claims.append(
                {
                    "encounter_id": claim.encounter_id,
                    "status": "held",
                    "charge": money(claim.total_charge),
                    "holds": [
                        {
                            "rule": h.rule,
                            "category": h.category,
                            "message": h.message,
                            "source": h.source,
                        }
                        for h in scrubbed.holds
                    ],
                }
            )
        return {
            "interchanges": [
                {"file": i.file, "isa13": i.isa13, "claims": i.claims, "receiver": i.receiver}
                for i in self.interchanges
            ],
            "claims": claims,
            **({"queued": queued} if self.settings.queue else {}),
            "rejected": self.rejected,
            "summary": {
                "records": self.records,
                "built": self.built,
                "already_built": self.already_built,
                "held": len(self.held),
                "rejected": len(self.rejected),
                "built_dollars": money(self.dollars("built")),
                "held_dollars": money(self.dollars("held")),
                **({"queued": self.queued} if self.settings.queue else {}),
            },
            "quarantine": [str(p) for p in self.quarantine],
            "recovered": self.recovered,
            **({"delivery": self.delivery.as_json()} if self.delivery is not None else {}),
        }

    def summary(self) -> str:
        """The human summary (no PHI: counts, dollars, ids of files)."""
        ix = self.interchanges
        lines = [f"{self.records} records read from {len(self.settings.inputs)} file(s)"]
        lines.append(
            f"  built          {self.built:>6} claims  ${_dollars(self.dollars('built'))}"
            + (f"  in {len(ix)} interchange(s)" if ix else "")
        )
        for i in ix:
            lines.append(f"                 {i.file} (ISA13 {i.isa13}, {i.claims} claims)")
        if self.already_built:
            lines.append(
                f"  already built  {self.already_built:>6} claims  (not built again: no-op)"
            )
        if self.queued:
            lines.append(f"  queued         {self.queued:>6} claims  (in other workers' batches)")
        lines.append(
            f"  held           {len(self.held):>6} claims  ${_dollars(self.dollars('held'))}"
        )
        by_category: dict[str, int] = {}
        for _, scrubbed in self.held:
            for category in sorted({h.category for h in scrubbed.holds}):
                by_category[category] = by_category.get(category, 0) + 1
        for category, n in sorted(by_category.items()):
            lines.append(f"                 {n:>4} for {category}")
        lines.append(f"  rejected       {len(self.rejected):>6} records")
        for path in self.quarantine:
            if path.stat().st_size:
                lines.append(f"                 quarantine: {path}")
        for note in self.recovered:
            lines.append(f"  recovered: {note}")
        if self.records and self.built == 0 and self.already_built == self.records:
            lines.append("nothing new: every encounter in the input was already built")
        if self.delivery is not None:
            d = self.delivery
            lines.append(
                f"  delivered      {len(d.sent):>6} interchange(s) to {d.destination}"
                + (f"; {len(d.failed) + len(d.not_attempted)} left to send" if d.exit_code else "")
            )
        if self.report_path is not None:
            lines.append(f"report: {self.report_path}")
        return "\n".join(lines)


def _dollars(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def _line(line: Any) -> dict[str, Any]:
    units = line.units
    return {
        "procedure": line.procedure,
        "modifiers": list(line.modifiers),
        "units": int(units) if units == units.to_integral_value() else str(units),
        "charge": money(line.charge),
        "ndc": line.ndc,
        "ndc_quantity": None if line.ndc_quantity is None else str(line.ndc_quantity),
        "ndc_unit": line.ndc_unit,
        "line_control_number": line.line_control_number,
    }


def _rejection_entry(r: Rejection) -> dict[str, Any]:
    return {
        "file": r.file,
        "record": r.record,
        "encounter_id": r.encounter_id,
        "stage": "intake",
        "errors": [
            {"field": p.where.field or "record", "message": p.message, "code": p.code}
            for p in r.problems
            if p.severity == "error"
        ]
        or [{"field": "record", "message": "rejected"}],
    }


def _claim_rejection(c: ClaimOutcome) -> dict[str, Any]:
    return {
        "file": c.file or "",
        "record": c.record if c.record is not None else 0,
        "encounter_id": c.encounter_id,
        "stage": c.stage,
        "errors": [e.as_dict() for e in c.errors],
    }


# ------------------------------------------------------------------ the pipeline


@contextmanager
def _opened(spec: str, given: Ledger | None = None) -> Iterator[Ledger]:
    if given is not None:  # the caller's: it closes it
        yield given
        return
    ledger = open_ledger(spec)
    try:
        yield ledger
    finally:
        ledger.close()


def outbound(
    settings: Settings,
    *,
    stages: Stages | None = None,
    maps: Maps | None = None,
    progress: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
    ledger: Ledger | None = None,
) -> Outcome:
    """Run intake → coding → scrub → build over ``settings.inputs``; write report.json.

    ``ledger``: an open ledger to use (a watcher's, for every file) instead of opening
    ``settings.ledger`` for this run."""
    stages = stages or Stages()
    maps = maps or load_maps()
    practice = settings.practice
    now = settings.now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    out_dir = private_dir(settings.out_dir)
    outcome = Outcome(settings)
    spec = ledger_spec(settings.ledger, configured=practice.ledger)
    with _opened(spec, ledger) as ledger:
        # A crashed run's interchange is finished (or recorded lost) before anything else, so
        # "already built" below means released.
        if settings.recover:
            outcome.recovered.extend(recover(ledger, practice, now))
            if settings.queue:
                sweep_orphans(out_dir, ledger, practice)
        encounters: list[Encounter] = []
        for path in settings.inputs:
            rejections: list[Rejection] = []
            for item in stages.read(path, maps):
                outcome.records += 1
                if isinstance(item, Rejection):
                    rejections.append(item)
                    outcome.rejected.append(_rejection_entry(item))
                else:
                    encounters.append(item)
            from edi_pipeline.intake import write_quarantine

            outcome.quarantine.append(write_quarantine(out_dir, path.name, rejections))
        if total:
            total(len(encounters))
        as_of = settings.as_of or now.date()
        as_of_by_file = dict(settings.as_of_by_input)

        def as_of_for(enc: Encounter) -> date:
            return as_of_by_file.get(enc.source.file or "", as_of)

        to_build = _code_and_scrub(
            encounters, outcome, stages, maps, ledger, practice, now, as_of_for
        )
        if progress:
            progress(len(encounters) - len(to_build))
        if settings.queue:
            _build_through_queue(to_build, outcome, stages, maps, ledger, practice, now, out_dir)
            return _finish(outcome, out_dir)
        batch: BuildBatch = build_claims(
            to_build,
            practice=practice,
            payers=maps.payers,
            ledger=ledger,
            out_dir=out_dir,
            now=now,
            processes=settings.processes,
            validator=stages.validator,
            progress=progress,
            recover_first=False,
        )
    outcome.recovered.extend(batch.recovered)
    outcome.interchanges.extend(batch.interchanges)
    _add_built(outcome, batch.claims)
    return _finish(outcome, out_dir)


def _add_built(outcome: Outcome, claims: Iterable[ClaimOutcome]) -> None:
    for c in claims:
        if c.status == "rejected":
            outcome.rejected.append(_claim_rejection(c))
        else:
            outcome.claims.append(c)


def _finish(outcome: Outcome, out_dir: Path) -> Outcome:
    """Check the counts, write report.json, log the totals."""
    if not outcome.adds_up:  # every record must end somewhere: a bug if not
        log.error("run.counts_mismatch", records=outcome.records, **outcome.report()["summary"])
    outcome.report_path = out_dir / "report.json"
    write_atomic(
        outcome.report_path, (json.dumps(outcome.report(), indent=2) + "\n").encode("utf-8")
    )
    log.info(
        "run.finished",
        records=outcome.records,
        built=outcome.built,
        already_built=outcome.already_built,
        held=len(outcome.held),
        rejected=len(outcome.rejected),
        interchanges=len(outcome.interchanges),
        built_dollars=money(outcome.dollars("built")),
        held_dollars=money(outcome.dollars("held")),
    )
    return outcome


def _build_through_queue(
    to_build: Sequence[ToBuild],
    outcome: Outcome,
    stages: Stages,
    maps: Maps,
    ledger: Ledger,
    practice: Practice,
    now: datetime,
    out_dir: Path,
) -> None:
    """Queue this input's claims, build what the queue holds, report this input's claims.

    Interchanges this process wrote are reported even where they carry other exports' claims
    (they are its files); a claim of this input built by another worker is reported built with
    that worker's interchange, one still in another worker's hands ``queued``."""
    from edi_pipeline.app.build_queue import Drained, drain, enqueue_claims
    from edi_pipeline.ledger import build_queue as q
    from edi_pipeline.ledger.delivery import new_owner

    settings = outcome.settings
    once: dict[tuple[str, str], ToBuild] = {}
    for item in to_build:
        key = (item.claim.encounter_id, item.claim.frequency)
        if key in once:
            _add_built(outcome, [rejected_outcome(item, TWICE, "build")])
        else:
            once[key] = item
    to_build = list(once.values())
    enqueue_claims(ledger, practice, to_build, now)
    try:
        drained = drain(
            ledger,
            practice,
            maps.payers,
            out_dir=out_dir,
            owner=settings.owner or new_owner(),
            now=lambda: now,
            processes=settings.processes,
            validator=stages.validator,
        )
    except (LedgerError, BuildError) as exc:
        # This input's claims are queued: another worker (or this one, later) builds them.
        # A batch that failed here may be another export's; it does not fail this file.
        log.warning("queue.drain_failed", error=type(exc).__name__, code=exc.code)
        drained = Drained()
    outcome.interchanges.extend(drained.interchanges)
    by_source = {(c.encounter_id, c.file, c.record): c for c in drained.claims}
    mine: list[ClaimOutcome] = []
    for item in to_build:
        claim = item.claim
        done = by_source.get((claim.encounter_id, item.file, item.record))
        if done is None:
            done = _built_elsewhere(ledger, practice, item, q.entry(
                ledger, practice.key, claim.encounter_id, claim.frequency
            ))  # fmt: skip
        mine.append(done)
    _add_built(outcome, mine)


def _built_elsewhere(
    ledger: Ledger, practice: Practice, item: ToBuild, entry: dict[str, Any] | None
) -> ClaimOutcome:
    """This input's claim as another worker left it: built (from this input's queue row),
    already built (the row was another input's, or was found built), rejected, or queued."""
    claim = item.claim
    key = ClaimKey(practice.key, claim.encounter_id, claim.frequency)
    common = {"file": item.file, "record": item.record}
    if entry is not None and entry["state"] == "done" and entry["outcome"] != "rejected":
        record = ledger_claims.claim(ledger, key)
        lines = _ledger_lines(ledger, record.id) if record else claim.lines
        ours = (entry["file"], entry["record"]) == (item.file, item.record)
        built = ours and entry["outcome"] == "built"
        return ClaimOutcome(
            claim.encounter_id,
            "built" if built else "already_built",
            record.charge if record else claim.total_charge,
            lines=lines,
            isa13=entry["isa13"],
            note=(
                f"built by another worker into interchange {entry['isa13']}"
                if built
                else f"already built into interchange {entry['isa13']}; not built again"
            ),
            **common,
        )
    if entry is not None and entry["state"] in ("done", "failed"):
        record = ledger_claims.claim(ledger, key)
        message = entry["reason"] or "rejected when built by another worker"
        if record is not None and record.status == "rejected":
            history = ledger_claims.status_history(ledger, key)
            message = history[-1].message or message if history else message
        return ClaimOutcome(
            claim.encounter_id,
            "rejected",
            claim.total_charge,
            lines=claim.lines,
            errors=(ErrorItem("claim", message, "queue_" + entry["state"]),),
            stage="build",
            **common,
        )
    return ClaimOutcome(
        claim.encounter_id,
        "queued",
        claim.total_charge,
        lines=claim.lines,
        note="in the build queue, in another worker's batch",
        **common,
    )


def _frequency(encounter: Encounter) -> str:
    return encounter.prior_claim.frequency if encounter.prior_claim else "1"


def _code_and_scrub(
    encounters: Sequence[Encounter],
    outcome: Outcome,
    stages: Stages,
    maps: Maps,
    ledger: Ledger,
    practice: Practice,
    now: datetime,
    as_of_for: Callable[[Encounter], date],
) -> list[ToBuild]:
    """Code and scrub what is not built yet; held verdicts are stored in one transaction."""
    from edi_pipeline.ledger.scrub import record_scrub

    to_build: list[ToBuild] = []
    verdicts: list[tuple[Scrubbed, str | None]] = []
    coded_claims: list[tuple[Encounter, Claim]] = []
    for enc in encounters:
        key = ClaimKey(practice.key, enc.encounter_id, _frequency(enc))
        isa13 = ledger_claims.live_build(ledger, key)
        if isa13 is not None:
            known = ledger_claims.encounter_hash(ledger, practice.key, enc.encounter_id)
            if enc.record_hash is not None and known is not None and known != enc.record_hash:
                outcome.rejected.append(
                    {
                        "file": enc.source.file or "",
                        "record": enc.source.record or 0,
                        "encounter_id": enc.encounter_id,
                        "stage": "build",
                        "errors": [
                            {
                                "field": "encounter_id",
                                "message": f"already built into interchange {isa13} and the "
                                "record has changed since: send a replacement (prior_claim "
                                "with frequency 7) instead",
                                "code": "changed_after_build",
                            }
                        ],
                    }
                )
            else:
                record = ledger_claims.claim(ledger, key)
                lines = _ledger_lines(ledger, record.id) if record else ()
                outcome.claims.append(
                    ClaimOutcome(
                        enc.encounter_id,
                        "already_built",
                        record.charge if record else Decimal(0),
                        lines=lines,
                        file=enc.source.file,
                        record=enc.source.record,
                        isa13=isa13,
                        note=f"already built into interchange {isa13}; not built again",
                    )
                )
            continue
        coded = stages.code(enc, maps)
        if coded.claim is None:
            outcome.rejected.append(
                {
                    "file": enc.source.file or "",
                    "record": enc.source.record or 0,
                    "encounter_id": enc.encounter_id,
                    "stage": "coding",
                    "errors": [
                        {
                            "field": p.where.field or "encounter",
                            "message": p.message,
                            "code": p.code,
                        }
                        for p in coded.problems
                        if p.severity == "error"
                    ]
                    or [{"field": "encounter", "message": "could not be coded"}],
                }
            )
            continue
        coded_claims.append((enc, coded.claim))
    # One scrubber per submission day (the demo's exports each have their own).
    days = sorted({as_of_for(enc) for enc, _ in coded_claims})
    scrubbers = {
        day: stages.scrubber(
            maps,
            ledger,
            day,
            practice_key=practice.key,
            claims=[c for e, c in coded_claims if as_of_for(e) == day],
        )
        for day in days
    }
    # Date-of-service order, so that frequency and authorization rules see an export's earlier
    # doses before its later ones whatever order the export lists them in.
    by_date = sorted(
        range(len(coded_claims)), key=lambda i: (coded_claims[i][1].date_of_service, i)
    )
    scrubbed_at: dict[int, Scrubbed] = {
        i: scrubbers[as_of_for(coded_claims[i][0])](coded_claims[i][1]) for i in by_date
    }
    for i, (enc, claim) in enumerate(coded_claims):
        scrubbed = scrubbed_at[i]
        verdicts.append((scrubbed, enc.record_hash))
        if scrubbed.holds:
            outcome.held.append((claim, scrubbed))
        else:
            to_build.append(ToBuild(claim, enc.record_hash, enc.source.file, enc.source.record))
    with ledger.transaction():
        for scrubbed, record_hash in verdicts:
            record_scrub(ledger, practice.key, scrubbed, now, record_hash=record_hash)
    return to_build


def _ledger_lines(ledger: Ledger, claim_id: int) -> tuple[Any, ...]:
    from edi_pipeline.models import ServiceLine

    return tuple(
        ServiceLine(
            procedure=ln.procedure,
            units=ln.units,
            charge=ln.charge,
            kind="drug" if ln.ndc else "procedure",
            modifiers=ln.modifiers,
            ndc=ln.ndc,
            ndc_quantity=ln.ndc_quantity,
            ndc_unit=ln.ndc_unit,  # type: ignore[arg-type]
            line_control_number=ln.line_control_number,
        )
        for ln in ledger_claims.claim_lines(ledger, claim_id)
    )
