"""The build queue (migration 0050): claims waiting for a worker to build them, leased while built.

Reading an export (intake, coding, scrub) is cheap; building and validating with pyx12 is what
costs. Putting each scrubbed claim here, rather than building it in the process that read its
file, is what lets every worker share the build of one large export: a worker ``take``s a batch
of ready claims of any export under a lease, builds them, and ``finish``es them. On PostgreSQL the
batch is chosen with ``FOR UPDATE SKIP LOCKED``, so workers taking at the same moment get
different rows without waiting on each other; on SQLite the writer lock serialises them.

The payload is the claim itself, patient data included: it stays in the ledger only while
the claim waits, and is cleared when the row is finished or failed (the export it came from is
the record; a failed claim is sent again by dropping its export again).

A lease that expires, or whose owner is a dead process on this host, is free again: ``take``
hands such rows to another worker. That is safe because building is idempotent per claim key
(the build stage skips a claim a live interchange holds and records it ``already_built``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from edi_pipeline.ledger._time import stamp
from edi_pipeline.ledger.base import Ledger, Row
from edi_pipeline.ledger.delivery import lease_free, lease_until

#: a row taken this many times without being finished is failed (its builds keep crashing)
MAX_ATTEMPTS = 5

Outcome = Literal["built", "already_built", "rejected"]


@dataclass(frozen=True, slots=True)
class Enqueue:
    """One scrubbed claim to put in the queue."""

    encounter_id: str
    frequency: str
    receiver: str
    payload: str  # the Claim as JSON (codec)
    record_hash: str | None = None
    file: str | None = None
    record: int | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    """A queue row taken by a worker."""

    id: int
    practice: str
    encounter_id: str
    frequency: str
    receiver: str
    payload: str
    record_hash: str | None
    file: str | None
    record: int | None
    attempts: int


def enqueue(ledger: Ledger, practice: str, items: Iterable[Enqueue], now: datetime) -> int:
    """Put ``items`` (one per claim key) in the queue; returns how many rows were added or
    made ready again.

    A claim key already waiting and not leased takes the newer payload (the export was read
    again); one leased now is left to its builder; one done or failed is queued again (its
    earlier build was rejected, or the export was corrected: the build stage still refuses to
    build a claim twice)."""
    ts = stamp(now)
    rows = [
        (
            practice,
            item.encounter_id,
            item.frequency,
            item.receiver,
            item.payload,
            item.record_hash,
            item.file,
            item.record,
            ts,
        )
        for item in items
    ]
    rows.sort(key=lambda r: r[1:3])  # one lock order for every writer: no deadlock
    if len({r[1:3] for r in rows}) != len(rows):
        raise ValueError("enqueue: a claim key appears twice in one call")
    changed = 0
    with ledger.transaction():
        for k in range(0, len(rows), _ROWS_PER_INSERT):  # one round trip per chunk
            chunk = rows[k : k + _ROWS_PER_INSERT]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?)"] * len(chunk))
            changed += ledger.execute(
                "INSERT INTO build_queue (practice, encounter_id, frequency, receiver, payload, "
                f"record_hash, file, record, state, enqueued_at) VALUES {values} "
                "ON CONFLICT (practice, encounter_id, frequency) DO UPDATE SET "
                "receiver = excluded.receiver, payload = excluded.payload, "
                "record_hash = excluded.record_hash, file = excluded.file, "
                "record = excluded.record, state = 'ready', attempts = 0, "
                "enqueued_at = excluded.enqueued_at, finished_at = NULL, finished_by = NULL, "
                "outcome = NULL, "
                "isa13 = NULL, reason = NULL "
                "WHERE build_queue.state <> 'ready' OR build_queue.lease_owner IS NULL "
                "OR build_queue.lease_until <= excluded.enqueued_at",
                tuple(value for row in chunk for value in row),
            ).rowcount
    return changed


#: claims per INSERT statement (9 parameters each)
_ROWS_PER_INSERT = 100


_COLUMNS = (
    "id, practice, encounter_id, frequency, receiver, payload, record_hash, file, record, attempts"
)


def _queued(row: Row) -> Queued:
    return Queued(**{name: row[name] for name in _COLUMNS.split(", ")})


def take(
    ledger: Ledger,
    *,
    owner: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    practice: str | None = None,
    dead_owners: bool = True,
) -> list[Queued]:
    """Lease up to ``limit`` ready claims (oldest first) to ``owner``; [] when none is free.

    Unleased and expired rows are taken first; rows whose owner died on this host are looked
    for only when there are none and ``dead_owners`` is set, so a busy queue never pays for
    the process checks (a caller that polls may look for dead owners less often than it
    takes). A row taken more than ``MAX_ATTEMPTS`` times is failed instead of handed out
    again."""
    ts = stamp(now)
    until = lease_until(now, lease_seconds)
    skip = getattr(ledger, "lock_skip", "")
    scope, scope_params = ("AND practice = ? ", (practice,)) if practice else ("", ())
    with ledger.transaction():
        rows = ledger.query(
            f"SELECT {_COLUMNS} FROM build_queue WHERE state = 'ready' {scope}"
            "AND (lease_owner IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?" + skip,
            (*scope_params, ts, limit),
        )
        if not rows and dead_owners:
            leased = ledger.query(
                f"SELECT {_COLUMNS}, lease_owner, lease_until FROM build_queue "
                f"WHERE state = 'ready' {scope}AND lease_owner IS NOT NULL ORDER BY id LIMIT ?"
                + skip,
                (*scope_params, limit * 4),
            )
            rows = [
                r
                for r in leased
                if lease_free(r["lease_owner"], r["lease_until"], me=owner, now=ts)
            ][:limit]
        taken: list[Queued] = []
        for row in rows:
            item = _queued(row)
            if item.attempts >= MAX_ATTEMPTS:
                ledger.execute(
                    "UPDATE build_queue SET state = 'failed', lease_owner = NULL, "
                    "lease_until = NULL, finished_at = ?, reason = ?, payload = '' WHERE id = ?",
                    (ts, f"taken {item.attempts} times and never finished", item.id),
                )
                continue
            taken.append(item)
        for chunk in _chunks([t.id for t in taken]):
            ledger.execute(
                "UPDATE build_queue SET lease_owner = ?, lease_until = ?, "
                f"attempts = attempts + 1 WHERE id IN ({_marks(chunk)})",
                (owner, until, *chunk),
            )
    return taken


#: ids per ``IN (…)`` list: well under SQLite's 32,766 bound parameters
_CHUNK = 500


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[k : k + _CHUNK] for k in range(0, len(ids), _CHUNK)]


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" * len(ids))


def finish(
    ledger: Ledger,
    done: Sequence[tuple[int, Outcome, str | None]],
    *,
    owner: str,
    now: datetime,
) -> int:
    """Mark taken rows done: (id, outcome, isa13). Only the lease holder's rows change."""
    ts = stamp(now)
    groups: dict[tuple[str, str | None], list[int]] = {}
    for row_id, outcome, isa13 in done:  # one statement per interchange and outcome
        groups.setdefault((outcome, isa13), []).append(row_id)
    n = 0
    with ledger.transaction():
        for (outcome, isa13), ids in groups.items():
            for chunk in _chunks(ids):
                n += ledger.execute(
                    "UPDATE build_queue SET state = 'done', outcome = ?, isa13 = ?, "
                    "finished_at = ?, finished_by = ?, lease_owner = NULL, lease_until = NULL, "
                    "payload = '' "
                    f"WHERE lease_owner = ? AND id IN ({_marks(chunk)})",
                    (outcome, isa13, ts, owner, owner, *chunk),
                ).rowcount
    return n


