"""Practices, encounters, claims, their status history, holds and lines in the ledger.

A claim is keyed by (practice, encounter_id, frequency) (architecture.md, "Exactly once"). Its
``status`` is the latest of its history and is always one of cli.md's closed set; every change
goes through ``record_status`` so the history and the current status never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from edi_pipeline.errors import LedgerError
from edi_pipeline.ledger._time import day, stamp
from edi_pipeline.ledger.base import Ledger, Row
from edi_pipeline.models import CLAIM_STATUSES, HOLD_CATEGORIES, Hold, money


class ClaimKey(NamedTuple):
    practice: str
    encounter_id: str
    frequency: str = "1"


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    id: int
    practice: str
    encounter_id: str
    frequency: str
    status: str
    payer_id: str
    charge: Decimal
    date_of_service: str | None
    payer_claim_number: str | None
    record_hash: str | None
    created_at: str
    updated_at: str

    @property
    def key(self) -> ClaimKey:
        return ClaimKey(self.practice, self.encounter_id, self.frequency)


@dataclass(frozen=True, slots=True)
class StatusEntry:
    status: str
    at: str
    source: str | None
    code: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class LineRecord:
    id: int
    claim_id: int
    encounter_id: str
    practice: str
    interchange_claim_id: int | None
    line_number: int
    line_control_number: str
    procedure: str
    modifiers: tuple[str, ...]
    units: Decimal
    charge: Decimal
    ndc: str | None
    ndc_quantity: Decimal | None
    ndc_unit: str | None
    date_of_service: str | None
    first_segment: int | None
    last_segment: int | None


# ------------------------------------------------------------------ practices and encounters


def ensure_practice(ledger: Ledger, key: str, at: datetime | str, name: str | None = None) -> int:
    """The id of the practice ``key``, created on first sight."""
    known = practice_id(ledger, key)
    if known is not None:
        return known
    ledger.execute(
        "INSERT INTO practices (key, name, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO NOTHING",
        (key, name, stamp(at)),
    )
    found = practice_id(ledger, key)
    assert found is not None
    return found


def practice_id(ledger: Ledger, key: str) -> int | None:
    """The id of the practice ``key`` (None: never seen), cached per connection."""
    cached = ledger.lookups.get(("practice", key))
    if cached is not None:
        return int(cached)
    row = ledger.query_one("SELECT id FROM practices WHERE key = ?", (key,))
    if row is None:
        return None
    ledger.lookups[("practice", key)] = int(row["id"])
    return int(row["id"])


def record_encounter(
    ledger: Ledger, practice: str, encounter_id: str, record_hash: str | None, at: datetime | str
) -> None:
    """Remember the accepted record's hash (the latest one if it was sent again, changed)."""
    pid = ensure_practice(ledger, practice, at)
    ts = stamp(at)
    ledger.execute(
        "INSERT INTO encounters (practice_id, encounter_id, record_hash, first_seen_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (practice_id, encounter_id) DO UPDATE "
        "SET record_hash = excluded.record_hash, updated_at = excluded.updated_at",
        (pid, encounter_id, record_hash, ts, ts),
    )


def encounter_hash(ledger: Ledger, practice: str, encounter_id: str) -> str | None:
    row = ledger.query_one(
        "SELECT e.record_hash FROM encounters e JOIN practices p ON p.id = e.practice_id "
        "WHERE p.key = ? AND e.encounter_id = ?",
        (practice, encounter_id),
    )
    return None if row is None else row["record_hash"]


# ------------------------------------------------------------------ claims

_CLAIM_COLUMNS = (
    "c.id, p.key AS practice, c.encounter_id, c.frequency, c.status, c.payer_id, c.charge, "
    "c.date_of_service, c.payer_claim_number, c.record_hash, c.created_at, c.updated_at"
)
_CLAIM_FROM = "FROM claims c JOIN practices p ON p.id = c.practice_id"


