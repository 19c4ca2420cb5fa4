"""``step_therapy``: a biologic needs a documented trial of conventional therapy first.

Policies require, per diagnosis family, an inadequate response to (or intolerance of, or a
contraindication to) conventional DMARDs before a biologic: BCBS NC tocilizumab for RA wants
maximally tolerated methotrexate for 3 months or more; secukinumab for AS wants two NSAIDs over at
least 4 weeks in total. The trials come from the encounter's ``therapy_history``; a documented
medical exception for the drug satisfies the rule where the policy allows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from edi_pipeline.models import Claim, Hold, TherapyHistory
from edi_pipeline.scrub.codeset import DiagnosisSet
from edi_pipeline.scrub.engine import (
    LineRule,
    ScrubContext,
    drug_in,
    meta,
    names_product,
    points_to,
    rule_kind,
)

_OUTCOMES = ("inadequate_response", "intolerance", "contraindicated", "ongoing")


@rule_kind("step_therapy")
@dataclass(frozen=True, kw_only=True, slots=True)
class StepTherapy(LineRule):
    default_category = "step_therapy"

    diagnoses: DiagnosisSet = field(
        default=DiagnosisSet(),
        metadata=meta(
            "the diagnosis families the step applies to, e.g. M05, M06 for RA (empty: all)"
        ),
    )
    required_drugs: tuple[str, ...] = field(
        metadata=meta(
            "conventional drugs that count as a trial, by generic name (methotrexate, "
            "leflunomide…)",
            lower=True,
        )
    )
    min_trials: int = field(
        default=1,
        metadata=meta("how many different required drugs must have been tried", minimum=1),
    )
    min_days: int = field(
        default=0, metadata=meta("minimum trial length in days (90 = 3 months)", minimum=0)
    )
    duration: Literal["each", "total"] = field(
        default="each",
        metadata=meta(
            "min_days applies to each trial, or to the trials added together",
            choices=("each", "total"),
        ),
    )
    outcomes: tuple[str, ...] = field(
        default=("inadequate_response", "intolerance", "contraindicated"),
        metadata=meta("trial outcomes that satisfy the step", choices=_OUTCOMES),
    )
    duration_waived_for: tuple[str, ...] = field(
        default=("intolerance", "contraindicated"),
        metadata=meta("outcomes that count whatever the trial's length", choices=_OUTCOMES),
    )
    exception_allowed: bool = field(
        default=True, metadata=meta("a documented medical exception satisfies the rule")
    )
    new_starts_only: bool = field(
        default=False,
        metadata=meta(
            "skip members already billed for the drug with this payer (continuing therapy)"
        ),
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from LineRule.problems(self)
        if len(self.required_drugs) < self.min_trials:
            yield "min_trials", f"exceeds the {len(self.required_drugs)} required_drugs listed"

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        lines = [
            (n, ln)
            for n, ln in self.lines(claim, ("drug",))
            if not self.diagnoses or points_to(claim, ln, self.diagnoses)
        ]
        if not lines:
            return
        exc = claim.encounter.medical_exception
        for n, line in lines:
            if (
                self.exception_allowed
                and exc is not None
                and exc.documented
                and names_product(exc.drug, line.procedure, line.drug, ctx)
            ):
                continue
            if self.new_starts_only and any(
                self.matches(pl.procedure, pl.drug)
                for past in ctx.earlier_claims(claim)
                for pl in past.lines
                if pl.kind == "drug"
            ):
                continue
            missing = self._missing(claim, ctx)
            if missing:
                label = f"{line.procedure} ({line.drug})" if line.drug else line.procedure
                yield self.hold(f"line {n} {label}: {missing}")

    def _missing(self, claim: Claim, ctx: ScrubContext) -> str:
        """What the therapy history lacks ('' when the step is satisfied)."""
        dos = claim.date_of_service
        qualifying: dict[str, int] = {}  # drug -> longest qualifying trial (days)
        for th in claim.encounter.therapy_history:
            generic = ctx.generic_name(th.drug)
            if th.outcome not in self.outcomes or not drug_in(generic, self.required_drugs):
                continue
            days = _days(th, dos)
            if th.outcome in self.duration_waived_for:
                days = max(days, self.min_days)
            qualifying[generic] = max(days, qualifying.get(generic, 0))
        if self.duration == "each":
            enough = [d for d in qualifying.values() if d >= self.min_days]
            ok = len(enough) >= self.min_trials
        else:
            ok = len(qualifying) >= self.min_trials and sum(qualifying.values()) >= self.min_days
        if ok:
            return ""
        span = f" of {self.min_days}+ days" if self.min_days else ""
        if self.duration == "total" and self.min_days:
            span = f" totalling {self.min_days}+ days"
        return (
            f"needs {self.min_trials} documented trial(s){span} of "
            f"{', '.join(self.required_drugs)} (found {len(qualifying)} qualifying)"
        )


def _days(th: TherapyHistory, dos: date) -> int:
    end = th.end or dos
    return max((end - th.start).days, 0)
