"""``documentation``: the record must document what the billed line relies on.

Each requirement is a named check over the claim and its encounter:

- ``discarded_amount``: a JW line bills a discarded amount, so the record must document the amount
  discarded from the single-dose vial (CMS Pub.100-04 Ch.17 §40; units.md U10).
- ``infusion_times``: infusion and hydration codes are time-based, so every IV drug needs its start
  and stop times, the stop after the start (administration.md A3).
- ``separately_identifiable_visit``: an E/M with modifier 25 on a procedure day needs the visit
  documented as significant and separately identifiable (NCCI; procedures.md P4).
- ``weight_for_dose``: a dose ordered per kilogram needs the weight it was computed from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from edi_pipeline.codes import ndc_to_11
from edi_pipeline.models import Claim, DrugGiven, Hold, ServiceLine
from edi_pipeline.scrub.codeset import CodeSet
from edi_pipeline.scrub.engine import Rule, ScrubContext, meta, names_product, rule_kind

Requirement = Literal[
    "discarded_amount", "infusion_times", "separately_identifiable_visit", "weight_for_dose"
]
_TRIGGER_KIND = {
    "discarded_amount": "drug_waste",
    "infusion_times": "administration",
    "separately_identifiable_visit": "em",
    "weight_for_dose": "drug",
}


@rule_kind("documentation")
@dataclass(frozen=True, kw_only=True, slots=True)
class Documentation(Rule):
    default_category = "documentation"

    require: Requirement = field(
        metadata=meta(
            "what must be documented: " + ", ".join(_TRIGGER_KIND), choices=tuple(_TRIGGER_KIND)
        )
    )
    procedures: CodeSet = field(
        default=CodeSet(),
        metadata=meta(
            "limit the rule to lines with these codes (empty: every line the requirement "
            "concerns), e.g. 96365-96368, 96413-96417 for infusion_times"
        ),
    )

    @property
    def claim_level(self) -> bool:
        return False

    def triggered_by(self, line: ServiceLine) -> bool:
        if line.kind != _TRIGGER_KIND[self.require]:
            return False
        if self.procedures and line.procedure not in self.procedures:
            return False
        return self.require != "separately_identifiable_visit" or "25" in line.modifiers

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        lines = [(n, ln) for n, ln in enumerate(claim.lines, start=1) if self.triggered_by(ln)]
        if not lines:
            return
        given = _all_drugs(claim)
        if self.require == "discarded_amount":
            for n, line in lines:
                mine = [d for d in given if _is_line_drug(d, line, ctx)]
                if not any(d.discarded_mg is not None for d in mine):
                    yield self.hold(f"line {n} {line.procedure}-JW: no discarded amount documented")
        elif self.require == "infusion_times":
            for i, d in enumerate(claim.encounter.drugs):
                if d.route not in ("IV", "IV_PUSH"):
                    continue
                if d.start_time is None or d.stop_time is None:
                    yield self.hold(f"drugs[{i}] ({d.drug}): no start or stop time documented")
                elif d.stop_time <= d.start_time:
                    yield self.hold(f"drugs[{i}] ({d.drug}): stop time is not after start time")
        elif self.require == "separately_identifiable_visit":
            visit = claim.encounter.visit
            if visit is None or not visit.separately_identifiable:
                n, line = lines[0]
                yield self.hold(
                    f"line {n} {line.procedure}-25: visit not documented as separately identifiable"
                )
        else:  # weight_for_dose
            if claim.encounter.weight_kg is None and any(
                d.dose_mg_per_kg is not None for d in given
            ):
                yield self.hold("a dose was ordered per kg and no weight is documented")


def _all_drugs(claim: Claim) -> list[DrugGiven]:
    enc = claim.encounter
    return [*enc.drugs, *(d for p in enc.procedures for d in p.drugs)]


def _is_line_drug(d: DrugGiven, line: ServiceLine, ctx: ScrubContext) -> bool:
    if line.ndc and d.ndc and ndc_to_11(d.ndc) == line.ndc:
        return True
    if d.hcpcs and d.hcpcs.upper() == line.procedure:
        return True
    return names_product(d.drug, line.procedure, line.drug, ctx)
