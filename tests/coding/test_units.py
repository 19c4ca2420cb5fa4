"""units.md: every worked example (E1–E10) and the rules U2–U12, as table-driven cases."""

from __future__ import annotations

from datetime import date

import pytest

from edi_pipeline.coding import code
from edi_pipeline.coding.units import least_waste_opened, multi_dose, single_dose
from tests.coding.helpers import D, errors, lines, warnings
from tests.factories import make_coverage, make_drug, make_encounter, make_procedure


def iv(name: str, dose, vials, **extra):
    return make_drug(
        name, dose_mg=dose, vials=vials, start_time="09:00", stop_time="10:00", **extra
    )


def drug_view(coded):
    """(hcpcs, modifiers, units) of the drug and JW lines only."""
    return [
        (line.procedure, "-".join(line.modifiers), int(line.units))
        for line in lines(coded)
        if line.kind in ("drug", "drug_waste")
    ]


CASES = [
    # id, encounter drugs, expected drug lines
    (
        "E1 infliximab 375 mg from 4x100 mg: 38 + JW 2",
        [iv("infliximab", "375", ((100, 4),))],
        [("J1745", "", 38), ("J1745", "JW", 2)],
    ),
    (
        "E1 biosimilar infliximab-dyyb bills its Q-code",
        [iv("infliximab-dyyb", "375", ((100, 4),))],
        [("Q5103", "", 38), ("Q5103", "JW", 2)],
    ),
    (
        "E1 Noridian 350 mg from 4x100 mg: 35 + JW 5",
        [iv("Remicade", "350", ((100, 4),))],
        [("J1745", "", 35), ("J1745", "JW", 5)],
    ),
    (
        "E1 Noridian 400 mg from 4x100 mg: JZ x 40",
        [iv("infliximab", "400", ((100, 4),))],
        [("J1745", "JZ", 40)],
    ),
    (
        "E2 tocilizumab 700 mg from 400 + 4x80 mg: 700 + JW 20",
        [iv("tocilizumab", "700", ((400, 1), (80, 4)))],
        [("J3262", "", 700), ("J3262", "JW", 20)],
    ),
    (
        "E3 rituximab 1000 mg from 2x500 mg: JZ x 100",
        [iv("rituximab", "1000", ((500, 2),))],
        [("J9312", "JZ", 100)],
    ),
    (
        "E4 abatacept under 60 kg: 500 mg from 2x250 mg, JZ x 50",
        [iv("abatacept", "500", ((250, 2),))],
        [("J0129", "JZ", 50)],
    ),
    (
        "E4 abatacept 60-100 kg: 750 mg from 3x250 mg, JZ x 75",
        [iv("Orencia", "750", ((250, 3),))],
        [("J0129", "JZ", 75)],
    ),
    (
        "E4 abatacept over 100 kg: 1000 mg from 4x250 mg, JZ x 100",
        [iv("abatacept", "1000", ((250, 4),))],
        [("J0129", "JZ", 100)],
    ),
    (
        "E8 methylprednisolone 1000 mg IV pulse from a 1 g vial: J2930 x 8",
        [iv("Solu-Medrol", "1000", ((1000, 1),))],
        [("J2930", "JZ", 8)],
    ),
    (
        "E8 methylprednisolone 100 mg from a 125 mg vial: J2930 x 1, no JW (U4)",
        [iv("methylprednisolone", "100", ((125, 1),))],
        [("J2930", "JZ", 1)],
    ),
    (
        "E10 methylprednisolone 40 mg from a 40 mg vial: J2920 JZ x 1 (exact descriptor)",
        [iv("methylprednisolone", "40", ((40, 1),))],
        [("J2920", "JZ", 1)],
    ),
    (
        "E9 Prolia 60 mg SC: J0897 JZ x 60",
        [make_drug("Prolia", route="SC", dose_mg=60, vials=((60, 1),))],
        [("J0897", "JZ", 60)],
    ),
    (
        "U12 dose under one unit from a one-unit vial: 1 unit JZ, never a fraction",
        [iv("methylprednisolone", "20", ((40, 1),))],
        [("J2920", "JZ", 1)],
    ),
    (
        "U8 multiple-dose vial: administered only, no JW/JZ",
        [make_drug("Kenalog-40", route="IM", dose_mg=60, ndc="0003-0293-20")],
        [("J3301", "", 6)],
    ),
]


