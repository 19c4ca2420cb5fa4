"""Streaming X12 tokenizer: bytes in, positioned segments out, in constant memory.

The delimiters come from the ISA (element separator at byte 3, repetition separator ISA11,
component separator ISA16, segment terminator right after ISA16). They are re-read at every ISA,
so one file may hold interchanges with different delimiters, and an ISA that is not padded to its
fixed 106 characters is read by counting element separators (with a warning). CR/LF, blanks and
NULs are skipped only *between* segments; a UTF-8 byte-order mark is skipped. Bytes are decoded as
Latin-1, so a character offset is a byte offset.

What is reported, and how:

* Problems that do not stop reading are ``Problem`` values in ``reader.problems``, each naming the
  file, the 1-based segment ordinal, the segment id and the byte offset: an ISA not at fixed width,
  a file with no ISA (delimiters inferred from its first segment), an invalid segment identifier
  (the segment is still yielded, with the identifier as read, so counts and positions stay true),
  a later ISA that cannot be read (the previous delimiters stay in force), a last segment with no
  terminator.
* ``X12SyntaxError`` is raised only when the bytes cannot be tokenized at all: the file's first
  ISA is unreadable, or there is no ISA and the delimiters cannot be inferred (pass them in with
  ``delimiters=``, the ``--delimiters`` option), or no segment terminator appears within
  ``MAX_SEGMENT`` characters (a binary file, or the wrong terminator).

Envelope counts and control numbers are checked one layer up, in ``x12.envelope``.

Speed: the common case (a chunk whose segment identifiers have all been seen and checked before)
is tokenized with C-level ``map``/``zip`` pipelines and no Python code per segment; any chunk with
something unusual in it (a new or invalid identifier, an ISA, a blank segment) takes the
per-segment path that reports problems. ``scripts/bench_reader.py`` measures both against
``bytes.split`` and pyx12's reader.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate, chain, count, repeat
from operator import sub
from pathlib import Path
from typing import BinaryIO, NamedTuple

from edi_pipeline.errors import X12SyntaxError
from edi_pipeline.models import Problem, Where

CHUNK = 1 << 18  # characters read per step: large enough to amortise, small enough to stay flat
ISA_LENGTH = 106  # fixed width, terminator included
MAX_SEGMENT = 1 << 20  # no real segment is anywhere near 1 MiB; beyond it the file is not X12
BATCH = 256  # segments made per step: small batches stay in cache and under the GC threshold
MAX_PROBLEMS = 1000  # per file; past this one summary problem says how many more there were
_BLANKS = " \t\r\n\x00"
_BOM = "\xef\xbb\xbf"  # the UTF-8 byte-order mark, decoded as Latin-1
_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_tuple_new = tuple.__new__
_pop = list.pop


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four separators of one interchange (repetition is None where ISA11 declares none)."""

    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"

    def all(self) -> frozenset[str]:
        return frozenset(
            c for c in (self.element, self.component, self.repetition, self.segment) if c
        )

    def as_dict(self) -> dict[str, str | None]:
        return {
            "element": self.element,
            "component": self.component,
            "repetition": self.repetition,
            "segment": self.segment,
        }

    @classmethod
    def parse(cls, text: str) -> Delimiters:
        """``"*,:,^,~"`` (element, component, repetition, segment) as typed on a command line.

        The compact form ``"*:^~"`` works too. Each is one character; the escapes ``\\n``,
        ``\\r``, ``\\t`` and the word ``none`` (for the repetition separator) are accepted.
        Raises ``ValueError`` naming what is wrong.
        """
        names = ("element", "component", "repetition", "segment")
        raw = list(text) if len(text) == 4 and "," not in text else text.split(",")
        if len(raw) != 4:
            raise ValueError("give four delimiters: ELEMENT,COMPONENT,REPETITION,SEGMENT")
        escapes = {"\\n": "\n", "\\r": "\r", "\\t": "\t"}
        values: list[str | None] = []
        for name, item in zip(names, raw, strict=True):
            value = escapes.get(item, item)
            if name == "repetition" and value.lower() in ("", "none"):
                values.append(None)
                continue
            if len(value) != 1:
                raise ValueError(f"the {name} separator must be one character, got {item!r}")
            if value.isalnum() or value == " ":
                raise ValueError(f"the {name} separator cannot be a letter, digit or space")
            values.append(value)
        present = [v for v in values if v is not None]
        if len(set(present)) != len(present):
            raise ValueError("the delimiters must all differ")
        element, component, repetition, segment = values
        assert element and component and segment
        return cls(element=element, component=component, repetition=repetition, segment=segment)


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
        """Element ``n`` split on its component separator (SV101 → ``("HC", "J1745", "JW")``)."""
        value = self.get(n)
        return tuple(value.split(self.delimiters.component)) if value else ()

    def component(self, n: int, m: int, default: str = "") -> str:
        """Component ``m`` of element ``n``, both 1-based (``SV101-02`` is ``component(1, 2)``)."""
        parts = self.components(n)
        return parts[m - 1] if 0 < m <= len(parts) else default

    def repetitions(self, n: int) -> tuple[str, ...]:
        value = self.get(n)
        rep = self.delimiters.repetition
        if not value:
            return ()
        return tuple(value.split(rep)) if rep else (value,)

    def where(self, file: str | None = None) -> Where:
        return Where(file=file, segment_index=self.index, segment_id=self.tag, offset=self.offset)


