"""Claims to build, shared by every worker: put scrubbed claims in the queue, build from it.

The watcher reads an export (intake → coding → scrub) and ``enqueue``s every claim that passed;
then it, and every other worker with nothing better to do, ``drain``s the queue: take a batch of
ready claims of any export under a lease, build and validate them into interchanges (the build
stage's own ``build_claims``, so every rule of the build holds: one live build per claim key,
control numbers from the ledger, pyx12 before release), and mark them done. One large export is
so built by all the workers instead of the one that read it.

A worker killed mid-batch leaves its lease; the rows go to another worker when it runs out (or
at once on this host, the owner being a dead process). If the killed worker had committed its
interchange, the taker finds the claims built and records them ``already_built``: nothing twice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline import codec
from edi_pipeline.app.build import (
    ClaimOutcome,
    InterchangeOutcome,
    ToBuild,
    Validator,
    build_claims,
)
from edi_pipeline.ledger import build_queue as q
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.models import Claim
from edi_pipeline.practice import Practice
from edi_pipeline.transports.base import fault

log = structlog.get_logger()

#: claims a worker takes at once: one interchange per receiver, about a second of pyx12 work,
#: small enough that a large export is spread over every worker
BATCH = 200
#: seconds a taken batch is leased for; a batch takes well under this, a dead worker's rows
#: are free again after it (at once on the same host)
LEASE_SECONDS = 300.0
#: seconds between looks for batches held by dead workers on this host (each look lists the
#: leased rows and checks their owners' processes; a watcher drains after every file)
DEAD_OWNER_SCAN = 5.0
_last_dead_owner_scan = -DEAD_OWNER_SCAN


def enqueue_claims(
    ledger: Ledger, practice: Practice, items: Sequence[ToBuild], now: datetime
) -> int:
    """Put scrubbed claims in the build queue (one transaction)."""
    return q.enqueue(
        ledger,
        practice.key,
        (
            q.Enqueue(
                encounter_id=item.claim.encounter_id,
                frequency=item.claim.frequency,
                receiver=practice.receiver_for(item.claim.payer_id).key,
                payload=codec.dumps(item.claim),
                record_hash=item.record_hash,
                file=item.file,
                record=item.record,
            )
            for item in items
        ),
        now,
    )


@dataclass
class Drained:
    """What one worker built from the queue (claims of any export)."""

    claims: list[ClaimOutcome] = field(default_factory=list)
    interchanges: list[InterchangeOutcome] = field(default_factory=list)
    failed: int = 0  # rows no worker can build (unreadable payload)
    batches: int = 0


def drain(
    ledger: Ledger,
    practice: Practice,
    payers: Any,
    *,
    out_dir: Path,
    owner: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    batch: int = BATCH,
    lease_seconds: float = LEASE_SECONDS,
    processes: int | None = None,
    validator: Validator | None = None,
    stop: Callable[[], bool] = lambda: False,
    max_batches: int | None = None,
) -> Drained:
    """Build ready claims, a batch at a time, until none is free, ``stop()`` says so, or
    ``max_batches`` were built (other workers may keep the queue full for ever).

    ``now`` stamps what is recorded (tests freeze it); leases are always taken and judged on
    the real clock, so a reader whose file has been in hand for a long time still takes a
    lease that lasts ``lease_seconds`` from now."""
    global _last_dead_owner_scan
    drained = Drained()
    processes = processes or 1  # a worker is one of many: its batch is validated in-process
    while not stop() and (max_batches is None or drained.batches < max_batches):
        at = now()
        scan = time.monotonic() - _last_dead_owner_scan >= DEAD_OWNER_SCAN
        taken = q.take(
            ledger,
            owner=owner,
            now=datetime.now(UTC),
            lease_seconds=lease_seconds,
            limit=batch,
            practice=practice.key,
            dead_owners=scan,
        )
        if scan and not taken:
            _last_dead_owner_scan = time.monotonic()
        if not taken:
            break
        fault("queue.after_take")  # tests: a batch leased, nothing built
        rows: list[q.Queued] = []
        items: list[ToBuild] = []
        for row in taken:
            try:
                claim = codec.loads(Claim, row.payload)
            except codec.CodecError as exc:
                log.error("queue.payload_unreadable", claim_id=row.encounter_id, error=str(exc))
                q.fail(ledger, row.id, f"payload unreadable: {exc}", owner=owner, now=at)
                drained.failed += 1
                continue
            rows.append(row)
            items.append(ToBuild(claim, row.record_hash, row.file, row.record))
        try:
            built = build_claims(
                items,
                practice=practice,
                payers=payers,
                ledger=ledger,
                out_dir=out_dir,
                now=at,
                processes=processes,
                validator=validator,
                recover_first=False,
                sweep=False,
            )
        except BaseException:
            q.release(ledger, owner)  # let another worker (or this one, later) retry the rows
            raise
        q.finish(
            ledger,
            [(r.id, c.status, c.isa13) for r, c in zip(rows, built.claims, strict=True)],  # type: ignore[misc]
            owner=owner,
            now=at,
        )
        drained.claims.extend(built.claims)
        drained.interchanges.extend(built.interchanges)
        drained.batches += 1
        log.info(
            "queue.batch_built",
            claims=len(rows),
            interchanges=len(built.interchanges),
            worker_pid=os.getpid(),
        )
    return drained
