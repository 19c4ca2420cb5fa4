"""Domain values passed between the pipeline's stages.

Every stage takes and returns these frozen values, never mutable state, so that a stage can be
tested alone and run in any process. Money, doses and units are ``Decimal``; dates and times are
``date``/``time``. Nothing here imports beyond the standard library.

The outbound path is ``Encounter`` → (coding) ``Claim`` of ``ServiceLine`` → (scrub) ``Hold`` →
(build) 837P. Problems found on the way are ``Problem`` values located by a ``Where``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Where:
    """Where a problem is: every field optional, filled in as the error travels outwards.

    It never holds patient values, only identifiers and positions.
    """

    file: str | None = None
    record: int | None = None
    encounter_id: str | None = None
    claim_id: str | None = None
    line: int | None = None
    field: str | None = None
    segment_index: int | None = None
    segment_id: str | None = None
    loop: str | None = None
    element: str | None = None
    offset: int | None = None

    def merged(self, outer: Where) -> Where:
        """Fill this location's empty fields from ``outer`` (the caller's wider context)."""
        values = {}
        for name in self.__slots__:
            mine = getattr(self, name)
            values[name] = mine if mine is not None else getattr(outer, name)
        return Where(**values)

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass(frozen=True, slots=True)
class Problem:
    """An expected problem, reported as data (the unit it concerns may still go on or not)."""

    code: str  # stable snake_case rule name, e.g. "npi_check_digit"
    message: str  # names the field, what was allowed and the kind of value found; no PHI
    where: Where = field(default_factory=Where)
    severity: Severity = "error"


# --------------------------------------------------------------------------- encounter (input)


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str
    line2: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A patient or a subscriber (PHI: never logged)."""

    last_name: str
    first_name: str
    birth_date: date
    sex: Literal["F", "M", "U"]
    address: Address
    patient_id: str | None = None


@dataclass(frozen=True, slots=True)
class Coverage:
    payer_id: str  # a key of maps/payers
    member_id: str
    relationship: Literal["self", "spouse", "child", "other"] = "self"
    group_number: str | None = None
    subscriber: Person | None = None  # present when relationship is not "self"
    priority: Literal["primary", "secondary"] = "primary"


@dataclass(frozen=True, slots=True)
class Provider:
    npi: str
    last_name: str
    first_name: str


@dataclass(frozen=True, slots=True)
class Vials:
    """``count`` single-dose containers of ``size_mg`` each, opened for one administration."""

    size_mg: Decimal
    count: int


Route = Literal["IV", "IV_PUSH", "SC", "IM", "INTRA_ARTICULAR", "ORAL"]


@dataclass(frozen=True, slots=True)
class DrugGiven:
    drug: str  # generic or brand name as written; resolved against maps/drugs
    route: Route
    dose_mg: Decimal  # resolved dose (per-kg doses are multiplied out at intake)
    vials: tuple[Vials, ...] = ()
    ndc: str | None = None  # as printed (10 digits hyphenated or 11 digits)
    hcpcs: str | None = None  # optional cross-check only
    dose_mg_per_kg: Decimal | None = None  # as ordered, when the order was per kg
    discarded_mg: Decimal | None = None  # as documented
    multi_dose_vial: bool | None = None  # None: take it from the package in maps/drugs
    start_time: time | None = None
    stop_time: time | None = None
    supplied_by: Literal["practice", "pharmacy"] = "practice"
    lot: str | None = None

    @property
    def opened_mg(self) -> Decimal:
        return sum((v.size_mg * v.count for v in self.vials), Decimal(0))


Side = Literal["left", "right", "bilateral", "none"]
Guidance = Literal["none", "ultrasound", "fluoroscopy"]


@dataclass(frozen=True, slots=True)
class ProcedureGiven:
    kind: Literal["injection", "aspiration"]
    joint: str  # a key of maps/joints
    side: Side = "none"
    guidance: Guidance = "none"
    drugs: tuple[DrugGiven, ...] = ()
    digit: str | None = None  # F1..F9, FA, T1..T9, TA


@dataclass(frozen=True, slots=True)
class Visit:
    em_code: str
    separately_identifiable: bool = False
    minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Lab:
    cpt: str
    units: int = 1


@dataclass(frozen=True, slots=True)
class PriorAuthorization:
    number: str
    drugs: tuple[str, ...]  # generic names or HCPCS codes
    valid_from: date
    valid_to: date
    units_approved: int | None = None
    visits_approved: int | None = None


TherapyOutcome = Literal["inadequate_response", "intolerance", "contraindicated", "ongoing"]


@dataclass(frozen=True, slots=True)
class TherapyHistory:
    drug: str
    start: date
    outcome: TherapyOutcome
    end: date | None = None


@dataclass(frozen=True, slots=True)
class MedicalException:
    drug: str
    reason: str
    documented: bool


@dataclass(frozen=True, slots=True)
class PriorClaim:
    payer_claim_number: str
    frequency: Literal["7", "8"]


