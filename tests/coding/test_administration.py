"""administration.md: worked examples W1–W6, the time table (s3), hydration and pushes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edi_pipeline.coding import code
from edi_pipeline.maps import Maps
from tests.coding.helpers import admin_codes, brief, errors, lines
from tests.factories import make_drug, make_encounter, make_visit


def complex_payer(maps, key: str = "medicare") -> Maps:
    """The same maps with one payer allowing complex administration (as a payer map may say)."""
    payers = dict(maps.payers)
    payers[key] = replace(payers[key], complex_administration=True)
    return Maps(maps.root, {**maps._tables, "payers": payers})


def infliximab_3h():
    return make_drug(
        "infliximab", dose_mg=375, vials=((100, 4),), start_time="09:30", stop_time="12:30"
    )


def methylpred_premed():
    return make_drug(
        "methylprednisolone", dose_mg=100, vials=((125, 1),), start_time="09:00", stop_time="09:30"
    )


def rituximab_255():
    return make_drug(
        "rituximab", dose_mg=1000, vials=((500, 2),), start_time="10:00", stop_time="14:15"
    )


def pushes():
    return (
        make_drug(
            "diphenhydramine",
            route="IV_PUSH",
            dose_mg=50,
            multi_dose_vial=False,
            vials=((50, 1),),
            start_time="09:40",
        ),
        make_drug(
            "methylprednisolone",
            route="IV_PUSH",
            dose_mg=100,
            vials=((125, 1),),
            start_time="09:45",
        ),
    )


def test_w1_seed_infliximab_3h_with_methylprednisolone_premed(maps):
    coded = code(make_encounter(drugs=(methylpred_premed(), infliximab_3h())), maps)
    assert admin_codes(coded) == [("96365", 1), ("96366", 2), ("96367", 1)]
    assert coded.claim.lines[0].procedure == "96365"  # initial listed first (seed errata E7)
    drugs = [
        (line.procedure, line.modifiers, int(line.units))
        for line in lines(coded)
        if line.kind != "administration"
    ]
    assert drugs == [("J1745", (), 38), ("J1745", ("JW",), 2), ("J2930", ("JZ",), 1)]


def test_w1b_complex_administration_where_the_payer_allows_it(maps):
    coded = code(make_encounter(drugs=(methylpred_premed(), infliximab_3h())), complex_payer(maps))
    assert admin_codes(coded) == [("96413", 1), ("96415", 2), ("96367", 1)]


def test_w2_rituximab_255_min_and_two_pushes_complex(maps):
    coded = code(make_encounter(drugs=(rituximab_255(), *pushes())), complex_payer(maps))
    assert admin_codes(coded) == [("96413", 1), ("96415", 3), ("96375", 2)]
    drug_lines = [
        (line.procedure, "-".join(line.modifiers), int(line.units))
        for line in lines(coded)
        if line.kind == "drug"
    ]
    assert ("J9312", "JZ", 100) in drug_lines
    assert {d[0] for d in drug_lines} == {"J9312", "J1200", "J2930"}


def test_w2_rituximab_255_min_and_two_pushes_non_complex(maps):
    coded = code(make_encounter(drugs=(rituximab_255(), *pushes())), maps)
    assert admin_codes(coded) == [("96365", 1), ("96366", 3), ("96375", 2)]


def test_w3_tocilizumab_60_min(maps):
    drug = make_drug(
        "tocilizumab", dose_mg=400, vials=((400, 1),), start_time="10:00", stop_time="11:00"
    )
    assert admin_codes(code(make_encounter(drugs=(drug,)), maps)) == [("96365", 1)]
    assert admin_codes(code(make_encounter(drugs=(drug,)), complex_payer(maps))) == [("96413", 1)]


def test_w4_prolia_sc(maps):
    coded = code(
        make_encounter(drugs=(make_drug("Prolia", route="SC", dose_mg=60, vials=((60, 1),)),)), maps
    )
    assert brief(coded) == [("96372", "", 1), ("J0897", "JZ", 60)]


def test_w5_saline_used_to_run_the_drug_is_not_hydration(maps):
    saline = make_drug("normal saline", dose_mg=1, start_time="09:00", stop_time="09:20")
    abatacept = make_drug(
        "abatacept", dose_mg=750, vials=((250, 3),), start_time="09:00", stop_time="09:30"
    )
    coded = code(make_encounter(drugs=(saline, abatacept)), maps)
    assert admin_codes(coded) == [("96365", 1)]
    assert all(line.procedure != "J7050" for line in coded.claim.lines)
    assert any("incidental hydration" in note for note in coded.claim.notes)


def test_w6_abatacept_30_min(maps):
    drug = make_drug(
        "abatacept", dose_mg=750, vials=((250, 3),), start_time="09:00", stop_time="09:30"
    )
    assert admin_codes(code(make_encounter(drugs=(drug,)), maps)) == [("96365", 1)]


TIME_TABLE = [
    (10, [("96374", 1)]),
    (15, [("96374", 1)]),
    (16, [("96365", 1)]),
    (75, [("96365", 1)]),
    (90, [("96365", 1)]),
    (91, [("96365", 1), ("96366", 1)]),
    (105, [("96365", 1), ("96366", 1)]),
    (150, [("96365", 1), ("96366", 1)]),
    (151, [("96365", 1), ("96366", 2)]),
    (210, [("96365", 1), ("96366", 2)]),
    (211, [("96365", 1), ("96366", 3)]),
]


@pytest.mark.parametrize(
    ("minutes", "expected"), TIME_TABLE, ids=[f"s3 {m} min" for m, _ in TIME_TABLE]
)
def test_time_to_units_table(maps, minutes, expected):
    stop = f"{8 + (minutes // 60):02d}:{minutes % 60:02d}"
    drug = make_drug(
        "infliximab", dose_mg=400, vials=((100, 4),), start_time="08:00", stop_time=stop
    )
    assert admin_codes(code(make_encounter(drugs=(drug,)), maps)) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(30, []), (31, [("96360", 1)]), (90, [("96360", 1)]), (91, [("96360", 1), ("96361", 1)])],
    ids=["hydration 30 min", "hydration 31 min", "hydration 90 min", "hydration 91 min"],
)
def test_hydration_alone(maps, minutes, expected):
    stop = f"{8 + (minutes // 60):02d}:{minutes % 60:02d}"
    saline = make_drug("normal saline", dose_mg=1, start_time="08:00", stop_time=stop)
    visit = make_visit("99213")
    coded = code(make_encounter(drugs=(saline,), visit=visit), maps)
    assert admin_codes(coded) == expected


def test_concurrent_infusion_once(maps):
    a = make_drug(
        "infliximab", dose_mg=400, vials=((100, 4),), start_time="09:00", stop_time="11:00"
    )
    b = make_drug(
        "methylprednisolone", dose_mg=125, vials=((125, 1),), start_time="09:30", stop_time="10:00"
    )
    assert admin_codes(code(make_encounter(drugs=(a, b)), maps)) == [
        ("96365", 1),
        ("96366", 1),
        ("96368", 1),
    ]


def test_initial_is_the_primary_reason_not_the_first_by_clock(maps):
    push = make_drug(
        "diphenhydramine",
        route="IV_PUSH",
        dose_mg=50,
        multi_dose_vial=False,
        vials=((50, 1),),
        start_time="08:00",
    )
    infusion = make_drug(
        "tocilizumab", dose_mg=400, vials=((400, 1),), start_time="08:30", stop_time="09:30"
    )
    assert admin_codes(code(make_encounter(drugs=(push, infusion)), maps)) == [
        ("96365", 1),
        ("96375", 1),
    ]


def test_repeat_push_of_the_same_drug_is_not_reported(maps):
    first = make_drug(
        "diphenhydramine", route="IV_PUSH", dose_mg=25, multi_dose_vial=True, start_time="08:00"
    )
    again = make_drug(
        "diphenhydramine", route="IV_PUSH", dose_mg=25, multi_dose_vial=True, start_time="09:00"
    )
    coded = code(make_encounter(drugs=(first, again)), maps)
    assert admin_codes(coded) == [("96374", 1)]
    assert errors(coded) == []


def test_sequential_infusion_longer_than_90_min_adds_hours(maps):
    a = make_drug(
        "rituximab", dose_mg=1000, vials=((500, 2),), start_time="08:00", stop_time="12:00"
    )
    b = make_drug(
        "methylprednisolone", dose_mg=125, vials=((125, 1),), start_time="12:00", stop_time="13:45"
    )
    # one 96366 line: 3 hours of rituximab after its first + 1 hour of methylprednisolone
    assert admin_codes(code(make_encounter(drugs=(a, b)), maps)) == [
        ("96365", 1),
        ("96366", 4),
        ("96367", 1),
    ]
