"""Streaming X12 tokenizer: bytes in, positioned segments out, in constant memory.

The delimiters come from the ISA (element separator at byte 3, repetition separator ISA11,
component separator ISA16, segment terminator right after ISA16), re-read at every ISA so one file
may hold interchanges with different delimiters. CR/LF and blanks are skipped only *between*
segments. Bytes are decoded as Latin-1 so that a character offset is a byte offset.

Problems that do not stop reading (a short ISA, a file with no ISA) are collected in
``reader.problems``; bytes that cannot be tokenized at all raise ``X12SyntaxError`` naming the file
and offset. Envelope counts are checked one layer up, in ``x12.envelope``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from edi_pipeline.errors import X12SyntaxError
from edi_pipeline.models import Problem, Where

CHUNK = 1 << 20
ISA_LENGTH = 106  # fixed width, terminator included
_BLANKS = " \t\r\n\x00\ufeff"


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"

    def all(self) -> frozenset[str]:
        return frozenset(c for c in (self.element, self.component, self.repetition, self.segment) if c)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "element": self.element,
            "component": self.component,
            "repetition": self.repetition,
            "segment": self.segment,
        }


class Segment(NamedTuple):
    """One segment: its tag, its raw elements (``elements[0]`` is element 01), and its position.

    A NamedTuple rather than a dataclass because millions are made per large file and this is the
    cheapest immutable record CPython has.
    """

    tag: str
    elements: tuple[str, ...]
    index: int  # 1-based ordinal in the file
    offset: int  # byte offset of the tag in the file
    delimiters: Delimiters

    def get(self, n: int, default: str = "") -> str:
        """Element ``n`` (1-based, as the TR3 numbers them: CLM01 is ``get(1)``)."""
        return self.elements[n - 1] if 0 < n <= len(self.elements) else default

    def components(self, n: int) -> tuple[str, ...]:
        """Element ``n`` split on the component separator (``SV101`` → ``("HC", "J1745", "JW")``)."""
        value = self.get(n)
        return tuple(value.split(self.delimiters.component)) if value else ()

    def repetitions(self, n: int) -> tuple[str, ...]:
        value = self.get(n)
        rep = self.delimiters.repetition
        if not value:
            return ()
        return tuple(value.split(rep)) if rep else (value,)

    def where(self, file: str | None = None) -> Where:
        return Where(file=file, segment_index=self.index, segment_id=self.tag, offset=self.offset)


def delimiters_from_isa(isa: str, *, file: str | None = None, offset: int = 0) -> Delimiters:
    """Read the delimiters from an ISA segment's text (which may be shorter than fixed width).

    ``isa`` starts at ``ISA`` and holds at least the character after ISA16.
    """
    if len(isa) < 4 or not isa.startswith("ISA"):
        raise X12SyntaxError(
            "does not start with an ISA segment", where=Where(file=file, offset=offset)
        )
    element = isa[3]
    if element.isalnum() or element in _BLANKS:
        raise X12SyntaxError(
            f"ISA element separator {element!r} is not a delimiter character",
            where=Where(file=file, offset=offset, segment_id="ISA", segment_index=1),
        )
    # Find the 16th element separator: ISA16 is the next character, the terminator after it.
    pos = 3
    for _ in range(15):
        pos = isa.find(element, pos + 1)
        if pos < 0:
            raise X12SyntaxError(
                "ISA has fewer than 16 elements",
                where=Where(file=file, offset=offset, segment_id="ISA", segment_index=1),
            )
    if pos + 2 >= len(isa):
        raise X12SyntaxError(
            "ISA ends before its component separator and segment terminator",
            where=Where(file=file, offset=offset, segment_id="ISA", segment_index=1),
        )
    component = isa[pos + 1]
    segment = isa[pos + 2]
    fields = isa[: pos + 1].split(element)
    rep_candidate = fields[11] if len(fields) > 11 else ""
    repetition = (
        rep_candidate
        if len(rep_candidate) == 1 and not rep_candidate.isalnum() and rep_candidate not in " "
        else None
    )
    if segment in ("\r", "\n") or segment == component:
        if segment == component:
            raise X12SyntaxError(
                "ISA segment terminator equals the component separator",
                where=Where(file=file, offset=offset, segment_id="ISA", segment_index=1),
            )
    return Delimiters(element=element, component=component, repetition=repetition, segment=segment)


def infer_delimiters(head: str) -> Delimiters | None:
    """Guess the delimiters of a file that starts at GS or ST (no ISA): None when it cannot."""
    tag_end = 0
    while tag_end < len(head) and tag_end < 3 and head[tag_end].isalnum():
        tag_end += 1
    if tag_end < 2 or tag_end >= len(head):
        return None
    element = head[tag_end]
    if element.isalnum() or element in " ":
        return None
    # The terminator is the first character after the tag that is neither data nor the element
    # separator; common choices first.
    first_break = None
    for cand in ("~", "'", "\n", "!", "\x85", "\x1c"):
        i = head.find(cand, tag_end)
        if i >= 0 and (first_break is None or i < first_break[0]):
            first_break = (i, cand)
    if first_break is None:
        return None
    segment = first_break[1]
    component = ":"
    for cand in (":", ">", "|", "\\", "^"):
        if cand not in (element, segment):
            component = cand
            break
    return Delimiters(element=element, component=component, repetition=None, segment=segment)


def _open(source: str | os.PathLike[str] | BinaryIO | bytes) -> tuple[BinaryIO, str, bool]:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(source), "<bytes>", True
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return path.open("rb"), str(source), True
    name = getattr(source, "name", "<stream>")
    return source, str(name), False


class X12Reader:
    """Iterate the segments of one X12 file (any number of interchanges).

    >>> for seg in X12Reader("claims.837"):           # doctest: +SKIP
    ...     if seg.tag == "CLM": print(seg.get(1))

    ``delimiters`` forces the delimiters (``--delimiters``) for files with no ISA whose delimiters
    cannot be inferred. After iteration, ``problems`` holds the non-fatal problems found.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | BinaryIO | bytes,
        *,
        name: str | None = None,
        delimiters: Delimiters | None = None,
        chunk_size: int = CHUNK,
    ) -> None:
        self._source = source
        self.name = name
        self.forced = delimiters
        self.delimiters: Delimiters | None = delimiters
        self.chunk_size = chunk_size
        self.problems: list[Problem] = []

    def _problem(self, code: str, message: str, **where: object) -> None:
        self.problems.append(
            Problem(code, message, Where(file=self.name, **where), severity="warning")  # type: ignore[arg-type]
        )

    def __iter__(self) -> Iterator[Segment]:
        stream, default_name, owned = _open(self._source)
        if self.name is None:
            self.name = default_name
        try:
            yield from self._segments(stream)
        finally:
            if owned:
                stream.close()

    # The loop below is the hot path: locals, no attribute lookups per segment.
    def _segments(self, stream: BinaryIO) -> Iterator[Segment]:  # noqa: C901
        read = stream.read
        size = self.chunk_size
        buf = ""
        base = 0  # file offset of buf[0]
        index = 0
        delims = self.forced
        need_sniff = delims is None
        eof = False
        while True:
            if not eof:
                chunk = read(size)
                if chunk:
                    if base == 0 and not buf and chunk.startswith(b"\xef\xbb\xbf"):
                        chunk = chunk[3:]
                        base = 3
                    buf += chunk.decode("latin-1")
                else:
                    eof = True
            if need_sniff:
                stripped = len(buf) - len(buf.lstrip(_BLANKS))
                if stripped == len(buf):
                    if eof:
                        return
                    base += stripped
                    buf = ""
                    continue
                if stripped:
                    buf = buf[stripped:]
                    base += stripped
                if buf.startswith("ISA"):
                    end = self._isa_end(buf)
                    if end is None and not eof:
                        continue
                    head = buf if end is None else buf[: end + 1]
                    delims = delimiters_from_isa(head, file=self.name, offset=base)
                    if end is not None and end + 1 != ISA_LENGTH:
                        self._problem(
                            "isa_not_fixed_width",
                            f"ISA is {end + 1} characters, not the fixed {ISA_LENGTH}; read anyway",
                            segment_index=index + 1,
                            segment_id="ISA",
                            offset=base,
                        )
                elif self.forced is not None:
                    delims = self.forced
                else:
                    if len(buf) < 512 and not eof:
                        continue
                    delims = infer_delimiters(buf[:4096])
                    if delims is None:
                        raise X12SyntaxError(
                            "no ISA segment and the delimiters cannot be inferred from the first "
                            "segment; give them with --delimiters",
                            where=Where(file=self.name, offset=base),
                        )
                    self._problem(
                        "no_isa",
                        f"file has no ISA segment (starts with {buf[:3].rstrip(delims.element)!r}); "
                        f"delimiters inferred as element {delims.element!r}, "
                        f"segment {delims.segment!r}",
                        segment_index=index + 1,
                        offset=base,
                    )
                self.delimiters = delims
                need_sniff = False
            assert delims is not None
            term = delims.segment
            elem = delims.element
            parts = buf.split(term)
            if eof:
                buf = ""
            else:
                buf = parts.pop()
            pos = base
            for i, part in enumerate(parts):
                seg_len = len(part) + 1
                text = part.lstrip(_BLANKS)
                if not text:
                    pos += seg_len
                    continue
                lead = len(part) - len(text)
                if term == "\n" and text.endswith("\r"):
                    text = text[:-1]
                fields = text.split(elem)
                tag = fields[0]
                index += 1
                if not (0 < len(tag) <= 3 and tag.isalnum()):
                    raise X12SyntaxError(
                        f"segment {index} has an invalid segment identifier {tag[:8]!r}",
                        where=Where(file=self.name, segment_index=index, offset=pos + lead),
                    )
                yield Segment(tag, tuple(fields[1:]), index, pos + lead, delims)
                pos += seg_len
                if tag == "IEA" and self.forced is None:
                    # A following interchange may declare other delimiters: re-read its ISA.
                    rest = parts[i + 1 :]
                    if eof:
                        buf = term.join(rest)
                    elif rest:
                        buf = term.join(rest) + term + buf
                    need_sniff = True
                    break
            else:
                if not eof:
                    base = pos
                    continue
            if need_sniff:
                base = pos
                if eof and not buf.strip(_BLANKS):
                    return
                continue
            if eof:
                if buf.strip(_BLANKS):
                    continue
                return

    @staticmethod
    def _isa_end(buf: str) -> int | None:
        """Index of the ISA's segment terminator in ``buf``, or None if not all read yet."""
        if len(buf) < 4:
            return None
        element = buf[3]
        pos = 3
        for _ in range(15):
            pos = buf.find(element, pos + 1)
            if pos < 0:
                return None
        return pos + 2 if pos + 2 < len(buf) else None


def read_segments(source: str | os.PathLike[str] | BinaryIO | bytes, **kw: object) -> list[Segment]:
    """All segments of a small file at once (tests and tools; stream large files instead)."""
    return list(X12Reader(source, **kw))  # type: ignore[arg-type]
