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
# The canonical text is what ``_CANONICAL.encode`` gives. It is produced faster by the C
# encoder built once (not per call) and without ASCII escaping: for text that comes out
# pure ASCII (and without DEL, which the ASCII encoder escapes) the two are the same; anything
# else goes through ``_CANONICAL`` itself.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_FAST = (
    _c_make_encoder(
        None, _canonical_number, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    if _c_make_encoder is not None
    else None
)
_sha256 = hashlib.sha256


def canonical_text(clean: dict[str, Any]) -> str:
    """The canonical JSON text of an accepted record's projection (ASCII, no spaces)."""
    if _FAST is not None:
        text = "".join(_FAST(clean, 0))
        if text.isascii() and "\x7f" not in text:
            return text
    return _CANONICAL.encode(clean)


def record_hash(clean: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical text of an accepted record's projection."""
    return _sha256(canonical_text(clean).encode("ascii")).hexdigest()


_time_of = time.fromisoformat
_date_of = date.fromisoformat


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
        birth_date=_date_of(p["birth_date"]),
        sex=p["sex"],
        address=_address(p["address"]),
        patient_id=p.get("patient_id"),
    )


def _drug(d: dict[str, Any], weight: Decimal | None) -> DrugGiven:
    get = d.get
    per_kg = get("dose_mg_per_kg")
    dose = d["dose_mg"] if per_kg is None else per_kg * weight  # type: ignore[operator]
    vials = get("vials")
    start, stop = get("start_time"), get("stop_time")
    return DrugGiven(
        drug=d["drug"],
        route=d["route"],
        dose_mg=dose,
        vials=tuple([Vials(size_mg=v["size_mg"], count=v["count"]) for v in vials])
        if vials
        else (),
        ndc=get("ndc"),
        hcpcs=get("hcpcs"),
        dose_mg_per_kg=per_kg,
        discarded_mg=get("discarded_mg"),
        multi_dose_vial=get("multi_dose_vial"),
        start_time=None if start is None else _time_of(start),
        stop_time=None if stop is None else _time_of(stop),
        supplied_by=get("supplied_by", "practice"),
        lot=get("lot"),
    )


# Diagnosis codes recur on nearly every record: their claim form is worked out once.
_ICD10_CLAIM_FORM: dict[str, str] = {}


def _diagnosis(code: str) -> str:
    found = _ICD10_CLAIM_FORM.get(code)
    if found is None:
        found = icd10_strip(code)
        if len(_ICD10_CLAIM_FORM) < 10_000:
            _ICD10_CLAIM_FORM[code] = found
    return found


def _procedure(p: dict[str, Any], weight: Decimal | None) -> ProcedureGiven:
    drugs = p.get("drugs")
    return ProcedureGiven(
        kind=p["kind"],
        joint=p["joint"],
        side=p.get("side", "none"),
        guidance=p.get("guidance", "none"),
        drugs=tuple([_drug(d, weight) for d in drugs]) if drugs else (),
        digit=p.get("digit"),
    )


def build_encounter(
    clean: dict[str, Any], *, source: Where, warnings: tuple[Problem, ...] = ()
) -> Encounter:
    """The typed encounter of an accepted record's canonical projection.

    Optional sections that are absent cost nothing: each is converted only when present.
    """
    get = clean.get
    weight = get("weight_kg")
    cov = clean["coverage"]
    subscriber = cov.get("subscriber")
    exception = get("medical_exception")
    visit = get("visit")
    prior = get("prior_claim")
    auths = get("prior_authorizations")
    therapies = get("therapy_history")
    drugs = get("drugs")
    procedures = get("procedures")
    labs = get("labs")
    return Encounter(
        encounter_id=clean["encounter_id"],
        date_of_service=_date_of(clean["date_of_service"]),
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
        diagnoses=tuple([_diagnosis(c) for c in clean["diagnoses"]]),
        weight_kg=weight,
        prior_authorizations=tuple(
            [
                PriorAuthorization(
                    number=a["number"],
                    drugs=tuple(a["drugs"]),
                    valid_from=_date_of(a["valid_from"]),
                    valid_to=_date_of(a["valid_to"]),
                    units_approved=a.get("units_approved"),
                    visits_approved=a.get("visits_approved"),
                )
                for a in auths
            ]
        )
        if auths
        else (),
        therapy_history=tuple(
            [
                TherapyHistory(
                    drug=t["drug"],
                    start=_date_of(t["start"]),
                    outcome=t["outcome"],
                    end=_date_of(t["end"]) if "end" in t else None,
                )
                for t in therapies
            ]
        )
        if therapies
        else (),
        medical_exception=MedicalException(**exception) if exception is not None else None,
        drugs=tuple([_drug(d, weight) for d in drugs]) if drugs else (),
        procedures=tuple([_procedure(p, weight) for p in procedures]) if procedures else (),
        visit=Visit(
            em_code=visit["em_code"],
            separately_identifiable=visit.get("separately_identifiable", False),
            minutes=visit.get("minutes"),
        )
        if visit is not None
        else None,
        labs=tuple([Lab(cpt=lab["cpt"], units=lab.get("units", 1)) for lab in labs])
        if labs
        else (),
        prior_claim=PriorClaim(**prior) if prior is not None else None,
        notes=get("notes"),
        source=source,
        record_hash=record_hash(clean),
        warnings=warnings,
    )
