"""Builders for scrub tests: claims as coding would produce them, rules as a map would hold them.

Kind tests build their ``ServiceLine``s directly (a rule sees only the claim), and their rules
through ``build_rule`` from the same dict a ``[[rule]]`` table gives, so the schema checks run
too. Integration tests go through the real coding stage instead.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from edi_pipeline.models import Claim, Encounter, ServiceLine
from edi_pipeline.scrub import (
    KINDS,
    InMemoryHistory,
    PastClaim,
    Rule,
    ScrubContext,
    build_rule,
    scrub,
)
from tests.factories import make_coverage, make_encounter

DOS = date(2025, 6, 2)
AS_OF = date(2025, 6, 30)


def _kind_of(procedure: str, modifiers: tuple[str, ...]) -> str:
    if procedure[0] in "JQ":
        return "drug_waste" if "JW" in modifiers else "drug"
    if procedure.startswith(("9636", "9637", "964")):
        return "administration"
    if procedure.startswith(("7694", "7700", "7701", "7702")):
        return "guidance"
    if procedure.startswith("99") or procedure == "G2211":
        return "em"
    if procedure.startswith("8"):
        return "lab"
    return "procedure"


def line(
    procedure: str,
    units: Any = 1,
    *,
    modifiers: tuple[str, ...] = (),
    drug: str | None = None,
    kind: str | None = None,
    ndc: str | None = None,
    ndc_quantity: Any = None,
    ndc_unit: str | None = None,
    pointers: tuple[int, ...] = (1,),
    charge: Any = "100.00",
) -> ServiceLine:
    return ServiceLine(
        procedure=procedure,
        units=Decimal(str(units)),
        charge=Decimal(str(charge)),
        kind=kind or _kind_of(procedure, modifiers),  # type: ignore[arg-type]
        modifiers=modifiers,
        diagnosis_pointers=pointers,
        ndc=ndc,
        ndc_quantity=None if ndc_quantity is None else Decimal(str(ndc_quantity)),
        ndc_unit=ndc_unit,  # type: ignore[arg-type]
        drug=drug,
    )


def claim(
    *lines: ServiceLine,
    payer: str = "aetna",
    dos: date = DOS,
    pos: str = "11",
    diagnoses: tuple[str, ...] = ("M0579",),
    encounter_id: str = "C1",
    member: str = "MEMBER1",
    frequency: str = "1",
    **encounter: Any,
) -> Claim:
    enc: Encounter = make_encounter(
        encounter_id=encounter_id,
        date_of_service=dos,
        place_of_service=pos,
        diagnoses=diagnoses,
        coverage=make_coverage(payer, member_id=member),
        **encounter,
    )
    return Claim(
        encounter_id=encounter_id,
        payer_id=payer,
        date_of_service=dos,
        place_of_service=pos,
        diagnoses=diagnoses,
        lines=tuple(lines),
        encounter=enc,
        frequency=frequency,  # type: ignore[arg-type]
    )


def rule(kind: str, payer: str = "aetna", **params: Any) -> Rule:
    """A rule of ``kind`` built from map-like values, failing the test on any schema problem."""
    raw: dict[str, Any] = {
        "id": f"test-{kind}",
        "kind": kind,
        "message": f"test {kind} rule",
        "source": "test source",
        "effective_from": date(2020, 1, 1),
    }
    raw.update(params)
    built, problems = build_rule(KINDS[kind], raw, payer)
    assert not problems, problems
    assert built is not None
    return built


def context(
    *rules: Rule,
    as_of: date = AS_OF,
    history: InMemoryHistory | None = None,
    overrides: dict[str, dict[str, str]] | None = None,
    payers: dict[str, Any] | None = None,
) -> ScrubContext:
    by_payer: dict[str, list[Rule]] = {}
    for r in rules:
        by_payer.setdefault(r.payer, []).append(r)
    return ScrubContext(
        as_of=as_of,
        rules=by_payer,
        history=history or InMemoryHistory(),
        overrides=overrides or {},
        payers=payers or {},
    )


def earlier(*claims: Claim, status: str = "built") -> InMemoryHistory:
    """History holding these claims as already sent to the payer."""
    history = InMemoryHistory()
    for c in claims:
        history.add(c.payer_id, c.encounter.coverage.member_id, PastClaim.of(c, status))
    return history


def holds(c: Claim, *rules: Rule, **ctx: Any) -> list[str]:
    """The rule ids that hold the claim."""
    return [h.rule for h in scrub(c, context(*rules, **ctx)).holds]


def messages(c: Claim, *rules: Rule, **ctx: Any) -> list[str]:
    return [h.message for h in scrub(c, context(*rules, **ctx)).holds]
