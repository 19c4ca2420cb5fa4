"""The build workflow: coded, scrubbed claims → validated 837P files, recorded in the ledger.

Order of work, and why:

1. **Recover** what a crashed run left: an interchange the ledger recorded whose file is not in
   place yet is renamed from its staged copy (written and fsynced *before* the ledger commit);
   if that copy is gone too, the interchange is marked ``lost``, its control number written to
   ``control_number_gaps`` with the reason, and its claims become buildable again. Staged files
   no ledger row knows (a crash before the commit) are deleted: their numbers were rolled back.
2. **Skip** claims already built (a live interchange holds them): re-running an input is a no-op
   that says so. Claims failing ``claim837.claim_problems`` are rejected with their reasons.
3. **Validate** with pyx12 before anything is released: the claims are rendered with
   provisional control numbers into private scratch files (in parallel chunks for large
   batches) and every pyx12 error is tied to its claim by segment position. A failing claim is
   not released; it is recorded ``rejected`` (source ``pyx12``) with its errors. The final file
   differs from what was validated only in the control numbers (ISA13/GS06/BHT03 and the REF*6R
   values, same widths), which the ledger assigns.
4. **Release**, one interchange per receiver, in one ledger transaction: take ISA13/GS06 and
   the line control numbers, render, stage the file (temp name, fsync), record the interchange,
   claims, lines and segment positions, commit; then rename into place.
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline.claim837 import BuiltInterchange, build_interchange, claim_problems
from edi_pipeline.errors import BuildError
from edi_pipeline.files import private_dir, publish, stage, staged_name
from edi_pipeline.ledger import claims as ledger_claims
from edi_pipeline.ledger import interchanges as ledger_ix
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.ledger.claims import ClaimKey
from edi_pipeline.models import Claim, Hold, ServiceLine
from edi_pipeline.practice import Practice, Receiver
from edi_pipeline.transports.base import fault

log = structlog.get_logger()

#: the fewest claims worth a pyx12 process of their own (it loads its maps once per process)
MIN_CHUNK = 250

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """One reason a claim or record was not built: a field (or element) and a message."""

    field: str
    message: str
    code: str | None = None
    segment_position: int | None = None  # in its transaction set (ST = 1), as a 999 IK3 says
    segment_id: str | None = None
    loop: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        for key in ("code", "segment_position", "segment_id", "loop"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class ToBuild:
    """A claim that passed scrub, with where its encounter came from."""

    claim: Claim
    record_hash: str | None = None
    file: str | None = None
    record: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    encounter_id: str
    status: str  # built | held | rejected | already_built
    charge: Decimal
    lines: tuple[ServiceLine, ...] = ()
    holds: tuple[Hold, ...] = ()
    errors: tuple[ErrorItem, ...] = ()
    stage: str | None = None  # for rejections: intake, coding, build, pyx12
    file: str | None = None
    record: int | None = None
    isa13: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class InterchangeOutcome:
    file: str
    isa13: str
    claims: int
    receiver: str
    sha256: str


@dataclass(frozen=True, slots=True)
class BuildBatch:
    claims: tuple[ClaimOutcome, ...]
    interchanges: tuple[InterchangeOutcome, ...]
    recovered: tuple[str, ...] = ()


#: (files, processes, today) -> one result per file, in order (``validate.validate_many``)
Validator = Callable[[Sequence[Path], int, date], Sequence[Any]]


def default_validator(paths: Sequence[Path], processes: int, today: date) -> Sequence[Any]:
    """pyx12 plus the semantic checks (``edi_pipeline.validate``), ``processes`` at a time.

    ``today`` is passed down rather than read in each worker, so a date "in the future" means
    the same in every process (and under a frozen clock in tests)."""
    from edi_pipeline.validate import validate_many

    return validate_many(list(paths), processes=processes, today=today)


# ------------------------------------------------------------------ recovery


def recover(ledger: Ledger, practice: Practice, now: datetime) -> list[str]:
    """Finish or account for interchanges a crashed run left between commit and rename."""
    messages: list[str] = []
    for ix in ledger_ix.interchanges(ledger, status="built", practice=practice.key):
        final = Path(ix.file)
        if final.exists():
            continue
        tmp = staged_name(final)
        if tmp.exists() and _sha256(tmp.read_bytes()) == ix.sha256:
            try:
                publish(tmp, final)
            except FileNotFoundError:  # its own process renamed it a moment ago
                continue
            log.warning("build.interchange_recovered", isa13=ix.isa13, file=str(final))
            messages.append(f"interchange {ix.isa13} was committed but not renamed: now {final}")
            continue
        if final.exists():  # renamed by its own process between the two looks (rename is atomic)
            continue
        with ledger.transaction():
            ledger_ix.set_status(ledger, ix.id, "lost", now)
            ledger_ix.record_gap(
                ledger,
                ix.sender,
                ix.receiver,
                ledger_ix.INTERCHANGE,
                int(ix.isa13),
                f"file {final} missing after commit (no staged copy): never released",
                now,
            )
            for tx in ledger_ix.claims_by_control(ledger, ix.isa13, sender=ix.sender):
                ledger_claims.record_status(
                    ledger,
                    tx.claim_id,
                    "rejected",
                    now,
                    source="build",
                    code="interchange_lost",
                    message=f"interchange {ix.isa13} was lost before release; build again",
                )
        log.error("build.interchange_lost", isa13=ix.isa13, file=str(final))
        messages.append(f"interchange {ix.isa13}: file {final} is missing; recorded as a gap")
    return messages


def sweep_orphans(out_dir: Path, ledger: Ledger, practice: Practice) -> None:
    """Delete staged files no ledger row refers to (their transaction never committed) and
    validation scratch files of processes that are gone.

    Runs under the ledger's write lock: a process releasing an interchange holds that lock from
    before it stages its file until it commits, so a staged file seen here without a row is
    truly orphaned, never a neighbour's work in progress."""
    if not out_dir.is_dir():
        return
    prefix = f".{practice.key}-"
    with ledger.transaction(exclusive=True):  # PostgreSQL: wait for every writer, as SQLite does
        known = {
            staged_name(Path(ix.file)).name
            for ix in ledger_ix.interchanges(ledger, practice=practice.key)
        }
        for path in out_dir.iterdir():
            name = path.name
            if name.startswith(prefix) and name.endswith(".837.tmp") and name not in known:
                path.unlink(missing_ok=True)
            elif name.startswith(".validate-") and name.endswith(".837"):
                # .validate-PID-K-HOST.837: only this host can tell whether PID is gone
                pid, _, rest = name[len(".validate-") : -len(".837")].partition("-")
                host = rest.partition("-")[2]
                if host == HOST and pid.isdigit() and not _alive(int(pid)):
                    path.unlink(missing_ok=True)


