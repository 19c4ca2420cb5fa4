"""The scrub stage's ledger queries: verdicts, coded facts for history, and overrides.

- ``record_scrub`` stores one verdict: a held claim becomes (or stays) ``held`` with its holds;
  a clean claim that was held has its holds cleared (the build moves it on); and the claim's
  coded lines are remembered so later claims of the member can be checked against them.
- ``LedgerHistory`` is the ``ClaimHistory`` the scrub rules read: the member's earlier claims
  with the payer that actually went out (built, sent, accepted, paid …).
- ``record_override`` / ``overrides``: a person's decision that a rule's hold does not apply to a
  claim, with the reason, applied by every later scrub of that claim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from edi_pipeline.errors import LedgerError
from edi_pipeline.ledger import claims as core
from edi_pipeline.ledger._time import stamp
from edi_pipeline.ledger.base import Ledger, Row
from edi_pipeline.models import Claim, Scrubbed
from edi_pipeline.scrub.history import PastClaim, PastLine

#: claim statuses whose services the payer has been (or is being) billed for
COUNTED_STATUSES = ("built", "sent", "accepted", "payer_accepted", "paid", "partially_paid")


def member_key(payer_id: str, member_id: str) -> str:
    """A stable key for the member with the payer that does not store the member id."""
    return hashlib.sha256(f"{payer_id}\x1f{member_id}".encode()).hexdigest()


def record_scrub(
    ledger: Ledger,
    practice: str,
    scrubbed: Scrubbed,
    at: datetime | str,
    *,
    record_hash: str | None = None,
) -> bool:
    """Store one claim's verdict and coded facts; returns True when the claim is held."""
    claim = scrubbed.claim
    key = core.ClaimKey(practice, claim.encounter_id, claim.frequency)
    with ledger.transaction():
        _record_facts(ledger, practice, claim, at)
        existing = core.claim(ledger, key)
        if scrubbed.holds:
            if existing is not None and existing.status not in (
                "held",
                "rejected",
                "payer_rejected",
            ):
                raise LedgerError(
                    f"claim {claim.encounter_id} (frequency {claim.frequency}) is already "
                    f"{existing.status}; a change goes out as a replacement (frequency 7)",
                    code="ledger_scrub_after_build",
                )
            core.upsert_claim(
                ledger,
                key,
                status="held",
                payer_id=claim.payer_id,
                charge=claim.total_charge,
                at=at,
                date_of_service=claim.date_of_service,
                record_hash=record_hash,
                source="scrub",
                message=", ".join(sorted({h.rule for h in scrubbed.holds})),
            )
            core.replace_holds(ledger, key, scrubbed.holds, at)
            return True
        if existing is not None and existing.status == "held":
            core.replace_holds(ledger, key, (), at)
        return False


def _record_facts(ledger: Ledger, practice: str, claim: Claim, at: datetime | str) -> None:
    row = ledger.execute(
        "INSERT INTO scrub_claims (practice, encounter_id, frequency, payer_id, member_key, "
        "date_of_service, prior_authorization, scrubbed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (practice, encounter_id, frequency) DO UPDATE SET "
        "payer_id = excluded.payer_id, member_key = excluded.member_key, "
        "date_of_service = excluded.date_of_service, "
        "prior_authorization = excluded.prior_authorization, scrubbed_at = excluded.scrubbed_at "
        "RETURNING id",
        (
            practice,
            claim.encounter_id,
            claim.frequency,
            claim.payer_id,
            member_key(claim.payer_id, claim.encounter.coverage.member_id),
            claim.date_of_service.isoformat(),
            claim.prior_authorization,
            stamp(at),
        ),
    ).fetchone()
    scrub_id = int(row["id"])
    ledger.execute("DELETE FROM scrub_lines WHERE scrub_claim_id = ?", (scrub_id,))
    for number, line in enumerate(claim.lines, start=1):
        ledger.execute(
            "INSERT INTO scrub_lines (scrub_claim_id, line_number, procedure, modifiers, units, "
            "kind, drug) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                scrub_id,
                number,
                line.procedure,
                ":".join(line.modifiers),
                str(line.units),
                line.kind,
                line.drug,
            ),
        )


