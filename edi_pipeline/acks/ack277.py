"""277CA (005010X214) reader: the segments between ST and SE in, an ``Ack277`` out.

The 277CA is a hierarchy of HL levels (20 information source, 21 information receiver = us,
19 billing provider, PT patient). Inside a level, each TRN opens a new status loop (2200x), so
a patient level may carry several of our claims; inside a claim, each SVC opens a 2220D service
line. That is all the structure a reader needs: the HL level code and the opening tag say where
every STC, REF, QTY, AMT and DTP belongs.

The patient's and subscriber's names and ids (2100D NM1*QC) are PHI and not ours to keep: the
reader skips them. Our claim comes back by TRN02 (= our CLM01) and each line by REF*FJ (= our
REF*6R), which is all tie-back needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from edi_pipeline.acks._common import Sink
from edi_pipeline.acks.model import (
    Ack277,
    BatchStatus,
    ClaimStatus,
    Envelope,
    LineStatus,
    StatusCode,
    StatusInfo,
)
from edi_pipeline.x12.reader import Segment

#: HL03 hierarchical level codes of 005010X214
LEVELS = {"20": "source", "21": "receiver", "19": "provider", "PT": "patient"}
#: STC elements holding a category:status:entity triplet (STC01, STC10, STC11)
STATUS_ELEMENTS = (1, 10, 11)
KNOWN_TAGS = frozenset({"BHT", "HL", "NM1", "TRN", "STC", "QTY", "AMT", "REF", "DTP", "SVC"})


@dataclass
class _Line:
    seg: Segment
    control: str | None = None
    statuses: list[StatusInfo] = field(default_factory=list)
    service_date: date | None = None


@dataclass
class _Claim:
    seg: Segment
    claim_id: str
    statuses: list[StatusInfo] = field(default_factory=list)
    payer_claim_number: str | None = None
    trace: str | None = None
    service_date: date | None = None
    lines: list[LineStatus] = field(default_factory=list)


@dataclass
class _Batch:
    seg: Segment
    level: Literal["receiver", "provider"]
    trace: str | None
    statuses: list[StatusInfo] = field(default_factory=list)
    accepted_count: int | None = None
    rejected_count: int | None = None
    accepted_amount: Decimal | None = None
    rejected_amount: Decimal | None = None


class Ack277Builder:
    """Feed the segments after ST up to (not including) SE; ``finish()`` returns the 277CA."""

    def __init__(self, sink: Sink, envelope: Envelope, st: Segment):
        self.sink = sink
        self.envelope = envelope
        self.st = st
        self.level: str | None = None
        self.reference: str | None = None
        self.source_trace: str | None = None
        self.source_name: str | None = None
        self.batches: list[BatchStatus] = []
        self.claims: list[ClaimStatus] = []
        self.batch: _Batch | None = None
        self.claim: _Claim | None = None
        self.line: _Line | None = None

    def feed(self, seg: Segment) -> None:
        tag = seg.tag
        if tag not in KNOWN_TAGS:
            self.sink.add(
                "ack_unexpected_segment",
                f"{tag} is not a 277CA segment; ignored",
                seg,
                severity="warning",
            )
            return
        getattr(self, f"_{tag.lower()}")(seg)

    # ------------------------------------------------------------------ segments

    def _bht(self, seg: Segment) -> None:
        self.reference = seg.get(3).strip() or None

    def _hl(self, seg: Segment) -> None:
        self._close_claim()
        self._close_batch()
        code = seg.get(3).strip()
        level = LEVELS.get(code)
        if level is None:
            self.sink.add(
                "ack_unknown_level",
                f"HL03 {code!r} is not a 277CA level (20, 21, 19, PT); its content is ignored",
                seg,
                3,
                severity="warning",
            )
        self.level = level

    def _nm1(self, seg: Segment) -> None:
        # Only the information source's organisation name is kept; 2100D (patient) is PHI.
        if self.level == "source" and seg.get(2).strip() == "2":
            self.source_name = seg.get(3).strip() or None

    def _trn(self, seg: Segment) -> None:
        trace = seg.get(2).strip() or None
        if self.level == "source":
            self.source_trace = trace
        elif self.level in ("receiver", "provider"):
            self._close_batch()
            self.batch = _Batch(seg, self.level, trace)  # type: ignore[arg-type]
        elif self.level == "patient":
            self._close_claim()
            if trace is None:
                self.sink.add(
                    "ack_missing_element",
                    "2200D TRN02 (our claim's patient control number) is empty: this claim status "
                    "cannot be tied to a claim",
                    seg,
                    2,
                )
            self.claim = _Claim(seg, trace or "")

    def _stc(self, seg: Segment) -> None:
        info = self._status(seg)
        if self.line is not None:
            self.line.statuses.append(info)
        elif self.claim is not None:
            self.claim.statuses.append(info)
        elif self.batch is not None:
            self.batch.statuses.append(info)
        else:
            self.sink.add(
                "ack_segment_out_of_place",
                "STC outside a status loop (no TRN before it); ignored",
                seg,
                severity="warning",
            )

    def _qty(self, seg: Segment) -> None:
        if self.batch is None:
            return
        qualifier = seg.get(1).strip()
        value = self.sink.integer(seg, 2, f"QTY02 ({qualifier})")
        if qualifier in ("90", "QA"):
            self.batch.accepted_count = value
        elif qualifier in ("AA", "QC"):
            self.batch.rejected_count = value

    def _amt(self, seg: Segment) -> None:
        if self.batch is None:
            return
        qualifier = seg.get(1).strip()
        value = self.sink.decimal(seg, 2, f"AMT02 ({qualifier})")
        if qualifier == "YU":
            self.batch.accepted_amount = value
        elif qualifier == "YY":
            self.batch.rejected_amount = value

    def _ref(self, seg: Segment) -> None:
        qualifier, value = seg.get(1).strip(), seg.get(2).strip() or None
        if self.line is not None:
            if qualifier == "FJ":
                self.line.control = value
        elif self.claim is not None:
            if qualifier == "1K":
                self.claim.payer_claim_number = value
            elif qualifier == "D9":
                self.claim.trace = value

    def _dtp(self, seg: Segment) -> None:
        if seg.get(1).strip() != "472":
            return
        when = self.sink.date8(seg, 3, "DTP03 (service date)")
        if self.line is not None:
            self.line.service_date = when
        elif self.claim is not None:
            self.claim.service_date = when

    def _svc(self, seg: Segment) -> None:
        if self.claim is None:
            self.sink.add(
                "ack_segment_out_of_place",
                "SVC (service line) outside a claim status loop; ignored",
                seg,
                severity="warning",
            )
            return
        self._close_line()
        self.line = _Line(seg)

    # ------------------------------------------------------------------ values

    def _status(self, seg: Segment) -> StatusInfo:
        codes: list[StatusCode] = []
        for n in STATUS_ELEMENTS:
            parts = [p.strip() for p in seg.components(n)]
            if not any(parts):
                if n == 1:
                    self.sink.add("ack_missing_element", "STC01 (claim status) is empty", seg, 1)
                continue
            if len(parts) < 2 or not parts[0] or not parts[1]:
                self.sink.add(
                    "ack_missing_element",
                    f"STC{n:02d} needs a category and a status code (got {seg.get(n)[:20]!r})",
                    seg,
                    n,
                )
                continue
            code = StatusCode(parts[0], parts[1], parts[2] if len(parts) > 2 and parts[2] else None)
            self.sink.check_code("stc_category", code.category, seg, n, f"STC{n:02d}-1")
            self.sink.check_code("stc_status", code.status, seg, n, f"STC{n:02d}-2")
            if code.entity:
                self.sink.check_code("entity", code.entity, seg, n, f"STC{n:02d}-3")
            codes.append(code)
        action = seg.get(3).strip() or None
        self.sink.check_code("stc_action", action, seg, 3, "STC03")
        return StatusInfo(
            codes=tuple(codes),
            effective=self.sink.date8(seg, 2, "STC02 (effective date)"),
            action=action,
            charge=self.sink.decimal(seg, 4, "STC04 (total charge)"),
            text=seg.get(12).strip() or None,
            where=self.sink.where(seg),
        )

    def _close_line(self) -> None:
        line, claim = self.line, self.claim
        self.line = None
        if line is None or claim is None:
            return
        seg = line.seg
        units_at = 7 if seg.get(7).strip() else 5  # SVC07 original units; SVC05 when absent
        claim.lines.append(
            LineStatus(
                line_control_number=line.control,
                procedure=tuple(p.strip() for p in seg.components(1)),
                charge=self.sink.decimal(seg, 2, "SVC02 (line charge)"),
                units=self.sink.decimal(seg, units_at, f"SVC{units_at:02d} (units)"),
                statuses=tuple(line.statuses),
                service_date=line.service_date,
                where=self.sink.where(seg),
            )
        )

    def _close_claim(self) -> None:
        self._close_line()
        claim = self.claim
        if claim is None:
            return
        if not claim.statuses:
            self.sink.add(
                "ack_missing_element",
                f"claim status for {claim.claim_id!r} has no STC",
                claim.seg,
                severity="warning",
            )
        self.claims.append(
            ClaimStatus(
                claim_id=claim.claim_id,
                statuses=tuple(claim.statuses),
                payer_claim_number=claim.payer_claim_number,
                clearinghouse_trace=claim.trace,
                service_date=claim.service_date,
                lines=tuple(claim.lines),
                where=self.sink.where(claim.seg),
            )
        )
        self.claim = None

    def _close_batch(self) -> None:
        batch = self.batch
        if batch is None:
            return
        self.batches.append(
            BatchStatus(
                level=batch.level,
                trace=batch.trace,
                statuses=tuple(batch.statuses),
                accepted_count=batch.accepted_count,
                rejected_count=batch.rejected_count,
                accepted_amount=batch.accepted_amount,
                rejected_amount=batch.rejected_amount,
                where=self.sink.where(batch.seg),
            )
        )
        self.batch = None

    def finish(self) -> Ack277:
        self._close_claim()
        self._close_batch()
        return Ack277(
            envelope=self.envelope,
            reference=self.reference,
            source_trace=self.source_trace,
            source_name=self.source_name,
            batches=tuple(self.batches),
            claims=tuple(self.claims),
            where=self.sink.where(self.st),
        )
