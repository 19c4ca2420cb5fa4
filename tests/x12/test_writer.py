"""The writer: typed values, fixed-width ISA, computed counts, delimiters refused in data."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from edi_pipeline.errors import X12Error
from edi_pipeline.x12.envelope import check
from edi_pipeline.x12.reader import ISA_LENGTH, Delimiters, X12Reader
from edi_pipeline.x12.writer import X12Writer, envelope, seg, x12_number

W = X12Writer(Delimiters("*", ":", "^", "~"), "\n")
ISA = seg(
    "ISA", "00", None, "00", None, "ZZ", "SENDER", "ZZ", "RECEIVER", date(2025, 1, 15),
    time(9, 30), None, "00501", 42, "0", "T",
)  # fmt: skip
GS = seg("GS", "HC", "SENDER", "RECEIVER", date(2025, 1, 15), time(9, 30), "7", "X", "005010X222A1")


def test_typed_values() -> None:
    line = W.render(
        seg("SV1", ("HC", "J1745", "JW"), Decimal("230.00"), "UN", 2, None, None, ("1", "2"))
    )
    assert line == "SV1*HC:J1745:JW*230*UN*2***1:2~\n"
    assert W.render(seg("DTP", "472", "D8", date(2025, 1, 10))) == "DTP*472*D8*20250110~\n"
    assert W.render(seg("BHT", "0019", "00", "B1", date(2025, 1, 15), time(9, 5))) == (
        "BHT*0019*00*B1*20250115*0905~\n"
    )
    assert [x12_number(Decimal(v)) for v in ("12.50", "0.00", "-0", "1E+2", "3")] == [
        "12.5",
        "0",
        "0",
        "100",
        "3",
    ]
    with pytest.raises(TypeError):
        W.render(seg("DTP", "472", "D8", datetime(2025, 1, 10, 9, 0)))


def test_trailing_empty_elements_and_components_are_dropped() -> None:
    assert W.render(seg("NM1", "85", "2", "GROUP", None, "", None)) == "NM1*85*2*GROUP~\n"
    assert W.render(seg("SV1", ("HC", "J1745", None, ""))) == "SV1*HC:J1745~\n"


@pytest.mark.parametrize(
    ("spec", "element"),
    [
        (seg("CLM", "A*B", "10"), "CLM01"),
        (seg("NM1", "85", "2", "SMITH~JONES"), "NM103"),
        (seg("SV1", ("HC", "J17:45")), "SV101-02"),
        (seg("REF", "6R", "L^1"), "REF02"),
        (seg("NTE", "ADD", "line\nbreak"), "NTE02"),
    ],
)
def test_a_delimiter_or_control_character_in_a_value_is_refused(spec: object, element: str) -> None:
    with pytest.raises(X12Error) as info:
        W.render(spec)  # type: ignore[arg-type]
    assert info.value.where.element == element and element in str(info.value)
    assert info.value.code in ("delimiter_in_value", "control_character")


def test_isa_is_padded_to_fixed_width() -> None:
    text = W.render(ISA)
    assert len(text) == ISA_LENGTH + 1  # plus the line ending
    fields = text.rstrip("~\n").split("*")
    assert fields[2] == " " * 10 and fields[6] == "SENDER".ljust(15)
    assert fields[9:11] == ["250115", "0930"] and fields[13] == "000000042"
    assert fields[11] == "^" and fields[16] == ":"
    with pytest.raises(X12Error) as info:
        W.render(seg("ISA", "00", "X" * 11))
    assert info.value.where.element == "ISA02"


def test_envelope_computes_counts_that_our_checker_accepts() -> None:
    bodies = [
        [seg("BHT", "0019", "00", "B1", date(2025, 1, 15), time(9, 30), "CH"), seg("CLM", "A", 5)],
        [seg("BHT", "0019", "00", "B2", date(2025, 1, 15), time(9, 30), "CH")],
    ]
    specs = envelope(bodies, isa=ISA, gs=GS, st_controls=["0001", "0002"])
    text = W.render_all(specs)
    assert "SE*4*0001~" in text and "SE*3*0002~" in text
    assert "GE*2*7~" in text and text.endswith("IEA*1*000000042~\n")
    report = check(X12Reader(text.encode()))
    assert report.problems == ()
    assert [t.segments for t in report.interchanges[0].groups[0].transactions] == [4, 3]
    with pytest.raises(ValueError):
        envelope(bodies, isa=ISA, gs=GS, st_controls=["0001", "0001"])


def test_line_ending_choices() -> None:
    assert X12Writer(Delimiters(), "").render(seg("LX", "1")) == "LX*1~"
    assert X12Writer(Delimiters(), "\r\n").render(seg("LX", "1")) == "LX*1~\r\n"
    with pytest.raises(ValueError):
        X12Writer(Delimiters(), "\t")
    with pytest.raises(ValueError):
        X12Writer(Delimiters("*", ":", "^", "\n"), "\n")
