"""E/M with 25 or dropped (procedures.md s3, administration.md A8), labs, charges, pointers."""

from __future__ import annotations

from edi_pipeline.coding import code
from tests.coding.helpers import D, brief, lines
from tests.factories import (
    make_coverage,
    make_drug,
    make_encounter,
    make_lab,
    make_procedure,
    make_visit,
)


def knee():
    return make_procedure("knee", side="right")


def test_separately_identifiable_visit_with_a_procedure_gets_25(maps):
    coded = code(
        make_encounter(
            procedures=(knee(),), visit=make_visit("99214", separately_identifiable=True)
        ),
        maps,
    )
    assert brief(coded) == [("20610", "RT", 1), ("99214", "25", 1)]


def test_visit_not_separately_identifiable_is_dropped_with_a_note(maps):
    coded = code(make_encounter(procedures=(knee(),), visit=make_visit("99213")), maps)
    assert brief(coded) == [("20610", "RT", 1)]
    assert any("99213 not billed" in note and "20610" in note for note in coded.claim.notes)


def test_visit_alone_is_billed_without_25(maps):
    coded = code(make_encounter(visit=make_visit("99214"), diagnoses=("M0579", "M1711")), maps)
    assert brief(coded) == [("99214", "", 1)]
    assert coded.claim.lines[0].diagnosis_pointers == (1, 2)


def test_a8_99211_with_drug_administration_on_medicare(maps):
    drug = make_drug("Prolia", route="SC", dose_mg=60, vials=((60, 1),), ndc="55513-710-01")
    visit = make_visit("99211", separately_identifiable=True)
    medicare = code(make_encounter(drugs=(drug,), visit=visit), maps)
    aetna = code(make_encounter(coverage=make_coverage("aetna"), drugs=(drug,), visit=visit), maps)
    assert "99211" not in {line.procedure for line in medicare.claim.lines}
    assert any("99211 not billed" in note for note in medicare.claim.notes)
    assert ("99211", "25", 1) in brief(aetna)


def test_labs_infliximab_level_is_80230(maps):
    coded = code(
        make_encounter(visit=make_visit("99213"), labs=(make_lab("80230"), make_lab("36415"))), maps
    )
    assert brief(coded) == [("99213", "", 1), ("80230", "", 1), ("36415", "", 1)]


def test_charges_are_fee_per_unit_times_units(maps):
    coded = code(
        make_encounter(
            drugs=(
                make_drug(
                    "infliximab",
                    dose_mg=375,
                    vials=((100, 4),),
                    start_time="09:00",
                    stop_time="11:00",
                ),
            )
        ),
        maps,
    )
    for line in coded.claim.lines:
        per_unit = maps.fees.charge_per_unit(line.procedure, line.modifiers)
        assert line.charge == (per_unit * line.units).quantize(D("0.01"))
    assert coded.claim.total_charge == sum(line.charge for line in coded.claim.lines)


def test_drug_lines_point_to_the_diagnosis_the_drug_is_indicated_for(maps):
    drug = make_drug(
        "infliximab", dose_mg=400, vials=((100, 4),), start_time="09:00", stop_time="11:00"
    )
    coded = code(make_encounter(diagnoses=("Z79899", "M0579"), drugs=(drug,)), maps)
    assert {line.diagnosis_pointers for line in lines(coded, "drug")} == {(2,)}
    assert {line.diagnosis_pointers for line in lines(coded, "administration")} == {(2,)}
    assert coded.claim.diagnoses == ("Z79899", "M0579")


def test_without_a_matching_indication_the_principal_is_pointed_to(maps):
    drug = make_drug("Kenalog-40", route="IM", dose_mg=40, ndc="0003-0293-20")
    coded = code(make_encounter(diagnoses=("M1711", "M0579"), drugs=(drug,)), maps)
    assert {line.diagnosis_pointers for line in lines(coded)} == {(1,)}


def test_every_line_says_what_it_was_derived_from(maps):
    drug = make_drug(
        "infliximab", dose_mg=375, vials=((100, 4),), start_time="09:00", stop_time="12:00"
    )
    coded = code(
        make_encounter(
            drugs=(drug,),
            procedures=(knee(),),
            visit=make_visit(separately_identifiable=True),
            labs=(make_lab(),),
        ),
        maps,
    )
    assert all(line.derived_from for line in coded.claim.lines)
    drug_line = lines(coded, "drug")[0]
    assert "375 mg" in drug_line.derived_from and "4×100 mg vials" in drug_line.derived_from


def test_replacement_claim_carries_frequency_and_payer_claim_number(maps):
    from edi_pipeline.models import PriorClaim

    coded = code(make_encounter(visit=make_visit(), prior_claim=PriorClaim("PCN123", "7")), maps)
    assert (coded.claim.frequency, coded.claim.payer_claim_number) == ("7", "PCN123")


def test_prior_authorization_naming_a_billed_drug_is_on_the_claim(maps):
    from tests.factories import make_authorization

    drug = make_drug(
        "infliximab", dose_mg=400, vials=((100, 4),), start_time="09:00", stop_time="11:00"
    )
    coded = code(
        make_encounter(drugs=(drug,), prior_authorizations=(make_authorization(("J1745",)),)), maps
    )
    assert coded.claim.prior_authorization == "PA0001"
