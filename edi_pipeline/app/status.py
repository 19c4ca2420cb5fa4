"""The status workflow: where each claim is in its life, and why, from the ledger (cli.md).

One entry per claim (an encounter replaced by a frequency 7 claim shows both). ``reasons`` say
why a claim is where it is when that needs saying: a held claim's holds, a rejected claim's
acknowledgment reasons (segment, element and line, in plain words, from ``ack_reasons``), or,
when no acknowledgment set the status (a claim pyx12 refused at build, a denial posted from an
835), the status entry's own code and message. ``history`` is every status the claim went
through, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edi_pipeline.ledger import acks as ack_queries
from edi_pipeline.ledger import claims as ledger_claims
from edi_pipeline.ledger import interchanges as ledger_ix
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.ledger.claims import ClaimRecord

#: statuses whose latest history entry is itself the reason, when no acknowledgment gave one
EXPLAINED_BY_HISTORY = frozenset({"rejected", "payer_rejected", "denied", "partially_paid"})


@dataclass(frozen=True, slots=True)
class StatusReport:
    claims: tuple[dict[str, Any], ...]
    missing: str | None = None  # the --claim asked for that the ledger does not know

    @property
    def exit_code(self) -> int:
        return 1 if self.missing else 0

    def as_json(self) -> dict[str, Any]:
        return {"claims": list(self.claims)}


def claim_status(ledger: Ledger, claim: ClaimRecord) -> dict[str, Any]:
    history = ledger_claims.status_history(ledger, claim.id)
    reasons: list[dict[str, Any]] = []
    if claim.status == "held":
        reasons = [
            {"source": "scrub", "code": h.rule, "message": h.message, "category": h.category}
            for h in ledger_claims.holds(ledger, claim.id)
        ]
    elif claim.status in EXPLAINED_BY_HISTORY:
        for r in ack_queries.current_reasons(ledger, claim.id):
            reason: dict[str, Any] = {"source": r.source, "code": r.code, "message": r.message}
            for key in ("line", "line_control_number", "segment_id", "position", "element"):
                value = getattr(r, key)
                if value is not None:
                    reason[key] = value
            reason["scope"] = r.scope
            reasons.append(reason)
        if not reasons:
            last = next((h for h in reversed(history) if h.status == claim.status), None)
            if last is not None and last.message:
                reasons = [
                    {"source": last.source or "ledger", "code": last.code, "message": last.message}
                ]
    entry: dict[str, Any] = {
        "encounter_id": claim.encounter_id,
        "frequency": claim.frequency,
        "status": claim.status,
        "payer_claim_number": claim.payer_claim_number,
        "payer_id": claim.payer_id,
        "charge": str(claim.charge),
        "date_of_service": claim.date_of_service,
        "interchanges": [i.isa13 for i in ledger_ix.claim_interchanges(ledger, claim.id)],
        "reasons": reasons,
        "history": [_history(h) for h in history],
    }
    reported = ack_queries.reported_payer_claim_number(ledger, claim.id)
    if reported and reported != claim.payer_claim_number:
        entry["reported_payer_claim_number"] = reported  # e.g. on a 277CA rejection
    return entry


def _history(h: ledger_claims.StatusEntry) -> dict[str, Any]:
    pairs = (
        ("at", h.at),
        ("status", h.status),
        ("source", h.source),
        ("code", h.code),
        ("message", h.message),
    )
    return {k: v for k, v in pairs if v is not None}


def status(ledger: Ledger, claim: str | None = None) -> StatusReport:
    """Every claim in the ledger, or the claims of one encounter (``--claim``)."""
    if claim is None:
        records = ledger_claims.all_claims(ledger)
    else:
        records = sorted(ledger_claims.claims_by_encounter(ledger, claim), key=lambda c: c.id)
        if not records:
            return StatusReport((), missing=claim)
    return StatusReport(tuple(claim_status(ledger, c) for c in records))
