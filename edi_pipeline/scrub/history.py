"""Claim history as the scrub rules see it: what this payer was already billed for this member.

Rules about authorizations (units or visits already used), dosing frequency (loading versus
maintenance phase) and duplicates need earlier claims. They take them from a ``ClaimHistory``,
a one-method protocol, so the pure rules never touch a database: the ledger provides one backed
by SQLite (``edi_pipeline.ledger.scrub``), tests and the batch being scrubbed provide
``InMemoryHistory``, and ``LayeredHistory`` puts the batch on top of the ledger so that the second
of two infusions in one export sees the first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from edi_pipeline.models import Claim


@dataclass(frozen=True, slots=True)
class PastLine:
    """One billed line of an earlier claim: enough to count units and doses."""

    procedure: str
    units: Decimal
    kind: str  # the ServiceLine kind: drug, drug_waste, administration, ...
    modifiers: tuple[str, ...] = ()
    drug: str | None = None  # generic name on drug lines


@dataclass(frozen=True, slots=True)
class PastClaim:
    """An earlier claim for the same member and payer that counts (built, sent, paid...)."""

    claim_id: str  # the encounter id (CLM01)
    date_of_service: date
    lines: tuple[PastLine, ...]
    prior_authorization: str | None = None
    status: str = "built"

    @classmethod
    def of(cls, claim: Claim, status: str = "built") -> PastClaim:
        """The history entry a claim leaves behind once it has gone out."""
        return cls(
            claim_id=claim.encounter_id,
            date_of_service=claim.date_of_service,
            lines=tuple(
                PastLine(ln.procedure, ln.units, ln.kind, ln.modifiers, ln.drug)
                for ln in claim.lines
            ),
            prior_authorization=claim.prior_authorization,
            status=status,
        )


class ClaimHistory(Protocol):
    """Earlier claims of one member with one payer, with dates of service in [since, until]."""

    def claims(
        self, payer_id: str, member_id: str, since: date, until: date
    ) -> Sequence[PastClaim]: ...


class InMemoryHistory:
    """History held in memory: for tests, and for the claims of the batch being scrubbed."""

    def __init__(self, entries: Iterable[tuple[str, str, PastClaim]] = ()) -> None:
        self._by_member: dict[tuple[str, str], list[PastClaim]] = defaultdict(list)
        for payer_id, member_id, past in entries:
            self.add(payer_id, member_id, past)

    def add(self, payer_id: str, member_id: str, past: PastClaim) -> None:
        found = self._by_member[(payer_id, member_id)]
        # A claim re-added (corrected and scrubbed again) replaces its earlier entry.
        found[:] = [p for p in found if p.claim_id != past.claim_id]
        found.append(past)
        found.sort(key=lambda p: (p.date_of_service, p.claim_id))

    def add_claim(self, claim: Claim, status: str = "built") -> None:
        self.add(claim.payer_id, claim.encounter.coverage.member_id, PastClaim.of(claim, status))

    def claims(self, payer_id: str, member_id: str, since: date, until: date) -> list[PastClaim]:
        return [
            p
            for p in self._by_member.get((payer_id, member_id), ())
            if since <= p.date_of_service <= until
        ]


class LayeredHistory:
    """Several histories read as one; a claim id found in an upper layer hides lower copies."""

    def __init__(self, *layers: ClaimHistory) -> None:
        self.layers = layers

    def claims(self, payer_id: str, member_id: str, since: date, until: date) -> list[PastClaim]:
        seen: set[str] = set()
        out: list[PastClaim] = []
        for layer in self.layers:
            for past in layer.claims(payer_id, member_id, since, until):
                if past.claim_id not in seen:
                    seen.add(past.claim_id)
                    out.append(past)
        out.sort(key=lambda p: (p.date_of_service, p.claim_id))
        return out


class _NoHistory:
    """No earlier claims at all (the default: a context without a ledger or a batch)."""

    def claims(self, payer_id: str, member_id: str, since: date, until: date) -> list[PastClaim]:
        return []


NO_HISTORY: ClaimHistory = _NoHistory()
