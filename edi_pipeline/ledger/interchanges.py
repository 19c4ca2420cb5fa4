"""Interchanges, the claims inside them, and control numbers.

Control numbers are taken with ``UPDATE … RETURNING`` inside the transaction that records the
interchange using them: if that transaction rolls back, so does the number, and if it commits the
interchange row says where the number went. A number whose file was then lost (the disk failed,
someone deleted it before it was renamed into place) is written to ``control_number_gaps`` with
the reason, so every number is either in an interchange row or in a recorded gap.

ISA13 and GS06 share one sequence per (sender, receiver) (our groups are one per interchange,
so a 999's AK102 names the interchange too); ST02 is numbered ``0001``… inside each
interchange. Line control numbers (REF*6R) come from one global sequence, so they are unique
across all claims ever built, whatever the practice or payer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edi_pipeline.errors import LedgerError
from edi_pipeline.ledger._time import stamp
from edi_pipeline.ledger.base import Ledger, Row
from edi_pipeline.ledger.claims import ensure_practice

INTERCHANGE = "interchange"
LINE = "line"
#: ISA13 is nine digits; past this the sequence would wrap, which the TR3 forbids within a year
MAX_INTERCHANGE = 999_999_999


@dataclass(frozen=True, slots=True)
class InterchangeRecord:
    id: int
    practice: str
    file: str
    sha256: str | None
    sender: str
    receiver: str
    isa13: str
    gs06: str
    usage: str
    status: str
    claims: int
    remote_name: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class TransactionClaim:
    """A claim inside one transaction set, with its segment range (ST = position 1)."""

    interchange_claim_id: int
    interchange_id: int
    isa13: str
    gs06: str
    st02: str
    claim_id: int
    encounter_id: str
    frequency: str
    first_segment: int
    last_segment: int


# ------------------------------------------------------------------ control numbers


def next_control_number(ledger: Ledger, sender: str, receiver: str, kind: str) -> int:
    """Take the next number of a sequence; only inside the transaction that records its use."""
    if not ledger.in_transaction:
        raise LedgerError(
            "control numbers are taken only inside the transaction that records their use",
            code="ledger_no_transaction",
        )
    ledger.execute(
        "INSERT INTO control_numbers (sender, receiver, kind, last_value) VALUES (?, ?, ?, 0) "
        "ON CONFLICT (sender, receiver, kind) DO NOTHING",
        (sender, receiver, kind),
    )
    row = ledger.execute(
        "UPDATE control_numbers SET last_value = last_value + 1 "
        "WHERE sender = ? AND receiver = ? AND kind = ? RETURNING last_value",
        (sender, receiver, kind),
    ).fetchone()
    value = int(row["last_value"])
    if kind == INTERCHANGE and value > MAX_INTERCHANGE:
        raise LedgerError(
            f"interchange control numbers for {sender}→{receiver} are exhausted "
            f"(ISA13 has nine digits)",
            code="ledger_control_exhausted",
        )
    return value


def next_line_control_numbers(ledger: Ledger, count: int) -> list[str]:
    """``count`` fresh line control numbers (REF*6R), unique across every claim ever built."""
    if count <= 0:
        return []
    if not ledger.in_transaction:
        raise LedgerError(
            "line control numbers are taken only inside the transaction that records the lines",
            code="ledger_no_transaction",
        )
    ledger.execute(
        "INSERT INTO control_numbers (sender, receiver, kind, last_value) VALUES ('', '', ?, 0) "
        "ON CONFLICT (sender, receiver, kind) DO NOTHING",
        (LINE,),
    )
    row = ledger.execute(
        "UPDATE control_numbers SET last_value = last_value + ? "
        "WHERE sender = '' AND receiver = '' AND kind = ? RETURNING last_value",
        (count, LINE),
    ).fetchone()
    last = int(row["last_value"])
    return [format_line_control_number(n) for n in range(last - count + 1, last + 1)]


def format_line_control_number(n: int) -> str:
    return f"{n:010d}"


def last_control_number(ledger: Ledger, sender: str, receiver: str, kind: str) -> int:
    row = ledger.query_one(
        "SELECT last_value FROM control_numbers WHERE sender = ? AND receiver = ? AND kind = ?",
        (sender, receiver, kind),
    )
    return 0 if row is None else int(row["last_value"])


def record_gap(
    ledger: Ledger,
    sender: str,
    receiver: str,
    kind: str,
    value: int,
    reason: str,
    at: datetime | str,
) -> None:
    ledger.execute(
        "INSERT INTO control_number_gaps (sender, receiver, kind, value, reason, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (sender, receiver, kind, value, reason, stamp(at)),
    )


def gaps(ledger: Ledger, sender: str, receiver: str, kind: str = INTERCHANGE) -> list[Row]:
    return ledger.query(
        "SELECT value, reason, at FROM control_number_gaps "
        "WHERE sender = ? AND receiver = ? AND kind = ? ORDER BY value",
        (sender, receiver, kind),
    )


# ------------------------------------------------------------------ interchanges


def record_interchange(
    ledger: Ledger,
    *,
    practice: str,
    file: str,
    sender: str,
    receiver: str,
    isa13: str,
    gs06: str,
    usage: str,
    claims: int,
    at: datetime | str,
    sha256: str | None = None,
    status: str = "built",
) -> int:
    pid = ensure_practice(ledger, practice, at)
    ts = stamp(at)
    row = ledger.execute(
        "INSERT INTO interchanges (practice_id, file, sha256, sender, receiver, isa13, gs06, "
        "usage, status, claims, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (pid, file, sha256, sender, receiver, isa13, gs06, usage, status, claims, ts, ts),
    ).fetchone()
    return int(row["id"])


def record_interchange_claim(
    ledger: Ledger,
    interchange_id: int,
    st02: str,
    claim_id: int,
    first_segment: int,
    last_segment: int,
) -> int:
    row = ledger.execute(
        "INSERT INTO interchange_claims (interchange_id, st02, claim_id, first_segment, "
        "last_segment) VALUES (?, ?, ?, ?, ?) RETURNING id",
        (interchange_id, st02, claim_id, first_segment, last_segment),
    ).fetchone()
    return int(row["id"])


def set_file(ledger: Ledger, interchange_id: int, file: str, sha256: str | None) -> None:
    ledger.execute(
        "UPDATE interchanges SET file = ?, sha256 = ? WHERE id = ?", (file, sha256, interchange_id)
    )


def set_status(
    ledger: Ledger,
    interchange_id: int,
    status: str,
    at: datetime | str,
    remote_name: str | None = None,
) -> None:
    ledger.execute(
        "UPDATE interchanges SET status = ?, updated_at = ?, "
        "remote_name = COALESCE(?, remote_name) WHERE id = ?",
        (status, stamp(at), remote_name, interchange_id),
    )


_INTERCHANGE_COLUMNS = (
    "i.id, p.key AS practice, i.file, i.sha256, i.sender, i.receiver, i.isa13, i.gs06, i.usage, "
    "i.status, i.claims, i.remote_name, i.created_at, i.updated_at"
)
_INTERCHANGE_FROM = "FROM interchanges i JOIN practices p ON p.id = i.practice_id"


def _interchange(row: Row) -> InterchangeRecord:
    return InterchangeRecord(
        id=int(row["id"]),
        practice=row["practice"],
        file=row["file"],
        sha256=row["sha256"],
        sender=row["sender"],
        receiver=row["receiver"],
        isa13=row["isa13"],
        gs06=row["gs06"],
        usage=row["usage"],
        status=row["status"],
        claims=int(row["claims"]),
        remote_name=row["remote_name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def interchange(ledger: Ledger, interchange_id: int) -> InterchangeRecord | None:
    row = ledger.query_one(
        f"SELECT {_INTERCHANGE_COLUMNS} {_INTERCHANGE_FROM} WHERE i.id = ?", (interchange_id,)
    )
    return None if row is None else _interchange(row)


def interchanges(
    ledger: Ledger, status: str | None = None, practice: str | None = None
) -> list[InterchangeRecord]:
    sql = f"SELECT {_INTERCHANGE_COLUMNS} {_INTERCHANGE_FROM} WHERE 1 = 1"
    params: list[object] = []
    if status is not None:
        sql += " AND i.status = ?"
        params.append(status)
    if practice is not None:
        sql += " AND p.key = ?"
        params.append(practice)
    return [_interchange(r) for r in ledger.query(sql + " ORDER BY i.id", params)]


def interchange_by_isa13(
    ledger: Ledger, isa13: str, sender: str | None = None, receiver: str | None = None
) -> list[InterchangeRecord]:
    """Interchanges with this ISA13 (one per sender/receiver pair; name them to get one)."""
    sql = f"SELECT {_INTERCHANGE_COLUMNS} {_INTERCHANGE_FROM} WHERE i.isa13 = ?"
    params: list[object] = [_pad9(isa13)]
    for column, value in (("sender", sender), ("receiver", receiver)):
        if value is not None:
            sql += f" AND i.{column} = ?"
            params.append(value.strip())
    return [_interchange(r) for r in ledger.query(sql + " ORDER BY i.id", params)]


_TX_COLUMNS = (
    "ic.id AS interchange_claim_id, i.id AS interchange_id, i.isa13, i.gs06, ic.st02, "
    "c.id AS claim_id, c.encounter_id, c.frequency, ic.first_segment, ic.last_segment"
)
_TX_FROM = (
    "FROM interchange_claims ic JOIN interchanges i ON i.id = ic.interchange_id "
    "JOIN claims c ON c.id = ic.claim_id"
)


def _tx(row: Row) -> TransactionClaim:
    return TransactionClaim(
        interchange_claim_id=int(row["interchange_claim_id"]),
        interchange_id=int(row["interchange_id"]),
        isa13=row["isa13"],
        gs06=row["gs06"],
        st02=row["st02"],
        claim_id=int(row["claim_id"]),
        encounter_id=row["encounter_id"],
        frequency=row["frequency"],
        first_segment=int(row["first_segment"]),
        last_segment=int(row["last_segment"]),
    )


def claims_by_control(
    ledger: Ledger,
    isa13: str | None,
    st02: str | None = None,
    *,
    gs06: str | None = None,
    sender: str | None = None,
    receiver: str | None = None,
) -> list[TransactionClaim]:
    """The claims in transaction set ``st02`` of interchange ``isa13`` (or group ``gs06``, as a
    999's AK1/AK2 name it), in segment order; all the interchange's claims when ``st02`` is None.

    ``sender``/``receiver`` are *our* ISA06/ISA08 (an ack's envelope has them swapped).
    """
    if isa13 is None and gs06 is None:
        raise LedgerError("name the interchange by isa13 or gs06", code="ledger_lookup")
    sql = f"SELECT {_TX_COLUMNS} {_TX_FROM} WHERE 1 = 1"
    params: list[object] = []
    if isa13 is not None:
        sql += " AND i.isa13 = ?"
        params.append(_pad9(isa13))
    if gs06 is not None:
        sql += " AND i.gs06 = ?"
        params.append(str(int(gs06)) if gs06.strip().isdigit() else gs06.strip())
    if st02 is not None:
        sql += " AND ic.st02 = ?"
        params.append(st02.strip())
    for column, value in (("sender", sender), ("receiver", receiver)):
        if value is not None:
            sql += f" AND i.{column} = ?"
            params.append(value.strip())
    return [_tx(r) for r in ledger.query(sql + " ORDER BY ic.st02, ic.first_segment", params)]


def locate_segment(
    ledger: Ledger,
    isa13: str | None,
    st02: str,
    position: int,
    *,
    gs06: str | None = None,
    sender: str | None = None,
    receiver: str | None = None,
) -> tuple[TransactionClaim | None, int | None]:
    """The claim and line (ledger line id) a segment position inside an ST points to, as a
    999's IK3 (segment position in the transaction set, ST = 1) gives it. Positions in the
    envelope part of the set (ST, BHT, 1000A/B, 2000A) belong to no claim: (None, None)."""
    for tx in claims_by_control(ledger, isa13, st02, gs06=gs06, sender=sender, receiver=receiver):
        if tx.first_segment <= position <= tx.last_segment:
            row = ledger.query_one(
                "SELECT id FROM lines WHERE interchange_claim_id = ? AND first_segment <= ? "
                "AND last_segment >= ?",
                (tx.interchange_claim_id, position, position),
            )
            return tx, None if row is None else int(row["id"])
    return None, None


def claim_interchanges(ledger: Ledger, claim_id: int) -> list[InterchangeRecord]:
    """Every interchange a claim was built into, oldest first."""
    rows = ledger.query(
        f"SELECT {_INTERCHANGE_COLUMNS} {_INTERCHANGE_FROM} "
        "JOIN interchange_claims ic ON ic.interchange_id = i.id WHERE ic.claim_id = ? "
        "ORDER BY i.id",
        (claim_id,),
    )
    return [_interchange(r) for r in rows]


def _pad9(isa13: str) -> str:
    value = isa13.strip()
    return value.zfill(9) if value.isdigit() else value
