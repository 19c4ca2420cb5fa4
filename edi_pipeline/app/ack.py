"""The ack workflow: read TA1/999/277CA files, tie each verdict to our claims, move the ledger.

``ingest_ack_file(path, ledger, maps)`` is the one entry point the watcher calls for an inbound
acknowledgment; ``ingest_ack_files`` is what ``edi-pipeline ack`` runs. Each file is handled in
one ledger transaction: the same content is ingested once (its sha256 is recorded), every
verdict is kept (applied or not, and why not), every reason is kept, and a verdict about
something we never sent is kept and reported, never dropped. A file that cannot be read is
reported with its problems and the next file is read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline.acks.model import AckFile
from edi_pipeline.acks.reader import read_ack
from edi_pipeline.acks.tieback import ClaimVerdict, TieBack, Unmatched, applies, tie_file
from edi_pipeline.ledger import acks as q
from edi_pipeline.ledger import claims
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.maps import Maps
from edi_pipeline.models import Problem

log = structlog.get_logger()

#: verdicts that leave a claim needing work (exit status 1)
TROUBLE = frozenset({"rejected", "payer_rejected"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """One verdict and what it did to the ledger."""

    verdict: ClaimVerdict
    status_before: str
    applied: bool
    note: str | None

    @property
    def status_after(self) -> str:
        return self.verdict.status if self.applied and self.verdict.status else self.status_before


@dataclass(frozen=True, slots=True)
class FileReport:
    file: str
    sha256: str | None
    kinds: tuple[str, ...]
    duplicate_of: str | None  # the earlier ingestion's time when this content was seen before
    problems: tuple[Problem, ...]
    outcomes: tuple[Outcome, ...]
    unmatched: tuple[Unmatched, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


@dataclass(frozen=True, slots=True)
class AckReport:
    files: tuple[FileReport, ...]

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return tuple(o for f in self.files for o in f.outcomes)

    @property
    def unmatched(self) -> tuple[Unmatched, ...]:
        return tuple(u for f in self.files for u in f.unmatched)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.applied and o.verdict.status == status)

    @property
    def exit_code(self) -> int:
        """1 when a claim was rejected, a verdict matched nothing, or a file had errors."""
        trouble = any(o.applied and o.verdict.status in TROUBLE for o in self.outcomes)
        return 1 if trouble or self.unmatched or any(f.errors for f in self.files) else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "files": [file_json(f) for f in self.files],
            "summary": {
                "files": len(self.files),
                "accepted": self.count("accepted"),
                "rejected": self.count("rejected"),
                "payer_accepted": self.count("payer_accepted"),
                "payer_rejected": self.count("payer_rejected"),
                "unchanged": sum(1 for o in self.outcomes if not o.applied),
                "unmatched": len(self.unmatched),
                "errors": sum(len(f.errors) for f in self.files),
            },
        }


# ------------------------------------------------------------------ workflow


def ingest_ack_file(
    path: str | Path, ledger: Ledger, maps: Maps, *, now: datetime | None = None
) -> AckReport:
    """Read one TA1/999/277CA file, tie it back, record it; the watcher's entry point."""
    return AckReport((_ingest(Path(path), ledger, maps, now or datetime.now(UTC)),))


def ingest_ack_files(
    paths: Iterable[str | Path], ledger: Ledger, maps: Maps, *, now: datetime | None = None
) -> AckReport:
    when = now or datetime.now(UTC)
    return AckReport(tuple(_ingest(Path(p), ledger, maps, when) for p in paths))


def _ingest(path: Path, ledger: Ledger, maps: Maps, now: datetime) -> FileReport:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = Problem("ack_unreadable", f"cannot read the file: {exc.strerror or exc}")
        return FileReport(name, None, (), None, (_located(problem, name),), (), ())
    sha256 = hashlib.sha256(data).hexdigest()
    ack = read_ack(data, codes=maps.ack_codes, name=name)
    if not ack.kinds:  # nothing to tie back; not recorded, so a fixed copy can be dropped again
        report = FileReport(name, sha256, (), None, ack.problems, (), ())
        _log(report)
        return report
    with ledger.transaction():
        earlier = q.ingested(ledger, sha256)
        if earlier is not None:
            log.info(
                "ack.file_skipped", file=name, reason="already ingested", at=earlier.ingested_at
            )
            return FileReport(name, sha256, ack.kinds, earlier.ingested_at, ack.problems, (), ())
        tied = tie_file(ack, q.LedgerLookup(ledger), maps.ack_codes)
        report = _record(ledger, ack, tied, sha256, now)
    _log(report)
    return report


