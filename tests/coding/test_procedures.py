"""procedures.md: arthrocentesis codes by size class (s1), P1–P8, and the joint's drug lines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edi_pipeline.coding import code
from edi_pipeline.maps import Maps
from tests.coding.helpers import brief, errors, warnings
from tests.factories import make_coverage, make_drug, make_encounter, make_procedure

SIZE_TABLE = [
    ("small joint without guidance", "mcp", "none", [("20600", "RT", 1)]),
    ("small joint with ultrasound", "pip", "ultrasound", [("20604", "RT", 1)]),
    ("intermediate joint without guidance", "wrist", "none", [("20605", "RT", 1)]),
    ("intermediate joint with ultrasound", "elbow", "ultrasound", [("20606", "RT", 1)]),
    ("major joint without guidance", "shoulder", "none", [("20610", "RT", 1)]),
    ("major joint with ultrasound", "knee", "ultrasound", [("20611", "RT", 1)]),
    ("P2 fluoroscopy major joint", "hip", "fluoroscopy", [("20610", "RT", 1), ("77002", "", 1)]),
    (
        "P2 fluoroscopy intermediate joint",
        "ankle",
        "fluoroscopy",
        [("20605", "RT", 1), ("77002", "", 1)],
    ),
    ("subacromial bursa is major", "subacromial_bursa", "none", [("20610", "RT", 1)]),
    ("olecranon bursa is intermediate", "olecranon_bursa", "none", [("20605", "RT", 1)]),
]


@pytest.mark.parametrize(
    ("joint", "guidance", "expected"), [c[1:] for c in SIZE_TABLE], ids=[c[0] for c in SIZE_TABLE]
)
def test_codes_by_size_class_and_guidance(maps, joint, guidance, expected):
    coded = code(make_encounter(procedures=(make_procedure(joint, guidance=guidance),)), maps)
    assert brief(coded) == expected


def test_p1_never_76942_with_ultrasound_guided_codes(maps):
    for joint in ("mcp", "wrist", "knee"):
        coded = code(
            make_encounter(procedures=(make_procedure(joint, guidance="ultrasound"),)), maps
        )
        assert "76942" not in {line.procedure for line in coded.claim.lines}


def test_p3_aspiration_and_injection_of_the_same_knee_is_one_unit(maps):
    procs = (make_procedure("knee", kind="aspiration"), make_procedure("knee", kind="injection"))
    coded = code(make_encounter(procedures=procs), maps)
    assert brief(coded) == [("20610", "RT", 1)]
    assert any("one unit per joint" in note for note in coded.claim.notes)


@pytest.mark.parametrize(
    ("payer", "expected"),
    [
        ("medicare", [("20610", "50", 1)]),
        ("medicaid", [("20610", "50", 1)]),
        ("aetna", [("20610", "RT", 1), ("20610", "LT", 1)]),
        ("bcbs", [("20610", "RT", 1), ("20610", "LT", 1)]),
    ],
    ids=["P5 Medicare modifier 50", "P5 Medicaid modifier 50", "P5 Aetna RT+LT", "P5 BCBS RT+LT"],
)
def test_p5_bilateral_per_payer_convention(maps, payer, expected):
    coded = code(
        make_encounter(
            coverage=make_coverage(payer), procedures=(make_procedure("knee", side="bilateral"),)
        ),
        maps,
    )
    assert brief(coded) == expected


def test_p5_bilateral_charge_is_for_both_sides(maps):
    medicare = code(make_encounter(procedures=(make_procedure("knee", side="bilateral"),)), maps)
    aetna = code(
        make_encounter(
            coverage=make_coverage("aetna"), procedures=(make_procedure("knee", side="bilateral"),)
        ),
        maps,
    )
    assert medicare.claim.total_charge == aetna.claim.total_charge


def test_p5_left_knee_is_lt(maps):
    coded = code(make_encounter(procedures=(make_procedure("knee", side="left"),)), maps)
    assert brief(coded) == [("20610", "LT", 1)]


@pytest.mark.parametrize(
    ("payer", "modifier"), [("medicare", "XS"), ("uhc", "59")], ids=["P6 Medicare XS", "P6 UHC 59"]
)
def test_p6_second_joint_gets_the_distinct_site_modifier(maps, payer, modifier):
    procs = (make_procedure("knee", side="right"), make_procedure("wrist", side="left"))
    coded = code(make_encounter(coverage=make_coverage(payer), procedures=procs), maps)
    assert brief(coded) == [("20610", "RT", 1), ("20605", f"LT-{modifier}", 1)]


def test_p7_steroid_billed_on_its_own_line(maps):
    drug = make_drug(
        "triamcinolone", route="INTRA_ARTICULAR", dose_mg=40, ndc="0003-0293-05", vials=((40, 1),)
    )
    coded = code(
        make_encounter(procedures=(make_procedure("shoulder", side="left", drugs=(drug,)),)), maps
    )
    assert brief(coded) == [("20610", "LT", 1), ("J3301", "JZ", 4)]


def test_drug_laterality_where_the_payer_wants_it(maps):
    payers = dict(maps.payers)
    payers["medicare"] = replace(payers["medicare"], drug_laterality=True)
    lateral = Maps(maps.root, {**maps._tables, "payers": payers})
    drug = make_drug("Synvisc-One", route="INTRA_ARTICULAR", dose_mg=48, vials=((48, 1),))
    coded = code(
        make_encounter(procedures=(make_procedure("knee", side="left", drugs=(drug,)),)), lateral
    )
    assert brief(coded) == [("20610", "LT", 1), ("J7325", "LT-JZ", 48)]


DIGITS = [
    ("P8 left thumb FA", "mcp", "left", "FA"),
    ("P8 left index F1", "pip", "left", "F1"),
    ("P8 right thumb F5", "mcp", "right", "F5"),
    ("P8 right little finger F9", "dip", "right", "F9"),
    ("P8 left great toe TA", "mtp", "left", "TA"),
    ("P8 right great toe T5", "mtp", "right", "T5"),
]


@pytest.mark.parametrize(
    ("joint", "side", "digit"), [c[1:] for c in DIGITS], ids=[c[0] for c in DIGITS]
)
def test_p8_digit_modifiers(maps, joint, side, digit):
    coded = code(make_encounter(procedures=(make_procedure(joint, side=side, digit=digit),)), maps)
    assert brief(coded) == [("20600", digit, 1)]


@pytest.mark.parametrize(
    ("joint", "side", "digit"),
    [("mcp", "right", "FA"), ("mtp", "left", "F1"), ("knee", "left", "F1"), ("mcp", "left", "Z9")],
    ids=[
        "thumb on the wrong side",
        "finger modifier on a toe",
        "digit on a knee",
        "unknown modifier",
    ],
)
def test_p8_digit_that_contradicts_the_joint_or_side(maps, joint, side, digit):
    coded = code(make_encounter(procedures=(make_procedure(joint, side=side, digit=digit),)), maps)
    assert errors(coded) == [("coding_digit_mismatch", "procedures[0].digit")]


def test_p8_finger_without_digit_warns(maps):
    coded = code(make_encounter(procedures=(make_procedure("pip", side="left"),)), maps)
    assert brief(coded) == [("20600", "LT", 1)]
    assert "coding_digit_missing" in warnings(coded)


def test_lateral_joint_without_side_is_not_guessed(maps):
    coded = code(make_encounter(procedures=(make_procedure("knee", side="none"),)), maps)
    assert errors(coded) == [("coding_side_missing", "procedures[0].side")]