@dataclass(frozen=True, slots=True)
class Encounter:
    """One visit as the practice exported it: clinical and administrative facts, no codes."""

    encounter_id: str
    date_of_service: date
    place_of_service: str
    rendering_provider: Provider
    patient: Person
    coverage: Coverage
    diagnoses: tuple[str, ...]  # ICD-10-CM, without the dot, principal first
    weight_kg: Decimal | None = None
    prior_authorizations: tuple[PriorAuthorization, ...] = ()
    therapy_history: tuple[TherapyHistory, ...] = ()
    medical_exception: MedicalException | None = None
    drugs: tuple[DrugGiven, ...] = ()
    procedures: tuple[ProcedureGiven, ...] = ()
    visit: Visit | None = None
    labs: tuple[Lab, ...] = ()
    prior_claim: PriorClaim | None = None
    notes: str | None = None
    source: Where = field(default_factory=Where)  # file and record it was read from
    record_hash: str | None = None  # sha256 of the accepted record, for the ledger
    warnings: tuple[Problem, ...] = ()  # intake warnings (unknown fields, unknown NDC…)


@dataclass(frozen=True, slots=True)
class Rejection:
    """An input record that failed intake: quarantined unchanged with one problem per field."""

    file: str
    record: int  # line number for CSV/JSONL, array index for JSON
    encounter_id: str | None
    problems: tuple[Problem, ...]
    raw: str  # the record exactly as read, for the quarantine file (PHI: never logged)
    raw_format: Literal["json", "json_text", "csv"] = "json"  # what ``raw`` holds (see intake)


# --------------------------------------------------------------------------- claim (coded)

LineKind = Literal["drug", "drug_waste", "administration", "procedure", "guidance", "em", "lab"]


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One 2400 loop: what is billed, with the clinical facts it was derived from."""

    procedure: str  # HCPCS/CPT
    units: Decimal
    charge: Decimal
    kind: LineKind
    modifiers: tuple[str, ...] = ()
    diagnosis_pointers: tuple[int, ...] = (1,)  # 1-based positions in Claim.diagnoses, max 4
    ndc: str | None = None  # 11 digits, no hyphens
    ndc_quantity: Decimal | None = None
    ndc_unit: Literal["UN", "ML", "GR", "ME", "F2"] | None = None
    drug: str | None = None  # generic name of the product on a drug line
    derived_from: str = ""  # e.g. "375 mg from 4x100 mg vials"
    note: str | None = None  # NTE*ADD text (e.g. discarded amount on a JW line)
    line_control_number: str | None = None  # REF*6R, assigned when the claim is built


ClaimFrequency = Literal["1", "7", "8"]


@dataclass(frozen=True, slots=True)
class Claim:
    """One 2300 loop, keyed by (practice, encounter_id, frequency)."""

    encounter_id: str  # CLM01, the patient control number
    payer_id: str
    date_of_service: date
    place_of_service: str
    diagnoses: tuple[str, ...]  # ICD-10-CM without dots, principal first
    lines: tuple[ServiceLine, ...]
    encounter: Encounter
    frequency: ClaimFrequency = "1"
    prior_authorization: str | None = None  # REF*G1
    payer_claim_number: str | None = None  # REF*F8 for frequency 7/8
    notes: tuple[str, ...] = ()  # why lines were or were not billed (never sent, never PHI)

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class Coded:
    """The coding stage's result: a claim, or the problems that kept it from being coded."""

    encounter: Encounter
    claim: Claim | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Hold:
    """A payer rule that the claim breaks: the claim is held, not built."""

    rule: str
    category: str  # closed set in cli.md
    message: str
    source: str


@dataclass(frozen=True, slots=True)
class Scrubbed:
    claim: Claim
    holds: tuple[Hold, ...] = ()
    overridden: tuple[Hold, ...] = ()  # holds a person overrode (with a recorded reason)

    @property
    def clean(self) -> bool:
        return not self.holds


HOLD_CATEGORIES = frozenset(
    {
        "authorization",
        "biosimilar",
        "step_therapy",
        "frequency",
        "unit_limit",
        "bundling",
        "ndc",
        "documentation",
        "site_of_care",
        "eligibility",
        "provider_enrollment",
        "timely_filing",
        "duplicate",
        "diagnosis_coverage",
        "coding",
    }
)

ROOT_CAUSES = frozenset(
    {
        "eligibility",
        "authorization",
        "medical_necessity",
        "non_covered",
        "coding_procedure",
        "coding_diagnosis",
        "coding_units",
        "coding_modifier",
        "coding_ndc",
        "coding_pos",
        "bundling",
        "frequency_limit",
        "duplicate",
        "timely_filing",
        "coordination_of_benefits",
        "provider_enrollment",
        "missing_information",
        "contractual",
        "patient_responsibility",
        "payer_adjustment",
        "other",
    }
)

CLAIM_STATUSES = frozenset(
    {
        "held",
        "built",
        "sent",
        "accepted",
        "rejected",
        "payer_accepted",
        "payer_rejected",
        "paid",
        "partially_paid",
        "denied",
        "reversed",
        "replaced",
        "voided",
    }
)


def money(value: Decimal) -> str:
    """Money as the contracts print it: a decimal string with two places."""
    return str(value.quantize(Decimal("0.01")))
