"""X12 writer: typed values in, delimited text out, envelope counts computed.

An element value is a string, a ``Decimal`` or ``int`` (written as an X12 number: no exponent,
no trailing zeros after the point), a ``date`` (CCYYMMDD), a ``time`` (HHMM), None (empty), or a
sequence of those for a composite (SV101 = ``("HC", "J1745", "JW")``). Trailing empty elements
and components are dropped, as X12 requires.

A value holding a delimiter character would silently change the meaning of every element after
it, so the writer refuses it with an ``X12Error`` naming the segment and element (``CLM01``,
``SV101-02``) instead of escaping: X12 has no escape mechanism. Control characters (CR, LF, tab…)
are refused the same way. The ISA is written at its fixed width: each field padded (numbers with
zeros, text with spaces), and one too long for its width is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from edi_pipeline.errors import X12Error
from edi_pipeline.models import Where
from edi_pipeline.x12.reader import Delimiters

Scalar = str | Decimal | int | date | time
# Element value: a scalar, a sequence of components, or None for an empty element.
Value = Scalar | Sequence[Scalar | None] | None

# ISA01..ISA16 fixed widths (ISA11 and ISA16 are the one-character separators).
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_NUMERIC_ISA = (9, 10, 13)  # ISA09 date, ISA10 time, ISA13 control number: zero-padded


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A segment to write: its tag and its element values in order (element 01 first)."""

    tag: str
    elements: tuple[Value, ...] = ()


def seg(tag: str, *elements: Value) -> SegmentSpec:
    return SegmentSpec(tag, tuple(elements))


