"""What the three ack readers share: problem collection and value parsing that never raises.

An inbound acknowledgment is someone else's file: a bad number or date is a ``Problem`` naming
the file, segment ordinal and element, and the value becomes None; reading goes on.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from edi_pipeline.maps.ack_codes import AckCodes
from edi_pipeline.models import Problem, Severity, Where
from edi_pipeline.x12.reader import Segment


class Sink:
    """Collects the problems of one file; knows the file name and the code map (if any)."""

    def __init__(self, file: str, codes: AckCodes | None):
        self.file = file
        self.codes = codes
        self.problems: list[Problem] = []

    def where(self, seg: Segment, element: int | None = None) -> Where:
        return Where(
            file=self.file,
            segment_index=seg.index,
            segment_id=seg.tag,
            offset=seg.offset,
            element=None if element is None else f"{seg.tag}{element:02d}",
        )

    def add(
        self,
        code: str,
        message: str,
        seg: Segment | None = None,
        element: int | None = None,
        severity: Severity = "error",
    ) -> None:
        where = Where(file=self.file) if seg is None else self.where(seg, element)
        self.problems.append(Problem(code, message, where, severity))

    def check_code(
        self, kind: str, value: str | None, seg: Segment, element: int, label: str
    ) -> bool:
        """Warn when a code is not in maps/ack_codes.csv; True when it is (or no map is given)."""
        if self.codes is None or value is None or self.codes.knows(kind, value):
            return True
        self.add(
            "ack_unknown_code",
            f"{label} {value!r} is not in maps/ack_codes.csv ({kind}); it is kept, with a generic "
            "message",
            seg,
            element,
            severity="warning",
        )
        return False

    def integer(self, seg: Segment, n: int, label: str) -> int | None:
        text = seg.get(n).strip()
        if not text:
            return None
        if text.isdigit():
            return int(text)
        self.add("ack_bad_number", f"{label} must be a whole number (got {text[:12]!r})", seg, n)
        return None

    def decimal(self, seg: Segment, n: int, label: str) -> Decimal | None:
        text = seg.get(n).strip()
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.add("ack_bad_number", f"{label} must be a number (got {text[:12]!r})", seg, n)
            return None
        return value

    def date8(self, seg: Segment, n: int, label: str, text: str | None = None) -> date | None:
        """CCYYMMDD (or the first date of a CCYYMMDD-CCYYMMDD range) to a date."""
        text = (seg.get(n) if text is None else text).strip()
        if not text:
            return None
        first = text.split("-", 1)[0]
        try:
            return datetime.strptime(first, "%Y%m%d").date()
        except ValueError:
            self.add("ack_bad_date", f"{label} is not a date CCYYMMDD (got {text[:20]!r})", seg, n)
            return None

    def date6(self, seg: Segment, n: int, label: str) -> date | None:
        text = seg.get(n).strip()
        if not text:
            return None
        try:
            return datetime.strptime(text, "%y%m%d").date()
        except ValueError:
            self.add("ack_bad_date", f"{label} is not a date YYMMDD (got {text[:12]!r})", seg, n)
            return None

    def time4(self, seg: Segment, n: int, label: str) -> time | None:
        text = seg.get(n).strip()
        if not text:
            return None
        try:
            return datetime.strptime(text[:4], "%H%M").time()
        except ValueError:
            self.add("ack_bad_time", f"{label} is not a time HHMM (got {text[:8]!r})", seg, n)
            return None


def padded(sink: Sink, seg: Segment, n: int, label: str) -> str:
    """Element ``n`` without surrounding blanks, warning when the sender padded it."""
    raw = seg.get(n)
    value = raw.strip()
    if value != raw:
        sink.add(
            "ack_padded_value",
            f"{label} {raw!r} has surrounding blanks; read as {value!r}",
            seg,
            n,
            severity="warning",
        )
    return value


def composite_text(seg: Segment, n: int) -> str | None:
    """A composite element written with ``:`` whatever the file's component separator."""
    parts = seg.components(n)
    return ":".join(parts) if parts else None