def _isa_problem(message: str, file: str | None, offset: int, index: int) -> X12SyntaxError:
    return X12SyntaxError(
        message,
        where=Where(file=file, offset=offset, segment_id="ISA", segment_index=index),
        code="isa_unreadable",
    )


def delimiters_from_isa(
    isa: str, *, file: str | None = None, offset: int = 0, index: int = 1
) -> Delimiters:
    """Read the delimiters from an ISA segment's text (which may be shorter than fixed width).

    ``isa`` starts at ``ISA`` and holds at least the character after ISA16. The fixed offsets are
    not trusted (one real file has a 72-character ISA): the 16th element separator is found by
    counting, ISA16 is the character after it and the terminator the one after that.
    """
    if len(isa) < 4 or not isa.startswith("ISA"):
        raise _isa_problem("does not start with an ISA segment", file, offset, index)
    element = isa[3]
    if element.isalnum() or element in _BLANKS:
        raise _isa_problem(
            f"ISA element separator {element!r} is not a delimiter character", file, offset, index
        )
    pos = 3
    for _ in range(15):
        pos = isa.find(element, pos + 1)
        if pos < 0:
            raise _isa_problem("ISA has fewer than 16 elements", file, offset, index)
    if pos + 2 >= len(isa):
        raise _isa_problem(
            "ISA ends before its component separator and segment terminator", file, offset, index
        )
    component = isa[pos + 1]
    segment = isa[pos + 2]
    if segment.isalnum() or segment == " " or segment == element:
        raise _isa_problem(
            f"ISA segment terminator {segment!r} (after ISA16) is not a delimiter character",
            file,
            offset,
            index,
        )
    if component in (element, segment):
        raise _isa_problem(
            f"ISA16 component separator {component!r} repeats another delimiter",
            file,
            offset,
            index,
        )
    fields = isa[: pos + 1].split(element)
    rep = fields[11] if len(fields) > 11 else ""
    # ISA11 is a repetition separator from version 00501 on; before that (and in files that keep
    # the old "U" there) it is a standards identifier, and repetitions are not split.
    repetition = (
        rep
        if len(rep) == 1
        and not rep.isalnum()
        and rep not in _BLANKS
        and rep not in (element, component, segment)
        else None
    )
    return Delimiters(element=element, component=component, repetition=repetition, segment=segment)


def _isa_end(buf: str) -> int | None:
    """Index of the ISA's segment terminator in ``buf`` (which starts at ISA), None if not read."""
    if len(buf) < 4:
        return None
    element = buf[3]
    pos = 3
    for _ in range(15):
        pos = buf.find(element, pos + 1)
        if pos < 0:
            return None
    return pos + 2 if pos + 2 < len(buf) else None


_TERMINATOR_GUESSES = ("~", "'", "\n", "!", "\x85", "\x1c")
_COMPONENT_GUESSES = (":", ">", "|", "\\", "^")


def infer_delimiters(head: str) -> Delimiters | None:
    """Guess the delimiters of a file that starts at GS or ST (no ISA): None when it cannot.

    The element separator is the character after the first tag; the terminator the first common
    terminator character found after it; the component separator the most frequent common one
    that is neither (``:`` when none appears). Repetitions are not split: nothing declares them.
    """
    tag_end = 0
    while tag_end < len(head) and tag_end < 3 and head[tag_end].isalnum():
        tag_end += 1
    if tag_end < 2 or tag_end >= len(head):
        return None
    element = head[tag_end]
    if element.isalnum() or element in _BLANKS:
        return None
    found = [(head.find(c, tag_end), c) for c in _TERMINATOR_GUESSES if c != element]
    found = [(i, c) for i, c in found if i >= 0]
    if not found:
        return None
    segment = min(found)[1]
    choices = [c for c in _COMPONENT_GUESSES if c not in (element, segment)]
    component = max(choices, key=lambda c: (head.count(c), -choices.index(c)))
    return Delimiters(element=element, component=component, repetition=None, segment=segment)


