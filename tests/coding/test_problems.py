"""What cannot be coded with certainty is held, never guessed: coding_* problems name the field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from edi_pipeline.coding import code
from edi_pipeline.maps import Maps
from edi_pipeline.maps.drugs import Drugs
from tests.coding.helpers import errors
from tests.factories import make_coverage, make_drug, make_encounter, make_procedure, make_visit

CASES = [
    (
        "IV drug with no stop time",
        dict(drugs=(make_drug("infliximab", dose_mg=400, vials=((100, 4),), start_time="09:00"),)),
        [("coding_missing_time", "drugs[0].stop_time")],
    ),
    (
        "IV drug stopping before it starts",
        dict(
            drugs=(
                make_drug(
                    "infliximab",
                    dose_mg=400,
                    vials=((100, 4),),
                    start_time="10:00",
                    stop_time="09:00",
                ),
            )
        ),
        [("coding_time_order", "drugs[0].stop_time")],
    ),
    (
        "joint with no size class",
        dict(procedures=(make_procedure("spleen"),)),
        [("coding_joint_unknown", "procedures[0].joint")],
    ),
    (
        "dose the opened vials cannot hold",
        dict(
            drugs=(
                make_drug(
                    "infliximab",
                    dose_mg=450,
                    vials=((100, 4),),
                    start_time="09:00",
                    stop_time="11:00",
                ),
            )
        ),
        [("coding_dose_exceeds_vials", "drugs[0].vials")],
    ),
    (
        "single-dose drug with neither vials nor discarded amount",
        dict(drugs=(make_drug("infliximab", dose_mg=400, start_time="09:00", stop_time="11:00"),)),
        [("coding_vials_missing", "drugs[0].vials")],
    ),
    (
        "unknown drug",
        dict(drugs=(make_drug("unobtainium", dose_mg=1, start_time="09:00", stop_time="11:00"),)),
        [("coding_drug_unknown", "drugs[0].drug")],
    ),
    (
        "drug by a route it is not given by",
        dict(drugs=(make_drug("infliximab", route="SC", dose_mg=100, vials=((100, 1),)),)),
        [("coding_route_mismatch", "drugs[0].route")],
    ),
    (
        "biosimilar before its code existed",
        dict(
            date_of_service=date(2024, 1, 2),
            drugs=(
                make_drug(
                    "Tofidence",
                    dose_mg=400,
                    vials=((400, 1),),
                    start_time="09:00",
                    stop_time="10:00",
                ),
            ),
        ),
        [("coding_hcpcs_not_effective", "drugs[0].drug")],
    ),
    (
        "methylprednisolone IM: succinate or acetate?",
        dict(drugs=(make_drug("methylprednisolone", route="IM", dose_mg=40, vials=((40, 1),)),)),
        [("coding_drug_ambiguous", "drugs[0].drug")],
    ),
    (
        "Kenalog without NDC or container",
        dict(drugs=(make_drug("Kenalog-40", route="IM", dose_mg=40),)),
        [("coding_container_unknown", "drugs[0].multi_dose_vial")],
    ),
    (
        "multi_dose_vial contradicting the known package",
        dict(
            drugs=(
                make_drug(
                    "Kenalog-40", route="IM", dose_mg=40, ndc="0003-0293-20", multi_dose_vial=False
                ),
            )
        ),
        [("coding_container_conflict", "drugs[0].multi_dose_vial")],
    ),
    (
        "hcpcs cross-check disagreeing",
        dict(
            drugs=(
                make_drug(
                    "Inflectra",
                    hcpcs="J1745",
                    dose_mg=400,
                    vials=((100, 4),),
                    start_time="09:00",
                    stop_time="11:00",
                ),
            )
        ),
        [("coding_hcpcs_mismatch", "drugs[0].hcpcs")],
    ),
    (
        "malformed NDC",
        dict(
            drugs=(
                make_drug(
                    "infliximab",
                    ndc="57894-30",
                    dose_mg=400,
                    vials=((100, 4),),
                    start_time="09:00",
                    stop_time="11:00",
                ),
            )
        ),
        [("coding_ndc_format", "drugs[0].ndc")],
    ),
    (
        "unknown place of service",
        dict(place_of_service="99", visit=make_visit()),
        [("coding_place_of_service", "place_of_service")],
    ),
    (
        "E/M code that is not one",
        dict(visit=make_visit("12345")),
        [("coding_em_code", "visit.em_code")],
    ),
    (
        "lab without a fee",
        dict(labs=(__import__("edi_pipeline.models", fromlist=["Lab"]).Lab("87999"),)),
        [("coding_fee_missing", "labs[0]")],
    ),
    ("nothing billable", dict(), [("coding_nothing_billable", "encounter")]),
]


@pytest.mark.parametrize(
    ("overrides", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_not_coded_with_certainty(maps, overrides, expected):
    coded = code(make_encounter(**overrides), maps)
    assert coded.claim is None
    assert errors(coded) == expected
    for problem in coded.problems:
        assert problem.code.startswith("coding_")
        assert problem.where.encounter_id == "E1001"
        assert problem.where.file == "test.json"


def test_unknown_payer_names_the_field(maps):
    coded = code(make_encounter(coverage=make_coverage("acme")), maps)
    assert errors(coded) == [("coding_payer_unknown", "coverage.payer_id")]


def test_unknown_container_is_coded_where_both_kinds_bill_the_same(maps):
    push = make_drug(
        "diphenhydramine", route="IV_PUSH", dose_mg=50, vials=((50, 1),), start_time="08:26"
    )
    uhc = code(make_encounter(coverage=make_coverage("uhc"), drugs=(push,)), maps)
    assert [(line.procedure, line.modifiers) for line in uhc.claim.lines] == [
        ("96374", ()),
        ("J1200", ()),
    ]
    medicare = code(make_encounter(drugs=(push,)), maps)  # JZ depends on the container
    assert errors(medicare) == [("coding_container_unknown", "drugs[0].multi_dose_vial")]


def test_product_whose_unit_is_unknown(maps):
    saline = maps.drugs.by_hcpcs("J7050")
    odd = replace(
        saline, hcpcs="J9998", generic="odd fluid", brands=(), aliases=(), hydration_fluid=False
    )
    drugs = Drugs((*maps.drugs.products, odd), maps.drugs.packages)
    patched = Maps(maps.root, {**maps._tables, "drugs": drugs})
    coded = code(
        make_encounter(
            drugs=(make_drug("odd fluid", dose_mg=1, start_time="09:00", stop_time="10:00"),)
        ),
        patched,
    )
    assert errors(coded) == [("coding_unit_unknown", "drugs[0].drug")]


def test_problems_name_the_field_inside_a_procedure(maps):
    drug = make_drug("triamcinolone", route="INTRA_ARTICULAR", dose_mg=40)
    coded = code(make_encounter(procedures=(make_procedure("knee", drugs=(drug,)),)), maps)
    assert errors(coded) == [("coding_container_unknown", "procedures[0].drugs[0].multi_dose_vial")]


def test_messages_hold_no_patient_values(maps):
    enc = make_encounter(
        drugs=(make_drug("infliximab", dose_mg=450, vials=((100, 4),), start_time="09:00"),)
    )
    coded = code(enc, maps)
    for problem in coded.problems:
        for value in ("TESTPATIENT", "ALPHA", "1960", "TESTMEMBER01", "Example Street"):
            assert value not in problem.message
