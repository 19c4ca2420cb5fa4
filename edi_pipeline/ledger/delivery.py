"""Ledger queries for delivery (interchanges built → sending → sent) and the drop folder.

Both are exactly-once problems solved the same way: a row is *claimed* with a conditional
UPDATE/INSERT inside a write transaction before any work starts, and carries a lease (owner,
until). A lease may be taken over when it expired, or at once when its owner was a process on
this host that no longer exists (it was killed mid-step), or when its owner released it. So a
restarted process resumes immediately, and two processes never work on one row at a time.

Owners look like ``host:pid:token``; ``token`` tells two runs of one process apart.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from edi_pipeline.ledger._time import stamp
from edi_pipeline.ledger.base import Ledger, Row

# ------------------------------------------------------------------ leases


def new_owner() -> str:
    """A lease owner id for this process and run: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, belongs to someone else
    return True


def lease_free(owner: str | None, until: str | None, *, me: str, now: str) -> bool:
    """May ``me`` take a row leased by ``owner`` until ``until``, at ``now``?"""
    if owner is None or owner == me:
        return True
    if until is not None and until <= now:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            # Our own process, another run: runs in one process are sequential unless threaded,
            # and a finished run released its leases, so a leftover is from a run that raised.
            return True
        return not _pid_alive(pid)
    return False


def lease_until(now: datetime, seconds: float) -> str:
    """The stamp ``seconds`` after ``now``: when a lease taken now runs out."""
    return stamp(now + timedelta(seconds=seconds))


# ------------------------------------------------------------------ interchanges

DeliveryState = Literal["built", "sending", "sent"]


@dataclass(frozen=True, slots=True)
class OutgoingInterchange:
    """An interchange that delivery still has to finish (built or sending)."""

    id: int
    file: str
    sha256: str | None
    isa13: str
    status: str
    remote_name: str | None
    destination: str | None
    size: int | None
    owner: str | None
    lease_until: str | None
    attempts: int


def _outgoing(row: Row) -> OutgoingInterchange:
    return OutgoingInterchange(
        id=row["id"],
        file=row["file"],
        sha256=row["sha256"],
        isa13=row["isa13"],
        status=row["status"],
        remote_name=row["remote_name"],
        destination=row["destination"],
        size=row["size"],
        owner=row["delivery_owner"],
        lease_until=row["delivery_lease_until"],
        attempts=row["delivery_attempts"],
    )


_OUT_COLUMNS = (
    "id, file, sha256, isa13, status, remote_name, destination, size, delivery_owner, "
    "delivery_lease_until, delivery_attempts"
)


def undelivered(ledger: Ledger) -> list[OutgoingInterchange]:
    """Interchanges built and not yet sent, oldest first (``sending`` ones are resumed)."""
    rows = ledger.query(
        f"SELECT {_OUT_COLUMNS} FROM interchanges WHERE status IN ('built', 'sending') ORDER BY id"
    )
    return [_outgoing(r) for r in rows]


def interchange(ledger: Ledger, interchange_id: int) -> OutgoingInterchange | None:
    row = ledger.query_one(
        f"SELECT {_OUT_COLUMNS} FROM interchanges WHERE id = ?", (interchange_id,)
    )
    return _outgoing(row) if row else None


def _lock_interchange(ledger: Ledger, interchange_id: int) -> OutgoingInterchange | None:
    """Read an interchange to claim it. On PostgreSQL the row is locked until the transaction
    ends, and one another worker has locked right now reads as None (``SKIP LOCKED``: pass
    over it rather than queue behind it); SQLite's writer lock already serialises claims."""
    skip = getattr(ledger, "lock_skip", "")
    row = ledger.query_one(
        f"SELECT {_OUT_COLUMNS} FROM interchanges WHERE id = ?{skip}", (interchange_id,)
    )
    return _outgoing(row) if row else None


def _event(
    ledger: Ledger,
    interchange_id: int,
    status: str,
    at: str,
    *,
    destination: str | None,
    remote_name: str | None,
    size: int | None,
    note: str | None = None,
) -> None:
    ledger.execute(
        "INSERT INTO delivery_events (interchange_id, status, at, destination, remote_name, "
        "size, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (interchange_id, status, at, destination, remote_name, size, note),
    )


