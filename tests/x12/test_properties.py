"""Property tests: write → read round-trips for any delimiters and line endings; mutated corpus
files never raise anything but the reader's own errors; chunk sizes never change the result."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_pipeline.app.inspect import inspect_file
from edi_pipeline.errors import X12Error
from edi_pipeline.x12.envelope import check
from edi_pipeline.x12.reader import Delimiters, X12Reader
from edi_pipeline.x12.tr3 import walk_file
from edi_pipeline.x12.writer import SegmentSpec, X12Writer, seg
from tests.x12.support import X12_FIXTURES

# Characters real files use as separators (printable and the ASCII information separators).
SEPARATORS = [*"*|~^:>!'`+\\{}#$%&@", "\x1c", "\x1d", "\x1e", "\x1f"]
ENVELOPE_TAGS = {"ISA", "IEA", "GS", "GE", "ST", "SE"}
ALPHABET = st.characters(
    min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="".join(SEPARATORS)
)


@st.composite
def delimiters(draw: st.DrawFn) -> tuple[Delimiters, str]:
    chosen = draw(st.lists(st.sampled_from(SEPARATORS), min_size=4, max_size=4, unique=True))
    element, component, repetition, segment = chosen
    if draw(st.booleans()):
        segment = "\n"  # a line break as the terminator: no extra line ending then
        line_ending = ""
    else:
        line_ending = draw(st.sampled_from(["", "\n", "\r\n", "\r"]))
    rep = repetition if draw(st.booleans()) else None
    return Delimiters(element, component, rep, segment), line_ending


TAGS = st.from_regex(r"[A-Z][A-Z0-9]{1,2}", fullmatch=True).filter(lambda t: t not in ENVELOPE_TAGS)
VALUE = st.text(ALPHABET, max_size=12)
ELEMENT = st.one_of(VALUE, st.lists(VALUE, min_size=1, max_size=3).map(tuple))
SEGMENTS = st.lists(st.tuples(TAGS, st.lists(ELEMENT, max_size=8)), min_size=1, max_size=25)

ISA = seg(
    "ISA", "00", None, "00", None, "ZZ", "SENDER", "ZZ", "RECEIVER", "250115", "0930", None,
    "00501", "000000001", "0", "T",
)  # fmt: skip


def _expected(writer: X12Writer, spec: SegmentSpec) -> tuple[str, tuple[str, ...]]:
    """What the reader must give back: the writer's text split the obvious way."""
    text = writer.render(spec)[: -len(writer.delimiters.segment + writer.line_ending)]
    tag, *elements = text.split(writer.delimiters.element)
    return tag, tuple(elements)


@settings(max_examples=150, deadline=None)
@given(delimiters(), SEGMENTS, st.integers(min_value=1, max_value=64))
def test_write_then_read_round_trips(
    choice: tuple[Delimiters, str],
    body: list[tuple[str, list[object]]],
    chunk: int,
) -> None:
    delims, line_ending = choice
    writer = X12Writer(delims, line_ending)
    specs = [ISA, *(seg(tag, *elements) for tag, elements in body)]  # type: ignore[arg-type]
    text = writer.render_all(specs)
    data = text.encode("latin-1")
    reader = X12Reader(data, chunk_size=chunk)
    got = list(reader)
    assert reader.problems == []
    assert got[0].delimiters == Delimiters(
        delims.element, delims.component, delims.repetition, delims.segment
    )
    assert [(s.tag, s.elements) for s in got[1:]] == [_expected(writer, s) for s in specs[1:]]
    for s in got:
        assert data[s.offset : s.offset + len(s.tag)].decode("latin-1") == s.tag
    # Components come back as written.
    for spec, s in zip(specs[1:], got[1:], strict=True):
        for n, value in enumerate(spec.elements, start=1):
            if isinstance(value, tuple) and any(value):
                parts = list(value)
                while parts and parts[-1] == "":
                    parts.pop()
                assert s.components(n) == tuple(parts)


CORPUS_SAMPLES = sorted(p for p in X12_FIXTURES.iterdir() if p.suffix != ".tsv")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    path: Path = draw(st.sampled_from(CORPUS_SAMPLES))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        at = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
        if kind == "replace" and data:
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and data:
            del data[at : at + draw(st.integers(min_value=1, max_value=8))]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.integers(min_value=1, max_value=512))
def test_mutated_files_never_raise_anything_but_x12_errors(data: bytes, chunk: int) -> None:
    try:
        reader = X12Reader(data, chunk_size=chunk)
        report = check(reader)
        for problem in reader.problems + list(report.problems):
            assert problem.where.segment_index is not None
        for _ in walk_file(X12Reader(data)):
            pass
    except X12Error:
        pass


@settings(max_examples=40, deadline=None)
@given(mutated())
def test_inspect_never_crashes_on_mutated_files(tmp_path_factory: object, data: bytes) -> None:
    path = Path(str(tmp_path_factory.mktemp("mut"))) / "mutated.x12"  # type: ignore[attr-defined]
    path.write_bytes(data)
    result = inspect_file(path)
    assert result.readable or result.problems


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CORPUS_SAMPLES), st.lists(st.integers(1, 97), min_size=1, max_size=20))
def test_any_chunking_gives_the_same_segments(path: Path, sizes: list[int]) -> None:
    expected = list(X12Reader(path))

    class Pieces:
        """A stream returning reads of the drawn sizes in turn."""

        name = str(path)

        def __init__(self) -> None:
            self.data, self.pos, self.k = path.read_bytes(), 0, 0

        def read(self, _n: int = -1) -> bytes:
            size = sizes[self.k % len(sizes)]
            self.k += 1
            out = self.data[self.pos : self.pos + size]
            self.pos += len(out)
            return out

    assert list(X12Reader(Pieces())) == expected  # type: ignore[arg-type]
