"""Exactly-once delivery of built interchanges: ``built → sending → sent`` through the ledger.

The state machine, per interchange::

    built ──(1) intent──▶ sending ──(2) put: temp name, size check, rename──▶ (3) sent
                              ▲                                                   │
                              └──── restart: look at the remote (reconcile) ◀─────┘ crash

1. In one ledger transaction the interchange becomes ``sending`` with its remote name, the
   destination and the size recorded, *before* a byte leaves. The row is leased to this run.
2. The transport writes a temporary name, checks the size, renames to the final name. It never
   overwrites a final name, so a file appears there whole, once.
3. In one transaction the interchange becomes ``sent`` and its claims ``built → sent``.

A crash anywhere leaves either ``built`` (nothing left; sent normally next time) or ``sending``.
A ``sending`` interchange is reconciled by asking the destination for the remote name
(``decide``): present with the recorded size → it arrived, mark it ``sent``; absent (nothing,
or only a partial temporary file) → send again under the same name (the temporary file is
overwritten); present with another size → a different file holds our name: refuse, report,
and leave it for a person. So each interchange ends up at the destination exactly once, and
the ledger says so.

A failure that may pass (server down, timeout) is retried with backoff; when retries run out
the interchange stays ``sending`` (nothing lost) and the batch stops, since the next file would
only wait out the same retries. A failure that will not pass for this file alone (a foreign
file under our name) is recorded and the batch goes on; one that will not pass for any file
(host key or login refused) stops the batch.

``decide`` is pure; ``deliver`` is the edge that runs it over a ledger and a transport.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

import structlog

from edi_pipeline.errors import DeliveryError
from edi_pipeline.ledger import delivery as q
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.transports.base import Retry, Transport, check_name, fault, with_retries

log = structlog.get_logger()

#: error codes after which no other file can succeed either: stop the batch
STOP_BATCH_CODES = frozenset({"host_key_refused", "auth_refused"})
#: a lease long enough for one file's retries; a crashed owner on this host is seen at once
LEASE_SECONDS = 600.0
DEFAULT_RETRY = Retry()


class Action(Enum):
    SEND = "send"  # nothing under the remote name: (re)send it
    MARK_SENT = "mark_sent"  # the remote name holds a file of our size: it arrived
    CONFLICT = "conflict"  # the remote name holds a file of another size: not ours


def decide(expected_size: int, remote_size: int | None) -> Action:
    """What to do with a ``sending`` interchange given what the destination holds."""
    if remote_size is None:
        return Action.SEND
    if remote_size == expected_size:
        return Action.MARK_SENT
    return Action.CONFLICT


@dataclass(frozen=True, slots=True)
class Sent:
    interchange_id: int
    isa13: str
    file: str
    remote_name: str
    size: int
    reconciled: bool  # found already at the destination after an interrupted run


@dataclass(frozen=True, slots=True)
class Failed:
    interchange_id: int
    isa13: str
    file: str
    remote_name: str | None
    code: str
    message: str
    retryable: bool


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    destination: str
    sent: tuple[Sent, ...] = ()
    failed: tuple[Failed, ...] = ()
    not_attempted: tuple[int, ...] = ()  # interchange ids left for the next run
    busy: tuple[int, ...] = ()  # held by another live delivery process
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if (self.failed or self.not_attempted) else 0

    def as_json(self) -> dict[str, object]:
        return {
            "destination": self.destination,
            "sent": [
                {
                    "interchange_id": s.interchange_id,
                    "isa13": s.isa13,
                    "file": s.file,
                    "remote_name": s.remote_name,
                    "size": s.size,
                    "reconciled": s.reconciled,
                }
                for s in self.sent
            ],
            "failed": [
                {
                    "interchange_id": f.interchange_id,
                    "isa13": f.isa13,
                    "file": f.file,
                    "remote_name": f.remote_name,
                    "code": f.code,
                    "message": f.message,
                    "retryable": f.retryable,
                }
                for f in self.failed
            ],
            "not_attempted": list(self.not_attempted),
            "busy": list(self.busy),
            "summary": {
                "sent": len(self.sent),
                "failed": len(self.failed),
                "not_attempted": len(self.not_attempted),
                "busy": len(self.busy),
                "seconds": round(self.seconds, 3),
            },
        }


@dataclass
class _Run:
    sent: list[Sent] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)


def _read_local(item: q.OutgoingInterchange) -> bytes:
    path = Path(item.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DeliveryError(
            f"{path}: the built interchange cannot be read: {exc.strerror}", retryable=False
        ) from exc
    if item.sha256 and hashlib.sha256(data).hexdigest() != item.sha256:
        raise DeliveryError(
            f"{path}: the file changed since it was built (sha256 differs from the ledger)",
            retryable=False,
        )
    return data


def _code(exc: DeliveryError) -> str:
    return exc.code if exc.code != "delivery" else "delivery_failed"


def deliver(
    ledger: Ledger,
    transport: Transport,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    retry: Retry = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
    owner: str | None = None,
) -> DeliveryResult:
    """Send every built, unsent interchange in ``ledger`` through ``transport``, exactly once."""
    owner = owner or q.new_owner()
    started = time.monotonic()
    run = _Run()
    pending = q.undelivered(ledger)
    stopped_at: int | None = None
    log.info("deliver.started", destination=transport.description, pending=len(pending))
    try:
        for index, item in enumerate(pending):
            try:
                outcome = _deliver_one(ledger, transport, item, owner, now, retry, sleep)
            except DeliveryError as exc:
                failure = Failed(
                    item.id,
                    item.isa13,
                    item.file,
                    item.remote_name,
                    _code(exc),
                    str(exc),
                    exc.retryable,
                )
                run.failed.append(failure)
                log.error(
                    "deliver.file_failed",
                    interchange_id=item.id,
                    isa13=item.isa13,
                    error=failure.code,
                    retryable=exc.retryable,
                )
                if exc.retryable or failure.code in STOP_BATCH_CODES:
                    stopped_at = index + 1
                    break
                continue
            if outcome is None:
                run.busy.append(item.id)
            else:
                run.sent.append(outcome)
    finally:
        q.release(ledger, owner)
        transport.close()
    not_attempted = tuple(i.id for i in pending[stopped_at:]) if stopped_at is not None else ()
    result = DeliveryResult(
        destination=transport.description,
        sent=tuple(run.sent),
        failed=tuple(run.failed),
        not_attempted=not_attempted,
        busy=tuple(run.busy),
        seconds=time.monotonic() - started,
    )
    log.info(
        "deliver.finished",
        destination=transport.description,
        sent=len(result.sent),
        reconciled=sum(1 for s in result.sent if s.reconciled),
        failed=len(result.failed),
        not_attempted=len(result.not_attempted),
        busy=len(result.busy),
    )
    return result


def _deliver_one(
    ledger: Ledger,
    transport: Transport,
    item: q.OutgoingInterchange,
    owner: str,
    now: Callable[[], datetime],
    retry: Retry,
    sleep: Callable[[float], None],
) -> Sent | None:
    with structlog.contextvars.bound_contextvars(interchange_id=item.id, isa13=item.isa13):
        if item.status == "sending" and item.destination not in (None, transport.description):
            raise DeliveryError(
                f"interchange {item.isa13} was being sent to {item.destination}; finish it "
                f"there (deliver --to that destination) before sending anywhere else",
                retryable=False,
            )
        data = _read_local(item)
        remote_name = item.remote_name or check_name(Path(item.file).name)
        claimed = q.start_sending(
            ledger,
            item,
            owner=owner,
            destination=transport.description,
            remote_name=remote_name,
            size=len(data),
            now=now(),
            lease_seconds=LEASE_SECONDS,
        )
        if claimed is None:
            log.info("deliver.file_busy")
            return None
        remote_name = claimed.remote_name or remote_name
        fault("deliver.after_intent")
        resumed = item.status == "sending"

        def attempt() -> bool:
            """One try: look, then send if absent. True when it was already there."""
            action = decide(len(data), transport.exists(remote_name))
            if action is Action.MARK_SENT:
                return True
            if action is Action.CONFLICT:
                exc = DeliveryError(
                    f"{transport.description} already holds a different {remote_name} "
                    f"(size differs from the {len(data)} bytes sent); not overwritten",
                    retryable=False,
                )
                exc.code = "remote_conflict"
                raise exc
            transport.put(remote_name, data)
            return False

        try:
            already_there = with_retries(attempt, retry, what=remote_name, sleep=sleep)
        except DeliveryError as exc:
            q.record_failure(
                ledger, item.id, owner=owner, code=_code(exc), message=str(exc), now=now()
            )
            raise
        note = "found at the destination after an interrupted run" if already_there else None
        if not q.mark_sent(ledger, item.id, owner=owner, size=len(data), now=now(), note=note):
            raise DeliveryError(
                f"interchange {item.isa13}: the ledger row changed while it was being sent",
                retryable=False,
            )
        log.info(
            "deliver.file_sent",
            remote_name=remote_name,
            size=len(data),
            reconciled=already_there,
            resumed=resumed,
        )
        return Sent(item.id, item.isa13, item.file, remote_name, len(data), already_there)
