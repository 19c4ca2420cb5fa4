"""Remit queries: what we sent (for matching), posting 835 results, and denial rows for reports.

``LedgerSentClaims`` implements ``remit.match.SentClaims`` over the core ``claims``/``lines``
tables (and, when scrub recorded them, the line kind and drug of ``scrub_lines``).
``LedgerRecorder`` posts each 835 payment in one transaction when its SE is read: the payment,
its claims and classified adjustments, its PLBs, and each matched claim's new status
(paid, partially_paid, denied, reversed) in the claim's history. A payment already posted
(same TRN02, TRN03, BPR02) is not posted twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from edi_pipeline.ledger._time import day, stamp
from edi_pipeline.ledger.base import Ledger, Row
from edi_pipeline.ledger.claims import record_status as _record_status
from edi_pipeline.ledger.claims import set_payer_claim_number
from edi_pipeline.models import money
from edi_pipeline.remit.match import SentClaim, SentLine
from edi_pipeline.remit.models import Imbalance, Payment, RemitTransaction

if TYPE_CHECKING:
    from edi_pipeline.app.remit import ClaimResult


_SENT_CLAIM = (
    "SELECT c.id, p.key AS practice, c.encounter_id, c.frequency, c.payer_id, c.charge, "
    "c.date_of_service, c.payer_claim_number FROM claims c "
    "JOIN practices p ON p.id = c.practice_id "
)
_SENT_LINES = (
    "SELECT l.line_number, l.line_control_number, l.procedure, l.modifiers, l.units, l.charge, "
    "l.ndc, l.date_of_service, sl.kind, sl.drug FROM lines l "
    "JOIN claims c ON c.id = l.claim_id JOIN practices p ON p.id = c.practice_id "
    "LEFT JOIN scrub_claims sc ON sc.practice = p.key AND sc.encounter_id = c.encounter_id "
    "AND sc.frequency = c.frequency "
    "LEFT JOIN scrub_lines sl ON sl.scrub_claim_id = sc.id AND sl.line_number = l.line_number "
    "WHERE l.claim_id = ? AND (l.interchange_claim_id IS NULL OR l.interchange_claim_id = "
    "(SELECT MAX(interchange_claim_id) FROM lines WHERE claim_id = ?)) "
    "ORDER BY l.line_number, l.id"
)


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class LedgerSentClaims:
    """``SentClaims`` over the ledger (claims keyed by ledger id)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def _sent(self, row: Row) -> SentClaim:
        claim_id = int(row["id"])
        lines = tuple(
            SentLine(
                number=int(r["line_number"]),
                procedure=r["procedure"],
                charge=Decimal(r["charge"]),
                units=Decimal(r["units"]),
                modifiers=tuple(m for m in r["modifiers"].split(":") if m),
                service_date=_date(r["date_of_service"]) or _date(row["date_of_service"]),
                control_number=r["line_control_number"],
                kind=r["kind"],
                ndc=r["ndc"],
                drug=r["drug"],
            )
            for r in self.ledger.query(_SENT_LINES, (claim_id, claim_id))
        )
        return SentClaim(
            key=claim_id,
            patient_control_number=row["encounter_id"],
            charge=Decimal(row["charge"]),
            lines=lines,
            encounter_id=row["encounter_id"],
            payer_id=row["payer_id"],
            service_date=_date(row["date_of_service"]),
            frequency=row["frequency"],
            payer_claim_number=row["payer_claim_number"],
        )

    def by_patient_control_number(self, pcn: str) -> Sequence[SentClaim]:
        rows = self.ledger.query(
            _SENT_CLAIM + "WHERE UPPER(c.encounter_id) = ? ORDER BY c.id", (pcn,)
        )
        return [self._sent(r) for r in rows]

    def by_patient_control_number_fuzzy(self, pcn: str) -> Sequence[SentClaim]:
        rows = self.ledger.query(
            _SENT_CLAIM + "WHERE SUBSTR(UPPER(c.encounter_id), 1, ?) = ? "
            "OR (LENGTH(c.encounter_id) < ? AND SUBSTR(?, ? - LENGTH(c.encounter_id) + 1) = "
            "UPPER(c.encounter_id)) ORDER BY c.id",
            (len(pcn), pcn, len(pcn), pcn, len(pcn)),
        )
        return [self._sent(r) for r in rows]

    def by_line_control_number(self, control_number: str) -> SentClaim | None:
        row = self.ledger.query_one(
            _SENT_CLAIM + "JOIN lines l ON l.claim_id = c.id WHERE l.line_control_number = ?",
            (control_number,),
        )
        return None if row is None else self._sent(row)