class LedgerHistory:
    """``ClaimHistory`` over the ledger: earlier claims of the member that went out.

    One query per member by default; ``prefetch(claims)`` loads the history of every member of
    a batch in a few queries first (what a run should do before scrubbing many claims), after
    which those members are answered from memory.
    """

    def __init__(self, ledger: Ledger, lookback_days: int = 730) -> None:
        self.ledger = ledger
        self.lookback_days = lookback_days
        self._cache: dict[str, list[PastClaim]] = {}  # member key -> claims, by date
        self._span: tuple[date, date] | None = None  # the dates the cache covers

    def prefetch(self, claims: Iterable[Claim]) -> None:
        """Load the history of every member of ``claims`` (their payers) in bulk."""
        keys: set[str] = set()
        low: date | None = None
        high: date | None = None
        for c in claims:
            keys.add(member_key(c.payer_id, c.encounter.coverage.member_id))
            low = c.date_of_service if low is None else min(low, c.date_of_service)
            high = c.date_of_service if high is None else max(high, c.date_of_service)
        if low is None or high is None:
            return
        since = low - timedelta(days=self.lookback_days)
        cache: dict[str, list[PastClaim]] = {k: [] for k in keys}
        for chunk in _chunks(sorted(keys), 500):
            where = f"s.member_key IN ({', '.join('?' for _ in chunk)})"
            for key, past in self._select(where, list(chunk), since, high):
                cache[key].append(past)
        self._cache = cache
        self._span = (since, high)

    def claims(self, payer_id: str, member_id: str, since: date, until: date) -> list[PastClaim]:
        key = member_key(payer_id, member_id)
        span = self._span
        if span is not None and key in self._cache and span[0] <= since and until <= span[1]:
            return [p for p in self._cache[key] if since <= p.date_of_service <= until]
        return [past for _, past in self._select("s.member_key = ?", [key], since, until)]

    def _select(
        self, where: str, params: list[object], since: date, until: date
    ) -> list[tuple[str, PastClaim]]:
        """(member key, past claim) for the counted claims matching ``where``, by date."""
        marks = ", ".join("?" for _ in COUNTED_STATUSES)
        rows = self.ledger.query(
            "SELECT s.id, s.member_key, s.encounter_id, s.date_of_service, "
            "s.prior_authorization, c.status, l.procedure, l.modifiers, l.units, l.kind, l.drug "
            "FROM scrub_claims s "
            "JOIN practices p ON p.key = s.practice "
            "JOIN claims c ON c.practice_id = p.id AND c.encounter_id = s.encounter_id "
            "AND c.frequency = s.frequency "
            "LEFT JOIN scrub_lines l ON l.scrub_claim_id = s.id "
            f"WHERE {where} AND s.date_of_service >= ? "
            f"AND s.date_of_service <= ? AND c.status IN ({marks}) "
            "ORDER BY s.date_of_service, s.encounter_id, s.id, l.line_number",
            (*params, since.isoformat(), until.isoformat(), *COUNTED_STATUSES),
        )
        # rows by position (faster than by name over a large batch); one claim's rows are
        # adjacent, its lines in order
        out: list[tuple[str, PastClaim]] = []
        units: dict[str, Decimal] = {}
        days: dict[str, date] = {}
        current = None
        lines: list[PastLine] = []
        for r in rows:
            if current is None or r[0] != current[0]:
                if current is not None:
                    out.append(_past(current, lines, days))
                current, lines = r, []
            if r[6] is not None:
                amount = units.get(r[8])
                if amount is None:
                    amount = units[r[8]] = Decimal(r[8])
                lines.append(
                    PastLine(r[6], amount, r[9], tuple(r[7].split(":")) if r[7] else (), r[10])
                )
        if current is not None:
            out.append(_past(current, lines, days))
        return out


def _past(head: Row, lines: list[PastLine], days: dict[str, date]) -> tuple[str, PastClaim]:
    day = days.get(head[3])
    if day is None:
        day = days[head[3]] = date.fromisoformat(head[3])
    return head[1], PastClaim(head[2], day, tuple(lines), head[4], head[5])


def _chunks(values: Sequence, size: int) -> list[Sequence]:  # type: ignore[type-arg]
    return [values[i : i + size] for i in range(0, len(values), size)]


def record_override(
    ledger: Ledger, practice: str, encounter_id: str, rule: str, reason: str, at: datetime | str
) -> None:
    """Record that ``rule`` no longer holds claim ``encounter_id``, and why (replaces any
    earlier reason for the same pair)."""
    if not reason.strip():
        raise LedgerError("an override needs a reason", code="ledger_override_reason")
    with ledger.transaction():
        ledger.execute(
            "INSERT INTO scrub_overrides (practice, encounter_id, rule, reason, at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (practice, encounter_id, rule) DO UPDATE SET "
            "reason = excluded.reason, at = excluded.at",
            (practice, encounter_id, rule, reason.strip(), stamp(at)),
        )


def overrides(ledger: Ledger, practice: str) -> Mapping[str, Mapping[str, str]]:
    """encounter id → rule id → reason, for ``ScrubContext.overrides``."""
    out: dict[str, dict[str, str]] = {}
    for r in ledger.query(
        "SELECT encounter_id, rule, reason FROM scrub_overrides WHERE practice = ? ORDER BY id",
        (practice,),
    ):
        out.setdefault(r["encounter_id"], {})[r["rule"]] = r["reason"]
    return out