#: this host's name, in scratch file names: workers on several hosts share one outbound folder
HOST = socket.gethostname()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours are removed as soon as they are validated
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ------------------------------------------------------------------ validation


def _provisional(claims: Sequence[Claim]) -> list[Claim]:
    """Number the lines as the ledger will (same width) so the validated text has the shape of
    the released one."""
    n = 0
    out = []
    for claim in claims:
        lines = []
        for line in claim.lines:
            n += 1
            lines.append(replace(line, line_control_number=f"{n:010d}"))
        out.append(replace(claim, lines=tuple(lines)))
    return out


def validate_claims(
    claims: Sequence[Claim],
    practice: Practice,
    receiver: Receiver,
    payers: Any,
    *,
    out_dir: Path,
    now: datetime,
    processes: int,
    validator: Validator,
) -> dict[int, tuple[ErrorItem, ...]]:
    """pyx12 errors per claim (by index into ``claims``); claims absent from the result passed.

    Errors outside every claim (envelope, header loops) mean our writer is wrong: BuildError.
    """
    if not claims:
        return {}
    numbered = _provisional(claims)
    chunks = max(1, min(processes, math.ceil(len(claims) / MIN_CHUNK)))
    size = math.ceil(len(claims) / chunks)
    private_dir(out_dir)
    paths: list[Path] = []
    built: list[tuple[int, BuiltInterchange]] = []
    try:
        for k, start in enumerate(range(0, len(numbered), size)):
            part = numbered[start : start + size]
            ix = build_interchange(part, practice, receiver, payers, isa13=0, gs06=0, now=now)
            path = out_dir / f".validate-{os.getpid()}-{k}-{HOST}.837"
            stage(path, ix.text.encode("ascii"))
            os.replace(staged_name(path), path)
            paths.append(path)
            built.append((start, ix))
        results = validator(paths, processes, now.date())
    finally:
        for path in paths:
            path.unlink(missing_ok=True)
    failed: dict[int, list[ErrorItem]] = {}
    for (start, ix), result in zip(built, results, strict=True):
        if result.valid and not result.errors:
            continue
        for issue in result.errors:
            index = _claim_of(ix, issue)
            if index is None:
                raise BuildError(
                    f"pyx12 rejects the envelope or header we wrote: {issue.message} "
                    f"(segment {issue.segment_id} #{issue.segment_index})",
                    code="build_envelope_invalid",
                )
            failed.setdefault(start + index, []).append(
                ErrorItem(
                    field=issue.element or issue.segment_id or "",
                    message=issue.message,
                    code=getattr(issue, "code", None),
                    segment_position=_in_transaction(ix, index, issue.segment_index),
                    segment_id=issue.segment_id,
                    loop=issue.loop,
                )
            )
        if not result.valid and not result.errors:
            raise BuildError("pyx12 found the interchange invalid without saying why")
    return {k: tuple(v) for k, v in failed.items()}


