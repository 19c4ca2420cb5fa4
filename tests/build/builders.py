"""Hand-built claims for the build tests (coding is tested elsewhere; here the claim is the input).

``make_claim()`` is a valid infusion claim (drug line with NDC, JW waste line with its note,
administration line); ``claims_strategy()`` is a hypothesis strategy of claims covering every
kind of line, every relationship (2000C or not), priority, frequency 1/7/8 and awkward free text.
Line control numbers are filled in as the ledger would (``with_line_control_numbers``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

from hypothesis import strategies as st

from edi_pipeline.models import Claim, ServiceLine
from tests.factories import make_coverage, make_encounter, make_person, make_provider

D = Decimal

PAYERS = ("aetna", "bcbs", "cigna", "medicaid", "medicare", "uhc")


def drug_line(**kw: Any) -> ServiceLine:
    values: dict[str, Any] = dict(
        procedure="J1745",
        units=D(38),
        charge=D("3800.00"),
        kind="drug",
        ndc="57894003001",
        ndc_quantity=D(38),
        ndc_unit="UN",
        drug="infliximab",
        derived_from="375 mg from 4x100 mg vials",
    )
    values.update(kw)
    return ServiceLine(**values)


def waste_line(**kw: Any) -> ServiceLine:
    values: dict[str, Any] = dict(
        procedure="J1745",
        units=D(2),
        charge=D("200.00"),
        kind="drug_waste",
        modifiers=("JW",),
        ndc="57894003001",
        ndc_quantity=D(2),
        ndc_unit="UN",
        drug="infliximab",
        note="Discarded 25 mg from single-dose vial",
    )
    values.update(kw)
    return ServiceLine(**values)


def admin_line(**kw: Any) -> ServiceLine:
    values: dict[str, Any] = dict(
        procedure="96365", units=D(1), charge=D("250.00"), kind="administration"
    )
    values.update(kw)
    return ServiceLine(**values)


def make_claim(encounter_id: str = "E1001", **kw: Any) -> Claim:
    enc = kw.pop("encounter", None) or make_encounter(
        encounter_id=encounter_id,
        coverage=make_coverage(kw.get("payer_id", "aetna")),
        diagnoses=("M0579", "Z79899"),
    )
    values: dict[str, Any] = dict(
        encounter_id=encounter_id,
        payer_id="aetna",
        date_of_service=enc.date_of_service,
        place_of_service="11",
        diagnoses=enc.diagnoses,
        lines=(drug_line(), waste_line(), admin_line(diagnosis_pointers=(1, 2))),
        encounter=enc,
        prior_authorization="PA0001",
    )
    values.update(kw)
    return with_line_control_numbers(Claim(**values))


_lcn = count(1)


def with_line_control_numbers(claim: Claim, start: int | None = None) -> Claim:
    """Number the lines as the ledger would (a global sequence), unless they already are."""
    numbers = count(start) if start is not None else _lcn
    lines = tuple(
        ln if ln.line_control_number else replace(ln, line_control_number=f"{next(numbers):010d}")
        for ln in claim.lines
    )
    return replace(claim, lines=lines)


# ------------------------------------------------------------------ hypothesis

money = st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False)
units = st.one_of(
    st.integers(1, 999).map(Decimal),
    st.decimals(min_value=Decimal("0.1"), max_value=100, places=1, allow_nan=False).filter(
        lambda d: d > 0
    ),
)
# Free text: letters plus the characters that break X12 (delimiters, accents, newlines).
awkward_text = st.text(
    alphabet=st.sampled_from("ABCdefÉñ O'Brien-*:^~\n\t.,#&/"), min_size=1, max_size=40
).filter(lambda s: any(c.isalpha() for c in s))
ndc = st.from_regex(r"\A[0-9]{11}\Z")
ndc_unit = st.sampled_from(["UN", "ML", "GR", "ME", "F2"])

DRUG_CODES = ("J1745", "J3262", "J0129", "J1602", "J3357", "J3301", "J7325", "J9312", "Q5103")
ADMIN_CODES = ("96365", "96366", "96372", "96413", "96415", "96374")
PROCEDURE_CODES = ("20610", "20611", "20605", "20600", "20550")
EM_CODES = ("99213", "99214", "99215", "99204")
LAB_CODES = ("86140", "85651", "80053")


@st.composite
def service_line(draw: st.DrawFn, kind: str, n_dx: int) -> ServiceLine:
    pointers = tuple(
        draw(st.lists(st.integers(1, n_dx), min_size=1, max_size=min(4, n_dx), unique=True))
    )
    base: dict[str, Any] = dict(
        units=draw(units), charge=draw(money), kind=kind, diagnosis_pointers=pointers
    )
    if kind in ("drug", "drug_waste"):
        mods: tuple[str, ...] = (
            ("JW",) if kind == "drug_waste" else draw(st.sampled_from([(), ("JZ",), ("RT",)]))
        )
        line = ServiceLine(
            procedure=draw(st.sampled_from(DRUG_CODES)),
            modifiers=mods,
            ndc=draw(st.one_of(st.none(), ndc)) if kind == "drug" else draw(ndc),
            ndc_quantity=draw(
                st.decimals(min_value=Decimal("0.001"), max_value=9999, places=3, allow_nan=False)
            ),
            ndc_unit=draw(ndc_unit),
            note=draw(st.one_of(st.none(), awkward_text)) if kind == "drug_waste" else None,
            drug="somedrug",
            **base,
        )
        return _fix_ndc(line)
    code = {
        "administration": ADMIN_CODES,
        "procedure": PROCEDURE_CODES,
        "guidance": ("76942", "77002"),
        "em": EM_CODES,
        "lab": LAB_CODES,
    }[kind]
    mods = {
        "procedure": st.sampled_from([("RT",), ("LT",), ("50",), ("RT", "59"), ("LT", "XS")]),
        "em": st.sampled_from([(), ("25",)]),
    }.get(kind, st.just(()))
    return ServiceLine(procedure=draw(st.sampled_from(code)), modifiers=draw(mods), **base)


def _fix_ndc(line: ServiceLine) -> ServiceLine:
    """A drug line without an NDC carries no NDC quantity either."""
    if line.ndc is None:
        return replace(line, ndc_quantity=None, ndc_unit=None)
    return line


LINE_KINDS = ("drug", "drug_waste", "administration", "procedure", "guidance", "em", "lab")


@st.composite
def claims_strategy(draw: st.DrawFn, encounter_id: str | None = None) -> Claim:
    n_dx = draw(st.integers(1, 12))
    diagnoses = tuple(
        draw(
            st.lists(
                st.from_regex(r"\A[A-TV-Z][0-9]{2}[0-9A-Z]{0,4}\Z"), min_size=n_dx, max_size=n_dx
            )
        )
    )
    kinds = draw(st.lists(st.sampled_from(LINE_KINDS), min_size=1, max_size=8))
    lines = tuple(draw(service_line(kind, n_dx)) for kind in kinds)
    relationship = draw(st.sampled_from(["self", "spouse", "child", "other"]))
    payer = draw(st.sampled_from(PAYERS))
    patient = make_person(
        last_name=draw(awkward_text),
        first_name=draw(awkward_text),
        birth_date=draw(st.dates(date(1920, 1, 1), date(2020, 12, 31))),
        sex=draw(st.sampled_from(["F", "M", "U"])),
    )
    subscriber = None if relationship == "self" else make_person(last_name=draw(awkward_text))
    coverage = make_coverage(
        payer,
        relationship=relationship,
        subscriber=subscriber,
        priority=draw(st.sampled_from(["primary", "secondary"])),
        group_number=draw(st.one_of(st.none(), st.from_regex(r"\A[A-Z0-9]{1,20}\Z"))),
    )
    eid = encounter_id or draw(st.from_regex(r"\A[A-Z0-9]{1,20}\Z"))
    enc = make_encounter(
        encounter_id=eid,
        date_of_service=draw(st.dates(date(2020, 1, 1), date(2025, 12, 31))),
        place_of_service=draw(st.sampled_from(["11", "19", "22", "12"])),
        patient=patient,
        coverage=coverage,
        rendering_provider=make_provider(last_name=draw(awkward_text)),
        diagnoses=diagnoses,
    )
    frequency = draw(st.sampled_from(["1", "1", "7", "8"]))
    claim = Claim(
        encounter_id=eid,
        payer_id=payer,
        date_of_service=enc.date_of_service,
        place_of_service=enc.place_of_service,
        diagnoses=diagnoses,
        lines=lines,
        encounter=enc,
        frequency=frequency,
        prior_authorization=draw(st.one_of(st.none(), st.from_regex(r"\A[A-Z0-9]{4,20}\Z"))),
        payer_claim_number=None if frequency == "1" else draw(st.from_regex(r"\A[0-9]{8,14}\Z")),
    )
    return with_line_control_numbers(claim)
