"""The streaming tokenizer: delimiters, layouts real files use, positions, problems, chunking."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from edi_pipeline.errors import X12Error, X12SyntaxError
from edi_pipeline.x12 import reader as reader_module
from edi_pipeline.x12.reader import (
    ISA_LENGTH,
    Delimiters,
    X12Reader,
    delimiters_from_isa,
    infer_delimiters,
    read_segments,
)
from tests.x12.support import X12_FIXTURES

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*250115*0930*^*00501*000000001*0*T*:~"
)
BODY = [
    "GS*HC*SENDER*RECEIVER*20250115*0930*1*X*005010X222A1~",
    "ST*837*0001*005010X222A1~",
    "BHT*0019*00*B1*20250115*0930*CH~",
    "SV1*HC:J1745:JW*230*UN*2***1:2~",
    "REF*X^Y*Z~",
    "SE*5*0001~",
    "GE*1*1~",
    "IEA*1*000000001~",
]


def doc(joiner: str = "\n", isa: str = ISA, body: list[str] | None = None) -> bytes:
    parts = [isa, *(BODY if body is None else body)]
    return (joiner.join(parts) + joiner).encode("latin-1")


def tags(data: bytes, **kw: object) -> list[str]:
    return [s.tag for s in X12Reader(data, **kw)]  # type: ignore[arg-type]


EXPECTED_TAGS = ["ISA", "GS", "ST", "BHT", "SV1", "REF", "SE", "GE", "IEA"]


def test_isa_is_fixed_width() -> None:
    assert len(ISA) == ISA_LENGTH


@pytest.mark.parametrize("joiner", ["", "\n", "\r\n", "\r", "\n\n", " \n  "])
def test_line_endings_and_one_line(joiner: str) -> None:
    data = doc(joiner)
    r = X12Reader(data)
    segs = list(r)
    assert [s.tag for s in segs] == EXPECTED_TAGS
    assert r.problems == []
    for s in segs:  # the offset points at the tag, whatever sits between segments
        assert data[s.offset : s.offset + len(s.tag)].decode() == s.tag
    assert [s.index for s in segs] == list(range(1, 10))


def test_elements_components_repetitions() -> None:
    segs = read_segments(doc())
    sv1 = segs[4]
    assert sv1.get(1) == "HC:J1745:JW" and sv1.get(2) == "230" and sv1.get(9) == ""
    assert sv1.components(1) == ("HC", "J1745", "JW")
    assert sv1.component(1, 2) == "J1745" and sv1.component(1, 9) == ""
    assert sv1.components(7) == ("1", "2")
    ref = segs[5]
    assert ref.repetitions(1) == ("X", "Y")
    assert segs[0].delimiters == Delimiters("*", ":", "^", "~")
    where = sv1.where("f.837")
    assert (where.file, where.segment_index, where.segment_id) == ("f.837", 5, "SV1")


def test_bom_and_leading_whitespace() -> None:
    data = b"\xef\xbb\xbf \r\n\t" + doc()
    segs = list(X12Reader(data))
    assert [s.tag for s in segs] == EXPECTED_TAGS
    assert segs[0].offset == 7  # three BOM bytes and four blanks
    assert data[segs[3].offset : segs[3].offset + 3] == b"BHT"


def test_unpadded_isa_is_read_with_a_warning() -> None:
    short = "ISA*00**00**ZZ*S*ZZ*R*250115*0930*^*00501*000000001*0*T*:~"
    r = X12Reader(doc(isa=short))
    assert [s.tag for s in r] == EXPECTED_TAGS
    (problem,) = r.problems
    assert problem.code == "isa_not_fixed_width" and problem.severity == "warning"
    assert (problem.where.segment_index, problem.where.segment_id, problem.where.offset) == (
        1,
        "ISA",
        0,
    )
    assert str(len(short)) in problem.message


def test_non_standard_delimiters() -> None:
    isa = ISA.replace("*", "|").replace("^", "!").replace(":~", ">\x1c")
    body = [line.replace("*", "|").replace(":", ">").replace("~", "\x1c") for line in BODY]
    body = [line.replace("X^Y", "X!Y") for line in body]
    segs = list(X12Reader(doc("", isa=isa, body=body)))
    assert segs[0].delimiters == Delimiters("|", ">", "!", "\x1c")
    assert segs[4].components(1) == ("HC", "J1745", "JW")
    assert segs[5].repetitions(1) == ("X", "Y")


def test_u_in_isa11_means_no_repetition_separator() -> None:
    isa = ISA.replace("*^*", "*U*")
    segs = list(X12Reader(doc(isa=isa)))
    assert segs[0].delimiters.repetition is None
    assert segs[5].repetitions(1) == ("X^Y",)


def test_several_interchanges_with_their_own_delimiters() -> None:
    second_isa = ISA.replace("*", "|").replace(":~", ">'").replace("000000001", "000000002")
    second = [line.replace("*", "|").replace(":", ">").replace("~", "'") for line in BODY]
    data = doc() + doc("\r\n", isa=second_isa, body=second)
    r = X12Reader(data)
    segs = list(r)
    assert [s.tag for s in segs] == EXPECTED_TAGS * 2
    assert segs[9].delimiters == Delimiters("|", ">", "^", "'")
    assert segs[13].components(1) == ("HC", "J1745", "JW")
    assert segs[9].get(13) == "000000002"
    assert r.problems == []
    for s in segs:
        assert data[s.offset : s.offset + len(s.tag)].decode() == s.tag


def test_no_isa_infers_delimiters_with_a_warning() -> None:
    data = ("\n".join(BODY[1:6]) + "\n").encode()
    r = X12Reader(data, name="noisa.835")
    segs = list(r)
    assert [s.tag for s in segs] == ["ST", "BHT", "SV1", "REF", "SE"]
    assert segs[2].components(1) == ("HC", "J1745", "JW")
    (problem,) = r.problems
    assert problem.code == "no_isa" and problem.where.file == "noisa.835"
    assert (problem.where.segment_index, problem.where.segment_id) == (1, "ST")


def test_no_isa_and_no_inference_is_a_clear_error_naming_the_option() -> None:
    with pytest.raises(X12SyntaxError) as info:
        list(X12Reader(b"hello world, this is not X12 at all", name="x.txt"))
    assert "--delimiters" in str(info.value) and info.value.where.file == "x.txt"


def test_forced_delimiters_read_a_file_inference_cannot() -> None:
    data = b"ST#837#1@BHT#0019@SE#3#1@"
    forced = Delimiters.parse("#,:,none,@")
    assert [s.tag for s in X12Reader(data, delimiters=forced)] == ["ST", "BHT", "SE"]


def test_delimiters_parse() -> None:
    assert Delimiters.parse("*,:,^,~") == Delimiters("*", ":", "^", "~")
    assert Delimiters.parse("*:^~") == Delimiters("*", ":", "^", "~")
    assert Delimiters.parse("*,>,none,\\n") == Delimiters("*", ">", None, "\n")
    for bad in ("*,:,^", "*,:,^,~~", "*,*,^,~", "A,:,^,~"):
        with pytest.raises(ValueError):
            Delimiters.parse(bad)


def test_bad_segment_identifier_is_a_problem_and_reading_goes_on() -> None:
    body = list(BODY)
    body[2] = "Bh1*0019*00*B1*20250115*0930*CH~"
    body.insert(3, "*IC*NO TAG~")
    r = X12Reader(doc(body=body), name="bad.837")
    segs = list(r)
    assert len(segs) == 10 and segs[-1].tag == "IEA"
    got = [(p.code, p.where.segment_index, p.where.segment_id) for p in r.problems]
    assert got == [("invalid_segment_id", 4, "Bh1"), ("invalid_segment_id", 5, "")]
    assert all(p.where.file == "bad.837" and p.where.offset for p in r.problems)
    assert segs[3].tag == "Bh1" and segs[4].tag == ""


def test_missing_final_terminator_is_reported() -> None:
    data = doc().rstrip(b"\n~")
    r = X12Reader(data)
    segs = list(r)
    assert segs[-1].tag == "IEA" and segs[-1].get(2) == "000000001"
    assert [p.code for p in r.problems] == ["missing_terminator"]


def test_no_terminator_in_sight_is_an_error_not_a_memory_leak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reader_module, "MAX_SEGMENT", 1000)
    data = doc() + b"NM1*" + b"X" * 5000
    with pytest.raises(X12SyntaxError) as info:
        list(X12Reader(data, chunk_size=256))
    assert info.value.code == "no_terminator"


def test_a_later_unreadable_isa_keeps_the_delimiters_in_force() -> None:
    data = doc() + b"ISA*00*broken~GS*HC*X~"
    r = X12Reader(data)
    segs = list(r)
    assert [s.tag for s in segs][-2:] == ["ISA", "GS"]
    assert [p.code for p in r.problems] == ["isa_unreadable"]
    assert r.problems[0].where.segment_index == 10


def test_broken_first_isa_falls_back_to_inference() -> None:
    data = b"ISA*00*short~GS*HC*A~ST*837*1~SE*2*1~"
    r = X12Reader(data)
    assert [s.tag for s in r] == ["ISA", "GS", "ST", "SE"]
    assert r.problems[0].code == "isa_unreadable"


def test_isa_delimiter_rules() -> None:
    with pytest.raises(X12SyntaxError):
        delimiters_from_isa("ISAA00")
    with pytest.raises(X12SyntaxError):
        delimiters_from_isa(ISA.replace(":~", "**"))  # terminator equal to the element separator
    assert infer_delimiters("ST*835*1~BPR") == Delimiters("*", ":", None, "~")
    assert infer_delimiters("S") is None


def test_sources_path_stream_bytes(tmp_path: Path) -> None:
    path = tmp_path / "in.837"
    path.write_bytes(doc())
    from_path = read_segments(path)
    from_stream = read_segments(io.BytesIO(doc()))
    assert from_path == from_stream == read_segments(doc())
    reader = X12Reader(str(path))
    list(reader)
    assert reader.name == str(path)


def test_unopenable_path_is_an_x12_error(tmp_path: Path) -> None:
    with pytest.raises(X12Error) as info:
        list(X12Reader(tmp_path / "missing.837"))
    assert info.value.code == "unreadable"


def test_problem_list_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_module, "MAX_PROBLEMS", 5)
    body = [*BODY[:3], *(["x1*bad~"] * 20), *BODY[3:]]
    r = X12Reader(doc(body=body))
    assert len(list(r)) == 29
    assert len(r.problems) == 6 and r.problems[-1].code == "too_many_problems"
    assert "15 further" in r.problems[-1].message


CHUNK_FILES = sorted(p for p in X12_FIXTURES.iterdir() if p.suffix != ".tsv")


@pytest.mark.parametrize("path", CHUNK_FILES, ids=[p.name[-40:] for p in CHUNK_FILES])
def test_one_byte_and_random_chunks_give_the_same_segments(path: Path) -> None:
    whole = X12Reader(path)
    expected = list(whole)
    assert list(X12Reader(path, chunk_size=1)) == expected
    rng = random.Random(path.name)

    class Ragged(io.RawIOBase):
        """A stream whose reads return random short counts, as a socket or pipe may."""

        def __init__(self, data: bytes) -> None:
            self.data, self.pos = data, 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            size = rng.randint(1, max(1, min(n if n > 0 else 64, 64)))
            out = self.data[self.pos : self.pos + size]
            self.pos += len(out)
            return out

    for size in (2, 3, 7, 64, 4096):
        r = X12Reader(path, chunk_size=size)
        assert list(r) == expected
        assert r.problems == whole.problems
    assert list(X12Reader(Ragged(path.read_bytes()), name=str(path))) == expected  # type: ignore[arg-type]