def _record(ledger: Ledger, ack: AckFile, tied: TieBack, sha256: str, now: datetime) -> FileReport:
    envelope = next(
        (x.envelope for x in (*ack.ta1s, *ack.acks999, *ack.acks277)), None
    )  # the first acknowledgment's envelope names the sender
    file_id = q.record_file(
        ledger,
        sha256=sha256,
        file=ack.file,
        kinds=ack.kinds,
        sender=envelope.sender if envelope else None,
        isa13=envelope.isa13 if envelope else None,
        verdicts=len(tied.verdicts),
        unmatched=len(tied.unmatched),
        errors=len(ack.errors),
        at=now,
    )
    outcomes: list[Outcome] = []
    for verdict in tied.verdicts:
        current = claims.claim(ledger, verdict.claim.claim_id)
        before = current.status if current is not None else verdict.claim.status
        ok, why = applies(before, verdict.status, latest=verdict.claim.latest)
        if ok and verdict.status is not None:
            claims.record_status(
                ledger,
                verdict.claim.claim_id,
                verdict.status,
                now,
                source=verdict.source,
                code=verdict.code,
                message=verdict.message or None,
            )
            if verdict.payer_claim_number:
                claims.set_payer_claim_number(
                    ledger, verdict.claim.claim_id, verdict.payer_claim_number
                )
        q.record_event(ledger, file_id, verdict, status_before=before, applied=ok, note=why, at=now)
        outcomes.append(Outcome(verdict, before, ok, why))
    for item in tied.unmatched:
        q.record_unmatched(ledger, file_id, item, now)
    return FileReport(
        ack.file,
        sha256,
        ack.kinds,
        None,
        ack.problems + tied.problems,
        tuple(outcomes),
        tied.unmatched,
    )


def _located(problem: Problem, file: str) -> Problem:
    return replace(problem, where=replace(problem.where, file=file))


def _log(report: FileReport) -> None:
    for o in report.outcomes:
        if o.applied and o.verdict.status in TROUBLE:
            log.info(
                "ack.claim_rejected",
                source=o.verdict.source,
                encounter_id=o.verdict.claim.encounter_id,
                claim_id=o.verdict.claim.claim_id,
                code=o.verdict.code,
            )
        elif o.applied:
            log.info(
                "ack.claim_advanced",
                source=o.verdict.source,
                encounter_id=o.verdict.claim.encounter_id,
                status=o.verdict.status,
            )
    for u in report.unmatched:
        log.warning("ack.unmatched_reported", source=u.source, reference=u.reference)
    log.info(
        "ack.file_ingested",
        file=report.file,
        kinds=list(report.kinds),
        verdicts=len(report.outcomes),
        applied=sum(1 for o in report.outcomes if o.applied),
        unmatched=len(report.unmatched),
        errors=len(report.errors),
    )


# ------------------------------------------------------------------ JSON


def problem_json(p: Problem) -> dict[str, Any]:
    return {
        "severity": p.severity,
        "code": p.code,
        "message": p.message,
        "segment_index": p.where.segment_index,
        "segment_id": p.where.segment_id,
        "element": p.where.element,
    }


def outcome_json(o: Outcome) -> dict[str, Any]:
    v = o.verdict
    return {
        "encounter_id": v.claim.encounter_id,
        "frequency": v.claim.frequency,
        "isa13": v.claim.isa13,
        "st02": v.claim.st02,
        "source": v.source,
        "implied_status": v.status,
        "status_before": o.status_before,
        "status": o.status_after,
        "applied": o.applied,
        "note": o.note,
        "payer_claim_number": v.reported_payer_claim_number,
        "reasons": [
            {
                "source": r.source,
                "code": r.code,
                "message": r.message,
                "scope": r.scope,
                "line": r.line,
                "line_control_number": r.line_control_number,
                "segment_id": r.segment_id,
                "position": r.position,
                "element": r.element,
                "ack_segment_index": r.ack.segment_index,
            }
            for r in v.reasons
        ],
    }


def file_json(f: FileReport) -> dict[str, Any]:
    return {
        "file": f.file,
        "kinds": list(f.kinds),
        "duplicate": f.duplicate_of is not None,
        "problems": [problem_json(p) for p in f.problems],
        "claims": [outcome_json(o) for o in f.outcomes],
        "unmatched": [
            {
                "source": u.source,
                "reference": u.reference,
                "message": u.message,
                "implied_status": u.status,
                "ack_segment_index": u.ack.segment_index,
            }
            for u in f.unmatched
        ],
    }
