"""Tie every verdict of a TA1, 999 or 277CA back to the claims and lines we sent (pure).

What we sent is reached through ``SentLookup``, a four-method protocol the ledger edge
implements (``ledger.acks.LedgerLookup``) and tests may implement over plain lists. The result
is a ``TieBack``: one ``ClaimVerdict`` per claim the acknowledgment speaks about (the status it
implies and the biller's reasons), and one ``Unmatched`` per verdict about something we never
sent, which is reported, never dropped.

How each acknowledgment finds its claims:

* TA1: TA101 is our ISA13 → every claim in that interchange.
* 999: AK102 is our GS06 and AK202 our ST02 → every claim in that transaction set (IK5 rejects
  or accepts the set as a whole). Each IK3 is placed by its position (ST = 1) in the ranges
  the ledger recorded when the interchange was built: inside a claim's range → that claim, and
  the line whose range holds it; before the first claim → the transaction header, shared by all
  its claims. For a *missing* segment (IK304 3, I6, I7) the position is where the segment was
  expected, which is the next segment written: when that is the first segment of a line, of a
  claim or the SE, the segment was missing at the end of what came before, so the position
  before it is used. ``CTX*CLM01:<id>`` overrides the position when the sender supplies it.
* 277CA: 2200D TRN02 is our CLM01 and 2220D REF*FJ our REF*6R; the line control number is
  unique across every build, so it names the exact build of the claim when present.

A claim of a rejected transaction set with no error of its own is still rejected (the set was
refused whole); its reason says so, so the biller knows to resend it unchanged.

Status moves only forward (``applies``): ``sent → accepted | rejected (999, TA1) →
payer_accepted | payer_rejected (277CA)``, never back, never from a rejected claim (only a
rebuild moves that), and never for a build that has since been replaced by a newer one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Literal, Protocol

from edi_pipeline.acks.model import (
    Ack277,
    Ack999,
    AckFile,
    ClaimStatus,
    ElementError,
    GroupResponse,
    SegmentError,
    StatusCode,
    StatusInfo,
    Ta1,
    TransactionResponse,
)
from edi_pipeline.maps.ack_codes import AckCode, AckCodes
from edi_pipeline.models import Problem, Where

Source = Literal["TA1", "999", "277CA"]

#: IK304 codes whose position points where a missing segment was expected (acks.md §2.3)
MISSING_SEGMENT_CODES = frozenset({"3", "I6", "I7"})
#: segments whose IK404 copy of bad data may be shown: codes, quantities and dates of service
#: only. NM1, N3, N4, DMG, PER, NTE and REF can carry names, member ids, addresses, birth dates
#: or SSNs, so their bad values are never repeated in a message.
SHOWABLE_VALUES = frozenset(
    {"ST", "SE", "BHT", "HL", "SBR", "PRV", "CLM", "HI", "LX", "SV1", "DTP", "LIN", "CTP"}
)
#: the order claim statuses come in; an ack only moves a claim to a later rank
RANK = {
    "held": 0,
    "built": 1,
    "sent": 2,
    "accepted": 3,
    "rejected": 3,
    "payer_accepted": 4,
    "payer_rejected": 4,
    "paid": 5,
    "partially_paid": 5,
    "denied": 5,
    "reversed": 6,
    "replaced": 6,
    "voided": 6,
}
ACCEPTING = frozenset({"accepted", "accepted_with_errors"})


# --------------------------------------------------------------------------- what we sent


@dataclass(frozen=True, slots=True)
class SentLine:
    line_id: int  # ledger id
    line_number: int  # LX01
    control_number: str  # REF*6R
    procedure: str
    first: int | None  # LX position in the ST
    last: int | None


@dataclass(frozen=True, slots=True)
class SentClaim:
    """One build of one claim inside one of our transaction sets."""

    claim_id: int  # ledger claims.id
    encounter_id: str  # CLM01
    frequency: str
    status: str  # the claim's current status
    interchange_claim_id: int
    isa13: str
    gs06: str
    st02: str
    first: int  # the claim's 2000B HL, position in the ST
    last: int  # the last segment of its last line
    lines: tuple[SentLine, ...] = ()
    latest: bool = True  # this build is the claim's most recent one

    def line_at(self, position: int) -> SentLine | None:
        for line in self.lines:
            if (
                line.first is not None
                and line.last is not None
                and line.first <= position <= line.last
            ):
                return line
        return None

    def line_by_control(self, control: str | None) -> SentLine | None:
        if control is None:
            return None
        return next((li for li in self.lines if li.control_number == control), None)


class SentLookup(Protocol):
    """What tie-back asks of the ledger. ``sender``/``receiver`` are OUR ISA06/ISA08, i.e. the
    ack's receiver/sender; implementations fall back to ignoring them when nothing matches."""

    def by_interchange(
        self, isa13: str, sender: str | None, receiver: str | None
    ) -> Sequence[SentClaim]: ...

    def by_transaction(
        self, gs06: str, st02: str | None, sender: str | None, receiver: str | None
    ) -> Sequence[SentClaim]: ...

    def by_claim(self, encounter_id: str) -> Sequence[SentClaim]: ...

    def by_line(self, control_number: str) -> SentClaim | None: ...


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, slots=True)
class Reason:
    """One thing wrong (or noted) about one claim, in words a biller understands."""

    source: Source
    code: str | None  # "IK403:7", "A7:562:85", "TA105:025"
    message: str
    line: int | None = None  # LX01
    line_control_number: str | None = None
    segment_id: str | None = None  # the segment of OUR 837 it is about
    position: int | None = None  # its position in our ST
    element: str | None = None  # CLM05-2
    scope: Literal["claim", "line", "transaction", "interchange", "other_claims"] = "claim"
    ack: Where = field(default_factory=Where)  # where in the acknowledgment file


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    """What one acknowledgment says about one build of one claim."""

    claim: SentClaim
    source: Source
    status: str | None  # accepted/rejected/payer_accepted/payer_rejected; None: a note only
    reasons: tuple[Reason, ...]
    ack: Where
    payer_claim_number: str | None = None  # REF*1K of an accepted claim (usable for REF*F8)
    reported_payer_claim_number: str | None = None  # REF*1K as sent, even on a rejection
    note: str | None = None  # why nothing changes, when status is None

    @property
    def code(self) -> str | None:
        codes = [r.code for r in self.reasons if r.code]
        return "; ".join(dict.fromkeys(codes)) if codes else None

    @property
    def message(self) -> str:
        if not self.reasons:
            return self.note or ""
        first = self.reasons[0].message
        more = len(self.reasons) - 1
        return first if not more else f"{first} (+{more} more)"


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A verdict about something we never sent (or cannot find): reported, not dropped."""

    source: Source
    reference: str  # "ISA13 000000050", "GS06 28 ST02 0028", "CLM01 5781"
    message: str
    ack: Where
    status: str | None = None  # what it would have meant for the claim(s)


@dataclass(frozen=True, slots=True)
class TieBack:
    verdicts: tuple[ClaimVerdict, ...] = ()
    unmatched: tuple[Unmatched, ...] = ()
    problems: tuple[Problem, ...] = ()

    def __add__(self, other: TieBack) -> TieBack:
        return TieBack(
            self.verdicts + other.verdicts,
            self.unmatched + other.unmatched,
            self.problems + other.problems,
        )


def applies(current: str, implied: str | None, *, latest: bool = True) -> tuple[bool, str | None]:
    """Whether an ack's implied status may replace ``current``; and why not, when it may not."""
    if implied is None:
        return False, "the acknowledgment only notes the claim's progress"
    if not latest:
        return False, "the claim was rebuilt since; this acknowledgment is about an older build"
    if current == implied:
        return False, f"the claim is already {current}"
    if current in ("rejected", "payer_rejected") and RANK[implied] >= RANK[current]:
        return False, f"the claim was {current}; only a rebuild (reprocess) moves it on"
    if RANK.get(implied, 0) <= RANK.get(current, 0):
        return False, f"the claim is already {current}, past {implied}"
    return True, None