def start_sending(
    ledger: Ledger,
    item: OutgoingInterchange,
    *,
    owner: str,
    destination: str,
    remote_name: str,
    size: int,
    now: datetime,
    lease_seconds: float,
) -> OutgoingInterchange | None:
    """Claim ``item`` for sending and record the intent (remote name, destination, size).

    A ``built`` interchange becomes ``sending``; a ``sending`` one whose lease is free is taken
    over with its recorded remote name and destination unchanged. Returns the claimed row, or
    None when another live process holds it or it changed since it was read.
    """
    ts = stamp(now)
    with ledger.transaction():
        current = _lock_interchange(ledger, item.id)
        if current is None or current.status not in ("built", "sending"):
            return None
        if current.status == "sending" and not lease_free(
            current.owner, current.lease_until, me=owner, now=ts
        ):
            return None
        if current.status == "sending" and current.remote_name:
            remote_name = current.remote_name
            destination = current.destination or destination
        cursor = ledger.execute(
            "UPDATE interchanges SET status = 'sending', remote_name = ?, destination = ?, "
            "size = ?, delivery_owner = ?, delivery_lease_until = ?, "
            "sending_at = COALESCE(sending_at, ?), updated_at = ? "
            "WHERE id = ? AND status = ? AND COALESCE(delivery_owner, '') = ?",
            (
                remote_name,
                destination,
                size,
                owner,
                lease_until(now, lease_seconds),
                ts,
                ts,
                item.id,
                current.status,
                current.owner or "",
            ),
        )
        if cursor.rowcount != 1:
            return None
        _event(
            ledger,
            item.id,
            "sending",
            ts,
            destination=destination,
            remote_name=remote_name,
            size=size,
            note="resumed" if current.status == "sending" else None,
        )
    return interchange(ledger, item.id)


def mark_sent(
    ledger: Ledger,
    interchange_id: int,
    *,
    owner: str,
    size: int,
    now: datetime,
    note: str | None = None,
) -> bool:
    """``sending`` → ``sent``, and every claim it carries that is still ``built`` → ``sent``."""
    from edi_pipeline.ledger import claims

    ts = stamp(now)
    with ledger.transaction():
        cursor = ledger.execute(
            "UPDATE interchanges SET status = 'sent', sent_at = ?, size = ?, "
            "delivery_owner = NULL, delivery_lease_until = NULL, delivery_error = NULL, "
            "delivery_attempts = delivery_attempts + 1, updated_at = ? "
            "WHERE id = ? AND status = 'sending' AND delivery_owner = ?",
            (ts, size, ts, interchange_id, owner),
        )
        if cursor.rowcount != 1:
            return False
        row = ledger.query_one(
            "SELECT destination, remote_name FROM interchanges WHERE id = ?", (interchange_id,)
        )
        _event(
            ledger,
            interchange_id,
            "sent",
            ts,
            destination=row["destination"],
            remote_name=row["remote_name"],
            size=size,
            note=note,
        )
        for claim in ledger.query(
            "SELECT c.id FROM interchange_claims ic JOIN claims c ON c.id = ic.claim_id "
            "WHERE ic.interchange_id = ? AND c.status = 'built' ORDER BY c.id",
            (interchange_id,),
        ):
            claims.record_status(ledger, claim["id"], "sent", ts, source="deliver")
    return True


def record_failure(
    ledger: Ledger,
    interchange_id: int,
    *,
    owner: str,
    code: str,
    message: str,
    now: datetime,
) -> None:
    """Note a failed attempt; the interchange stays ``sending`` (its lease released) to resume."""
    ts = stamp(now)
    with ledger.transaction():
        ledger.execute(
            "UPDATE interchanges SET delivery_error = ?, "
            "delivery_attempts = delivery_attempts + 1, delivery_owner = NULL, "
            "delivery_lease_until = NULL, updated_at = ? "
            "WHERE id = ? AND delivery_owner = ?",
            (f"{code}: {message}", ts, interchange_id, owner),
        )
        row = ledger.query_one(
            "SELECT destination, remote_name, size FROM interchanges WHERE id = ?",
            (interchange_id,),
        )
        if row is not None:
            _event(
                ledger,
                interchange_id,
                "failed",
                ts,
                destination=row["destination"],
                remote_name=row["remote_name"],
                size=row["size"],
                note=f"{code}: {message}",
            )


def release(ledger: Ledger, owner: str) -> int:
    """Drop every delivery lease ``owner`` still holds (end of a run); returns how many."""
    with ledger.transaction():
        cursor = ledger.execute(
            "UPDATE interchanges SET delivery_owner = NULL, delivery_lease_until = NULL "
            "WHERE delivery_owner = ?",
            (owner,),
        )
    return cursor.rowcount


def delivery_events(ledger: Ledger, interchange_id: int) -> list[dict[str, Any]]:
    rows = ledger.query(
        "SELECT status, at, destination, remote_name, size, note FROM delivery_events "
        "WHERE interchange_id = ? ORDER BY id",
        (interchange_id,),
    )
    return [dict(zip(r.keys(), tuple(r), strict=True)) for r in rows]


# ------------------------------------------------------------------ inbound files

ClaimOutcome = Literal["claimed", "done", "busy"]


@dataclass(frozen=True, slots=True)
class InboundFile:
    content_hash: str
    name: str
    size: int
    kind: str | None
    state: str
    attempts: int
    copies: int
    owner: str | None
    lease_until: str | None
    first_seen_at: str
    finished_at: str | None
    outcome: dict[str, Any] | None
    reason: str | None
    archived_as: str | None


