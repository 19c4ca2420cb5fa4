"""What a TA1, a 999 and a 277CA say, as frozen values (the readers' output, tie-back's input).

The values keep the acknowledgment's identifiers and codes only: the 277CA's patient name and
member id (2100D NM1*QC) are skipped by the reader, never stored here, so these values can be
logged by id and stored in the ledger without carrying PHI.

Every value remembers where it was read (``Where`` with the ack file's segment ordinal), so a
biller's message and a problem can both point at the exact line of the acknowledgment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Literal

from edi_pipeline.models import Problem, Where

AckKind = Literal["TA1", "999", "277CA"]


@dataclass(frozen=True, slots=True)
class Envelope:
    """The acknowledgment's own envelope: who sent it, and its own control numbers.

    ``sender`` is the acknowledging party (ISA06), ``receiver`` is us (ISA08): swapped relative
    to the 837 we sent, which is why tie-back looks our interchange up with them reversed.
    """

    isa13: str | None = None
    sender: str | None = None
    receiver: str | None = None
    usage: str | None = None  # ISA15 P/T
    gs06: str | None = None
    st02: str | None = None
    version: str | None = None  # GS08 / ST03 of the acknowledgment itself
    created: date | None = None  # GS04 (ISA09 when there is no GS)


# --------------------------------------------------------------------------- TA1


@dataclass(frozen=True, slots=True)
class Ta1:
    """``TA1*<our ISA13>*<our ISA09>*<our ISA10>*<A|E|R>*<note code>``: the whole file's fate."""

    interchange_control: str  # TA101 = our ISA13
    interchange_date: date | None  # TA102 (YYMMDD)
    interchange_time: time | None  # TA103 (HHMM)
    ack_code: str  # TA104: A accepted, E accepted with errors, R rejected
    note_code: str  # TA105 (X12 I18), "000" when there is no error
    envelope: Envelope
    where: Where


# --------------------------------------------------------------------------- 999


@dataclass(frozen=True, slots=True)
class Context:
    """One CTX: a business unit (``CTX*CLM01:PCN0001``) or a situational trigger.

    For a trigger, ``segment_id``/``position``/``loop``/``element`` locate the segment whose
    value made the erroneous one required or forbidden (``CTX*SITUATIONAL TRIGGER*CLM*43**5:3``).
    """

    name: str  # CTX01-1: "CLM01", "NM109", "SITUATIONAL TRIGGER" …
    value: str | None = None  # CTX01-2: the business unit's value (our CLM01 for "CLM01")
    segment_id: str | None = None  # CTX02
    position: int | None = None  # CTX03, ST = 1
    loop: str | None = None  # CTX04
    element: str | None = None  # CTX05 as written, e.g. "5:3"
    reference: str | None = None  # CTX06 as written, e.g. "C023:1325"


@dataclass(frozen=True, slots=True)
class ElementError:
    """IK4: one element of the segment in error."""

    position: int | None  # IK401-1: element position in the segment
    component: int | None  # IK401-2: component position in a composite
    repetition: int | None  # IK401-3
    data_element: str | None  # IK402: X12 data element number (1332 …)
    code: str  # IK403 (X12 DE 621)
    bad_value: str | None  # IK404: copy of the bad data (a code, a date; see tie-back on PHI)
    contexts: tuple[Context, ...] = ()
    where: Where = field(default_factory=Where)

    def name(self, segment_id: str) -> str:
        """``CLM05-2``: the element as a biller's guide names it."""
        if self.position is None:
            return segment_id
        text = f"{segment_id}{self.position:02d}"
        if self.component is not None:
            text += f"-{self.component}"
        return text


@dataclass(frozen=True, slots=True)
class SegmentError:
    """IK3: one segment of our transaction set in error, with its element errors."""

    segment_id: str  # IK301
    position: int | None  # IK302: position in our ST (ST = 1)
    loop: str | None  # IK303 (often empty)
    code: str | None  # IK304 (X12 DE 620)
    contexts: tuple[Context, ...] = ()
    elements: tuple[ElementError, ...] = ()
    where: Where = field(default_factory=Where)

    @property
    def business_unit(self) -> str | None:
        """Our CLM01 when the acknowledging party named the claim (``CTX*CLM01:<value>``)."""
        for ctx in self.contexts:
            if ctx.name.strip().upper() == "CLM01" and ctx.value:
                return ctx.value
        return None


@dataclass(frozen=True, slots=True)
class TransactionResponse:
    """AK2 … IK5: the verdict on one of our transaction sets (AK202 = our ST02)."""

    transaction_set: str  # AK201 (837)
    control: str  # AK202 = our ST02
    version: str | None  # AK203
    status: str | None  # IK501; None when missing or not a valid code (a problem says so)
    errors: tuple[str, ...]  # IK502 … IK506 (X12 DE 618)
    segment_errors: tuple[SegmentError, ...]
    where: Where