def _claim_of(ix: BuiltInterchange, issue: Any) -> int | None:
    position = getattr(issue, "segment_index", None)
    if position is not None:
        for span in ix.claims:
            if span.file_first <= position <= span.file_last:
                return span.index
    claim_id = getattr(issue, "claim_id", None)
    if claim_id:
        for span in ix.claims:
            if span.encounter_id == claim_id:
                return span.index
    return None


def _in_transaction(ix: BuiltInterchange, index: int, position: int | None) -> int | None:
    """A file position as the position in its transaction set (ST = 1), as a 999 gives it."""
    if position is None:
        return None
    span = ix.claims[index]
    return position - span.file_first + span.first_segment


# ------------------------------------------------------------------ release


def file_name(practice: Practice, receiver: Receiver, isa13: str) -> str:
    return f"{practice.key}-{receiver.key}-{isa13}.837"


@dataclass(frozen=True, slots=True)
class StagedInterchange:
    """An interchange rendered, staged (temp name, fsynced) and recorded, not yet renamed."""

    claims: list[Claim]  # with their line control numbers
    built: BuiltInterchange
    final: Path
    tmp: Path
    interchange_id: int
    sha256: str


def stage_interchange(
    ledger: Ledger,
    claims: Sequence[Claim],
    practice: Practice,
    receiver: Receiver,
    payers: Any,
    *,
    out_dir: Path,
    now: datetime,
    x12_now: datetime,
) -> StagedInterchange:
    """Take ISA13/GS06 and the line control numbers, render, stage the file and record the
    interchange; inside the caller's ledger transaction, so a crash leaves either nothing or a
    row whose staged copy ``recover`` can finish. ``build`` and ``reprocess`` both release this
    way: they differ only in which claims they let through."""
    n = ledger_ix.next_control_number(
        ledger, practice.submitter.id, receiver.id, ledger_ix.INTERCHANGE
    )
    lcns = iter(ledger_ix.next_line_control_numbers(ledger, sum(len(c.lines) for c in claims)))
    numbered = [
        replace(c, lines=tuple(replace(ln, line_control_number=next(lcns)) for ln in c.lines))
        for c in claims
    ]
    built = build_interchange(numbered, practice, receiver, payers, isa13=n, gs06=n, now=x12_now)
    data = built.text.encode("ascii")
    digest = _sha256(data)
    final = out_dir / file_name(practice, receiver, built.isa13)
    tmp = stage(final, data)
    iid = ledger_ix.record_interchange(
        ledger,
        practice=practice.key,
        file=str(final),
        sender=built.sender,
        receiver=built.receiver,
        isa13=built.isa13,
        gs06=built.gs06,
        usage=built.usage,
        claims=len(numbered),
        at=now,
        sha256=digest,
    )
    return StagedInterchange(numbered, built, final, tmp, iid, digest)