def _claim(row: Row) -> ClaimRecord:
    return ClaimRecord(
        id=int(row["id"]),
        practice=row["practice"],
        encounter_id=row["encounter_id"],
        frequency=row["frequency"],
        status=row["status"],
        payer_id=row["payer_id"],
        charge=Decimal(row["charge"]),
        date_of_service=row["date_of_service"],
        payer_claim_number=row["payer_claim_number"],
        record_hash=row["record_hash"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def claim(ledger: Ledger, claim_key: ClaimKey | int) -> ClaimRecord | None:
    """The claim by its key or its ledger id."""
    if isinstance(claim_key, int):
        row = ledger.query_one(
            f"SELECT {_CLAIM_COLUMNS} {_CLAIM_FROM} WHERE c.id = ?", (claim_key,)
        )
    else:
        key = ClaimKey(*claim_key)
        row = ledger.query_one(
            f"SELECT {_CLAIM_COLUMNS} {_CLAIM_FROM} "
            "WHERE p.key = ? AND c.encounter_id = ? AND c.frequency = ?",
            (key.practice, key.encounter_id, key.frequency),
        )
    return None if row is None else _claim(row)


def claims_by_encounter(
    ledger: Ledger, encounter_id: str, practice: str | None = None
) -> list[ClaimRecord]:
    """Every claim for the encounter (all frequencies; all practices unless one is named)."""
    sql = f"SELECT {_CLAIM_COLUMNS} {_CLAIM_FROM} WHERE c.encounter_id = ?"
    params: list[object] = [encounter_id]
    if practice is not None:
        sql += " AND p.key = ?"
        params.append(practice)
    sql += " ORDER BY c.updated_at, c.id"
    return [_claim(r) for r in ledger.query(sql, params)]


def claim_by_encounter(
    ledger: Ledger, encounter_id: str, practice: str | None = None, frequency: str | None = None
) -> ClaimRecord | None:
    """The most recently updated claim for the encounter (of that frequency, when given)."""
    found = [
        c
        for c in claims_by_encounter(ledger, encounter_id, practice)
        if frequency is None or c.frequency == frequency
    ]
    return found[-1] if found else None


def all_claims(ledger: Ledger, status: str | None = None) -> list[ClaimRecord]:
    sql = f"SELECT {_CLAIM_COLUMNS} {_CLAIM_FROM}"
    params: tuple[object, ...] = ()
    if status is not None:
        sql += " WHERE c.status = ?"
        params = (status,)
    return [_claim(r) for r in ledger.query(sql + " ORDER BY c.id", params)]


def _claim_id(ledger: Ledger, claim_key: ClaimKey | int) -> int:
    if isinstance(claim_key, int):
        return claim_key
    found = claim(ledger, claim_key)
    if found is None:
        raise LedgerError(
            f"no claim for encounter {claim_key[1]} (frequency {ClaimKey(*claim_key).frequency}) "
            f"of practice {claim_key[0]} in the ledger",
            code="ledger_no_claim",
        )
    return found.id


def upsert_claim(
    ledger: Ledger,
    key: ClaimKey,
    *,
    status: str,
    payer_id: str,
    charge: Decimal,
    at: datetime | str,
    date_of_service: date | str | None = None,
    payer_claim_number: str | None = None,
    record_hash: str | None = None,
    source: str | None = None,
    message: str | None = None,
) -> int:
    """Create the claim or refresh what it bills, and record ``status``; returns its id."""
    _check_status(status)
    with ledger.transaction():
        return _upsert_claim(
            ledger,
            key,
            status,
            payer_id,
            charge,
            at,
            date_of_service,
            payer_claim_number,
            record_hash,
            source,
            message,
        )


def _upsert_claim(
    ledger: Ledger,
    key: ClaimKey,
    status: str,
    payer_id: str,
    charge: Decimal,
    at: datetime | str,
    date_of_service: date | str | None,
    payer_claim_number: str | None,
    record_hash: str | None,
    source: str | None,
    message: str | None,
) -> int:
    pid = ensure_practice(ledger, key.practice, at)
    ts = stamp(at)
    ledger.execute(
        "INSERT INTO claims (practice_id, encounter_id, frequency, status, payer_id, charge, "
        "date_of_service, payer_claim_number, record_hash, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (practice_id, encounter_id, frequency) DO UPDATE SET "
        "payer_id = excluded.payer_id, charge = excluded.charge, "
        "date_of_service = excluded.date_of_service, record_hash = excluded.record_hash, "
        "payer_claim_number = COALESCE(excluded.payer_claim_number, claims.payer_claim_number)",
        (
            pid,
            key.encounter_id,
            key.frequency,
            status,
            payer_id,
            money(charge),
            day(date_of_service),
            payer_claim_number,
            record_hash,
            ts,
            ts,
        ),
    )
    claim_id = _claim_id(ledger, key)
    record_status(ledger, claim_id, status, at, source=source, message=message)
    return claim_id


def record_status(
    ledger: Ledger,
    claim_key: ClaimKey | int,
    status: str,
    at: datetime | str,
    *,
    source: str | None = None,
    code: str | None = None,
    message: str | None = None,
) -> None:
    """Set the claim's current status and append it to its history, in one transaction."""
    _check_status(status)
    with ledger.transaction():
        claim_id = _claim_id(ledger, claim_key)
        ts = stamp(at)
        ledger.execute(
            "UPDATE claims SET status = ?, updated_at = ? WHERE id = ?", (status, ts, claim_id)
        )
        ledger.execute(
            "INSERT INTO claim_status_history (claim_id, status, at, source, code, message) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (claim_id, status, ts, source, code, message),
        )


def set_payer_claim_number(ledger: Ledger, claim_key: ClaimKey | int, number: str) -> None:
    with ledger.transaction():
        ledger.execute(
            "UPDATE claims SET payer_claim_number = ? WHERE id = ?",
            (number, _claim_id(ledger, claim_key)),
        )


def status_history(ledger: Ledger, claim_key: ClaimKey | int) -> list[StatusEntry]:
    rows = ledger.query(
        "SELECT status, at, source, code, message FROM claim_status_history "
        "WHERE claim_id = ? ORDER BY id",
        (_claim_id(ledger, claim_key),),
    )
    return [StatusEntry(r["status"], r["at"], r["source"], r["code"], r["message"]) for r in rows]


def _check_status(status: str) -> None:
    if status not in CLAIM_STATUSES:
        raise LedgerError(
            f"claim status must be one of {sorted(CLAIM_STATUSES)} (got {status!r})",
            code="ledger_status",
        )


# ------------------------------------------------------------------ holds


def replace_holds(
    ledger: Ledger, claim_key: ClaimKey | int, holds: Iterable[Hold], at: datetime | str
) -> None:
    """The claim's current holds become ``holds`` (a re-scrub replaces the previous verdict)."""
    with ledger.transaction():
        claim_id = _claim_id(ledger, claim_key)
        ledger.execute("DELETE FROM holds WHERE claim_id = ?", (claim_id,))
        for hold in holds:
            if hold.category not in HOLD_CATEGORIES:
                raise LedgerError(
                    f"hold {hold.rule}: category must be one of {sorted(HOLD_CATEGORIES)} "
                    f"(got {hold.category!r})",
                    code="ledger_hold_category",
                )
            ledger.execute(
                "INSERT INTO holds (claim_id, rule, category, message, source, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (claim_id, hold.rule, hold.category, hold.message, hold.source, stamp(at)),
            )


def holds(ledger: Ledger, claim_key: ClaimKey | int) -> list[Hold]:
    rows = ledger.query(
        "SELECT rule, category, message, source FROM holds WHERE claim_id = ? ORDER BY id",
        (_claim_id(ledger, claim_key),),
    )
    return [Hold(r["rule"], r["category"], r["message"], r["source"]) for r in rows]


# ------------------------------------------------------------------ lines

_LINE_COLUMNS = (
    "l.id, l.claim_id, c.encounter_id, p.key AS practice, l.interchange_claim_id, "
    "l.line_number, l.line_control_number, l.procedure, l.modifiers, l.units, l.charge, l.ndc, "
    "l.ndc_quantity, l.ndc_unit, l.date_of_service, l.first_segment, l.last_segment"
)
_LINE_FROM = (
    "FROM lines l JOIN claims c ON c.id = l.claim_id JOIN practices p ON p.id = c.practice_id"
)


def _line(row: Row) -> LineRecord:
    return LineRecord(
        id=int(row["id"]),
        claim_id=int(row["claim_id"]),
        encounter_id=row["encounter_id"],
        practice=row["practice"],
        interchange_claim_id=row["interchange_claim_id"],
        line_number=int(row["line_number"]),
        line_control_number=row["line_control_number"],
        procedure=row["procedure"],
        modifiers=tuple(m for m in row["modifiers"].split(":") if m),
        units=Decimal(row["units"]),
        charge=Decimal(row["charge"]),
        ndc=row["ndc"],
        ndc_quantity=None if row["ndc_quantity"] is None else Decimal(row["ndc_quantity"]),
        ndc_unit=row["ndc_unit"],
        date_of_service=row["date_of_service"],
        first_segment=row["first_segment"],
        last_segment=row["last_segment"],
    )


def record_line(
    ledger: Ledger,
    claim_id: int,
    *,
    line_number: int,
    line_control_number: str,
    procedure: str,
    modifiers: Sequence[str],
    units: Decimal,
    charge: Decimal,
    ndc: str | None = None,
    ndc_quantity: Decimal | None = None,
    ndc_unit: str | None = None,
    date_of_service: date | str | None = None,
    interchange_claim_id: int | None = None,
    first_segment: int | None = None,
    last_segment: int | None = None,
) -> int:
    row = ledger.execute(
        "INSERT INTO lines (claim_id, interchange_claim_id, line_number, line_control_number, "
        "procedure, modifiers, units, charge, ndc, ndc_quantity, ndc_unit, date_of_service, "
        "first_segment, last_segment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        (
            claim_id,
            interchange_claim_id,
            line_number,
            line_control_number,
            procedure,
            ":".join(modifiers),
            str(units),
            money(charge),
            ndc,
            None if ndc_quantity is None else str(ndc_quantity),
            ndc_unit,
            day(date_of_service),
            first_segment,
            last_segment,
        ),
    ).fetchone()
    return int(row["id"])


def line_by_control_number(ledger: Ledger, line_control_number: str) -> LineRecord | None:
    """The line an 835 SVC's REF*6R (or a 277CA's line REF) points back to."""
    row = ledger.query_one(
        f"SELECT {_LINE_COLUMNS} {_LINE_FROM} WHERE l.line_control_number = ?",
        (line_control_number,),
    )
    return None if row is None else _line(row)


def claim_lines(
    ledger: Ledger, claim_key: ClaimKey | int, interchange_claim_id: int | None = None
) -> list[LineRecord]:
    """The lines of the claim's latest build (or of the given build)."""
    claim_id = _claim_id(ledger, claim_key)
    if interchange_claim_id is None:
        latest = ledger.query_one(
            "SELECT MAX(interchange_claim_id) AS ic FROM lines WHERE claim_id = ?", (claim_id,)
        )
        interchange_claim_id = None if latest is None else latest["ic"]
    sql = f"SELECT {_LINE_COLUMNS} {_LINE_FROM} WHERE l.claim_id = ?"
    params: list[object] = [claim_id]
    if interchange_claim_id is not None:
        sql += " AND l.interchange_claim_id = ?"
        params.append(interchange_claim_id)
    return [_line(r) for r in ledger.query(sql + " ORDER BY l.line_number, l.id", params)]


def live_build(ledger: Ledger, key: ClaimKey) -> str | None:
    """The ISA13 of the interchange the claim was last built into, unless that file was lost.

    A claim with a live build is never built again by ``build``/``run`` (``reprocess`` is the
    way to send it again, with new control numbers).
    """
    row = ledger.query_one(
        "SELECT i.isa13 FROM interchange_claims ic "
        "JOIN interchanges i ON i.id = ic.interchange_id "
        "JOIN claims c ON c.id = ic.claim_id JOIN practices p ON p.id = c.practice_id "
        "WHERE p.key = ? AND c.encounter_id = ? AND c.frequency = ? AND i.status <> 'lost' "
        "ORDER BY i.id DESC",
        (key.practice, key.encounter_id, key.frequency),
    )
    return None if row is None else row["isa13"]


def lock_for_build(ledger: Ledger, keys: Iterable[ClaimKey]) -> None:
    """Hold ``keys`` against other builders until the caller's transaction ends.

    On SQLite the transaction's writer lock already does. On PostgreSQL two workers could both
    find no live build for one claim and build it twice; a transaction-scoped advisory lock per
    claim key (the row may not exist yet, so ``FOR UPDATE`` cannot) makes the second wait, then
    see the first one's build. Keys are locked in sorted order so two builders never deadlock.
    """
    if ledger.dialect != "postgresql":
        return
    if not ledger.in_transaction:
        raise LedgerError(
            "claim keys are locked only inside a transaction", code="ledger_no_transaction"
        )
    for key in sorted(set(keys)):
        ledger.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
            (f"{key.practice}\x1f{key.encounter_id}\x1f{key.frequency}",),
        )
