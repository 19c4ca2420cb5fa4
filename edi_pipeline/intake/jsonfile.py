"""JSON Lines and JSON readers that stream: memory stays flat however large the file.

JSON Lines is one record per line, read line by line. A JSON file (``[ … ]`` or
``{"encounters": [ … ]}``) is cut into array elements by an incremental decoder over 1 MiB chunks:
``JSONDecoder.raw_decode`` parses the next element where it starts in the buffer; the consumed
text is dropped as we go. When an element does not parse, a small scanner (strings, brackets,
commas) finds where it ends, so one broken record is rejected and the next ones still come
through, without reading the rest of the file into memory. A single record may not exceed
``MAX_RECORD_CHARS`` (an element that never ends would otherwise swallow the file).

Other top-level keys of the ``{"encounters": …}`` object are ignored (logged by name). A
top-level object without ``encounters`` is taken as one encounter, so a single exported
encounter can be read too. Anything else at the top level is one rejected record.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import structlog

from edi_pipeline.errors import InputError
from edi_pipeline.intake.records import DECODER, MISSING, RawRecord, syntax_issue

log = structlog.get_logger()

CHUNK = 1 << 20
MAX_RECORD_CHARS = 16 << 20
_BOM = b"\xef\xbb\xbf"
_WS = re.compile(r"[ \t\r\n]*")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_STRUCTURAL = re.compile(r'["\[\]{},]')
_STRING = re.compile(r'"(?:[^"\\]|\\[\s\S])*"')


def _encoding_issue(raw: str) -> tuple[str, str, str, str]:
    m = _NOT_UTF8.search(raw)
    at = m.start() if m else 0
    return ("", "not_utf8", f"record: is not valid UTF-8 (at character {at})", "error")


def read_jsonl(stream: BinaryIO) -> Iterator[RawRecord]:
    """One record per non-blank line; record number = line number."""
    decode = DECODER.decode
    scan = DECODER.scan_once
    for number, line in enumerate(stream, 1):
        if number == 1 and line.startswith(_BOM):
            line = line[3:]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            issue = ("", "not_utf8", f"record: is not valid UTF-8 (at byte {exc.start})", "error")
            yield RawRecord(number, text, issues=[issue], raw_format="json_text", line=number)
            continue
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            value = _decode_line(text, scan, decode)
        except (ValueError, RecursionError) as exc:
            yield RawRecord(
                number, text, issues=[syntax_issue(exc)], raw_format="json_text", line=number
            )
            continue
        yield RawRecord(number, text, value, line=number)


def _decode_line(text: str, scan: Any, decode: Any) -> Any:
    """``DECODER.decode(text)``, skipping its whitespace handling for the usual ``{...}`` line.

    Anything else (blanks around the value, extra data, a syntax error) goes through
    ``decode`` itself, so results and error messages are exactly the decoder's.
    """
    if text[:1] == "{" and text[-1:] == "}":
        try:
            value, end = scan(text, 0)
        except (StopIteration, ValueError, RecursionError):
            return decode(text)
        if end == len(text):
            return value
    return decode(text)


class _Buffer:
    """Decoded text of the file, read on demand; consumed text is dropped."""

    def __init__(self, stream: BinaryIO, chunk: int) -> None:
        self.stream = stream
        self.chunk = chunk
        self.text = ""
        self.pos = 0
        self.eof = False
        self.keep = False  # while True, nothing is dropped (a top-level object being read)
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="surrogateescape")

    def more(self) -> bool:
        """Read one more chunk; False at end of file."""
        if self.eof:
            return False
        data = self.stream.read(self.chunk)
        if not self.keep and self.pos > 0:
            self.text = self.text[self.pos :]
            self.pos = 0
        if not data:
            self.text += self._decoder.decode(b"", final=True)
            self.eof = True
            return False
        self.text += self._decoder.decode(data)
        return True

    def skip_ws(self) -> str:
        """The next non-blank character ('' at end of file), not consumed."""
        while True:
            self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def decode_value(self) -> tuple[object, int] | None:
        """Parse the JSON value at ``pos`` (reading more as needed); None if it is invalid."""
        while True:
            try:
                value, end = DECODER.raw_decode(self.text, self.pos)
            except (ValueError, RecursionError):
                if self.more():
                    continue
                return None
            # A number at the very end of the buffer may continue in the next chunk.
            if end < len(self.text) or self.eof or not self.more():
                return value, end


def _element_end(text: str, start: int) -> int | None:
    """Index of the ``,`` or ``]`` closing the array element at ``start``; None if not yet read.

    Brackets are counted without matching their kinds, and a stray ``}`` is part of the broken
    element: all that matters is to resume at the next element.
    """
    depth, i = 0, start
    while True:
        m = _STRUCTURAL.search(text, i)
        if m is None:
            return None
        ch, i = m.group(), m.start()
        if ch == '"':
            s = _STRING.match(text, i)
            if s is None:
                return None
            i = s.end()
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            if depth == 0 and ch == "]":
                return i
            depth = max(depth - 1, 0)
        elif depth == 0:
            return i
        i += 1


def _record(number: int, raw: str, value: object) -> RawRecord:
    if _NOT_UTF8.search(raw):
        return _bad(number, raw, "not_utf8", _encoding_issue(raw)[2].removeprefix("record: "))
    return RawRecord(number, raw, value)


def _bad(number: int, raw: str, rule: str, message: str) -> RawRecord:
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return RawRecord(
        number, text, issues=[("", rule, f"record: {message}", "error")], raw_format="json_text"
    )


def _elements(buf: _Buffer, name: str) -> Iterator[RawRecord]:
    """The elements of the array whose ``[`` was just consumed, as records numbered from 0.

    Returns (as the generator's value) how many records it yielded.
    """
    index = 0
    while True:
        ch = buf.skip_ws()
        if ch == "":
            log.warning("intake.json_unterminated", file=name, records=index)
            return index
        if ch == "]":
            buf.pos += 1
            return index
        if index > 0:
            if ch == ",":
                buf.pos += 1
                ch = buf.skip_ws()
                if ch == "]":  # a trailing comma: tolerated
                    buf.pos += 1
                    return index
                if ch == "":
                    log.warning("intake.json_unterminated", file=name, records=index)
                    return index
            else:
                log.warning("intake.json_comma_missing", file=name, record=index)
        start = buf.pos
        try:
            value, end = DECODER.raw_decode(buf.text, start)
            complete = end < len(buf.text) or buf.eof
        except (ValueError, RecursionError):
            value, end, complete = MISSING, start, False
        if value is not MISSING and complete:
            yield _record(index, buf.text[start:end], value)
            buf.pos = end
            index += 1
            continue
        # Not parsed from what is buffered: find where the element ends, reading more if needed
        # (``more`` drops only the text before ``pos``, which is this element's start).
        while True:
            stop = _element_end(buf.text, buf.pos)
            if stop is not None or buf.eof:
                break
            if len(buf.text) - buf.pos > MAX_RECORD_CHARS:
                raise InputError(
                    f"record {index} is longer than {MAX_RECORD_CHARS} characters or never ends; "
                    "the file cannot be streamed",
                    code="record_too_large",
                )
            buf.more()
        start = buf.pos
        try:
            value, end = DECODER.raw_decode(buf.text, start)
            if stop is not None and end > stop:
                raise ValueError("element runs past its end")
        except (ValueError, RecursionError) as exc:
            if stop is None:
                raw = buf.text[start:].strip()
                yield _bad(index, raw, "record_truncated", "the file ends inside this record")
                buf.pos = len(buf.text)
                return index + 1
            if stop == start and buf.text[start] != ",":
                stop += 1
            yield RawRecord(
                index,
                buf.text[start:stop].strip(),
                issues=[syntax_issue(exc)],
                raw_format="json_text",
            )
            buf.pos = stop
            index += 1
            continue
        yield _record(index, buf.text[start:end], value)
        buf.pos = end
        index += 1


def read_json(stream: BinaryIO, name: str, chunk: int | None = None) -> Iterator[RawRecord]:
    """Records of a JSON file: a bare array or ``{"encounters": [...]}`` (or one encounter)."""
    buf = _Buffer(stream, chunk or CHUNK)
    first = buf.skip_ws()
    if first == "":
        return
    if first == "[":
        buf.pos += 1
        count = yield from _elements(buf, name)
    elif first == "{":
        count = yield from _object(buf, name)
    else:
        decoded = buf.decode_value()
        if decoded is None:
            yield _bad(0, _rest(buf), "json_syntax", "is not valid JSON")
            return
        _, end = decoded
        yield _bad(
            0,
            buf.text[buf.pos : end],
            "container_shape",
            'a JSON file holds an array of encounters or {"encounters": [...]} '
            "(got a single value)",
        )
        buf.pos = end
        count = 1
    if buf.skip_ws() != "":
        log.warning("intake.json_trailing_data", file=name)
        yield _bad(
            count,
            _rest(buf),
            "trailing_data",
            "text after the end of the JSON document (kept here so that nothing is lost)",
        )


def _rest(buf: _Buffer) -> str:
    """Everything from ``pos`` to the end of the file (only for broken files)."""
    buf.keep = True
    more = True
    while more:
        more = buf.more()
    buf.keep = False
    rest = buf.text[buf.pos :].strip()
    buf.pos = len(buf.text)
    return rest


def _object(buf: _Buffer, name: str) -> Iterator[RawRecord]:
    """A top-level object: stream its ``encounters`` array, or take it as one encounter."""
    start = buf.pos
    buf.keep = True
    buf.pos += 1
    members: dict[str, object] = {}
    streamed = False
    count = 0
    ignored: list[str] = []
    while True:
        ch = buf.skip_ws()
        if ch == "}":
            buf.pos += 1
            break
        if ch == "" and streamed:
            log.warning("intake.json_unterminated", file=name, records=count)
            return count
        if ch == "," and (members or streamed or ignored):
            buf.pos += 1
            ch = buf.skip_ws()
        key = buf.decode_value() if ch == '"' else None
        if key is not None and isinstance(key[0], str):
            buf.pos = key[1]
            if buf.skip_ws() == ":":
                buf.pos += 1
                ch = buf.skip_ws()
            else:
                key = None
        if key is None or not isinstance(key[0], str):
            return (yield from _broken_object(buf, start, streamed, count, name))
        if key[0] == "encounters" and ch == "[" and not streamed:
            streamed = True
            buf.keep = False
            buf.pos += 1
            count = yield from _elements(buf, name)
            continue
        value = buf.decode_value()
        if value is None:
            return (yield from _broken_object(buf, start, streamed, count, name))
        buf.pos = value[1]
        if streamed:
            ignored.append(key[0])
        else:
            members[key[0]] = value[0]
    buf.keep = False
    if streamed:
        ignored.extend(members)
        if ignored:
            log.warning("intake.json_keys_ignored", file=name, keys=sorted(set(ignored)))
        return count
    # No "encounters": the object is one encounter.
    yield _record(0, buf.text[start : buf.pos], members)
    return 1


def _broken_object(
    buf: _Buffer, start: int, streamed: bool, count: int, name: str
) -> Iterator[RawRecord]:
    if streamed:
        rest = _rest(buf)
        if rest:
            log.warning("intake.json_trailing_data", file=name)
            yield _bad(
                count,
                rest,
                "trailing_data",
                "text after the encounters array is not valid JSON (kept here so that "
                "nothing is lost)",
            )
            return count + 1
        return count
    buf.pos = start
    raw = _rest(buf)
    try:
        DECODER.decode(raw)
        issue = ("", "json_syntax", "record: is not valid JSON", "error")
    except (ValueError, RecursionError) as exc:
        issue = syntax_issue(exc)
    yield RawRecord(
        0,
        raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
        issues=[issue],
        raw_format="json_text",
    )
    return 1
