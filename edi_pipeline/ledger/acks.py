"""Ledger queries of the ack stage: what we sent (for tie-back), and what acks said (for status).

``LedgerLookup`` answers ``acks.tieback.SentLookup`` from the core tables: each claim build is
an ``interchange_claims`` row with its segment range, and its ``lines`` rows carry theirs. The
rest records ingested files, verdicts (applied or not, with the note why not), their reasons
and the verdicts that matched nothing, in the tables of migration ``0020_acks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edi_pipeline.acks.tieback import ClaimVerdict, SentClaim, SentLine, Unmatched
from edi_pipeline.ledger._time import stamp
from edi_pipeline.ledger.base import Ledger, Row

_SENT = (
    "SELECT ic.id AS ic_id, ic.st02, ic.first_segment, ic.last_segment, i.id AS interchange_id, "
    "i.isa13, i.gs06, c.id AS claim_id, c.encounter_id, c.frequency, c.status, "
    "(SELECT MAX(x.id) FROM interchange_claims x WHERE x.claim_id = c.id) AS latest_ic "
    "FROM interchange_claims ic JOIN interchanges i ON i.id = ic.interchange_id "
    "JOIN claims c ON c.id = ic.claim_id"
)


def _pad9(value: str) -> str:
    value = value.strip()
    return value.zfill(9) if value.isdigit() else value


def _gs06(value: str) -> str:
    value = value.strip()
    return str(int(value)) if value.isdigit() else value


class LedgerLookup:
    """``SentLookup`` over a ledger. ``sender``/``receiver`` are our ISA06/ISA08; when nothing
    matches with them (a clearinghouse answering under another id), the lookup is retried with
    our sender id only, then with neither; of several interchanges, the newest wins."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger

    def _lines(self, ic_ids: list[int]) -> dict[int, tuple[SentLine, ...]]:
        """The lines of many builds at once (one query per 500 builds, not one per claim)."""
        found: dict[int, list[SentLine]] = {i: [] for i in ic_ids}
        for start in range(0, len(ic_ids), 500):
            chunk = ic_ids[start : start + 500]
            rows = self.ledger.query(
                "SELECT id, interchange_claim_id, line_number, line_control_number, procedure, "
                "modifiers, first_segment, last_segment FROM lines "
                f"WHERE interchange_claim_id IN ({', '.join('?' for _ in chunk)}) "
                "ORDER BY interchange_claim_id, line_number, id",
                chunk,
            )
            for r in rows:
                found[int(r["interchange_claim_id"])].append(
                    SentLine(
                        line_id=int(r["id"]),
                        line_number=int(r["line_number"]),
                        control_number=r["line_control_number"],
                        procedure=":".join(p for p in (r["procedure"], r["modifiers"]) if p),
                        first=r["first_segment"],
                        last=r["last_segment"],
                    )
                )
        return {k: tuple(v) for k, v in found.items()}

    def _claims(self, rows: list[Row]) -> list[SentClaim]:
        lines = self._lines([int(r["ic_id"]) for r in rows])
        return [
            SentClaim(
                claim_id=int(r["claim_id"]),
                encounter_id=r["encounter_id"],
                frequency=r["frequency"],
                status=r["status"],
                interchange_claim_id=int(r["ic_id"]),
                isa13=r["isa13"],
                gs06=r["gs06"],
                st02=r["st02"],
                first=int(r["first_segment"]),
                last=int(r["last_segment"]),
                lines=lines[int(r["ic_id"])],
                latest=int(r["latest_ic"]) == int(r["ic_id"]),
            )
            for r in rows
        ]

    def _scoped(
        self, where: str, params: list[object], sender: str | None, receiver: str | None
    ) -> list[SentClaim]:
        attempts: list[tuple[str, list[object]]] = []
        if sender and receiver:
            attempts.append((" AND i.sender = ? AND i.receiver = ?", [sender, receiver]))
        if sender:
            attempts.append((" AND i.sender = ?", [sender]))
        attempts.append(("", []))
        for extra, more in attempts:
            rows = self.ledger.query(
                f"{_SENT} WHERE {where}{extra} ORDER BY i.id, ic.st02, ic.first_segment",
                [*params, *more],
            )
            if rows:
                newest = max(int(r["interchange_id"]) for r in rows)
                return self._claims([r for r in rows if int(r["interchange_id"]) == newest])
        return []

    def by_interchange(
        self, isa13: str, sender: str | None, receiver: str | None
    ) -> list[SentClaim]:
        return self._scoped("i.isa13 = ?", [_pad9(isa13)], sender, receiver)

    def by_transaction(
        self, gs06: str, st02: str | None, sender: str | None, receiver: str | None
    ) -> list[SentClaim]:
        where, params = "i.gs06 = ?", [_gs06(gs06)]
        if st02 is not None:
            where += " AND ic.st02 = ?"
            params.append(st02.strip())
        return self._scoped(where, params, sender, receiver)

    def by_claim(self, encounter_id: str) -> list[SentClaim]:
        """The latest build of every claim whose CLM01 is ``encounter_id``."""
        rows = self.ledger.query(
            f"{_SENT} WHERE c.encounter_id = ? AND ic.id = "
            "(SELECT MAX(x.id) FROM interchange_claims x WHERE x.claim_id = c.id) ORDER BY ic.id",
            (encounter_id.strip(),),
        )
        return self._claims(rows)

    def by_line(self, control_number: str) -> SentClaim | None:
        rows = self.ledger.query(
            f"{_SENT} WHERE ic.id = (SELECT l.interchange_claim_id FROM lines l "
            "WHERE l.line_control_number = ?)",
            (control_number.strip(),),
        )
        found = self._claims(rows)
        return found[0] if found else None