@pytest.mark.parametrize(("drugs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_units_worked_examples(maps, drugs, expected):
    coded = code(make_encounter(drugs=tuple(drugs)), maps)
    assert errors(coded) == []
    assert drug_view(coded) == expected


JOINT_CASES = [
    (
        "E5 Synvisc-One 48 mg one knee: J7325 JZ x 48 + 20610-RT",
        make_procedure(
            "knee",
            side="right",
            drugs=(
                make_drug("Synvisc-One", route="INTRA_ARTICULAR", dose_mg=48, vials=((48, 1),)),
            ),
        ),
        [("20610", "RT", 1), ("J7325", "JZ", 48)],
    ),
    (
        "E5 Synvisc-One both knees: 96 units, bilateral per payer",
        make_procedure(
            "knee",
            side="bilateral",
            drugs=(
                make_drug("Synvisc-One", route="INTRA_ARTICULAR", dose_mg=96, vials=((48, 2),)),
            ),
        ),
        [("20610", "50", 1), ("J7325", "JZ", 96)],
    ),
    (
        "E6 Kenalog-40 40 mg into knee, single-dose 1 mL NDC: J3301 JZ x 4",
        make_procedure(
            "knee",
            drugs=(
                make_drug(
                    "Kenalog-40",
                    route="INTRA_ARTICULAR",
                    dose_mg=40,
                    vials=((40, 1),),
                    ndc="0003-0293-05",
                ),
            ),
        ),
        [("20610", "RT", 1), ("J3301", "JZ", 4)],
    ),
    (
        "E6 Kenalog-40 40 mg into knee from the 5 mL multiple-dose vial: J3301 x 4, no JW/JZ",
        make_procedure(
            "knee",
            drugs=(
                make_drug("Kenalog-40", route="INTRA_ARTICULAR", dose_mg=40, ndc="0003-0293-20"),
            ),
        ),
        [("20610", "RT", 1), ("J3301", "", 4)],
    ),
    (
        "E6a Depo-Medrol 40 mg single-dose 1 mL vial: J1010 JZ x 40",
        make_procedure(
            "knee",
            drugs=(
                make_drug(
                    "Depo-Medrol",
                    route="INTRA_ARTICULAR",
                    dose_mg=40,
                    vials=((40, 1),),
                    multi_dose_vial=False,
                ),
            ),
        ),
        [("20610", "RT", 1), ("J1010", "JZ", 40)],
    ),
    (
        "E6a Depo-Medrol 40 mg from a multiple-dose vial: J1010 x 40, no JW/JZ",
        make_procedure(
            "knee",
            drugs=(
                make_drug("Depo-Medrol", route="INTRA_ARTICULAR", dose_mg=40, multi_dose_vial=True),
            ),
        ),
        [("20610", "RT", 1), ("J1010", "", 40)],
    ),
    (
        "E7 Zilretta 32 mg kit: J3304 JZ x 32",
        make_procedure(
            "knee",
            drugs=(make_drug("Zilretta", route="INTRA_ARTICULAR", dose_mg=32, vials=((32, 1),)),),
        ),
        [("20610", "RT", 1), ("J3304", "JZ", 32)],
    ),
]


@pytest.mark.parametrize(
    ("procedure", "expected"), [c[1:] for c in JOINT_CASES], ids=[c[0] for c in JOINT_CASES]
)
def test_units_worked_examples_in_joints(maps, procedure, expected):
    coded = code(make_encounter(procedures=(procedure,)), maps)
    assert errors(coded) == []
    view = [
        (line.procedure, "-".join(line.modifiers), int(line.units)) for line in coded.claim.lines
    ]
    assert view == expected


def test_e2_eight_hundred_mg_from_two_400_mg_vials_is_not_least_waste(maps):
    coded = code(make_encounter(drugs=(iv("tocilizumab", "700", ((400, 2),)),)), maps)
    assert drug_view(coded) == [("J3262", "", 700), ("J3262", "JW", 100)]
    assert "coding_vials_not_least_waste" in warnings(coded)


def test_u6_least_waste_choice_gives_no_warning(maps):
    coded = code(make_encounter(drugs=(iv("tocilizumab", "700", ((400, 1), (80, 4))),)), maps)
    assert "coding_vials_not_least_waste" not in warnings(coded)


def test_u13_code_is_the_one_effective_on_the_date_of_service(maps):
    before = make_encounter(
        date_of_service=date(2024, 3, 1),
        procedures=(
            make_procedure(
                "knee",
                drugs=(
                    make_drug(
                        "Depo-Medrol", route="INTRA_ARTICULAR", dose_mg=40, multi_dose_vial=True
                    ),
                ),
            ),
        ),
    )
    assert [line.procedure for line in lines(code(before, maps), "drug")] == ["J1030"]


def test_u7_jz_only_from_2023_07_01_on_medicare(maps):
    drug = iv("rituximab", "1000", ((500, 2),))
    early = code(make_encounter(date_of_service=date(2023, 6, 30), drugs=(drug,)), maps)
    late = code(make_encounter(date_of_service=date(2023, 7, 1), drugs=(drug,)), maps)
    assert drug_view(early) == [("J9312", "", 100)]
    assert drug_view(late) == [("J9312", "JZ", 100)]


def test_u7_no_jz_where_the_payer_map_does_not_require_it(maps):
    coded = code(
        make_encounter(
            coverage=make_coverage("medicaid"),
            drugs=(iv("Riabni", "1000", ((500, 2),), ndc="55513-326-01"),),
        ),
        maps,
    )
    assert drug_view(coded) == [("Q5123", "", 100)]


def test_white_bagged_drug_gets_administration_only(maps):
    coded = code(
        make_encounter(drugs=(iv("infliximab", "375", ((100, 4),), supplied_by="pharmacy"),)), maps
    )
    assert [line.kind for line in coded.claim.lines] == ["administration"]
    assert any("white-bagged" in note for note in coded.claim.notes)


def test_discarded_mg_stands_in_for_vials(maps):
    coded = code(
        make_encounter(
            drugs=(
                make_drug(
                    "infliximab",
                    dose_mg=375,
                    discarded_mg=25,
                    start_time="09:00",
                    stop_time="10:00",
                ),
            )
        ),
        maps,
    )
    assert drug_view(coded) == [("J1745", "", 38), ("J1745", "JW", 2)]


@pytest.mark.parametrize(
    ("dose", "opened", "unit", "up_to", "expected"),
    [
        ("375", "400", "10", False, (38, 2)),
        ("350", "400", "10", False, (35, 5)),
        ("400", "400", "10", False, (40, 0)),
        ("70", "100", "100", False, (1, 0)),  # U4: unit >= dose + discard
        ("375", "375", "10", False, (37, 0)),  # capped at the labeled content (U5)
        ("130", "165", "125", True, (2, 0)),  # "up to" units round up on both sides
        ("1000", "1000", "125", True, (8, 0)),
    ],
)
def test_single_dose_arithmetic(dose, opened, unit, up_to, expected):
    units = single_dose(D(dose), D(opened), D(unit), up_to=up_to)
    assert (int(units.administered), int(units.waste)) == expected


def test_multi_dose_arithmetic():
    assert multi_dose(D("45"), D("10")).administered == 5
    assert multi_dose(D("45"), D("10")).waste == 0


def test_least_waste_opened():
    assert least_waste_opened([D(80), D(200), D(400)], D(700)) == D(720)
    assert least_waste_opened([D(100)], D(375)) == D(400)
    assert least_waste_opened([D(100), D(500)], D(1000)) == D(1000)
    assert least_waste_opened([D("16.8")], D("16.8")) == D("16.8")
    assert least_waste_opened([], D(1)) is None


def test_per_dose_product_bills_one_unit_per_dose(maps):
    one = make_drug("Euflexxa", route="INTRA_ARTICULAR", dose_mg=20, vials=((20, 1),))
    two = make_drug("Euflexxa", route="INTRA_ARTICULAR", dose_mg=40, vials=((20, 2),))
    knee = code(make_encounter(procedures=(make_procedure("knee", drugs=(one,)),)), maps)
    both = code(
        make_encounter(procedures=(make_procedure("knee", side="bilateral", drugs=(two,)),)), maps
    )
    assert drug_view(knee) == [("J7323", "JZ", 1)]
    assert drug_view(both) == [("J7323", "JZ", 2)]