def record_built_claim(
    ledger: Ledger,
    practice: Practice,
    claim: Claim,
    span: Any,
    interchange_id: int,
    *,
    record_hash: str | None,
    source: str,
    message: str,
    now: datetime,
) -> int:
    """Record ``claim`` as built into the interchange: its encounter, status, cleared holds,
    transaction set and lines with their segment positions (``span``, a claim span of
    ``build_interchange``). Returns the claim's ledger id."""
    key = ClaimKey(practice.key, claim.encounter_id, claim.frequency)
    ledger_claims.record_encounter(ledger, practice.key, claim.encounter_id, record_hash, now)
    claim_id = ledger_claims.upsert_claim(
        ledger,
        key,
        status="built",
        payer_id=claim.payer_id,
        charge=claim.total_charge,
        at=now,
        date_of_service=claim.date_of_service,
        payer_claim_number=claim.payer_claim_number,
        record_hash=record_hash,
        source=source,
        message=message,
    )
    ledger_claims.replace_holds(ledger, claim_id, (), now)
    icid = ledger_ix.record_interchange_claim(
        ledger, interchange_id, span.st02, claim_id, span.first_segment, span.last_segment
    )
    for line, lspan in zip(claim.lines, span.lines, strict=True):
        ledger_claims.record_line(
            ledger,
            claim_id,
            line_number=lspan.line_number,
            line_control_number=lspan.line_control_number,
            procedure=line.procedure,
            modifiers=line.modifiers,
            units=line.units,
            charge=line.charge,
            ndc=line.ndc,
            ndc_quantity=line.ndc_quantity,
            ndc_unit=line.ndc_unit,
            date_of_service=claim.date_of_service,
            interchange_claim_id=icid,
            first_segment=lspan.first_segment,
            last_segment=lspan.last_segment,
        )
    return claim_id