# ------------------------------------------------------------------ files, events, reasons


@dataclass(frozen=True, slots=True)
class AckFileRecord:
    id: int
    sha256: str
    file: str
    kinds: str
    ingested_at: str


def ingested(ledger: Ledger, sha256: str) -> AckFileRecord | None:
    """The earlier ingestion of this very content, if any."""
    row = ledger.query_one(
        "SELECT id, sha256, file, kinds, ingested_at FROM ack_files WHERE sha256 = ?", (sha256,)
    )
    if row is None:
        return None
    return AckFileRecord(
        int(row["id"]), row["sha256"], row["file"], row["kinds"], row["ingested_at"]
    )


def record_file(
    ledger: Ledger,
    *,
    sha256: str,
    file: str,
    kinds: tuple[str, ...],
    sender: str | None,
    isa13: str | None,
    verdicts: int,
    unmatched: int,
    errors: int,
    at: datetime | str,
) -> int:
    row = ledger.execute(
        "INSERT INTO ack_files (sha256, file, kinds, sender, isa13, verdicts, unmatched, errors, "
        "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (sha256, file, " ".join(kinds), sender, isa13, verdicts, unmatched, errors, stamp(at)),
    ).fetchone()
    return int(row["id"])


def record_event(
    ledger: Ledger,
    ack_file_id: int,
    verdict: ClaimVerdict,
    *,
    status_before: str,
    applied: bool,
    note: str | None,
    at: datetime | str,
) -> int:
    """One verdict about one claim, and every reason behind it."""
    row = ledger.execute(
        "INSERT INTO ack_events (ack_file_id, claim_id, interchange_claim_id, source, "
        "status_before, implied_status, applied, note, code, message, payer_claim_number, "
        "ack_segment_index, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            ack_file_id,
            verdict.claim.claim_id,
            verdict.claim.interchange_claim_id,
            verdict.source,
            status_before,
            verdict.status,
            1 if applied else 0,
            note,
            verdict.code,
            verdict.message,
            verdict.reported_payer_claim_number,
            verdict.ack.segment_index,
            stamp(at),
        ),
    ).fetchone()
    event_id = int(row["id"])
    for reason in verdict.reasons:
        ledger.execute(
            "INSERT INTO ack_reasons (event_id, claim_id, source, code, message, scope, "
            "line_number, line_control_number, segment_id, position, element, "
            "ack_segment_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                verdict.claim.claim_id,
                reason.source,
                reason.code,
                reason.message,
                reason.scope,
                reason.line,
                reason.line_control_number,
                reason.segment_id,
                reason.position,
                reason.element,
                reason.ack.segment_index,
            ),
        )
    return event_id


def record_unmatched(ledger: Ledger, ack_file_id: int, item: Unmatched, at: datetime | str) -> None:
    ledger.execute(
        "INSERT INTO ack_unmatched (ack_file_id, source, reference, message, implied_status, "
        "ack_segment_index, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            ack_file_id,
            item.source,
            item.reference,
            item.message,
            item.status,
            item.ack.segment_index,
            stamp(at),
        ),
    )


@dataclass(frozen=True, slots=True)
class ReasonRecord:
    source: str
    code: str | None
    message: str
    scope: str
    line: int | None
    line_control_number: str | None
    segment_id: str | None
    position: int | None
    element: str | None
    at: str


def current_reasons(ledger: Ledger, claim_id: int) -> list[ReasonRecord]:
    """The reasons behind the claim's current status, when an acknowledgment set it: those of
    the latest applied event, if the claim's status is still the one that event set."""
    event = ledger.query_one(
        "SELECT e.id, e.implied_status, e.at FROM ack_events e JOIN claims c ON c.id = e.claim_id "
        "WHERE e.claim_id = ? AND e.applied = 1 AND e.implied_status = c.status "
        "ORDER BY e.id DESC",
        (claim_id,),
    )
    if event is None:
        return []
    later = ledger.query_one(
        "SELECT 1 FROM claim_status_history WHERE claim_id = ? AND at > ? AND status <> ?",
        (claim_id, event["at"], event["implied_status"]),
    )
    if later is not None:
        return []
    rows = ledger.query(
        "SELECT source, code, message, scope, line_number, line_control_number, segment_id, "
        "position, element FROM ack_reasons WHERE event_id = ? ORDER BY id",
        (int(event["id"]),),
    )
    return [
        ReasonRecord(
            r["source"],
            r["code"],
            r["message"],
            r["scope"],
            r["line_number"],
            r["line_control_number"],
            r["segment_id"],
            r["position"],
            r["element"],
            event["at"],
        )
        for r in rows
    ]


def reported_payer_claim_number(ledger: Ledger, claim_id: int) -> str | None:
    """The payer claim number a 277CA reported for the claim (also on a rejection)."""
    row = ledger.query_one(
        "SELECT payer_claim_number FROM ack_events WHERE claim_id = ? AND source = '277CA' "
        "AND payer_claim_number IS NOT NULL ORDER BY id DESC",
        (claim_id,),
    )
    return None if row is None else row["payer_claim_number"]


def unmatched(ledger: Ledger) -> list[Row]:
    return ledger.query(
        "SELECT u.source, u.reference, u.message, u.implied_status, u.at, f.file "
        "FROM ack_unmatched u JOIN ack_files f ON f.id = u.ack_file_id ORDER BY u.id"
    )