@dataclass
class _Pending:
    payment: Payment
    sha256: str
    claims: list[ClaimResult]


class LedgerRecorder:
    """``app.remit.Recorder`` that posts to the ledger, one DB transaction per 835 payment."""

    def __init__(self, ledger: Ledger, *, now: datetime | str) -> None:
        self.ledger = ledger
        self.at = stamp(now)
        self._pending: _Pending | None = None
        self.posted_claims = 0
        self.status_changes = 0

    def begin_transaction(self, payment: Payment, file_sha256: str) -> bool:
        if is_posted(self.ledger, payment):
            self._pending = None
            return False
        self._pending = _Pending(payment, file_sha256, [])
        return True

    def claim(self, result: ClaimResult) -> None:
        assert self._pending is not None and self._pending.payment is result.claim.payment
        self._pending.claims.append(result)

    def end_transaction(self, tx: RemitTransaction, imbalance: Imbalance | None) -> None:
        pending = self._pending
        self._pending = None
        if pending is None:
            return
        p = tx.payment
        with self.ledger.transaction():
            row = self.ledger.execute(
                "INSERT INTO remits (file, file_sha256, st02, trace_number, payer_identifier, "
                "amount, credit_debit, paid_on, payer_id, payer_name, claims, claims_paid, "
                "provider_adjustments, balanced, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (trace_number, payer_identifier, amount) DO NOTHING RETURNING id",
                (
                    p.file,
                    pending.sha256,
                    p.st02,
                    p.trace_number,
                    p.payer_identifier,
                    money(p.amount),
                    p.credit_debit,
                    day(p.date),
                    p.payer_id,
                    p.payer_name,
                    tx.claims,
                    money(tx.claims_paid),
                    money(tx.provider_adjustment_total),
                    int(imbalance is None),
                    self.at,
                ),
            ).fetchone()
            if row is None:  # another process posted it meanwhile
                return
            remit_id = int(row["id"])
            for plb in tx.provider_adjustments:
                self.ledger.execute(
                    "INSERT INTO remit_provider_adjustments (remit_id, provider_id, reason, "
                    "reference, amount) VALUES (?, ?, ?, ?, ?)",
                    (remit_id, plb.provider_id, plb.reason, plb.reference, money(plb.amount)),
                )
            for result in pending.claims:
                self._post_claim(remit_id, result)

    def _post_claim(self, remit_id: int, result: ClaimResult) -> None:
        claim = result.claim
        cc = result.classified
        match = result.match
        claim_id = match.sent.key if match.sent is not None else None
        row = self.ledger.execute(
            "INSERT INTO remit_claims (remit_id, claim_id, patient_control_number, "
            "payer_claim_number, status_code, status, charge, paid, patient_responsibility, "
            "matched_by, balanced, segment_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (
                remit_id,
                claim_id,
                claim.patient_control_number,
                claim.payer_claim_number,
                claim.status_code,
                cc.status,
                money(claim.charge),
                money(claim.paid),
                None
                if claim.patient_responsibility is None
                else money(claim.patient_responsibility),
                match.how,
                int(not result.imbalances),
                claim.segment_index,
            ),
        ).fetchone()
        rc_id = int(row["id"])
        service_date = claim.statement_from
        for adj in cc.adjustments:
            self._post_adjustment(rc_id, adj, None, None, None, service_date)
        for i, cl in enumerate(cc.lines):
            sent_line = match.lines[i] if i < len(match.lines) else None
            for adj in cl.adjustments:
                self._post_adjustment(
                    rc_id,
                    adj,
                    cl,
                    sent_line,
                    sent_line.drug if sent_line else None,
                    cl.line.service_from or service_date,
                )
        self.posted_claims += 1
        if claim_id is not None:
            message = (
                f"835 {claim.payment.trace_number}: paid {money(claim.paid)} of "
                f"{money(claim.charge)}"
            )
            _record_status(
                self.ledger,
                claim_id,
                cc.status,
                self.at,
                source="835",
                code=claim.status_code,
                message=message,
            )
            self.status_changes += 1
            if claim.payer_claim_number and not claim.is_reversal:
                set_payer_claim_number(self.ledger, claim_id, claim.payer_claim_number)

    def _post_adjustment(
        self,
        rc_id: int,
        adj: Any,
        cl: Any,
        sent_line: SentLine | None,
        drug: str | None,
        service_date: date | None,
    ) -> None:
        a = adj.adjustment
        c = adj.classification
        line = cl.line if cl is not None else None
        self.ledger.execute(
            "INSERT INTO remit_adjustments (remit_claim_id, line_number, sent_line_number, "
            "procedure, modifiers, units, line_kind, drug, service_date, group_code, carc, rarcs, "
            "amount, root_cause, denial, at_stake, fix, rule, prevent) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rc_id,
                line.number if line is not None else None,
                sent_line.number if sent_line is not None else None,
                line.billed.code if line is not None else None,
                ":".join(line.billed.modifiers) if line is not None else None,
                None if line is None or line.billed_units is None else str(line.billed_units),
                cl.context.kind if cl is not None else "claim",
                drug,
                day(service_date),
                a.group,
                a.carc,
                ":".join(adj.rarcs),
                money(a.amount),
                c.root_cause,
                int(c.denial),
                money(adj.at_stake),
                c.fix,
                c.rule,
                c.prevent,
            ),
        )


