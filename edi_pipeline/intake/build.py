"""From an accepted record (its canonical projection) to the frozen ``Encounter``.

Called only after the structural check and every rule passed, so it converts without checking:
dates become ``date``, times ``time``, quantities ``Decimal``, per-kg doses are multiplied out
into ``dose_mg`` (the order as written stays in ``dose_mg_per_kg``), diagnoses lose their dot.

The record hash is the SHA-256 of the canonical projection: known fields only, in the
schema's order (whatever order the export wrote them in), numbers normalised (``400`` and
``400.0`` alike), JSON with ASCII escapes and no spaces. The same encounter exported as JSON,
JSON Lines or CSV hashes alike, and an export that adds an unrelated field does not look like a
changed encounter.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, time
from decimal import Decimal
from typing import Any

from edi_pipeline.codes import icd10_strip
from edi_pipeline.models import (
    Address,
    Coverage,
    DrugGiven,
    Encounter,
    Lab,
    MedicalException,
    Person,
    PriorAuthorization,
    PriorClaim,
    Problem,
    ProcedureGiven,
    Provider,
    TherapyHistory,
    Vials,
    Visit,
    Where,
)


def _canonical_number(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value.normalize())
    raise TypeError(type(value).__name__)


_CANONICAL = json.JSONEncoder(
    separators=(",", ":"), default=_canonical_number, check_circular=False
)


def record_hash(clean: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical text of an accepted record's projection."""
    return hashlib.sha256(_CANONICAL.encode(clean).encode("ascii")).hexdigest()


def _time(text: str | None) -> time | None:
    return None if text is None else time.fromisoformat(text)


def _address(a: dict[str, Any]) -> Address:
    return Address(
        line1=a["line1"],
        city=a["city"],
        state=a["state"],
        zip=a["zip"].replace("-", ""),
        line2=a.get("line2") or None,
    )


def _person(p: dict[str, Any]) -> Person:
    return Person(
        last_name=p["last_name"],
        first_name=p["first_name"],
        birth_date=date.fromisoformat(p["birth_date"]),
        sex=p["sex"],
        address=_address(p["address"]),
        patient_id=p.get("patient_id"),
    )


def _drug(d: dict[str, Any], weight: Decimal | None) -> DrugGiven:
    per_kg = d.get("dose_mg_per_kg")
    dose = d["dose_mg"] if per_kg is None else per_kg * weight  # type: ignore[operator]
    return DrugGiven(
        drug=d["drug"],
        route=d["route"],
        dose_mg=dose,
        vials=tuple(Vials(size_mg=v["size_mg"], count=v["count"]) for v in d.get("vials", ())),
        ndc=d.get("ndc"),
        hcpcs=d.get("hcpcs"),
        dose_mg_per_kg=per_kg,
        discarded_mg=d.get("discarded_mg"),
        multi_dose_vial=d.get("multi_dose_vial"),
        start_time=_time(d.get("start_time")),
        stop_time=_time(d.get("stop_time")),
        supplied_by=d.get("supplied_by", "practice"),
        lot=d.get("lot"),
    )


def build_encounter(
    clean: dict[str, Any], *, source: Where, warnings: tuple[Problem, ...] = ()
) -> Encounter:
    """The typed encounter of an accepted record's canonical projection."""
    weight = clean.get("weight_kg")
    cov = clean["coverage"]
    subscriber = cov.get("subscriber")
    exception = clean.get("medical_exception")
    visit = clean.get("visit")
    prior = clean.get("prior_claim")
    return Encounter(
        encounter_id=clean["encounter_id"],
        date_of_service=date.fromisoformat(clean["date_of_service"]),
        place_of_service=clean["place_of_service"],
        rendering_provider=Provider(**clean["rendering_provider"]),
        patient=_person(clean["patient"]),
        coverage=Coverage(
            payer_id=cov["payer_id"],
            member_id=cov["member_id"],
            relationship=cov.get("relationship", "self"),
            group_number=cov.get("group_number"),
            subscriber=_person(subscriber) if subscriber is not None else None,
            priority=cov.get("priority", "primary"),
        ),
        diagnoses=tuple(icd10_strip(c) for c in clean["diagnoses"]),
        weight_kg=weight,
        prior_authorizations=tuple(
            PriorAuthorization(
                number=a["number"],
                drugs=tuple(a["drugs"]),
                valid_from=date.fromisoformat(a["valid_from"]),
                valid_to=date.fromisoformat(a["valid_to"]),
                units_approved=a.get("units_approved"),
                visits_approved=a.get("visits_approved"),
            )
            for a in clean.get("prior_authorizations", ())
        ),
        therapy_history=tuple(
            TherapyHistory(
                drug=t["drug"],
                start=date.fromisoformat(t["start"]),
                outcome=t["outcome"],
                end=date.fromisoformat(t["end"]) if "end" in t else None,
            )
            for t in clean.get("therapy_history", ())
        ),
        medical_exception=MedicalException(**exception) if exception is not None else None,
        drugs=tuple(_drug(d, weight) for d in clean.get("drugs", ())),
        procedures=tuple(
            ProcedureGiven(
                kind=p["kind"],
                joint=p["joint"],
                side=p.get("side", "none"),
                guidance=p.get("guidance", "none"),
                drugs=tuple(_drug(d, weight) for d in p.get("drugs", ())),
                digit=p.get("digit"),
            )
            for p in clean.get("procedures", ())
        ),
        visit=Visit(
            em_code=visit["em_code"],
            separately_identifiable=visit.get("separately_identifiable", False),
            minutes=visit.get("minutes"),
        )
        if visit is not None
        else None,
        labs=tuple(Lab(cpt=lab["cpt"], units=lab.get("units", 1)) for lab in clean.get("labs", ())),
        prior_claim=PriorClaim(**prior) if prior is not None else None,
        notes=clean.get("notes"),
        source=source,
        record_hash=record_hash(clean),
        warnings=warnings,
    )