def release(
    ledger: Ledger,
    items: Sequence[ToBuild],
    practice: Practice,
    receiver: Receiver,
    payers: Any,
    *,
    out_dir: Path,
    now: datetime,
    x12_now: datetime,
) -> tuple[InterchangeOutcome | None, list[ClaimOutcome]]:
    """Build one interchange for ``receiver`` and record it; returns it and each claim's fate,
    in the order of ``items``.

    The ledger keeps the absolute path (a later run may start elsewhere); the outcome names
    the file as the user gave the folder."""
    shown_dir = out_dir
    out_dir = private_dir(out_dir).resolve()
    outcomes: dict[int, ClaimOutcome] = {}  # by position in ``items``
    with ledger.transaction():
        ledger_claims.lock_for_build(  # PostgreSQL: one builder per claim at a time
            ledger,
            [ClaimKey(practice.key, i.claim.encounter_id, i.claim.frequency) for i in items],
        )
        fresh: list[ToBuild] = []
        positions: list[int] = []
        for n, item in enumerate(items):
            key = ClaimKey(practice.key, item.claim.encounter_id, item.claim.frequency)
            isa13 = ledger_claims.live_build(ledger, key)
            if isa13 is not None:  # another process built it since we looked
                outcomes[n] = _already(item, isa13)
            else:
                fresh.append(item)
                positions.append(n)
        if not fresh:
            return None, [outcomes[n] for n in sorted(outcomes)]
        staged = stage_interchange(
            ledger,
            [i.claim for i in fresh],
            practice,
            receiver,
            payers,
            out_dir=out_dir,
            now=now,
            x12_now=x12_now,
        )
        built, numbered, final, tmp = staged.built, staged.claims, staged.final, staged.tmp
        digest = staged.sha256
        for n, item, claim, span in zip(positions, fresh, numbered, built.claims, strict=True):
            record_built_claim(
                ledger,
                practice,
                claim,
                span,
                staged.interchange_id,
                record_hash=item.record_hash,
                source="build",
                message=f"interchange {built.isa13} transaction {span.st02}",
                now=now,
            )
            outcomes[n] = ClaimOutcome(
                claim.encounter_id,
                "built",
                claim.total_charge,
                lines=claim.lines,
                file=item.file,
                record=item.record,
                isa13=built.isa13,
            )
        fault("build.before_commit")  # tests: staged and recorded, not committed
    fault("build.after_commit")
    try:
        publish(tmp, final)
    except FileNotFoundError:
        if not final.exists():  # neither name: the file is gone, which recover() will record
            raise
        # another process's recover() renamed it for us between our commit and our rename
    fault("build.after_rename")
    log.info(
        "build.interchange_written",
        isa13=built.isa13,
        receiver=receiver.key,
        claims=len(numbered),
        file=str(final),
    )
    return (
        InterchangeOutcome(
            str(shown_dir / final.name), built.isa13, len(numbered), receiver.key, digest
        ),
        [outcomes[n] for n in sorted(outcomes)],
    )


# ------------------------------------------------------------------ the workflow


def _record_rejected(
    ledger: Ledger, practice: Practice, item: ToBuild, errors: Sequence[ErrorItem], source: str,
    now: datetime,
) -> None:  # fmt: skip
    claim = item.claim
    key = ClaimKey(practice.key, claim.encounter_id, claim.frequency)
    with ledger.transaction():
        ledger_claims.record_encounter(
            ledger, practice.key, claim.encounter_id, item.record_hash, now
        )
        record_rejected_claim(
            ledger, key, claim, errors, record_hash=item.record_hash, source=source, now=now
        )


def record_rejected_claim(
    ledger: Ledger,
    key: ClaimKey,
    claim: Claim,
    errors: Sequence[ErrorItem],
    *,
    record_hash: str | None,
    source: str,
    now: datetime,
) -> None:
    """Record ``claim`` as rejected before release (``build`` and ``reprocess``), its first
    error as the message; inside the caller's transaction."""
    first = errors[0]
    ledger_claims.upsert_claim(
        ledger,
        key,
        status="rejected",
        payer_id=claim.payer_id,
        charge=claim.total_charge,
        at=now,
        date_of_service=claim.date_of_service,
        record_hash=record_hash,
        source=source,
        message=f"{first.field}: {first.message}"[:500],
    )


def _already(item: ToBuild, isa13: str) -> ClaimOutcome:
    return ClaimOutcome(
        item.claim.encounter_id,
        "already_built",
        item.claim.total_charge,
        lines=item.claim.lines,
        file=item.file,
        record=item.record,
        isa13=isa13,
        note=f"already built into interchange {isa13}; not built again",
    )


