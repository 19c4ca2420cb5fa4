"""One test per intake rule: a record that breaks it (rejected, or warned, naming the exact
field) and a record that keeps it (accepted). Container rules (JSON syntax, CSV grouping) are in
``test_containers.py``; together they cover every name ``all_rule_names()`` lists."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from edi_pipeline.intake.rules import CONTAINER_RULES, all_rule_names
from edi_pipeline.models import Encounter, Rejection
from tests.intake.helpers import (
    SUBSCRIBER,
    del_path,
    errors,
    make_record,
    run_one,
    set_path,
    warnings,
)

Mutate = Callable[[dict[str, Any]], Any]


def setter(path: str, value: Any) -> Mutate:
    return lambda r: set_path(r, path, value)


def deleter(path: str) -> Mutate:
    return lambda r: del_path(r, path)


def both(*steps: Mutate) -> Mutate:
    def run(r: dict[str, Any]) -> None:
        for step in steps:
            step(r)

    return run


def keep(r: dict[str, Any]) -> None:
    """The valid base record as it is."""


# rule -> (breaking change, field it must name, keeping change)
ERRORS: dict[str, tuple[Mutate, str, Mutate]] = {
    "structure_type": (setter("drugs[0].dose_mg_per_kg", "5"), "drugs[0].dose_mg_per_kg", keep),
    "structure_required": (deleter("patient.sex"), "patient.sex", keep),
    "structure_enum": (
        setter("drugs[0].route", "IVP"),
        "drugs[0].route",
        setter("drugs[0].route", "IV"),
    ),
    "structure_pattern": (setter("date_of_service", "03/04/2025"), "date_of_service", keep),
    "structure_length": (
        setter("rendering_provider.last_name", ""),
        "rendering_provider.last_name",
        keep,
    ),
    "structure_range": (
        setter("drugs[1].vials[0].size_mg", 0),
        "drugs[1].vials[0].size_mg",
        setter("drugs[1].vials[0].size_mg", 50),
    ),
    "structure_items": (setter("diagnoses", []), "diagnoses", setter("diagnoses", ["M05.79"])),
    "icd10_shape": (
        setter("diagnoses[1]", "M17-11"),
        "diagnoses[1]",
        setter("diagnoses[1]", "m1711"),
    ),
    "dose_one_of": (setter("drugs[0].dose_mg", 375), "drugs[0]", keep),
    "iv_times_required": (
        deleter("drugs[0].stop_time"),
        "drugs[0].stop_time",
        both(
            setter("drugs[0].route", "SC"),
            deleter("drugs[0].stop_time"),
            deleter("drugs[0].start_time"),
        ),
    ),
    "subscriber_required": (
        setter("coverage.relationship", "child"),
        "coverage.subscriber",
        both(setter("coverage.relationship", "child"), setter("coverage.subscriber", SUBSCRIBER)),
    ),
    "weight_required": (
        deleter("weight_kg"),
        "weight_kg",
        both(
            deleter("weight_kg"),
            deleter("drugs[0].dose_mg_per_kg"),
            setter("drugs[0].dose_mg", 375),
        ),
    ),
    "npi_luhn": (
        setter("rendering_provider.npi", "1234567890"),
        "rendering_provider.npi",
        setter("rendering_provider.npi", "1497758544"),
    ),
    "icd10_principal": (
        setter("diagnoses", ["W19.XXXA", "M17.11"]),
        "diagnoses[0]",
        setter("diagnoses", ["M17.11", "W19.XXXA"]),
    ),
    "date_real": (
        setter("date_of_service", "2025-02-29"),
        "date_of_service",
        both(
            setter("date_of_service", "2024-02-29"),
            setter("prior_authorizations[0].valid_from", "2024-01-01"),
        ),
    ),
    "date_order": (
        setter("patient.birth_date", "2025-03-05"),
        "patient.birth_date",
        setter("patient.birth_date", "2025-03-04"),
    ),
    "stop_after_start": (
        setter("drugs[0].stop_time", "08:59"),
        "drugs[0].stop_time",
        setter("drugs[0].stop_time", "09:01"),
    ),
    "vials_hold_dose": (
        both(setter("drugs[0].vials[0].count", 3), deleter("drugs[0].discarded_mg")),
        "drugs[0].vials",
        both(
            setter("drugs[0].vials", [{"size_mg": 100, "count": 3}, {"size_mg": 100, "count": 1}])
        ),
    ),
    "discarded_agrees": (
        setter("drugs[0].discarded_mg", 30),
        "drugs[0].discarded_mg",
        setter("drugs[0].discarded_mg", Decimal("25.4")),
    ),
    "drug_known": (
        setter("drugs[0].drug", "Inflectraa"),
        "drugs[0].drug",
        setter("drugs[0].drug", "INFLIXIMAB-dyyb"),
    ),
    "ndc_shape": (
        setter("drugs[0].ndc", "0069080901"),
        "drugs[0].ndc",
        setter("drugs[0].ndc", "00069080901"),
    ),
    "ndc_product": (
        setter("drugs[0].drug", "Remicade"),
        "drugs[0].ndc",
        both(setter("drugs[0].drug", "Remicade"), setter("drugs[0].ndc", "57894-030-01")),
    ),
    "hcpcs_matches": (
        setter("drugs[0].hcpcs", "J1745"),
        "drugs[0].hcpcs",
        setter("drugs[0].hcpcs", "Q5103"),
    ),
    "multi_dose_matches": (
        setter("procedures[0].drugs[0].multi_dose_vial", True),
        "procedures[0].drugs[0].multi_dose_vial",
        setter("procedures[0].drugs[0].multi_dose_vial", False),
    ),
    "joint_known": (
        setter("procedures[0].joint", "kneecap"),
        "procedures[0].joint",
        setter("procedures[0].joint", "shoulder"),
    ),
    "side_valid": (
        setter("procedures[0].side", "none"),
        "procedures[0].side",
        setter("procedures[0].side", "bilateral"),
    ),
    "payer_known": (
        setter("coverage.payer_id", "acme-health"),
        "coverage.payer_id",
        setter("coverage.payer_id", "bcbs"),
    ),
    "place_of_service_known": (
        setter("place_of_service", "99"),
        "place_of_service",
        setter("place_of_service", "22"),
    ),
}

# rule -> (change that draws the warning, field it must name, change without it)
WARNINGS: dict[str, tuple[Mutate, str, Mutate]] = {
    "unknown_field": (setter("favourite_colour", "teal"), "favourite_colour", keep),
    "ndc_unknown": (setter("drugs[0].ndc", "99999-9999-99"), "drugs[0].ndc", keep),
    "ndc_missing": (
        deleter("drugs[0].ndc"),
        "drugs[0].ndc",
        both(deleter("drugs[0].ndc"), setter("drugs[0].supplied_by", "pharmacy")),
    ),
}


@pytest.mark.parametrize("rule", sorted(ERRORS))
def test_rule_rejects_the_breaking_record_naming_the_field(rule, tmp_path, maps):
    breaking, field, _ = ERRORS[rule]
    record = make_record()
    breaking(record)
    result = run_one(tmp_path, record, maps)
    assert isinstance(result, Rejection), f"{rule}: accepted"
    assert (rule, field) in errors(result), errors(result)
    problem = next(p for p in result.problems if p.code == rule)
    assert problem.message.startswith(f"{field}: ")
    assert problem.where.record == 1 and problem.where.line == 1
    assert result.encounter_id == "T-1001"


@pytest.mark.parametrize("rule", sorted(ERRORS))
def test_rule_accepts_the_record_that_keeps_it(rule, tmp_path, maps):
    _, _, keeping = ERRORS[rule]
    record = make_record()
    keeping(record)
    result = run_one(tmp_path, record, maps)
    assert isinstance(result, Encounter), errors(result)


@pytest.mark.parametrize("rule", sorted(WARNINGS))
def test_warning_rule_keeps_the_record_and_names_the_field(rule, tmp_path, maps):
    drawing, field, clean = WARNINGS[rule]
    record = make_record()
    drawing(record)
    result = run_one(tmp_path, record, maps)
    assert isinstance(result, Encounter), errors(result)
    assert (rule, field) in warnings(result)
    record = make_record()
    clean(record)
    result = run_one(tmp_path, record, maps)
    assert isinstance(result, Encounter)
    assert (rule, field) not in warnings(result)


def test_duplicate_encounter_within_a_file_and_in_the_ledger(tmp_path, maps):
    from tests.intake.helpers import read_all, write_jsonl

    path = write_jsonl(
        tmp_path / "dup.jsonl", [make_record(), make_record(), make_record(encounter_id="T-1002")]
    )
    first, second, third = read_all(path, maps)
    assert isinstance(first, Encounter) and isinstance(third, Encounter)
    assert errors(second) == [("duplicate_encounter", "encounter_id")]
    assert "earlier in this file" in second.problems[0].message

    first, second, third = read_all(path, maps, known_ids={"T-1001"})
    assert errors(first) == [("duplicate_encounter", "encounter_id")]
    assert "already built" in first.problems[0].message
    assert isinstance(third, Encounter)


def test_every_rule_has_its_test():
    from tests.intake.test_containers import CONTAINER_CASES

    tested = {*ERRORS, *WARNINGS, "duplicate_encounter", *CONTAINER_CASES}
    assert set(all_rule_names()) == tested
    assert set(CONTAINER_CASES) == set(CONTAINER_RULES)


def test_a_broken_field_gets_one_reason_not_a_cascade(tmp_path, maps):
    record = make_record()
    set_path(record, "date_of_service", "2025-13-45x")  # pattern fails: no date_real on top
    set_path(record, "drugs[0].vials", "4 vials")  # type fails: no vials rules on top
    result = run_one(tmp_path, record, maps)
    assert sorted(errors(result)) == [
        ("structure_pattern", "date_of_service"),
        ("structure_type", "drugs[0].vials"),
    ]


def test_per_kg_doses_are_multiplied_out_and_kept(tmp_path, maps):
    record = set_path(make_record(weight_kg=Decimal("72.6")), "drugs[0].discarded_mg", 37)
    result = run_one(tmp_path, record, maps)
    assert isinstance(result, Encounter), errors(result)
    drug = result.drugs[0]
    assert drug.dose_mg == Decimal("363.0") and drug.dose_mg_per_kg == Decimal(5)
    assert isinstance(drug.dose_mg, Decimal) and isinstance(result.weight_kg, Decimal)
    assert result.drugs[0].opened_mg == Decimal(400)
    assert result.procedures[0].drugs[0].dose_mg == Decimal(40)


def test_accepted_encounter_is_typed(tmp_path, maps):
    from datetime import date, time

    result = run_one(tmp_path, make_record(), maps)
    assert isinstance(result, Encounter)
    assert result.date_of_service == date(2025, 3, 4)
    assert result.drugs[0].start_time == time(9, 0)
    assert result.diagnoses == ("M0579", "M1711")
    assert result.coverage.relationship == "self" and result.coverage.priority == "primary"
    assert result.patient.birth_date == date(1951, 6, 17)
    assert result.prior_authorizations[0].valid_to == date(2025, 12, 31)
    assert result.source.record == 1 and result.source.file.endswith("one.jsonl")
    assert len(result.record_hash) == 64


def test_oral_premedication_need_not_be_in_the_drug_map(tmp_path, maps):
    record = make_record()
    record["drugs"].append({"drug": "acetaminophen", "dose_mg": 650, "route": "ORAL"})
    assert isinstance(run_one(tmp_path, record, maps), Encounter)
    record["drugs"][-1]["route"] = "IV_PUSH"
    record["drugs"][-1].update(start_time="08:40", stop_time="08:42")
    assert ("drug_known", "drugs[2].drug") in errors(run_one(tmp_path, record, maps))


def test_side_and_digit_must_fit_the_joint(tmp_path, maps):
    def result_for(**proc: Any) -> Any:
        record = make_record()
        record["procedures"] = [{"kind": "injection", **proc}]
        return run_one(tmp_path, record, maps)

    assert isinstance(result_for(joint="mcp", side="right", digit="F6"), Encounter)
    assert ("side_valid", "procedures[0].digit") in errors(
        result_for(joint="mcp", side="left", digit="F6")
    )
    assert ("side_valid", "procedures[0].digit") in errors(
        result_for(joint="mcp", side="right", digit="T6")
    )
    assert ("side_valid", "procedures[0].digit") in errors(
        result_for(joint="knee", side="right", digit="F6")
    )
    assert ("side_valid", "procedures[0].side") in errors(
        result_for(joint="pip", side="bilateral", digit="F2")
    )


def test_ndc_product_message_names_both_products(tmp_path, maps):
    record = make_record()
    set_path(record, "drugs[0].drug", "Remicade")
    result = run_one(tmp_path, record, maps)
    message = next(p.message for p in result.problems if p.code == "ndc_product")
    assert "Q5103" in message and "J1745" in message and "Inflectra" in message
