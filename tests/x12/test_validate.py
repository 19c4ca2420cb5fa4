"""pyx12 validation in-process, errors located by segment, loop and claim; the semantic checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from edi_pipeline.validate import ValidationResult, validate_many, validate_x12
from tests.x12.support import X12_FIXTURES, fixture

EXAMPLE = (X12_FIXTURES / "example_837p.x12").read_text()
TODAY = date(2026, 1, 15)

_lines = [line for line in EXAMPLE.splitlines() if line]
HEAD = _lines[: _lines.index(next(x for x in _lines if x.startswith("CLM*")))]
CLAIM = _lines[len(HEAD) : _lines.index(next(x for x in _lines if x.startswith("SE*")))]


def claim(pcn: str = "PCN0002", **replace: str) -> list[str]:
    """The example claim under another patient control number, with text replacements."""
    out = []
    for line in CLAIM:
        line = line.replace("PCN0001", pcn)
        for old, new in replace.items():
            line = line.replace(old.replace("_", "*"), new.replace("_", "*"))
        out.append(line)
    return out


def build(*claims: list[str], head: list[str] | None = None) -> bytes:
    """ISA, GS, the example's header loops, the claims, and trailers with the right counts."""
    head = head or HEAD
    body = head[2:] + [line for c in claims for line in c]  # ST onwards
    lines = [*head[:2], *body, f"SE*{len(body) + 1}*0001~", "GE*1*1~", "IEA*1*000000001~"]
    return ("\n".join(lines) + "\n").encode()


def issues(result: ValidationResult) -> set[tuple[str, int | None, str | None, str | None]]:
    return {(i.code, i.segment_index, i.loop, i.claim_id) for i in result.errors}


def test_the_domain_example_is_valid() -> None:
    result = validate_x12(X12_FIXTURES / "example_837p.x12", today=TODAY)
    assert result.valid and result.issues == () and result.pyx12_ran
    assert [(c.claim_id, c.errors) for c in result.claims] == [("PCN0001", 0)]
    assert result.guides == ("005010X222A1",)


def test_a_built_two_claim_file_is_valid() -> None:
    result = validate_x12(build(claim("PCN0001"), claim("PCN0002")), today=TODAY)
    assert result.valid, [i.message for i in result.errors]
    assert [c.claim_id for c in result.claims] == ["PCN0001", "PCN0002"]


def test_semantic_errors_name_segment_loop_and_claim_and_spare_the_good_claim() -> None:
    bad = claim(
        "PCN0002",
        **{
            "CLM_PCN0002_3250": "CLM_PCN0002_3000",  # CLM02 no longer the line total (3250)
            "ABK:M0579_ABF:Z79899": "ABK:M05.79_ABF:123",  # a dot, and a bad shape
            "XX_1111111112": "XX_1111111111",  # Luhn fails
            "UN_1___1~": "UN_1___1:3~",  # pointer 3 with two diagnoses
            "D8_20240115~": "D8_20240231~",  # not a real date
        },
    )
    data = build(claim("PCN0001"), bad)
    result = validate_x12(data, today=TODAY)
    assert not result.valid
    got = issues(result)
    first = 21 + len(CLAIM)  # the second CLM's ordinal
    assert ("clm02_not_line_total", first, "2300", "PCN0002") in got
    assert ("icd10_shape", first + 2, "2300", "PCN0002") in got
    assert ("npi_check_digit", first + 3, "2310B", "PCN0002") in got
    assert ("diagnosis_pointer_unresolved", first + 19, "2400", "PCN0002") in got
    assert ("date_invalid", first + 7, "2400", "PCN0002") in got
    statuses = {c.claim_id: c.errors for c in result.claims}
    assert statuses["PCN0001"] == 0 and statuses["PCN0002"] >= 6
    icd = [i.message for i in result.errors if i.code == "icd10_shape"]
    assert any("M05.79" in m for m in icd) and any("'123'" in m for m in icd)


def test_dates_in_the_future_and_birth_dates_are_not_shown() -> None:
    head = [line.replace("DMG*D8*19600101", "DMG*D8*20300101") for line in HEAD]
    data = build(claim("PCN0001"), head=head)
    result = validate_x12(data, today=date(2024, 1, 14))
    future = [i for i in result.errors if i.code == "date_in_future"]
    assert {(i.segment_id, i.element) for i in future} >= {("DMG", "DMG02"), ("DTP", "DTP03")}
    dmg = next(i for i in future if i.segment_id == "DMG")
    assert "2030" not in dmg.message  # a birth date is patient data
    assert validate_x12(data, today=date(2031, 1, 1)).valid


def test_hl_parent_that_does_not_resolve() -> None:
    head = [line.replace("HL*2*1*22*0", "HL*2*7*22*0") for line in HEAD]
    result = validate_x12(build(claim("PCN0001"), head=head), today=TODAY)
    assert ("hl_parent_unresolved", 14, "2000B", None) in issues(result)


