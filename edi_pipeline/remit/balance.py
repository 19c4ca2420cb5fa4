"""835 balancing, exactly the three rules of 835.md §6, in exact ``Decimal`` arithmetic.

1. service line:  ``SVC02 − Σ line CAS amounts = SVC03``
2. claim:         ``CLP03 − Σ (claim CAS + every line's CAS) = CLP04``
3. transaction:   ``BPR02 = Σ CLP04 − Σ PLB amounts``

Informational amounts (AMT*B6, CLP05, MIA/MOA, QTY) are not part of balancing. Reversals
(CLP02 22) carry negated amounts and balance under the same formulas, so they need no special
case. An imbalance is reported with both sides and its position, never fixed.
"""

from __future__ import annotations

from edi_pipeline.models import Where
from edi_pipeline.remit.models import (
    ZERO,
    Imbalance,
    RemitClaim,
    RemitLine,
    RemitTransaction,
)


def line_imbalance(claim: RemitClaim, line: RemitLine) -> Imbalance | None:
    computed = line.charge
    for adj in line.adjustments:
        computed -= adj.amount
    if computed == line.paid:
        return None
    return Imbalance(
        "line",
        expected=line.paid,
        computed=computed,
        formula="SVC02 - sum(line CAS) = SVC03",
        where=Where(
            file=claim.payment.file,
            claim_id=claim.patient_control_number,
            line=line.number,
            segment_index=line.segment_index,
            segment_id="SVC",
        ),
        claim=claim.patient_control_number,
        line=line.number,
        st02=claim.payment.st02,
    )


def claim_imbalances(claim: RemitClaim) -> list[Imbalance]:
    """The claim's own imbalance (rule 2) after each of its lines' (rule 1)."""
    out: list[Imbalance] = []
    computed = claim.charge
    for adj in claim.adjustments:
        computed -= adj.amount
    for line in claim.lines:
        line_total = line.charge
        for adj in line.adjustments:
            computed -= adj.amount
            line_total -= adj.amount
        if line_total != line.paid:
            imb = line_imbalance(claim, line)
            if imb is not None:
                out.append(imb)
    if computed != claim.paid:
        out.append(
            Imbalance(
                "claim",
                expected=claim.paid,
                computed=computed,
                formula="CLP03 - sum(claim CAS + line CAS) = CLP04",
                where=Where(
                    file=claim.payment.file,
                    claim_id=claim.patient_control_number,
                    segment_index=claim.segment_index,
                    segment_id="CLP",
                ),
                claim=claim.patient_control_number,
                st02=claim.payment.st02,
            )
        )
    return out


def transaction_imbalance(tx: RemitTransaction) -> Imbalance | None:
    computed = tx.claims_paid - sum((p.amount for p in tx.provider_adjustments), ZERO)
    if computed == tx.payment.amount:
        return None
    return Imbalance(
        "transaction",
        expected=tx.payment.amount,
        computed=computed,
        formula="BPR02 = sum(CLP04) - sum(PLB amounts)",
        where=Where(
            file=tx.payment.file,
            segment_index=tx.payment.segment_index,
            segment_id="ST",
        ),
        st02=tx.payment.st02,
    )