def build_claims(
    items: Sequence[ToBuild],
    *,
    practice: Practice,
    payers: Any,
    ledger: Ledger,
    out_dir: Path,
    now: datetime,
    processes: int | None = None,
    validator: Validator | None = None,
    progress: Progress | None = None,
    recover_first: bool = True,
    sweep: bool = True,
) -> BuildBatch:
    """Validate and release ``items``; every item ends built, already built or rejected.

    ``recover_first=False`` when the caller already ran ``recover`` (the outbound pipeline
    does, before deciding which encounters are already built); ``sweep=False`` when it already
    swept the folder's orphans (a queue worker does once, not for every batch: the sweep holds
    the ledger-wide lock)."""
    validator = validator or default_validator
    processes = processes or os.cpu_count() or 1
    x12_now = now.astimezone() if now.tzinfo else now
    recovered = recover(ledger, practice, now) if recover_first else []
    if sweep:
        sweep_orphans(out_dir, ledger, practice)
    outcomes: dict[int, ClaimOutcome] = {}
    seen: set[tuple[str, str]] = set()
    by_receiver: dict[str, list[int]] = {}
    receivers = {r.key: r for r in practice.receivers}
    for n, item in enumerate(items):
        claim = item.claim
        key = ClaimKey(practice.key, claim.encounter_id, claim.frequency)
        if (claim.encounter_id, claim.frequency) in seen:
            outcomes[n] = rejected_outcome(item, TWICE, "build")
            continue
        seen.add((claim.encounter_id, claim.frequency))
        isa13 = ledger_claims.live_build(ledger, key)
        if isa13 is not None:
            outcomes[n] = _already(item, isa13)
            continue
        problems = claim_problems(claim, practice, payers, numbered=False)
        if problems:
            errs = tuple(
                ErrorItem(p.where.field or p.where.loop or "claim", p.message, p.code)
                for p in problems
            )
            _record_rejected(ledger, practice, item, errs, "build", now)
            outcomes[n] = rejected_outcome(item, errs, "build")
            continue
        by_receiver.setdefault(practice.receiver_for(claim.payer_id).key, []).append(n)
    if progress:
        progress(len(outcomes))
    interchanges: list[InterchangeOutcome] = []
    for rkey, indexes in by_receiver.items():
        receiver = receivers[rkey]
        claims = [items[i].claim for i in indexes]
        failed = validate_claims(
            claims,
            practice,
            receiver,
            payers,
            out_dir=out_dir,
            now=x12_now,
            processes=processes,
            validator=validator,
        )
        passing: list[int] = []
        for k, i in enumerate(indexes):
            if k in failed:
                _record_rejected(ledger, practice, items[i], failed[k], "pyx12", now)
                outcomes[i] = rejected_outcome(items[i], failed[k], "pyx12")
                log.warning(
                    "build.claim_rejected",
                    claim_id=items[i].claim.encounter_id,
                    errors=len(failed[k]),
                    segment_id=failed[k][0].segment_id,
                )
            else:
                passing.append(i)
        if progress:
            progress(len(indexes) - len(passing))
        if not passing:
            continue
        ix, done = release(
            ledger,
            [items[i] for i in passing],
            practice,
            receiver,
            payers,
            out_dir=out_dir,
            now=now,
            x12_now=x12_now,
        )
        for i, claim_outcome in zip(passing, done, strict=True):  # release keeps the order
            outcomes[i] = claim_outcome
        if ix is not None:
            interchanges.append(ix)
        if progress:
            progress(len(passing))
    return BuildBatch(
        claims=tuple(outcomes[i] for i in sorted(outcomes)),
        interchanges=tuple(interchanges),
        recovered=tuple(recovered),
    )


#: why the second claim of one key in one batch is not built
TWICE = (ErrorItem("encounter_id", "appears twice in this batch; built once"),)


def rejected_outcome(item: ToBuild, errors: tuple[ErrorItem, ...], stage_: str) -> ClaimOutcome:
    return ClaimOutcome(
        item.claim.encounter_id,
        "rejected",
        item.claim.total_charge,
        lines=item.claim.lines,
        errors=errors,
        stage=stage_,
        file=item.file,
        record=item.record,
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