def x12_number(value: Decimal | int) -> str:
    """An X12 number: plain notation, no trailing zeros after the point (``12.50`` → 12.5)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not an X12 number")
    if isinstance(value, int):
        return str(value)
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _scalar(value: Scalar) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal | int):
        return x12_number(value)
    if isinstance(value, datetime):
        raise TypeError("give a date or a time, not a datetime: X12 writes them apart")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if isinstance(value, time):
        return value.strftime("%H%M")
    raise TypeError(f"cannot write a {type(value).__name__} as an X12 value")


@dataclass(slots=True)
class X12Writer:
    """Renders segments with the given delimiters; trailing empty elements are dropped."""

    delimiters: Delimiters = field(default_factory=Delimiters)
    line_ending: str = "\n"  # written after each terminator ("" for one long line)

    def __post_init__(self) -> None:
        if self.line_ending not in ("", "\n", "\r\n", "\r"):
            raise ValueError("line_ending must be '', '\\n', '\\r\\n' or '\\r'")
        if self.delimiters.segment in ("\n", "\r") and self.line_ending:
            raise ValueError("a line-break terminator takes no extra line ending")

    def _check(self, tag: str, ref: str, value: str) -> None:
        bad = self.delimiters.all() & set(value)
        if bad:
            raise X12Error(
                f"{ref} contains the delimiter character {sorted(bad)[0]!r}",
                where=Where(segment_id=tag, element=ref),
                code="delimiter_in_value",
            )
        if not value.isprintable():
            raise X12Error(
                f"{ref} contains a control character",
                where=Where(segment_id=tag, element=ref),
                code="control_character",
            )

    def element(self, tag: str, n: int, value: Value) -> str:
        """Element ``n`` of segment ``tag`` as text (checked; composites joined)."""
        ref = f"{tag}{n:02d}"
        if value is None:
            return ""
        if isinstance(value, str | Decimal | int | date | time):
            text = _scalar(value)
            self._check(tag, ref, text)
            return text
        parts = ["" if part is None else _scalar(part) for part in value]
        for m, part in enumerate(parts, start=1):
            self._check(tag, f"{ref}-{m:02d}", part)
        while parts and parts[-1] == "":
            parts.pop()
        return self.delimiters.component.join(parts)

    def render(self, spec: SegmentSpec) -> str:
        d = self.delimiters
        if spec.tag == "ISA":
            return self._render_isa(spec) + d.segment + self.line_ending
        values = [self.element(spec.tag, i, v) for i, v in enumerate(spec.elements, start=1)]
        while values and values[-1] == "":
            values.pop()
        return d.element.join([spec.tag, *values]) + d.segment + self.line_ending

    def _render_isa(self, spec: SegmentSpec) -> str:
        """ISA is fixed width: pad every element to its width, separators taken from ours."""
        d = self.delimiters
        if len(spec.elements) > 16:
            raise X12Error(
                f"ISA has 16 elements, got {len(spec.elements)}",
                where=Where(segment_id="ISA"),
                code="isa_width",
            )
        values = list(spec.elements) + [None] * (16 - len(spec.elements))
        values[10] = d.repetition or "U"
        values[15] = d.component
        out = []
        for i, (value, width) in enumerate(zip(values, ISA_WIDTHS, strict=True), start=1):
            ref = f"ISA{i:02d}"
            if value is None:
                text = ""
            elif isinstance(value, str | Decimal | int):
                text = _scalar(value)
            elif isinstance(value, date):
                text = value.strftime("%y%m%d")  # ISA09 is YYMMDD
            elif isinstance(value, time):
                text = value.strftime("%H%M")
            else:
                raise X12Error(f"{ref} cannot be a composite", where=Where(segment_id="ISA"))
            if i not in (11, 16):
                self._check("ISA", ref, text)
            if len(text) > width:
                raise X12Error(
                    f"{ref} is {len(text)} characters, at most {width} allowed",
                    where=Where(segment_id="ISA", element=ref),
                    code="isa_width",
                )
            numeric = i in _NUMERIC_ISA and text.isdigit()
            out.append(text.zfill(width) if numeric else text.ljust(width))
        return d.element.join(["ISA", *out])

    def iter_render(self, specs: Iterable[SegmentSpec]) -> Iterator[str]:
        """Segment texts one by one (for writing large files without holding them)."""
        render = self.render
        for spec in specs:
            yield render(spec)

    def render_all(self, specs: Iterable[SegmentSpec]) -> str:
        return "".join(self.iter_render(specs))


def envelope(
    transactions: Sequence[Sequence[SegmentSpec]],
    *,
    isa: SegmentSpec,
    gs: SegmentSpec,
    st_controls: Sequence[str],
    st_version: str | None = None,
    st01: str = "837",
) -> list[SegmentSpec]:
    """Wrap transaction bodies (BHT onwards) in ST/SE, one GS/GE and the ISA/IEA, with counts.

    ``isa`` and ``gs`` carry the control numbers allocated by the ledger (ISA13, GS06);
    SE01 (ST through SE), GE01 (transaction sets) and IEA01 (groups: one) are computed here.
    ``st_version`` is ST03; by default GS08.
    """
    if len(st_controls) != len(transactions):
        raise ValueError("one ST control number per transaction set is needed")
    if len(set(st_controls)) != len(st_controls):
        raise ValueError("ST control numbers must differ within a group")
    if len(isa.elements) < 13 or len(gs.elements) < 6:
        raise ValueError("isa needs ISA13 and gs needs GS06 (the control numbers)")
    if st_version is None:
        st_version = gs.elements[7] if len(gs.elements) > 7 else None  # type: ignore[assignment]
    out: list[SegmentSpec] = [isa, gs]
    for body, control in zip(transactions, st_controls, strict=True):
        out.append(seg("ST", st01, control, st_version))
        out.extend(body)
        out.append(seg("SE", str(len(body) + 2), control))
    out.append(seg("GE", str(len(transactions)), gs.elements[5]))
    isa13 = isa.elements[12]
    isa13_text = "" if isa13 is None else _scalar(isa13)  # type: ignore[arg-type]
    if isa13_text.isdigit():  # IEA02 repeats ISA13 exactly as the fixed-width ISA carries it
        isa13_text = isa13_text.zfill(ISA_WIDTHS[12])
    out.append(seg("IEA", "1", isa13_text))
    return out
