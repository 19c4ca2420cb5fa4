"""``diagnosis_coverage``: a drug or procedure covered only for listed diagnosis families.

Billing articles and drug policies list the ICD-10-CM codes that support a service (infliximab
for RA, PsA, AS, Crohn's…; hyaluronans for knee osteoarthritis only). A line whose diagnosis
pointers reach none of them is denied for medical necessity.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from edi_pipeline.models import Claim, Hold
from edi_pipeline.scrub.codeset import DiagnosisSet
from edi_pipeline.scrub.engine import (
    LineRule,
    ScrubContext,
    meta,
    pointed_diagnoses,
    rule_kind,
)


@rule_kind("diagnosis_coverage")
@dataclass(frozen=True, kw_only=True, slots=True)
class DiagnosisCoverage(LineRule):
    default_category = "diagnosis_coverage"

    diagnoses: DiagnosisSet = field(
        metadata=meta("covered ICD-10-CM families, e.g. M05, M06, L40.5")
    )
    line_kinds: tuple[str, ...] = field(
        default=("drug", "procedure", "administration", "guidance", "lab", "em"),
        metadata=meta("the kinds of line checked (JW lines follow their drug line)"),
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from LineRule.problems(self)
        if not self.diagnoses:
            yield "diagnoses", "must list at least one diagnosis family"

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        for n, line in self.lines(claim, self.line_kinds):
            pointed = pointed_diagnoses(claim, line)
            if not any(self.diagnoses.matches(d) for d in pointed):
                yield self.hold(
                    f"line {n} {line.procedure} points to {', '.join(pointed)}; covered: "
                    f"{self.diagnoses}"
                )