# --------------------------------------------------------------------------- messages


def _row(codes: AckCodes, kind: str, code: str | None, label: str) -> AckCode:
    row = codes.find(kind, code)
    if row is not None:
        return row
    return AckCode(
        kind,
        code or "",
        f"{label} {code}",
        f"{label} {code} is not in maps/ack_codes.csv; look it up in the X12 code list and add it.",
        None,
        "",
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _place(seg_id: str, position: int | None, st02: str, line: SentLine | None) -> str:
    where = f"segment {seg_id}" + (f" at position {position}" if position else "")
    where += f" of transaction set {st02}"
    if line is not None:
        where += f", service line {line.line_number} ({line.procedure})"
    return where


def element_message(
    codes: AckCodes, error: SegmentError, element: ElementError, st02: str, line: SentLine | None
) -> str:
    row = _row(codes, "ik403", element.code, "IK403")
    name = element.name(error.segment_id)
    text = f"{row.meaning} in {name}"
    if element.data_element:
        text += f" (data element {element.data_element})"
    if element.bad_value and error.segment_id in SHOWABLE_VALUES:
        text += f": got {element.bad_value!r}"
    place_text = _place(error.segment_id, error.position, st02, line)
    return f"{text}; {place_text}. {_sentence(row.message)}"


def segment_message(codes: AckCodes, error: SegmentError, st02: str, line: SentLine | None) -> str:
    row = _row(codes, "ik304", error.code, "IK304")
    text = f"{row.meaning}: {_place(error.segment_id, error.position, st02, line)}"
    if error.loop:
        text += f" (loop {error.loop})"
    return f"{text}. {_sentence(row.message)}"


def status_message(codes: AckCodes, code: StatusCode, info: StatusInfo | None = None) -> str:
    """``A7:562:85`` → the category's and the status's plain words, entity filled in."""
    cat = _row(codes, "stc_category", code.category, "claim status category")
    status = _row(codes, "stc_status", code.status, "claim status")
    entity = codes.find("entity", code.entity) if code.entity else None
    entity_words = entity.message if entity else (f"entity {code.entity}" if code.entity else "")
    detail = status.message.replace("{entity}", entity_words or "entity named by the payer")
    text = f"{_sentence(cat.message)} {_sentence(detail)}"
    if info is not None and info.text:
        text += f" Payer's note: {info.text}"
    return text


# --------------------------------------------------------------------------- TA1


def tie_ta1(ta1: Ta1, lookup: SentLookup, codes: AckCodes) -> TieBack:
    env = ta1.envelope
    claims = lookup.by_interchange(ta1.interchange_control, env.receiver, env.sender)
    outcome = codes.outcome("ta104", ta1.ack_code)
    implied = "rejected" if outcome == "rejected" else None
    note = _row(codes, "ta105", ta1.note_code or "000", "TA105")
    head = _row(codes, "ta104", ta1.ack_code, "TA104")
    message = _sentence(head.message)
    if ta1.note_code not in ("", "000"):
        message += f" {note.meaning}: {_sentence(note.message)}"
    if not claims:
        return TieBack(
            unmatched=(
                Unmatched(
                    "TA1",
                    f"ISA13 {ta1.interchange_control}",
                    f"TA1 {ta1.ack_code} for interchange {ta1.interchange_control}, which we never "
                    f"sent. {message}",
                    ta1.where,
                    implied,
                ),
            )
        )
    if outcome in ACCEPTING and ta1.note_code in ("", "000"):
        return TieBack()  # the envelope is fine; the 999 will say more
    reason_code = f"TA1:{ta1.ack_code}:{ta1.note_code}" if ta1.note_code else f"TA1:{ta1.ack_code}"
    verdicts = tuple(
        ClaimVerdict(
            claim=c,
            source="TA1",
            status=implied,
            reasons=(Reason("TA1", reason_code, message, scope="interchange", ack=ta1.where),),
            ack=ta1.where,
            note=None if implied else "interchange accepted with a note",
        )
        for c in claims
    )
    return TieBack(verdicts=verdicts)


# --------------------------------------------------------------------------- 999


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an IK3 lands among a transaction set's claims."""

    claims: tuple[SentClaim, ...]
    line: SentLine | None
    scope: Literal["claim", "line", "transaction"]


class Placer:
    """Places IK3s among one transaction set's claims; built once per set, so a 999 with
    thousands of segment errors costs a binary search per error, not a scan of every claim."""

    def __init__(self, claims: Sequence[SentClaim]):
        self.claims = tuple(claims)
        self.by_first = sorted(self.claims, key=lambda c: (c.first, c.last))
        self.firsts = [c.first for c in self.by_first]
        self.reach = list(accumulate((c.last for c in self.by_first), max))
        self.by_id = {c.encounter_id: c for c in self.claims}
        self.starts = {c.first for c in self.claims} | {
            li.first for c in self.claims for li in c.lines if li.first is not None
        }
        self.end = max((c.last for c in self.claims), default=0)

    def holding(self, position: int) -> list[SentClaim]:
        """The claims whose range holds ``position`` (one, unless several share an HL)."""
        found = []
        k = bisect_right(self.firsts, position) - 1
        while k >= 0 and self.reach[k] >= position:  # no earlier claim reaches further back
            if self.by_first[k].last >= position:
                found.append(self.by_first[k])
            k -= 1
        return found

    def place(self, error: SegmentError) -> Placement:
        """The claim(s) and line one IK3 points to (see the module docstring for the rules)."""
        named = error.business_unit
        if named is not None and named in self.by_id:
            hit = self.by_id[named]
            line = hit.line_at(error.position) if error.position else None
            return Placement((hit,), line, "line" if line else "claim")
        position = error.position
        if position is None or not self.claims:
            return Placement(self.claims, None, "transaction")
        if error.code in MISSING_SEGMENT_CODES and (position in self.starts or position > self.end):
            position -= 1
        holding = self.holding(position)
        if not holding:
            return Placement(self.claims, None, "transaction")
        claim = min(holding, key=lambda c: c.last - c.first)  # the narrowest range is its own
        line = claim.line_at(position)
        return Placement((claim,), line, "line" if line else "claim")


def place(error: SegmentError, claims: Sequence[SentClaim]) -> Placement:
    """``Placer(claims).place(error)``, for one error."""
    return Placer(claims).place(error)


def _reasons_for(
    error: SegmentError, placement: Placement, st02: str, codes: AckCodes
) -> list[Reason]:
    line = placement.line
    scope: Literal["claim", "line", "transaction"] = placement.scope
    common = {
        "line": line.line_number if line else None,
        "line_control_number": line.control_number if line else None,
        "segment_id": error.segment_id,
        "position": error.position,
        "scope": scope,
    }
    tail = ""
    if scope == "transaction":
        tail = (
            " This segment is outside every claim (the transaction header: submitter, receiver "
            "or billing provider), so it concerns every claim in the transaction set."
        )
    out: list[Reason] = []
    if error.elements:
        for element in error.elements:
            out.append(
                Reason(
                    "999",
                    f"IK403:{element.code}",
                    element_message(codes, error, element, st02, line) + tail,
                    element=element.name(error.segment_id),
                    ack=element.where,
                    **common,  # type: ignore[arg-type]
                )
            )
    else:
        out.append(
            Reason(
                "999",
                f"IK304:{error.code}" if error.code else None,
                segment_message(codes, error, st02, line) + tail,
                ack=error.where,
                **common,  # type: ignore[arg-type]
            )
        )
    return out


def _transaction_verdicts(
    tx: TransactionResponse,
    group: GroupResponse,
    claims: Sequence[SentClaim],
    codes: AckCodes,
) -> list[ClaimVerdict]:
    outcome = codes.outcome("ik501", tx.status)
    implied = "accepted" if outcome in ACCEPTING else "rejected" if outcome == "rejected" else None
    own: dict[int, list[Reason]] = {c.interchange_claim_id: [] for c in claims}
    placer = Placer(claims)
    for error in tx.segment_errors:
        placement = placer.place(error)
        for reason in _reasons_for(error, placement, tx.control, codes):
            for c in placement.claims:
                own[c.interchange_claim_id].append(reason)
    summary = [_row(codes, "ik502", code, "IK502") for code in tx.errors if code not in ("5", "I5")]
    ik5 = _row(codes, "ik501", tx.status, "IK501")
    verdicts: list[ClaimVerdict] = []
    culprits = sorted(
        {c.encounter_id for c in claims if own[c.interchange_claim_id]}
        if len(claims) > 1
        else set()
    )
    for c in claims:
        reasons = list(own[c.interchange_claim_id])
        for row in summary:
            reasons.append(
                Reason(
                    "999",
                    f"IK502:{row.code}",
                    f"{row.meaning} (transaction set {tx.control}). {_sentence(row.message)}",
                    scope="transaction",
                    ack=tx.where,
                )
            )
        if implied == "rejected" and not reasons:
            others = ", ".join(culprits) if culprits else "the transaction set"
            reasons.append(
                Reason(
                    "999",
                    f"IK501:{tx.status}",
                    f"{_sentence(ik5.message)} This claim had no error of its own: transaction "
                    f"set {tx.control} was refused because of errors in {others}. Resend it "
                    "unchanged (reprocess) once those are fixed.",
                    scope="other_claims",
                    ack=tx.where,
                )
            )
        verdicts.append(
            ClaimVerdict(
                claim=c,
                source="999",
                status=implied,
                reasons=tuple(reasons) if implied != "accepted" or outcome != "accepted" else (),
                ack=tx.where,
                note=None if implied else f"IK501 {tx.status!r} does not decide the claim",
            )
        )
    return verdicts


def tie_999(ack: Ack999, lookup: SentLookup, codes: AckCodes) -> TieBack:
    env = ack.envelope
    verdicts: list[ClaimVerdict] = []
    unmatched: list[Unmatched] = []
    for group in ack.groups:
        if group.functional_id != "HC":
            unmatched.append(
                Unmatched(
                    "999",
                    f"GS06 {group.group_control}",
                    f"999 answers a functional group {group.functional_id!r} ({group.version}), "
                    "not one of our 837 groups (HC)",
                    group.where,
                )
            )
            continue
        # Everything we sent in that group, read once (our groups hold one interchange each).
        sent = lookup.by_transaction(group.group_control, None, env.receiver, env.sender)
        by_set: dict[str, list[SentClaim]] = {}
        for c in sent:
            by_set.setdefault(c.st02, []).append(c)
        answered: set[str] = set()
        for tx in group.transactions:
            answered.add(tx.control)
            ref = f"GS06 {group.group_control} ST02 {tx.control}"
            if tx.transaction_set != "837":
                unmatched.append(
                    Unmatched(
                        "999",
                        ref,
                        f"999 answers a {tx.transaction_set!r} transaction set, not an 837",
                        tx.where,
                    )
                )
                continue
            if tx.status is None:
                continue  # the reader reported why; an unknown verdict changes nothing
            claims = by_set.get(tx.control, [])
            if not claims:
                outcome = codes.outcome("ik501", tx.status)
                unmatched.append(
                    Unmatched(
                        "999",
                        ref,
                        f"999 {'accepts' if outcome in ACCEPTING else 'rejects'} transaction set "
                        f"{tx.control} of group {group.group_control}, which we never sent",
                        tx.where,
                        "accepted" if outcome in ACCEPTING else "rejected",
                    )
                )
                continue
            verdicts += _transaction_verdicts(tx, group, claims, codes)
        verdicts += _unanswered(group, answered, sent, codes)
        if not group.transactions and group.status is not None and not sent:
            unmatched.append(
                Unmatched(
                    "999",
                    f"GS06 {group.group_control}",
                    f"999 answers group {group.group_control}, which we never sent",
                    group.where,
                )
            )
    return TieBack(tuple(verdicts), tuple(unmatched))


def _unanswered(
    group: GroupResponse, answered: set[str], sent: Sequence[SentClaim], codes: AckCodes
) -> list[ClaimVerdict]:
    """Transaction sets of ours that the group's AK9 decides without an AK2 of their own."""
    outcome = codes.outcome("ak901", group.status)
    if outcome not in ("accepted", "accepted_with_errors", "rejected"):
        return []
    rest = [c for c in sent if c.st02 not in answered]
    if not rest:
        return []
    row = _row(codes, "ak901", group.status, "AK901")
    details = [_row(codes, "ak905", code, "AK905") for code in group.errors]
    text = _sentence(row.message) + "".join(
        f" {d.meaning}. {_sentence(d.message)}" for d in details
    )
    implied = "accepted" if outcome in ACCEPTING else "rejected"
    code = f"AK901:{group.status}" + "".join(f"; AK905:{d.code}" for d in details)
    return [
        ClaimVerdict(
            claim=c,
            source="999",
            status=implied,
            reasons=()
            if implied == "accepted"
            else (Reason("999", code, text, scope="transaction", ack=group.where),),
            ack=group.where,
        )
        for c in rest
    ]


# --------------------------------------------------------------------------- 277CA


def _find_claim(status: ClaimStatus, lookup: SentLookup) -> SentClaim | None:
    for line in status.lines:
        if line.line_control_number:
            found = lookup.by_line(line.line_control_number)
            if found is not None and found.encounter_id == status.claim_id:
                return found
    if not status.claim_id:
        return None
    candidates = list(lookup.by_claim(status.claim_id))
    if not candidates:
        return None
    waiting = [c for c in candidates if c.status in ("sent", "accepted", "built")]
    pool = waiting or candidates
    return max(pool, key=lambda c: c.interchange_claim_id)


def _outcome_of(codes: AckCodes, found: Iterable[StatusCode]) -> str | None:
    outcomes = [codes.outcome("stc_category", c.category) for c in found]
    if "rejected" in outcomes:
        return "rejected"
    if "accepted" in outcomes:
        return "accepted"
    return None


def tie_277(ack: Ack277, lookup: SentLookup, codes: AckCodes) -> TieBack:
    verdicts: list[ClaimVerdict] = []
    unmatched: list[Unmatched] = []
    for status in ack.claims:
        claim_outcome = _outcome_of(codes, status.codes)
        line_outcomes = [
            _outcome_of(codes, [c for s in li.statuses for c in s.codes]) for li in status.lines
        ]
        outcome = claim_outcome or ("rejected" if "rejected" in line_outcomes else None)
        implied = {"accepted": "payer_accepted", "rejected": "payer_rejected"}.get(outcome or "")
        claim = _find_claim(status, lookup)
        codes_text = ", ".join(c.code for c in status.codes) or "no status code"
        if claim is None:
            unmatched.append(
                Unmatched(
                    "277CA",
                    f"CLM01 {status.claim_id}",
                    f"277CA status {codes_text} for claim {status.claim_id!r}, which we never sent",
                    status.where,
                    implied,
                )
            )
            continue
        reasons: list[Reason] = []
        quiet = ACCEPTING | {"forwarded", "pending"}
        for info in status.statuses:
            for code in info.codes:
                if implied is not None and codes.outcome("stc_category", code.category) in quiet:
                    continue  # "received", "accepted": nothing for the biller to do
                reasons.append(
                    Reason("277CA", code.code, status_message(codes, code, info), ack=info.where)
                )
        for line_status in status.lines:
            sent_line = claim.line_by_control(line_status.line_control_number)
            for info in line_status.statuses:
                for code in info.codes:
                    if codes.outcome("stc_category", code.category) in quiet:
                        continue
                    where = (
                        f"Service line {sent_line.line_number} ({sent_line.procedure}): "
                        if sent_line
                        else f"Service line {'/'.join(line_status.procedure[1:2]) or '?'}: "
                    )
                    reasons.append(
                        Reason(
                            "277CA",
                            code.code,
                            where + status_message(codes, code, info),
                            line=sent_line.line_number if sent_line else None,
                            line_control_number=line_status.line_control_number,
                            scope="line",
                            ack=info.where,
                        )
                    )
        verdicts.append(
            ClaimVerdict(
                claim=claim,
                source="277CA",
                status=implied,
                reasons=tuple(reasons),
                ack=status.where,
                payer_claim_number=(
                    status.payer_claim_number if implied == "payer_accepted" else None
                ),
                reported_payer_claim_number=status.payer_claim_number,
                note=None if implied else f"277CA status {codes_text} does not decide the claim",
            )
        )
    for batch in ack.batches:
        rejected = [
            c
            for info in batch.statuses
            for c in info.codes
            if codes.outcome("stc_category", c.category) == "rejected"
        ]
        if rejected:
            words = " ".join(status_message(codes, c) for c in rejected)
            unmatched.append(
                Unmatched(
                    "277CA",
                    f"batch TRN02 {batch.trace or '?'}",
                    f"277CA rejects a whole batch ({batch.level} level, "
                    f"{', '.join(c.code for c in rejected)}) without naming its claims: {words}",
                    batch.where,
                    "payer_rejected",
                )
            )
    return TieBack(tuple(verdicts), tuple(unmatched))


# --------------------------------------------------------------------------- a whole file


def tie_file(ack: AckFile, lookup: SentLookup, codes: AckCodes) -> TieBack:
    result = TieBack()
    for ta1 in ack.ta1s:
        result += tie_ta1(ta1, lookup, codes)
    for a999 in ack.acks999:
        result += tie_999(a999, lookup, codes)
    for a277 in ack.acks277:
        result += tie_277(a277, lookup, codes)
    return result