def _inbound(row: Row) -> InboundFile:
    return InboundFile(
        content_hash=row["content_hash"],
        name=row["name"],
        size=row["size"],
        kind=row["kind"],
        state=row["state"],
        attempts=row["attempts"],
        copies=row["copies"],
        owner=row["lease_owner"],
        lease_until=row["lease_until"],
        first_seen_at=row["first_seen_at"],
        finished_at=row["finished_at"],
        outcome=json.loads(row["outcome"]) if row["outcome"] else None,
        reason=row["reason"],
        archived_as=row["archived_as"],
    )


def inbound_file(ledger: Ledger, content_hash: str, *, lock: str = "") -> InboundFile | None:
    """One inbound file's row; ``lock`` is a backend's locking clause (``lock_skip``) when
    claiming it."""
    row = ledger.query_one(
        f"SELECT * FROM inbound_files WHERE content_hash = ?{lock}", (content_hash,)
    )
    return _inbound(row) if row else None


def inbound_files(ledger: Ledger, state: str | None = None) -> list[InboundFile]:
    sql, params = "SELECT * FROM inbound_files", ()
    if state is not None:
        sql, params = sql + " WHERE state = ?", (state,)
    return [
        _inbound(r) for r in ledger.query(sql + " ORDER BY first_seen_at, content_hash", params)
    ]


def claim_inbound(
    ledger: Ledger,
    content_hash: str,
    *,
    name: str,
    size: int,
    owner: str,
    now: datetime,
    lease_seconds: float,
) -> tuple[ClaimOutcome, InboundFile]:
    """Claim a dropped file's content before processing it.

    ``claimed``: this caller must process it (new content, a failed one dropped again, or one
    whose previous processor died). ``done``: this content was already processed (a copy).
    ``busy``: another live watcher is processing it right now.
    """
    ts = stamp(now)
    until = lease_until(now, lease_seconds)
    skip = getattr(ledger, "lock_skip", "")
    with ledger.transaction():
        current = inbound_file(ledger, content_hash, lock=skip)
        if current is None:
            # Another worker may have inserted (or locked) this content a moment ago: on
            # PostgreSQL nothing serialises the two, so the insert yields instead of failing.
            inserted = ledger.execute(
                "INSERT INTO inbound_files (content_hash, name, size, state, lease_owner, "
                "lease_until, first_seen_at, updated_at) "
                "VALUES (?, ?, ?, 'processing', ?, ?, ?, ?) ON CONFLICT (content_hash) DO NOTHING",
                (content_hash, name, size, owner, until, ts, ts),
            ).rowcount
            outcome: ClaimOutcome = "claimed" if inserted == 1 else "busy"
        elif current.state == "done":
            ledger.execute(
                "UPDATE inbound_files SET copies = copies + 1, updated_at = ? "
                "WHERE content_hash = ?",
                (ts, content_hash),
            )
            outcome = "done"
        elif current.state == "processing" and not lease_free(
            current.owner, current.lease_until, me=owner, now=ts
        ):
            outcome = "busy"
        else:  # failed before, or its processor is gone: take it (again)
            ledger.execute(
                "UPDATE inbound_files SET state = 'processing', lease_owner = ?, lease_until = ?, "
                "attempts = attempts + 1, copies = copies + ?, name = ?, updated_at = ? "
                "WHERE content_hash = ?",
                (owner, until, 1 if current.state == "failed" else 0, name, ts, content_hash),
            )
            outcome = "claimed"
        row = inbound_file(ledger, content_hash)
    assert row is not None
    return outcome, row


def finish_inbound(
    ledger: Ledger,
    content_hash: str,
    *,
    owner: str,
    state: Literal["done", "failed"],
    kind: str | None,
    now: datetime,
    outcome: dict[str, Any] | None = None,
    reason: str | None = None,
    archived_as: str | None = None,
) -> bool:
    """Record the end of processing (only by the lease holder); returns False if not held."""
    ts = stamp(now)
    with ledger.transaction():
        cursor = ledger.execute(
            "UPDATE inbound_files SET state = ?, kind = ?, outcome = ?, reason = ?, "
            "archived_as = ?, finished_at = ?, updated_at = ?, lease_owner = NULL, "
            "lease_until = NULL WHERE content_hash = ? AND lease_owner = ?",
            (
                state,
                kind,
                json.dumps(outcome, sort_keys=True, default=str) if outcome is not None else None,
                reason,
                archived_as,
                ts,
                ts,
                content_hash,
                owner,
            ),
        )
    return cursor.rowcount == 1


def set_archived(ledger: Ledger, content_hash: str, archived_as: str) -> None:
    with ledger.transaction():
        ledger.execute(
            "UPDATE inbound_files SET archived_as = ? WHERE content_hash = ?",
            (archived_as, content_hash),
        )


def release_inbound(ledger: Ledger, owner: str) -> int:
    """Drop every inbound lease ``owner`` still holds (watcher shutdown)."""
    with ledger.transaction():
        cursor = ledger.execute(
            "UPDATE inbound_files SET lease_owner = NULL, lease_until = NULL "
            "WHERE lease_owner = ? AND state = 'processing'",
            (owner,),
        )
    return cursor.rowcount