def is_posted(ledger: Ledger, payment: Payment) -> bool:
    return (
        ledger.query_one(
            "SELECT 1 FROM remits WHERE trace_number = ? AND payer_identifier = ? AND amount = ?",
            (payment.trace_number, payment.payer_identifier, money(payment.amount)),
        )
        is not None
    )


@dataclass(frozen=True, slots=True)
class AdjustmentRow:
    """One posted, classified adjustment with what a denial report groups by."""

    payer: str
    paid_on: date | None
    service_date: date | None
    patient_control_number: str
    encounter_id: str | None
    procedure: str | None
    modifiers: tuple[str, ...]
    units: Decimal | None
    line_kind: str
    drug: str | None
    group: str
    carc: str
    rarcs: tuple[str, ...]
    amount: Decimal
    root_cause: str
    denial: bool
    at_stake: Decimal
    fix: str
    rule: str
    prevent: str | None
    payer_id: str = ""


def adjustment_rows(ledger: Ledger) -> Iterator[AdjustmentRow]:
    """Every posted adjustment, oldest payment first (the report's input from the ledger)."""
    rows = ledger.execute(
        "SELECT r.payer_name, r.payer_id, r.paid_on, a.service_date, rc.patient_control_number, "
        "c.encounter_id, a.procedure, a.modifiers, a.units, a.line_kind, a.drug, a.group_code, "
        "a.carc, "
        "a.rarcs, a.amount, a.root_cause, a.denial, a.at_stake, a.fix, a.rule, a.prevent "
        "FROM remit_adjustments a JOIN remit_claims rc ON rc.id = a.remit_claim_id "
        "JOIN remits r ON r.id = rc.remit_id LEFT JOIN claims c ON c.id = rc.claim_id "
        "ORDER BY r.id, rc.id, a.id"
    )
    for r in rows:
        yield AdjustmentRow(
            payer=r["payer_name"] or r["payer_id"],
            paid_on=_date(r["paid_on"]),
            service_date=_date(r["service_date"]),
            patient_control_number=r["patient_control_number"],
            encounter_id=r["encounter_id"],
            procedure=r["procedure"],
            modifiers=tuple(m for m in (r["modifiers"] or "").split(":") if m),
            units=None if r["units"] is None else Decimal(r["units"]),
            line_kind=r["line_kind"],
            drug=r["drug"],
            group=r["group_code"],
            carc=r["carc"],
            rarcs=tuple(m for m in r["rarcs"].split(":") if m),
            amount=Decimal(r["amount"]),
            root_cause=r["root_cause"],
            denial=bool(r["denial"]),
            at_stake=Decimal(r["at_stake"]),
            fix=r["fix"],
            rule=r["rule"],
            prevent=r["prevent"],
            payer_id=r["payer_id"],
        )


def remit_claims_for(ledger: Ledger, claim_id: int) -> list[dict[str, Any]]:
    """The 835 claims posted against one of our claims, oldest first."""
    return [
        dict(r)
        for r in ledger.query(
            "SELECT rc.status_code, rc.status, rc.charge, rc.paid, rc.payer_claim_number, "
            "r.trace_number FROM remit_claims rc JOIN remits r ON r.id = rc.remit_id "
            "WHERE rc.claim_id = ? ORDER BY rc.id",
            (claim_id,),
        )
    ]