def fail(ledger: Ledger, row_id: int, reason: str, *, owner: str, now: datetime) -> None:
    """A row no worker can build (e.g. a payload this release cannot read): out of the queue,
    with the reason (no PHI), for a person to look at."""
    with ledger.transaction():
        ledger.execute(
            "UPDATE build_queue SET state = 'failed', reason = ?, finished_at = ?, "
            "lease_owner = NULL, lease_until = NULL, payload = '' "
            "WHERE id = ? AND lease_owner = ?",
            (reason[:500], stamp(now), row_id, owner),
        )


def release(ledger: Ledger, owner: str) -> int:
    """Drop every lease ``owner`` holds (worker shutdown, or a batch it could not finish)."""
    with ledger.transaction():
        return ledger.execute(
            "UPDATE build_queue SET lease_owner = NULL, lease_until = NULL "
            "WHERE lease_owner = ? AND state = 'ready'",
            (owner,),
        ).rowcount


def counts(ledger: Ledger) -> dict[str, int]:
    """Rows by state (``ready`` split into waiting and leased)."""
    out = {"waiting": 0, "leased": 0, "done": 0, "failed": 0}
    for row in ledger.query(
        "SELECT state, lease_owner IS NOT NULL AS leased, COUNT(*) AS n FROM build_queue "
        "GROUP BY state, lease_owner IS NOT NULL"
    ):
        key = row["state"]
        if key == "ready":
            key = "leased" if row["leased"] else "waiting"
        out[key] += row["n"]
    return out


def entry(ledger: Ledger, practice: str, encounter_id: str, frequency: str) -> dict | None:
    """The queue row of one claim key (state, outcome, isa13, reason), if it was queued."""
    row = ledger.query_one(
        "SELECT state, outcome, isa13, reason, lease_owner, finished_by, file, record "
        "FROM build_queue "
        "WHERE practice = ? AND encounter_id = ? AND frequency = ?",
        (practice, encounter_id, frequency),
    )
    return dict(zip(row.keys(), tuple(row), strict=True)) if row is not None else None