def _open(source: str | os.PathLike[str] | BinaryIO | bytes) -> tuple[BinaryIO, str, bool]:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)), "<bytes>", True
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            return path.open("rb"), str(source), True
        except OSError as exc:
            raise X12SyntaxError(
                f"cannot open: {exc.strerror or exc}",
                where=Where(file=str(source)),
                code="unreadable",
            ) from exc
    name = getattr(source, "name", "<stream>")
    return source, str(name), False


class X12Reader:
    """Iterate the segments of one X12 file (any number of interchanges).

    >>> for seg in X12Reader("claims.837"):           # doctest: +SKIP
    ...     if seg.tag == "CLM": print(seg.get(1))

    ``source`` is a path, a binary stream or bytes. ``delimiters`` forces the delimiters (the
    ``--delimiters`` option) and switches off reading them from ISAs. ``problems`` holds the
    non-fatal problems found so far (complete once iteration ends); ``delimiters`` the ones in
    force (the last interchange's).
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | BinaryIO | bytes,
        *,
        name: str | None = None,
        delimiters: Delimiters | None = None,
        chunk_size: int = CHUNK,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._source = source
        self.name = name
        self.forced = delimiters
        self.delimiters: Delimiters | None = delimiters
        self.chunk_size = chunk_size
        self.problems: list[Problem] = []
        self._dropped = 0

    # ------------------------------------------------------------------ problems

    def _problem(self, code: str, message: str, severity: str = "warning", **where: object) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self._dropped += 1
            return
        self.problems.append(
            Problem(code, message, Where(file=self.name, **where), severity=severity)  # type: ignore[arg-type]
        )

    def _close_problems(self, last_index: int) -> None:
        if self._dropped:
            self.problems.append(
                Problem(
                    "too_many_problems",
                    f"{self._dropped} further problems were found and not listed",
                    Where(file=self.name, segment_index=last_index),
                    severity="error",
                )
            )
            self._dropped = 0

    # ------------------------------------------------------------------ iteration

    def __iter__(self) -> Iterator[Segment]:
        self.problems = []
        self._dropped = 0
        return chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[Segment]]:
        stream, default_name, owned = _open(self._source)
        if self.name is None:
            self.name = default_name
        read = stream.read
        size = self.chunk_size
        forced = self.forced
        delims = forced
        buf = ""  # text read and not yet tokenized
        base = 0  # file offset of buf[0]
        index = 0  # segments yielded so far
        eof = False
        started = False  # past the BOM / leading blanks / first-ISA sniff
        isa_at = -1  # offset of the ISA whose delimiters are in force
        known: set[str] = set()  # identifiers already checked valid (never "ISA")
        try:
            while True:
                if not eof:
                    chunk = read(size)
                    if chunk:
                        buf += chunk.decode("latin-1")
                    else:
                        eof = True
                if not started:
                    if base == 0 and not buf.startswith(_BOM) and _BOM.startswith(buf) and not eof:
                        continue  # could still become a BOM
                    if base == 0 and buf.startswith(_BOM):
                        buf = buf[3:]
                        base = 3
                    text = buf.lstrip(_BLANKS)
                    skipped = len(buf) - len(text)
                    base += skipped
                    buf = text
                    if not buf:
                        if eof:
                            return
                        continue
                    if forced is None:
                        sniffed = self._sniff_first(buf, base, eof)
                        if sniffed is None:
                            continue  # need more text
                        delims, isa_at = sniffed
                        self.delimiters = delims
                    started = True
                assert delims is not None
                term = delims.segment
                sep = term
                if not eof:
                    # Most files put the same line break after every terminator: split on the pair
                    # and the parts need no stripping (the common case, and 15% faster).
                    n_term = buf.count(term)
                    for pair in (term + "\n", term + "\r\n"):
                        n_pair = buf.count(pair)
                        if n_pair and n_term - n_pair <= buf.endswith(term):
                            sep = pair
                            break
                parts = buf.split(sep)
                tail = "" if eof else parts.pop()
                if len(tail) > MAX_SEGMENT:
                    raise X12SyntaxError(
                        f"no segment terminator {term!r} within {MAX_SEGMENT} bytes: "
                        "not X12 with these delimiters",
                        where=Where(file=self.name, segment_index=index + 1, offset=base),
                        code="no_terminator",
                    )
                step = len(sep)
                # No part starts with a blank (so none needs stripping) unless the buffer holds a
                # separator followed by one: a few C-level scans decide it for the whole buffer.
                clean = (
                    buf[:1] not in _BLANKS
                    and not (term == "\n" and "\r" in buf)
                    and not any(sep + b in buf for b in _BLANKS)
                )
                resniff = None
                pos = base
                for j in range(0, len(parts), BATCH):
                    some = parts[j : j + BATCH]
                    last = eof and j + BATCH >= len(parts)
                    batch, end = (
                        (None, 0)
                        if last and some[-1].strip(_BLANKS)  # unterminated last segment: say so
                        else self._fast(some, pos, index, delims, known, step, clean)
                    )
                    if batch is None:
                        batch, end, resniff = self._slow(
                            some, pos, index, delims, known, isa_at, forced is None, last, step
                        )
                    if batch:
                        index += len(batch)
                        yield batch
                    pos = end
                    if resniff is not None:
                        resniff += j
                        break
                base = pos
                if resniff is None:
                    buf = tail
                    if eof:
                        break
                    continue
                # A new ISA at parts[resniff]: re-read delimiters from it and tokenize onwards.
                rest = parts[resniff:]
                if not eof:
                    rest.append(tail)
                buf = sep.join(rest)
                text = buf.lstrip(_BLANKS)
                base += len(buf) - len(text)
                buf = text
                while True:
                    end = _isa_end(buf)
                    if end is not None or eof or len(buf) > MAX_SEGMENT:
                        break
                    chunk = read(size)
                    if chunk:
                        buf += chunk.decode("latin-1")
                    else:
                        eof = True
                new = self._sniff_next(buf, base, index + 1, end)
                isa_at = base
                if new is not None:
                    delims = new
                    self.delimiters = new
        finally:
            self._close_problems(index)
            if owned:
                stream.close()

    def _sniff_first(self, buf: str, base: int, eof: bool) -> tuple[Delimiters, int] | None:
        """Delimiters for the start of the file, or None when more text is needed."""
        if buf.startswith("ISA") or (not eof and "ISA".startswith(buf)):
            end = _isa_end(buf)
            if end is None and not eof and len(buf) < MAX_SEGMENT:
                return None
            head = buf if end is None else buf[: end + 1]
            try:
                delims = delimiters_from_isa(head, file=self.name, offset=base)
            except X12SyntaxError as exc:
                guessed = infer_delimiters(buf[: 1 << 16])
                if guessed is None:
                    raise
                self._problem(
                    "isa_unreadable",
                    f"{exc.message}; delimiters inferred as element {guessed.element!r}, "
                    f"component {guessed.component!r}, segment {guessed.segment!r}",
                    severity="error",
                    segment_index=1,
                    segment_id="ISA",
                    offset=base,
                )
                return guessed, base
            self._check_isa_width(buf, end, delims, base, 1)
            return delims, base
        if len(buf) < 4096 and not eof:
            return None
        delims = infer_delimiters(buf[: 1 << 16])
        if delims is None:
            raise X12SyntaxError(
                "no ISA segment and the delimiters cannot be inferred from the first segment; "
                "give them with --delimiters ELEMENT,COMPONENT,REPETITION,SEGMENT",
                where=Where(file=self.name, offset=base, segment_index=1),
                code="no_delimiters",
            )
        first_tag = buf.split(delims.element, 1)[0][:3]
        self._problem(
            "no_isa",
            f"file has no ISA segment (starts at {first_tag!r}); delimiters inferred as element "
            f"{delims.element!r}, component {delims.component!r}, segment {delims.segment!r}",
            segment_index=1,
            segment_id=first_tag,
            offset=base,
        )
        return delims, -1

    def _sniff_next(self, buf: str, base: int, index: int, end: int | None) -> Delimiters | None:
        """Delimiters of a later ISA; None (and a problem) when it cannot be read."""
        head = buf if end is None else buf[: end + 1]
        try:
            delims = delimiters_from_isa(head, file=self.name, offset=base, index=index)
        except X12SyntaxError as exc:
            self._problem(
                "isa_unreadable",
                f"{exc.message}; the previous interchange's delimiters are kept",
                severity="error",
                segment_index=index,
                segment_id="ISA",
                offset=base,
            )
            return None
        self._check_isa_width(buf, end, delims, base, index)
        return delims

    def _check_isa_width(
        self, buf: str, end: int | None, delims: Delimiters, base: int, index: int
    ) -> None:
        length = (end + 1) if end is not None else len(buf)
        if length != ISA_LENGTH:
            self._problem(
                "isa_not_fixed_width",
                f"ISA is {length} characters, not the fixed {ISA_LENGTH}; read by counting "
                f"element separators",
                segment_index=index,
                segment_id="ISA",
                offset=base,
            )

    @staticmethod
    def _fast(
        parts: list[str],
        base: int,
        index: int,
        delims: Delimiters,
        known: set[str],
        step: int,
        clean: bool,
    ) -> tuple[list[Segment] | None, int]:
        """Tokenize ``parts`` with no Python code per segment, or return None to go the slow way.

        Only when every identifier is one already checked (so never an ISA) and no part is blank.
        ``clean`` says no part starts with a blank, so nothing needs stripping. Also returns the
        offset just past the last part.
        """
        starts = list(accumulate(map(step.__add__, map(len, parts)), initial=base))
        if clean:
            if "" in parts:
                return None, 0
            texts = parts
            offsets: Iterable[int] = starts
        else:
            texts = list(map(str.lstrip, parts, repeat(_BLANKS)))
            if "" in texts:
                return None, 0
            offsets = map(sub, starts[1:], map(len, texts))
            offsets = map(sub, offsets, repeat(step))
            if delims.segment == "\n":
                texts = list(map(str.rstrip, texts, repeat("\r")))
        fields = list(map(str.split, texts, repeat(delims.element)))
        tags = list(map(_pop, fields, repeat(0)))  # fields keep the elements only
        if not known.issuperset(tags):
            return None, 0
        batch = list(
            map(
                _tuple_new,
                repeat(Segment),
                zip(tags, map(tuple, fields), count(index + 1), offsets, repeat(delims)),
            )
        )
        return batch, starts[-1]

    def _slow(
        self,
        parts: list[str],
        base: int,
        index: int,
        delims: Delimiters,
        known: set[str],
        isa_at: int,
        sniff: bool,
        eof: bool,
        step: int,
    ) -> tuple[list[Segment], int, int | None]:
        """Tokenize ``parts`` one by one, reporting problems; stop at a new ISA.

        Returns the segments, the offset where tokenizing stopped (past the last part, or at the
        part holding a new ISA) and the index of that part (None when all parts were tokenized).
        """
        elem = delims.element
        cr = delims.segment == "\n"
        pos = base
        batch: list[Segment] = []
        last = len(parts) - 1
        for i, part in enumerate(parts):
            seg_len = len(part) + step
            text = part.lstrip(_BLANKS)
            if not text:
                pos += seg_len
                continue
            at = pos + len(part) - len(text)
            if sniff and text.startswith("ISA") and at != isa_at:
                return batch, pos, i
            if cr:
                text = text.rstrip("\r")
            fields = text.split(elem)
            tag = fields[0]
            n = index + len(batch) + 1
            if tag not in known and tag != "ISA":
                if _TAG.fullmatch(tag):
                    known.add(tag)
                else:
                    shown = repr(tag[:6]) + ("…" if len(tag) > 6 else "")
                    self._problem(
                        "invalid_segment_id",
                        f"segment identifier {shown} is not 2-3 upper-case letters or digits "
                        "starting with a letter; segment read as is",
                        severity="error",
                        segment_index=n,
                        segment_id=tag[:6],
                        offset=at,
                    )
            if eof and i == last:
                self._problem(
                    "missing_terminator",
                    f"the last segment has no terminator {delims.segment!r}",
                    segment_index=n,
                    segment_id=tag[:6],
                    offset=at,
                )
            batch.append(_tuple_new(Segment, (tag, tuple(fields[1:]), n, at, delims)))
            pos += seg_len
        return batch, pos, None


def read_segments(source: str | os.PathLike[str] | BinaryIO | bytes, **kw: object) -> list[Segment]:
    """All segments of a small file at once (tests and tools; stream large files instead)."""
    return list(X12Reader(source, **kw))  # type: ignore[arg-type]
