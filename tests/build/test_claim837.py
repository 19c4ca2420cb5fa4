"""Claim → 837P segments: structure, loops, round trip, and the 2410 drug loop's shape."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_pipeline.claim837 import (
    ClaimSpan,
    amount,
    build_interchange,
    claim_problems,
    number,
    text,
)
from edi_pipeline.errors import BuildError
from edi_pipeline.maps import load_maps
from edi_pipeline.practice import load_practice
from tests.build.builders import (
    admin_line,
    claims_strategy,
    drug_line,
    make_claim,
    with_line_control_numbers,
)
from tests.build.x12read import read_claims, segments
from tests.conftest import CORPUS, FIXTURES, needs_corpus
from tests.factories import make_coverage, make_encounter, make_person

NOW = datetime(2025, 1, 15, 9, 30)
MAPS = load_maps()
PRACTICE = load_practice()
RECEIVER = PRACTICE.receivers[0]


def build(claims, practice=PRACTICE, isa13=7, gs06=7):
    return build_interchange(
        claims, practice, RECEIVER, MAPS.payers, isa13=isa13, gs06=gs06, now=NOW
    )


def tags(text_: str) -> list[str]:
    return [s.tag for s in segments(text_)]


def test_envelope_counts_and_fixed_width_isa():
    built = build([make_claim("E1"), make_claim("E2")])
    segs = segments(built.text)
    isa_line = built.text.split("\n", 1)[0]
    assert len(isa_line) == 106
    assert segs[0].get(13) == "000000007" == segs[-1].get(2) == built.isa13
    assert segs[0].get(15) == "T"
    se = next(s for s in segs if s.tag == "SE")
    st_index = next(s.index for s in segs if s.tag == "ST")
    assert int(se.get(1)) == se.index - st_index + 1
    assert built.segment_count == len(segs)
    assert [s.get(1) for s in segs if s.tag == "GE"] == ["1"]
    assert segs[1].elements[5:8] == ("7", "X", "005010X222A1")


def test_header_loops_in_tr3_order():
    seq = tags(build([make_claim()]).text)
    assert seq[:17] == [
        "ISA", "GS", "ST", "BHT", "NM1", "PER", "NM1",  # 1000A, 1000B
        "HL", "PRV", "NM1", "N3", "N4", "REF",  # 2000A / 2010AA
        "NM1", "N3", "N4",  # 2010AB pay-to
        "HL",  # 2000B
    ]  # fmt: skip


def test_claim_segments_for_an_infusion():
    built = build([make_claim("E1001")])
    segs = segments(built.text)
    by_tag = {}
    for s in segs:
        by_tag.setdefault(s.tag, []).append(s)
    [clm] = by_tag["CLM"]
    assert clm.get(1) == "E1001"
    assert Decimal(clm.get(2)) == Decimal("4250")  # 3800 + 200 + 250
    assert clm.components(5) == ("11", "B", "1")
    assert [s.get(1) for s in by_tag["HI"]] == ["ABK:M0579"]
    assert by_tag["HI"][0].get(2) == "ABF:Z79899"
    sbr = by_tag["SBR"][0]
    assert (sbr.get(1), sbr.get(2), sbr.get(9)) == ("P", "18", "CI")  # aetna: commercial
    assert [s.get(1) for s in by_tag["REF"] if s.get(1) in ("G1", "F8", "6R")] == [
        "G1", "6R", "6R", "6R",
    ]  # fmt: skip
    sv1 = [s.components(1) for s in by_tag["SV1"]]
    assert sv1 == [("HC", "J1745"), ("HC", "J1745", "JW"), ("HC", "96365")]
    assert [s.get(7) for s in by_tag["SV1"]] == ["1", "1", "1:2"]
    assert [s.get(1) for s in by_tag["DTP"]] == ["472"] * 3
    assert [s.get(2) for s in by_tag["NTE"]] == ["DISCARDED 25 MG FROM SINGLE-DOSE VIAL"]
    assert [s.elements for s in by_tag["LIN"]] == [("", "N4", "57894003001")] * 2
    assert [s.get(4) for s in by_tag["CTP"]] == ["38", "2"]
    assert "PAT" not in by_tag  # patient is the subscriber: no 2000C
    assert by_tag["NM1"][-1].get(1) == "82"  # 2310B rendering provider


def test_patient_loop_only_when_patient_is_not_the_subscriber():
    enc = make_encounter(
        encounter_id="E2",
        coverage=make_coverage(
            "medicare", relationship="child", subscriber=make_person(first_name="PARENT")
        ),
    )
    claim = make_claim("E2", encounter=enc, payer_id="medicare", diagnoses=("M0579",))
    claim = replace(claim, lines=tuple(replace(ln, diagnosis_pointers=(1,)) for ln in claim.lines))
    segs = segments(build([claim]).text)
    hl = [s.elements for s in segs if s.tag == "HL"]
    assert hl == [("1", "", "20", "1"), ("2", "1", "22", "1"), ("3", "2", "23", "0")]
    sbr = next(s for s in segs if s.tag == "SBR")
    assert sbr.get(2) == "" and sbr.get(9) == "MB"
    assert next(s for s in segs if s.tag == "PAT").get(1) == "19"
    nm1_qc = next(s for s in segs if s.tag == "NM1" and s.get(1) == "QC")
    assert len(nm1_qc.elements) == 4  # no id on the patient (NM108/NM109 not used)


def test_replacement_carries_the_payer_claim_number():
    claim = make_claim("E3", frequency="7", payer_claim_number="ICN0001")
    segs = segments(build([claim]).text)
    clm = next(s for s in segs if s.tag == "CLM")
    assert clm.components(5)[2] == "7"
    refs = [s.elements for s in segs if s.tag == "REF" and s.get(1) in ("G1", "F8")]
    assert refs == [("G1", "PA0001"), ("F8", "ICN0001")]  # TR3 order: G1 before F8


def test_spans_point_at_the_claim_and_its_lines():
    claims = [make_claim("E1"), make_claim("E2")]
    built = build(claims)
    segs = segments(built.text)
    st_pos = next(s.index for s in segs if s.tag == "ST")
    for span in built.claims:
        assert isinstance(span, ClaimSpan)
        first = segs[span.file_first - 1]
        assert (first.tag, first.get(3)) == ("HL", "22")
        assert span.file_first - st_pos + 1 == span.first_segment
        after = segs[span.file_last]
        assert after.tag in ("HL", "SE")
        for line in span.lines:

            def at(pos: int) -> object:
                return segs[st_pos + pos - 2]

            lx = at(line.first_segment)
            assert (lx.tag, lx.get(1)) == ("LX", str(line.line_number))
            in_line = [at(p) for p in range(line.first_segment, line.last_segment + 1)]
            assert ("REF", "6R", line.line_control_number) in [
                (s.tag, s.get(1), s.get(2)) for s in in_line
            ]
            assert at(line.last_segment + 1).tag in ("LX", "HL", "SE")


def test_transaction_sets_split_at_the_configured_size():
    practice = replace(PRACTICE, claims_per_transaction=2)
    built = build([make_claim(f"E{i}") for i in range(5)], practice=practice)
    segs = segments(built.text)
    assert built.st02s == ("0001", "0002", "0003")
    assert [s.get(2) for s in segs if s.tag == "ST"] == ["0001", "0002", "0003"]
    assert next(s for s in segs if s.tag == "GE").get(1) == "3"
    assert [c.st02 for c in built.claims] == ["0001", "0001", "0002", "0002", "0003"]
    # HL numbering restarts in every transaction set
    assert [s.get(1) for s in segs if s.tag == "HL"] == ["1", "2", "3"] * 2 + ["1", "2"]


def test_free_text_is_folded_and_codes_are_checked():
    assert text("O'Brién*Smith:Jr^~", 60) == "O'BRIEN SMITH JR"
    assert text("a" * 90, 80) == "A" * 80
    assert number(Decimal("230.50")) == "230.5"
    assert number(Decimal("100")) == "100"
    assert number(Decimal("1E+2")) == "100"
    assert amount(Decimal("12.345")) == "12.34"
    assert amount(Decimal("0")) == "0"


def test_claim_problems_name_what_is_wrong():
    claim = make_claim("E9", frequency="8")  # no payer claim number
    bad = replace(
        claim,
        lines=(
            drug_line(ndc="5789400300", line_control_number="X1"),
            admin_line(diagnosis_pointers=(3,), line_control_number="X2"),
            admin_line(procedure="9636", line_control_number=None),
        ),
    )
    codes = {p.code for p in claim_problems(bad, PRACTICE, MAPS.payers)}
    assert {"f8_missing", "ndc_shape", "pointers", "procedure_shape", "lcn"} <= codes
    too_many = with_line_control_numbers(replace(claim, frequency="1", lines=(admin_line(),) * 51))
    assert "too_many_lines" in {p.code for p in claim_problems(too_many, PRACTICE, MAPS.payers)}
    with pytest.raises(BuildError, match="REF\\*F8"):
        build([bad])
    assert claim_problems(make_claim("OK1"), PRACTICE, MAPS.payers) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(claims_strategy(), min_size=1, max_size=4, unique_by=lambda c: c.encounter_id))
def test_round_trip_through_our_reader(claims):
    built = build(claims)
    read = read_claims(built.text)
    assert len(read) == len(claims)
    for claim, got in zip(claims, read, strict=True):
        assert got.encounter_id == claim.encounter_id
        assert got.charge == claim.total_charge
        assert (got.place_of_service, got.frequency) == (claim.place_of_service, claim.frequency)
        assert got.diagnoses == claim.diagnoses
        assert got.prior_authorization == claim.prior_authorization
        assert got.payer_claim_number == (
            claim.payer_claim_number if claim.frequency != "1" else None
        )
        assert got.filing_indicator == MAPS.payers[claim.payer_id].claim_filing_indicator
        assert got.has_patient_loop == (claim.encounter.coverage.relationship != "self")
        assert len(got.lines) == len(claim.lines)
        for line, rl in zip(claim.lines, got.lines, strict=True):
            assert (rl.procedure, rl.modifiers) == (line.procedure, line.modifiers)
            assert (rl.units, rl.charge) == (line.units, line.charge.quantize(Decimal("0.01")))
            assert rl.pointers == line.diagnosis_pointers
            assert rl.line_control_number == line.line_control_number
            assert (rl.ndc, rl.ndc_quantity, rl.ndc_unit) == (
                line.ndc, line.ndc_quantity, line.ndc_unit,
            )  # fmt: skip
            assert (rl.note is not None) == bool(line.note and text(line.note, 80))


# ------------------------------------------------------------------ the 2410 drug loop


def _drug_loops(text_: str) -> list[list[tuple[str, tuple[str, ...]]]]:
    """Each 2400 loop that has a 2410: the shape (tag, element pattern) of its LIN..CTP part,
    with values reduced to their kind so that files with different drugs compare."""

    def kind(value: str) -> str:
        if value == "":
            return ""
        if value.isdigit() and len(value) == 11:
            return "ndc11"
        try:
            Decimal(value)
            return "number"
        except ArithmeticError:
            return value

    loops, current = [], None
    for s in segments(text_):
        if s.tag in ("LX", "SE"):
            if current:
                loops.append(current)
            current = None
        elif s.tag == "LIN":
            current = [("LIN", tuple(kind(e) for e in s.elements))]
        elif s.tag == "CTP" and current is not None:
            current.append(("CTP", tuple(kind(e) for e in s.elements)))
    return loops


def _corpus_drug_files() -> list[Path]:
    names = sorted((FIXTURES / "corpus" / "837p").glob("*drug.example10*.837"))
    assert len(names) == 2
    return names


UNITS = {"UN", "ML", "GR", "ME", "F2"}


def _normalise(loop):
    return [(tag, tuple("unit" if e in UNITS else e for e in els)) for tag, els in loop]


@pytest.mark.parametrize("path", _corpus_drug_files(), ids=lambda p: p.name.split("__")[-1])
def test_our_2410_has_the_shape_of_the_corpus_drug_examples(path: Path):
    theirs = {tuple(_normalise(loop)) for loop in _drug_loops(path.read_text())}
    ours = {tuple(_normalise(loop)) for loop in _drug_loops(build([make_claim()]).text)}
    expected = (("LIN", ("", "N4", "ndc11")), ("CTP", ("", "", "", "number", "unit")))
    assert theirs == {expected}
    assert ours == {expected}


@needs_corpus
def test_fixture_copies_match_the_shared_corpus():
    for path in _corpus_drug_files():
        assert path.read_bytes() == (CORPUS / "837p" / path.name).read_bytes()
