"""ndc.md: 10 → 11-digit conversion (s1) and NDC quantity vs HCPCS units (s3), per example."""

from __future__ import annotations

import pytest

from edi_pipeline.coding import code
from edi_pipeline.coding.ndc import to_11
from tests.coding.helpers import D, errors, lines, warnings
from tests.factories import make_coverage, make_drug, make_encounter

CONVERSIONS = [
    ("4-4-2 Inflectra 100 mg vial", "0069-0809-01", "00069080901"),
    ("4-4-2 Orencia 250 mg vial", "0003-2187-13", "00003218713"),
    ("5-3-2 Riabni 500 mg/50 mL", "55513-326-01", "55513032601"),
    ("5-3-2 Janssen unbranded infliximab", "57894-160-01", "57894016001"),
    ("5-4-1 format example", "69438-0005-1", "69438000501"),
    ("11 digits as is", "57894003001", "57894003001"),
]


@pytest.mark.parametrize(
    ("printed", "expected"), [c[1:] for c in CONVERSIONS], ids=[c[0] for c in CONVERSIONS]
)
def test_10_to_11_digit(maps, printed, expected):
    assert to_11(printed, maps.drugs) == (expected, None)


def test_unhyphenated_10_digits_is_resolved_only_through_a_known_package(maps):
    assert to_11("5551332601", maps.drugs) == ("55513032601", None)  # only 5-3-2 is a package
    ndc11, why = to_11("1234567890", maps.drugs)
    assert ndc11 is None and "ambiguous" in why


def iv(name, dose, vials, ndc, **extra):
    return make_drug(
        name, dose_mg=dose, vials=vials, ndc=ndc, start_time="09:00", stop_time="10:00", **extra
    )


def ndc_view(coded):
    return [
        (
            line.procedure,
            "-".join(line.modifiers),
            int(line.units),
            line.ndc,
            line.ndc_unit,
            line.ndc_quantity,
        )
        for line in lines(coded)
        if line.kind in ("drug", "drug_waste")
    ]


def test_s3_infliximab_400_mg_four_vials_is_un_4(maps):
    coded = code(make_encounter(drugs=(iv("Remicade", 400, ((100, 4),), "57894-030-01"),)), maps)
    assert ndc_view(coded) == [("J1745", "JZ", 40, "57894003001", "UN", D(4))]


def test_s3_rituximab_1000_mg_is_ml_100(maps):
    coded = code(make_encounter(drugs=(iv("Riabni", 1000, ((500, 2),), "55513-326-01"),)), maps)
    assert ndc_view(coded) == [("Q5123", "JZ", 100, "55513032601", "ML", D(100))]


def test_s3_tocilizumab_720_mg_two_ndcs_split_lines(maps):
    """ml 20 on the 400 mg-vial NDC and ML 16 on the 80 mg-vial NDC (JW on the wasted vial's)."""
    coded = code(
        make_encounter(drugs=(iv("Actemra", 700, ((400, 1), (80, 4)), "50242-137-01"),)), maps
    )
    assert ndc_view(coded) == [
        ("J3262", "", 400, "50242013701", "ML", D(20)),
        ("J3262", "", 300, "50242013501", "ML", D(15)),
        ("J3262", "JW", 20, "50242013501", "ML", D(1)),
    ]
    per_ndc: dict[str, D] = {}
    for _, _, _, ndc, _, qty in ndc_view(coded):
        per_ndc[ndc] = per_ndc.get(ndc, D(0)) + qty
    assert per_ndc == {"50242013701": D(20), "50242013501": D(16)}


def test_ndc_on_the_drug_line_and_its_jw_line(maps):
    coded = code(make_encounter(drugs=(iv("Remicade", 375, ((100, 4),), "57894-0030-01"),)), maps)
    assert ndc_view(coded) == [
        ("J1745", "", 38, "57894003001", "UN", D("3.75")),
        ("J1745", "JW", 2, "57894003001", "UN", D("0.25")),
    ]
    waste = lines(coded, "drug_waste")[0]
    assert waste.note == "25 MG DISCARDED"


def test_multi_dose_ndc_quantity_is_what_was_drawn(maps):
    coded = code(
        make_encounter(
            drugs=(make_drug("Kenalog-40", route="IM", dose_mg=40, ndc="0003-0293-28"),)
        ),
        maps,
    )
    assert ndc_view(coded) == [("J3301", "", 4, "00003029328", "ML", D(1))]


def test_s4_medicaid_requires_the_ndc_a_line_without_it_is_flagged(maps):
    """Coding bills the line and warns; holding the claim is payer policy (scrub, category ndc)."""
    drug = iv("Remicade", 400, ((100, 4),), None)
    coded = code(make_encounter(coverage=make_coverage("medicaid"), drugs=(drug,)), maps)
    assert errors(coded) == []
    assert [(p.code, p.where.field) for p in coded.problems] == [
        ("coding_ndc_missing", "drugs[0].ndc")
    ]
    assert ndc_view(coded) == [("J1745", "", 40, None, None, None)]


def test_s4_medicare_without_ndc_bills_without_lin(maps):
    coded = code(make_encounter(drugs=(iv("Remicade", 400, ((100, 4),), None),)), maps)
    assert ndc_view(coded) == [("J1745", "JZ", 40, None, None, None)]
    assert coded.problems == ()


def test_unknown_package_is_never_given_a_guessed_quantity(maps):
    drug = iv("rituximab", 1000, ((500, 2),), "50242-0053-06")
    for payer in ("aetna", "medicare"):
        coded = code(make_encounter(coverage=make_coverage(payer), drugs=(drug,)), maps)
        assert "coding_ndc_package_unknown" in warnings(coded)
        assert all(line.ndc is None for line in lines(coded, "drug"))


def test_vial_size_without_a_known_sibling_package_drops_the_ndc(maps):
    drug = iv("Actemra", 700, ((400, 1), (100, 3)), "50242-137-01")
    coded = code(make_encounter(drugs=(drug,)), maps)
    assert "coding_ndc_package_unknown" in warnings(coded)
    assert all(line.ndc is None for line in coded.claim.lines)


def test_ndc_of_another_product_names_both(maps):
    coded = code(make_encounter(drugs=(iv("infliximab", 400, ((100, 4),), "0069-0809-01"),)), maps)
    assert errors(coded) == [("coding_ndc_product_mismatch", "drugs[0].ndc")]
    message = coded.problems[0].message
    assert "Q5103" in message and "J1745" in message


def test_package_settles_the_product_of_a_brand_shared_name(maps):
    drug = iv("infliximab-dyyb", 400, ((100, 4),), "0069-0809-01")
    assert [
        line.procedure for line in lines(code(make_encounter(drugs=(drug,)), maps), "drug")
    ] == ["Q5103"]