def test_pyx12_errors_are_located_in_loop_and_claim() -> None:
    bad = claim("PCN0002", **{"SV1_HC:96365_250_UN": "SV1_HC:96365_250_XX"})
    result = validate_x12(build(claim("PCN0001"), bad), today=TODAY)
    sv103 = [i for i in result.errors if i.element == "SV103"]
    assert sv103 and sv103[0].code == "IK403-7" and sv103[0].source == "pyx12"
    assert (sv103[0].segment_id, sv103[0].loop, sv103[0].claim_id) == ("SV1", "2400", "PCN0002")
    assert "XX" in sv103[0].message  # a code may be shown


def test_pyx12_messages_carry_no_patient_text() -> None:
    head = [
        *HEAD[:4],
        "N3*1313 SECRET LANE~",  # not allowed in the header: pyx12 quotes the segment
        *[
            line.replace("NM1*IL*1*DOE*JANE", "NM1*IL*1*" + "VERYLONGSURNAME" * 5 + "*JANE")
            for line in HEAD[4:]
        ],
    ]
    result = validate_x12(build(claim("PCN0001"), head=head), today=TODAY)
    assert not result.valid
    text = " ".join(i.message for i in result.issues)
    assert "SECRET" not in text and "VERYLONGSURNAME" not in text
    assert any(i.segment_id == "N3" and i.code == "IK304-1" for i in result.errors)
    assert any(i.element == "NM103" for i in result.errors)


def test_x222a2_is_validated_with_the_a1_map_and_says_so() -> None:
    data = build(claim("PCN0001")).replace(b"005010X222A1", b"005010X222A2")
    result = validate_x12(data, today=TODAY)
    assert result.valid and result.guides == ("005010X222A2",)
    assert result.notes and "005010X222A1 map" in result.notes[0]


def test_a_file_with_no_isa_is_checked_as_far_as_possible() -> None:
    path = fixture("blue_cross_nc_sample.txt")
    result = validate_x12(path, today=TODAY)
    assert not result.pyx12_ran and not result.valid
    codes = {i.code for i in result.errors}
    assert {"no_isa", "se01_mismatch"} <= codes


def test_pyx12_crash_is_one_issue_and_the_rest_goes_on() -> None:
    path = fixture("files__sample_835.txt")
    result = validate_x12(path, today=TODAY)
    assert any(i.code == "pyx12_failed" for i in result.errors)
    assert len(result.errors) > 5


def test_unreadable_input_is_a_result_not_an_exception(tmp_path: Path) -> None:
    result = validate_x12(b"\x00\x01 not x12 at all", today=TODAY)
    assert not result.readable and not result.valid
    assert result.errors[0].code == "no_delimiters" or result.errors[0].code == "unreadable"
    missing = validate_x12(tmp_path / "nope.837", today=TODAY)
    assert not missing.readable


def test_validate_many_in_processes_matches_one_by_one() -> None:
    paths = [
        X12_FIXTURES / "example_837p.x12",
        fixture("x12_bad_valid_code.txt"),
        fixture("x12_999_rejected.txt"),
    ]
    alone = validate_many(paths, processes=1, today=TODAY)
    parallel = validate_many(paths, processes=2, today=TODAY)
    assert parallel == alone
    assert [r.valid for r in alone] == [True, False, True]


@pytest.mark.parametrize("name", ["example_837p.x12"])
def test_bytes_and_path_give_the_same_issues(name: str) -> None:
    path = X12_FIXTURES / name
    from_path = validate_x12(path, today=TODAY)
    from_bytes = validate_x12(path.read_bytes(), name=str(path), today=TODAY)
    assert from_path == from_bytes


def test_a_map_built_once_serves_every_later_file_with_the_same_findings() -> None:
    """pyx12's maps are cached per process; a warm map must judge as a cold one does,
    even after a file that crashed pyx12 or one validated with other code lists."""
    from edi_pipeline import validate

    files = [
        fixture("x12_bad_valid_code.txt"),
        fixture("files__sample_835.txt"),  # crashes pyx12 mid-walk
        X12_FIXTURES / "example_837p.x12",
        fixture("x12_bad_valid_code.txt"),
    ]
    validate._MAPS.clear()
    cold = validate_x12(files[0], today=TODAY)
    assert validate._MAPS, "the maps pyx12 loaded are kept"
    maps_after_first = dict(validate._MAPS)
    warm = [validate_x12(f, today=TODAY) for f in files]
    assert warm[0] == cold == warm[3] and not cold.valid
    assert any(i.code == "pyx12_failed" for i in warm[1].errors) and warm[2].valid
    assert all(validate._MAPS[k] is v for k, v in maps_after_first.items())