@dataclass(frozen=True, slots=True)
class GroupResponse:
    """AK1 … AK9: the verdict on one of our functional groups (AK102 = our GS06)."""

    functional_id: str  # AK101 (HC for an 837)
    group_control: str  # AK102 = our GS06
    version: str | None  # AK103 (005010X222A1)
    transactions: tuple[TransactionResponse, ...]
    status: str | None  # AK901; None when the AK9 is missing or invalid
    sets_included: int | None  # AK902
    sets_received: int | None  # AK903
    sets_accepted: int | None  # AK904
    errors: tuple[str, ...]  # AK905 … AK909 (X12 DE 716)
    where: Where


@dataclass(frozen=True, slots=True)
class Ack999:
    """One 999 transaction set (it may answer several of our groups)."""

    envelope: Envelope
    groups: tuple[GroupResponse, ...]
    where: Where


# --------------------------------------------------------------------------- 277CA


@dataclass(frozen=True, slots=True)
class StatusCode:
    """One category:status[:entity] triplet (STC01, STC10 or STC11)."""

    category: str  # code source 507 (A1, A2, A7 …)
    status: str  # code source 508 (20, 562 …)
    entity: str | None = None  # X12 DE 98 (85 billing provider …)

    @property
    def code(self) -> str:
        """``A7:562:85``, the form status history and reasons keep."""
        return ":".join(p for p in (self.category, self.status, self.entity) if p)


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """One STC segment: up to three status triplets, the action code, charge and free text."""

    codes: tuple[StatusCode, ...]  # STC01, then STC10 and STC11 when present
    effective: date | None  # STC02
    action: str | None  # STC03: WQ accept, U reject
    charge: Decimal | None  # STC04
    text: str | None  # STC12 free-form message from the payer
    where: Where


@dataclass(frozen=True, slots=True)
class LineStatus:
    """2220D: one of our service lines, echoed with its status."""

    line_control_number: str | None  # REF*FJ = our REF*6R
    procedure: tuple[str, ...]  # SVC01 components (HC, J3262, JW)
    charge: Decimal | None  # SVC02
    units: Decimal | None  # SVC07
    statuses: tuple[StatusInfo, ...]
    service_date: date | None  # DTP*472 (first date of a range)
    where: Where


@dataclass(frozen=True, slots=True)
class ClaimStatus:
    """2200D: one of our claims (TRN02 = our CLM01) with its statuses and the payer's numbers."""

    claim_id: str  # TRN02 = our CLM01
    statuses: tuple[StatusInfo, ...]
    payer_claim_number: str | None  # REF*1K
    clearinghouse_trace: str | None  # REF*D9
    service_date: date | None  # DTP*472 (first date of a range)
    lines: tuple[LineStatus, ...]
    where: Where

    @property
    def codes(self) -> tuple[StatusCode, ...]:
        return tuple(c for s in self.statuses for c in s.codes)


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """2200B (information receiver: us) or 2200C (billing provider): counts for a batch."""

    level: Literal["receiver", "provider"]
    trace: str | None  # TRN02 (2200B: usually our BHT03)
    statuses: tuple[StatusInfo, ...]
    accepted_count: int | None  # QTY*90 / QTY*QA
    rejected_count: int | None  # QTY*AA / QTY*QC
    accepted_amount: Decimal | None  # AMT*YU
    rejected_amount: Decimal | None  # AMT*YY
    where: Where


@dataclass(frozen=True, slots=True)
class Ack277:
    """One 277CA transaction set."""

    envelope: Envelope
    reference: str | None  # BHT03 of the 277CA
    source_trace: str | None  # 2200A TRN02 (the payer's or clearinghouse's batch trace)
    source_name: str | None  # 2100A NM103 (payer or clearinghouse organisation name)
    batches: tuple[BatchStatus, ...]
    claims: tuple[ClaimStatus, ...]
    where: Where


# --------------------------------------------------------------------------- a file


@dataclass(frozen=True, slots=True)
class AckFile:
    """Everything one inbound file held, and every problem found reading it."""

    file: str
    ta1s: tuple[Ta1, ...] = ()
    acks999: tuple[Ack999, ...] = ()
    acks277: tuple[Ack277, ...] = ()
    problems: tuple[Problem, ...] = ()
    segments: int = 0

    @property
    def kinds(self) -> tuple[AckKind, ...]:
        found: list[AckKind] = []
        if self.ta1s:
            found.append("TA1")
        if self.acks999:
            found.append("999")
        if self.acks277:
            found.append("277CA")
        return tuple(found)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")
