"""Match 835 claims and lines back to what we sent (835.md §8).

Claims: CLP01 = our CLM01 (normalized; then the payer-truncated or clearinghouse-prefixed forms;
then through a line's REF*6R), disambiguated by payer claim number, charge, date and frequency.
Lines: REF*6R exactly, else procedure as billed (SVC06 when present) + modifiers + service date +
charge + units, assigned greedily by exactness. Nothing is dropped: a remit claim without a sent
claim is ``matched: false``; a remit line without a sent line is payer-added; a sent line that no
remit line reports is listed by ``Matcher.unreported()`` at the end of the run.

What was sent is reached through the small ``SentClaims`` protocol, so matching is tested with
an in-memory table and runs in production on the ledger (``ledger/remit.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from edi_pipeline.remit.models import RemitClaim, RemitLine

#: A CLP01 shorter than this is not tried as a truncated prefix (too many false matches).
MIN_FUZZY_LENGTH = 6


@dataclass(frozen=True, slots=True)
class SentLine:
    number: int  # 1-based LX of the line in our 837 claim
    procedure: str
    charge: Decimal
    units: Decimal
    modifiers: tuple[str, ...] = ()
    service_date: date | None = None
    control_number: str | None = None  # our 2400 REF*6R
    kind: str | None = None  # ServiceLine.kind: drug, drug_waste, administration …
    ndc: str | None = None
    drug: str | None = None  # generic name on drug lines


@dataclass(frozen=True, slots=True)
class SentClaim:
    key: Any  # the ledger's claim key (what record_status takes)
    patient_control_number: str  # our CLM01
    charge: Decimal
    lines: tuple[SentLine, ...] = ()
    encounter_id: str = ""
    payer_id: str = ""
    service_date: date | None = None
    frequency: str = "1"
    payer_claim_number: str | None = None  # known ICN (replacement/void claims send REF*F8)


class SentClaims(Protocol):
    """What matching needs to know about the claims we sent."""

    def by_patient_control_number(self, pcn: str) -> Sequence[SentClaim]:
        """Claims whose CLM01 equals ``pcn`` (already upper-cased and stripped)."""

    def by_patient_control_number_fuzzy(self, pcn: str) -> Sequence[SentClaim]:
        """Claims whose CLM01 starts with ``pcn`` (payer truncated it) or ends ``pcn``
        (a clearinghouse prefixed it)."""

    def by_line_control_number(self, control_number: str) -> SentClaim | None:
        """The claim holding the line with this REF*6R, if any."""


def normalize(pcn: str) -> str:
    return pcn.strip().upper()


class InMemorySentClaims:
    """``SentClaims`` over a list: for tests, and for matching against claims read from 837s."""

    def __init__(self, claims: Iterable[SentClaim]) -> None:
        self.claims = list(claims)
        self._by_pcn: dict[str, list[SentClaim]] = {}
        self._by_line: dict[str, SentClaim] = {}
        for claim in self.claims:
            self._by_pcn.setdefault(normalize(claim.patient_control_number), []).append(claim)
            for line in claim.lines:
                if line.control_number:
                    self._by_line[line.control_number] = claim

    def by_patient_control_number(self, pcn: str) -> Sequence[SentClaim]:
        return self._by_pcn.get(pcn, ())

    def by_patient_control_number_fuzzy(self, pcn: str) -> Sequence[SentClaim]:
        return [
            c
            for key, cs in self._by_pcn.items()
            if key.startswith(pcn) or pcn.endswith(key)
            for c in cs
        ]

    def by_line_control_number(self, control_number: str) -> SentClaim | None:
        return self._by_line.get(control_number)


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    sent: SentClaim | None
    how: str | None  # patient_control_number | patient_control_number_fuzzy | line_control_number
    lines: tuple[SentLine | None, ...]  # per remit line, the sent line it reports
    line_how: tuple[str | None, ...]  # control_number | procedure | None

    @property
    def matched(self) -> bool:
        return self.sent is not None

    def payer_added(self) -> list[int]:
        """Remit line numbers that match no line we sent."""
        return [i for i, s in enumerate(self.lines, start=1) if s is None]


UNMATCHED = ClaimMatch(None, None, (), ())


def _claim_score(sent: SentClaim, claim: RemitClaim) -> tuple[int, ...]:
    charge = abs(claim.charge)
    svc = claim.statement_from
    return (
        int(bool(claim.payer_claim_number) and sent.payer_claim_number == claim.payer_claim_number),
        int(sent.charge == charge),
        int(svc is not None and sent.service_date == svc),
        int(bool(claim.frequency) and sent.frequency == claim.frequency),
    )


def _line_score(sent: SentLine, line: RemitLine, claim_date: date | None) -> int:
    """How many of modifiers, date, charge, units agree (the procedure must agree to score)."""
    billed = line.billed
    if billed.code != sent.procedure:
        return -1
    score = 0
    if tuple(billed.modifiers) == tuple(sent.modifiers):
        score += 1
    day = line.service_from or claim_date
    if day is not None and day == sent.service_date:
        score += 1
    if abs(line.charge) == sent.charge:
        score += 1
    units = line.billed_units
    if (abs(units) if units is not None else Decimal(1)) == sent.units:
        score += 1
    return score


#: A line matched without REF*6R needs its procedure and at least this many of the other four.
MIN_LINE_SCORE = 2


class Matcher:
    """Matches remit claims one at a time, remembering which sent lines were reported."""

    def __init__(self, sent: SentClaims) -> None:
        self.sent = sent
        self._reported: dict[Any, tuple[SentClaim, set[int]]] = {}

    def match(self, claim: RemitClaim) -> ClaimMatch:
        sent, how = self._find_claim(claim)
        if sent is None:
            return ClaimMatch(None, None, (None,) * len(claim.lines), (None,) * len(claim.lines))
        lines, line_how = self._match_lines(sent, claim)
        if claim.lines:
            entry = self._reported.setdefault(sent.key, (sent, set()))
            entry[1].update(s.number for s in lines if s is not None)
        return ClaimMatch(sent, how, lines, line_how)

    def unreported(self) -> list[tuple[SentClaim, SentLine]]:
        """Sent lines of the claims this run touched that no remit line reported
        (bundled away or simply not reported: never counted as paid)."""
        out = []
        for sent, seen in self._reported.values():
            out.extend((sent, line) for line in sent.lines if line.number not in seen)
        return out

    # ------------------------------------------------------------------ claims

    def _find_claim(self, claim: RemitClaim) -> tuple[SentClaim | None, str | None]:
        pcn = normalize(claim.patient_control_number)
        if pcn:
            found = self.sent.by_patient_control_number(pcn)
            if found:
                return self._best(found, claim), "patient_control_number"
        for line in claim.lines:
            if line.control_number:
                sent = self.sent.by_line_control_number(line.control_number)
                if sent is not None:
                    return sent, "line_control_number"
        if len(pcn) >= MIN_FUZZY_LENGTH:
            found = self.sent.by_patient_control_number_fuzzy(pcn)
            if found:
                return self._best(found, claim), "patient_control_number_fuzzy"
        return None, None

    @staticmethod
    def _best(found: Sequence[SentClaim], claim: RemitClaim) -> SentClaim:
        if len(found) == 1:
            return found[0]
        # Highest score; among equals the latest sent (the list is in the order sent).
        best = found[0]
        best_score = _claim_score(best, claim)
        for cand in found[1:]:
            score = _claim_score(cand, claim)
            if score >= best_score:
                best, best_score = cand, score
        return best

    # ------------------------------------------------------------------ lines

    def _match_lines(
        self, sent: SentClaim, claim: RemitClaim
    ) -> tuple[tuple[SentLine | None, ...], tuple[str | None, ...]]:
        n = len(claim.lines)
        result: list[SentLine | None] = [None] * n
        how: list[str | None] = [None] * n
        free = {line.number: line for line in sent.lines}
        by_control = {line.control_number: line for line in sent.lines if line.control_number}
        pending = []
        for i, line in enumerate(claim.lines):
            hit = by_control.get(line.control_number) if line.control_number else None
            if hit is not None and hit.number in free:
                result[i] = hit
                how[i] = "control_number"
                del free[hit.number]
            else:
                pending.append(i)
        if pending and free:
            pairs = []
            for i in pending:
                line = claim.lines[i]
                for s in free.values():
                    score = _line_score(s, line, claim.statement_from)
                    if score >= MIN_LINE_SCORE:
                        pairs.append((-score, i, s.number))
            pairs.sort()  # most exact first; ties in file order, then our line order
            taken: set[int] = set()
            for _neg, i, number in pairs:
                if result[i] is not None or number in taken:
                    continue
                result[i] = free[number]
                how[i] = "procedure"
                taken.add(number)
        return tuple(result), tuple(how)
