"""X12 writer: typed values in, delimited text out, envelope counts computed.

A value holding a delimiter character would silently change the meaning of every element after
it, so the writer refuses it (naming the segment and element) instead of escaping: X12 has no
escape mechanism.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from edi_pipeline.errors import X12Error
from edi_pipeline.models import Where
from edi_pipeline.x12.reader import Delimiters

# Element value: a plain string, or a sequence of components (SV101 = ("HC", "J1745", "JW")).
Value = str | Sequence[str] | None

# ISA01..ISA16 fixed widths (ISA11 and ISA16 are the one-character separators).
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A segment to write: its tag and its element values in order (element 01 first)."""

    tag: str
    elements: tuple[Value, ...] = ()


def seg(tag: str, *elements: Value) -> SegmentSpec:
    return SegmentSpec(tag, tuple(elements))


@dataclass(slots=True)
class X12Writer:
    """Renders segments with the given delimiters; trailing empty elements are dropped."""

    delimiters: Delimiters = field(default_factory=Delimiters)
    line_ending: str = "\n"  # written after each terminator ("" for one long line)

    def _check(self, tag: str, n: int, value: str) -> None:
        bad = self.delimiters.all() & set(value)
        if bad:
            raise X12Error(
                f"{tag}{n:02d} contains the delimiter character {sorted(bad)[0]!r}",
                where=Where(segment_id=tag, element=f"{tag}{n:02d}"),
                code="delimiter_in_value",
            )

    def element(self, tag: str, n: int, value: Value) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            self._check(tag, n, value)
            return value
        parts = list(value)
        for part in parts:
            self._check(tag, n, part)
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
        values = list(spec.elements) + [None] * (16 - len(spec.elements))
        values[10] = d.repetition or "U"
        values[15] = d.component
        out = []
        for i, (value, width) in enumerate(zip(values, ISA_WIDTHS, strict=True), start=1):
            text = value if isinstance(value, str) else ""
            if i not in (11, 16):
                self._check("ISA", i, text)
            if len(text) > width:
                raise X12Error(
                    f"ISA{i:02d} is {len(text)} characters, at most {width} allowed",
                    where=Where(segment_id="ISA", element=f"ISA{i:02d}"),
                    code="isa_width",
                )
            out.append(text.zfill(width) if i in (9, 10, 13) and text.isdigit() else text.ljust(width))
        return d.element.join(["ISA", *out])

    def render_all(self, specs: Iterable[SegmentSpec]) -> str:
        return "".join(self.render(s) for s in specs)


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
    SE01, GE01 and IEA01 are computed here.
    """
    if len(st_controls) != len(transactions):
        raise ValueError("one ST control number per transaction set is needed")
    version = st_version if st_version is not None else (gs.elements[7] if len(gs.elements) > 7 else None)
    out: list[SegmentSpec] = [isa, gs]
    for body, control in zip(transactions, st_controls, strict=True):
        out.append(seg("ST", st01, control, version))
        out.extend(body)
        out.append(seg("SE", str(len(body) + 2), control))
    out.append(seg("GE", str(len(transactions)), gs.elements[5]))
    out.append(seg("IEA", "1", isa.elements[12]))
    return out
