"""999 (005010X231 / X231A1) reader: the segments between ST and SE in, an ``Ack999`` out.

A small state machine, because the 999 nests only three levels deep and each level opens with
its own tag: AK1 (one of our groups) → AK2 (one of our transaction sets) → IK3 (a segment in
error) → IK4 (an element in error); CTX attaches to the IK4 or IK3 just before it; IK5 closes
the AK2, AK9 the AK1.

A segment out of place (an IK5 before any AK2, a second IK5) and an invalid acknowledgment code
are errors naming the 999's segment ordinal; the verdict they would have carried is left unknown
(``status=None``) rather than guessed, so tie-back never moves a claim on a broken answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edi_pipeline.acks._common import Sink, composite_text, padded
from edi_pipeline.acks.model import (
    Ack999,
    Context,
    ElementError,
    Envelope,
    GroupResponse,
    SegmentError,
    TransactionResponse,
)
from edi_pipeline.models import Where
from edi_pipeline.x12.reader import Segment

#: AK2 carries three elements in 005010X231A1 (AK201 set id, AK202 control, AK203 guide)
AK2_ELEMENTS = 3


@dataclass
class _Element:
    seg: Segment
    contexts: list[Context] = field(default_factory=list)


@dataclass
class _SegmentError:
    seg: Segment
    contexts: list[Context] = field(default_factory=list)
    elements: list[_Element] = field(default_factory=list)


@dataclass
class _Transaction:
    seg: Segment
    errors: list[_SegmentError] = field(default_factory=list)


@dataclass
class _Group:
    seg: Segment | None  # None: an implicit group for AK2s sent without an AK1
    transactions: list[TransactionResponse] = field(default_factory=list)


class Ack999Builder:
    """Feed the segments after ST up to (not including) SE; ``finish()`` returns the 999."""

    def __init__(self, sink: Sink, envelope: Envelope, st: Segment):
        self.sink = sink
        self.envelope = envelope
        self.st = st
        self.groups: list[GroupResponse] = []
        self.group: _Group | None = None
        self.tx: _Transaction | None = None
        self.last: _Element | _SegmentError | None = None  # where a CTX attaches

    # ------------------------------------------------------------------ feeding

    def feed(self, seg: Segment) -> None:
        handler = getattr(self, f"_{seg.tag.lower()}", None)
        if handler is None:
            self.sink.add(
                "ack_unexpected_segment",
                f"{seg.tag} is not a 999 segment; ignored",
                seg,
                severity="warning",
            )
            return
        handler(seg)

    def _ak1(self, seg: Segment) -> None:
        if self.group is not None:
            self.sink.add(
                "ack_segment_out_of_place",
                "AK1 opens a new group before the previous group's AK9",
                seg,
            )
            self._close_group(None)
        self.group = _Group(seg)

    def _ak2(self, seg: Segment) -> None:
        if self.group is None:
            self.sink.add(
                "ack_segment_out_of_place", "AK2 outside a group response (no AK1 before it)", seg
            )
            self.group = _Group(None)
        if self.tx is not None:
            self.sink.add(
                "ack_segment_out_of_place",
                f"AK2 before the IK5 of transaction set {self.tx.seg.get(2)!r}",
                seg,
            )
            self._close_tx(None)
        if len(seg.elements) > AK2_ELEMENTS:
            self.sink.add(
                "ack_extra_elements",
                f"AK2 has {len(seg.elements)} elements; a 999 AK2 has at most {AK2_ELEMENTS} "
                "(the extra ones are ignored)",
                seg,
                AK2_ELEMENTS + 1,
                severity="warning",
            )
        if not seg.get(2).strip():
            self.sink.add("ack_missing_element", "AK202 (our ST02) is empty", seg, 2)
        self.tx = _Transaction(seg)
        self.last = None

    def _ik3(self, seg: Segment) -> None:
        if self.tx is None:
            self.sink.add(
                "ack_segment_out_of_place", "IK3 outside a transaction set response (no AK2)", seg
            )
            return
        self.sink.integer(seg, 2, "IK302 (segment position)")
        code = seg.get(4).strip() or None
        self.sink.check_code("ik304", code, seg, 4, "IK304")
        error = _SegmentError(seg)
        self.tx.errors.append(error)
        self.last = error

    def _ik4(self, seg: Segment) -> None:
        if self.tx is None or not self.tx.errors:
            self.sink.add(
                "ack_segment_out_of_place", "IK4 outside a segment error (no IK3 before it)", seg
            )
            return
        code = seg.get(3).strip()
        if not code:
            self.sink.add("ack_missing_element", "IK403 (element error code) is empty", seg, 3)
        self.sink.check_code("ik403", code or None, seg, 3, "IK403")
        element = _Element(seg)
        self.tx.errors[-1].elements.append(element)
        self.last = element

    def _ctx(self, seg: Segment) -> None:
        if self.last is None:
            self.sink.add(
                "ack_segment_out_of_place",
                "CTX outside a segment or element error (no IK3/IK4 before it)",
                seg,
                severity="warning",
            )
            return
        self.last.contexts.append(self._context(seg))

    def _ik5(self, seg: Segment) -> None:
        if self.tx is None:
            self.sink.add(
                "ack_segment_out_of_place",
                "IK5 outside a transaction set response (no open AK2 before it)",
                seg,
            )
            return
        self._close_tx(seg)

    def _ak9(self, seg: Segment) -> None:
        if self.group is None:
            self.sink.add(
                "ack_segment_out_of_place", "AK9 outside a group response (no AK1 before it)", seg
            )
            return
        if self.tx is not None:
            self.sink.add(
                "ack_segment_out_of_place",
                f"AK9 before the IK5 of transaction set {self.tx.seg.get(2)!r}",
                seg,
            )
            self._close_tx(None)
        self._close_group(seg)

    # ------------------------------------------------------------------ closing

    def _context(self, seg: Segment) -> Context:
        # CTX01 may repeat (staedi's sample puts three triggers in it): the first one names it.
        first = seg.repetitions(1)[0] if seg.get(1) else ""
        parts = first.split(seg.delimiters.component) if first else [""]
        position = None
        if seg.get(3).strip():
            position = self.sink.integer(seg, 3, "CTX03 (segment position)")
        return Context(
            name=parts[0].strip(),
            value=parts[1].strip() if len(parts) > 1 and parts[1].strip() else None,
            segment_id=seg.get(2).strip() or None,
            position=position,
            loop=seg.get(4).strip() or None,
            element=composite_text(seg, 5),
            reference=composite_text(seg, 6),
        )

    def _element(self, e: _Element) -> ElementError:
        seg = e.seg
        parts = seg.components(1)
        numbers: list[int | None] = []
        for i, part in enumerate(parts[:3]):
            text = part.strip()
            if text.isdigit():
                numbers.append(int(text))
            else:
                numbers.append(None)
                if text or i == 0:
                    self.sink.add(
                        "ack_bad_number",
                        f"IK401-{i + 1} must be a whole number (got {text[:8]!r})",
                        seg,
                        1,
                    )
        numbers += [None] * (3 - len(numbers))
        return ElementError(
            position=numbers[0],
            component=numbers[1],
            repetition=numbers[2],
            data_element=seg.get(2).strip() or None,
            code=seg.get(3).strip(),
            bad_value=seg.get(4) or None,
            contexts=tuple(e.contexts),
            where=self.sink.where(seg),
        )

    def _segment_error(self, s: _SegmentError) -> SegmentError:
        seg = s.seg
        text = seg.get(2).strip()
        return SegmentError(
            segment_id=seg.get(1).strip(),
            position=int(text) if text.isdigit() else None,
            loop=seg.get(3).strip() or None,
            code=seg.get(4).strip() or None,
            contexts=tuple(s.contexts),
            elements=tuple(self._element(e) for e in s.elements),
            where=self.sink.where(seg),
        )

    def _close_tx(self, ik5: Segment | None) -> None:
        tx = self.tx
        assert tx is not None and self.group is not None
        status: str | None = None
        errors: tuple[str, ...] = ()
        if ik5 is None:
            self.sink.add(
                "ack_unclosed",
                f"transaction set response AK2 {tx.seg.get(2)!r} has no IK5: its verdict is "
                "unknown",
                tx.seg,
            )
        else:
            value = ik5.get(1).strip()
            codes = self.sink.codes
            if not value:
                self.sink.add("ack_missing_element", "IK501 (acknowledgment code) is empty", ik5, 1)
            elif codes is not None and not codes.knows("ik501", value):
                allowed = ", ".join(sorted(codes.codes("ik501")))
                self.sink.add(
                    "ack_invalid_code",
                    f"IK501 must be one of {allowed} (got {value[:8]!r}): the verdict on "
                    f"transaction set {tx.seg.get(2)!r} is unknown and nothing is changed for it",
                    ik5,
                    1,
                )
            else:
                status = value
            errors = tuple(e.strip() for e in ik5.elements[1:6] if e.strip())
            for n, code in enumerate(errors, start=2):
                self.sink.check_code("ik502", code, ik5, n, f"IK5{n:02d}")
        seg = tx.seg
        self.group.transactions.append(
            TransactionResponse(
                transaction_set=seg.get(1).strip(),
                control=seg.get(2).strip(),
                version=seg.get(3).strip() or None,
                status=status,
                errors=errors,
                segment_errors=tuple(self._segment_error(e) for e in tx.errors),
                where=self.sink.where(seg),
            )
        )
        self.tx = None
        self.last = None

    def _close_group(self, ak9: Segment | None) -> None:
        group = self.group
        assert group is not None
        status: str | None = None
        counts: list[int | None] = [None, None, None]
        errors: tuple[str, ...] = ()
        head = group.seg
        if ak9 is None:
            if head is not None:
                self.sink.add(
                    "ack_unclosed",
                    f"group response AK1 {head.get(2).strip()!r} has no AK9",
                    head,
                    severity="warning",
                )
        else:
            value = ak9.get(1).strip()
            codes = self.sink.codes
            if codes is not None and value and not codes.knows("ak901", value):
                allowed = ", ".join(sorted(codes.codes("ak901")))
                self.sink.add(
                    "ack_invalid_code",
                    f"AK901 must be one of {allowed} (got {value[:8]!r})",
                    ak9,
                    1,
                )
            elif value:
                status = value
            else:
                self.sink.add("ack_missing_element", "AK901 (acknowledgment code) is empty", ak9, 1)
            counts = [self.sink.integer(ak9, n, f"AK90{n}") for n in (2, 3, 4)]
            errors = tuple(e.strip() for e in ak9.elements[4:9] if e.strip())
            for n, code in enumerate(errors, start=5):
                self.sink.check_code("ak905", code, ak9, n, f"AK90{n}")
            self._check_counts(group, ak9, counts)
        where = self.sink.where(head) if head is not None else Where(file=self.sink.file)
        self.groups.append(
            GroupResponse(
                functional_id=padded(self.sink, head, 1, "AK101") if head is not None else "",
                group_control=head.get(2).strip() if head is not None else "",
                version=(head.get(3).strip() or None) if head is not None else None,
                transactions=tuple(group.transactions),
                status=status,
                sets_included=counts[0],
                sets_received=counts[1],
                sets_accepted=counts[2],
                errors=errors,
                where=where,
            )
        )
        self.group = None

    def _check_counts(self, group: _Group, ak9: Segment, counts: list[int | None]) -> None:
        received, accepted = counts[1], counts[2]
        answered = len(group.transactions)
        if received is not None and answered and received != answered:
            self.sink.add(
                "ack_count_mismatch",
                f"AK903 says {received} transaction sets received, the group answers {answered}",
                ak9,
                3,
                severity="warning",
            )
        outcomes = self.sink.codes
        if accepted is not None and answered and outcomes is not None:
            ok = sum(
                1
                for t in group.transactions
                if outcomes.outcome("ik501", t.status) in ("accepted", "accepted_with_errors")
            )
            if ok != accepted:
                self.sink.add(
                    "ack_count_mismatch",
                    f"AK904 says {accepted} transaction sets accepted, the IK5s accept {ok}",
                    ak9,
                    4,
                    severity="warning",
                )

    def finish(self) -> Ack999:
        if self.tx is not None:
            self._close_tx(None)
        if self.group is not None:
            self._close_group(None)
        return Ack999(
            envelope=self.envelope, groups=tuple(self.groups), where=self.sink.where(self.st)
        )
