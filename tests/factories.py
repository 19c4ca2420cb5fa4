"""Builders of valid domain values for tests: override only what a test is about.

``make_encounter()`` returns a complete, valid ``Encounter`` (Medicare patient, office visit,
rheumatoid arthritis, a valid NPI) with no drugs or procedures; ``make_drug()`` and
``make_procedure()`` build the clinical facts to add. The names and addresses are obviously fake
(no real person), so tests may print them.

    enc = make_encounter(drugs=(make_drug("infliximab", dose_mg="375", vials=((100, 4),)),))
    enc = make_encounter(coverage=make_coverage("aetna"), date_of_service=date(2025, 3, 4))
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from decimal import Decimal
from typing import Any

from edi_pipeline.models import (
    Address,
    Coverage,
    DrugGiven,
    Encounter,
    Lab,
    Person,
    PriorAuthorization,
    ProcedureGiven,
    Provider,
    Vials,
    Visit,
    Where,
)

VALID_NPI = "1234567893"  # the CMS example NPI; passes the Luhn check with prefix 80840
OTHER_VALID_NPI = "1497758544"
DOS = date(2025, 3, 4)


def make_address(**overrides: Any) -> Address:
    values: dict[str, Any] = {
        "line1": "100 Example Street",
        "city": "Testville",
        "state": "PA",
        "zip": "19000",
    }
    values.update(overrides)
    return Address(**values)


def make_person(**overrides: Any) -> Person:
    values: dict[str, Any] = {
        "last_name": "TESTPATIENT",
        "first_name": "ALPHA",
        "birth_date": date(1960, 1, 1),
        "sex": "F",
        "address": make_address(),
        "patient_id": "P0001",
    }
    values.update(overrides)
    return Person(**values)


def make_coverage(payer_id: str = "medicare", **overrides: Any) -> Coverage:
    values: dict[str, Any] = {"payer_id": payer_id, "member_id": "TESTMEMBER01"}
    values.update(overrides)
    return Coverage(**values)


def make_provider(**overrides: Any) -> Provider:
    values: dict[str, Any] = {"npi": VALID_NPI, "last_name": "DOCTOR", "first_name": "TEST"}
    values.update(overrides)
    return Provider(**values)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _time(value: Any) -> time | None:
    if value is None or isinstance(value, time):
        return value
    return time.fromisoformat(value)


def make_vials(*pairs: tuple[Any, int]) -> tuple[Vials, ...]:
    """``make_vials((100, 4), (500, 1))`` → 4×100 mg and 1×500 mg."""
    return tuple(Vials(size_mg=Decimal(str(size)), count=count) for size, count in pairs)


def make_drug(drug: str = "infliximab", **overrides: Any) -> DrugGiven:
    """A drug given. Numbers may be ints/strings (converted to Decimal), times ``"HH:MM"``;
    ``vials`` may be ``((size_mg, count), ...)`` pairs."""
    values: dict[str, Any] = {"drug": drug, "route": "IV", "dose_mg": Decimal("400")}
    values.update(overrides)
    for key in ("dose_mg", "dose_mg_per_kg", "discarded_mg"):
        if key in values:
            values[key] = _decimal(values[key])
    for key in ("start_time", "stop_time"):
        if key in values:
            values[key] = _time(values[key])
    vials = values.get("vials", ())
    if vials and not isinstance(vials[0], Vials):
        values["vials"] = make_vials(*vials)
    return DrugGiven(**values)


def make_procedure(joint: str = "knee", **overrides: Any) -> ProcedureGiven:
    values: dict[str, Any] = {"kind": "injection", "joint": joint, "side": "right"}
    values.update(overrides)
    return ProcedureGiven(**values)


def make_visit(em_code: str = "99214", **overrides: Any) -> Visit:
    return Visit(em_code=em_code, **overrides)


def make_lab(cpt: str = "86140", units: int = 1) -> Lab:
    return Lab(cpt=cpt, units=units)


def make_authorization(drugs: tuple[str, ...] = ("infliximab",), **overrides: Any):
    values: dict[str, Any] = {
        "number": "PA0001",
        "drugs": drugs,
        "valid_from": date(2025, 1, 1),
        "valid_to": date(2025, 12, 31),
    }
    values.update(overrides)
    return PriorAuthorization(**values)


def make_encounter(**overrides: Any) -> Encounter:
    """A valid office encounter; every field may be overridden by name."""
    values: dict[str, Any] = {
        "encounter_id": "E1001",
        "date_of_service": DOS,
        "place_of_service": "11",
        "rendering_provider": make_provider(),
        "patient": make_person(),
        "coverage": make_coverage(),
        "diagnoses": ("M0579",),
        "weight_kg": Decimal("75"),
        "source": Where(file="test.json", record=0),
    }
    values.update(overrides)
    return Encounter(**values)


def infliximab_infusion(**overrides: Any) -> DrugGiven:
    """The units.md E1 infusion: 375 mg infliximab from 4×100 mg vials over 3 hours."""
    values: dict[str, Any] = {
        "dose_mg": "375",
        "vials": ((100, 4),),
        "ndc": "57894-0030-01",
        "start_time": "09:30",
        "stop_time": "12:30",
    }
    values.update(overrides)
    return make_drug("infliximab", **values)


def with_drugs(encounter: Encounter, *drugs: DrugGiven) -> Encounter:
    return replace(encounter, drugs=tuple(drugs))
