"""``frequency``: the minimum interval between doses of a drug, loading versus maintenance.

Payers apply the label's schedule (payer_policy.md §1). Infliximab in RA: loading doses at weeks
0, 2 and 6, then every 8 weeks; rituximab in RA: courses of two infusions two weeks apart, a new
course not sooner than 16 weeks after the last began. The schedule is data:

- ``loading_intervals_days``: minimum days between consecutive loading doses ([14, 28] for
  infliximab: week 0 → 2 → 6). No loading phase when empty.
- maintenance in *cycles* of ``cycle_doses`` doses (1 for infliximab, 2 for rituximab): a cycle's
  first dose comes at least ``cycle_interval_days`` after the previous cycle's first dose (the last
  loading dose counts as the cycle before the first maintenance cycle); doses within a cycle at
  least ``within_cycle_days`` apart.
- ``restart_after_days``: a gap this long starts a new course (loading again).

The doses are the member's earlier claims with this payer that carried a drug line of the rule's
codes or drugs, from the ledger; a documented medical exception (an approved dose escalation)
waives the rule where ``exception_allowed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from edi_pipeline.models import Claim, Hold
from edi_pipeline.scrub.codeset import DiagnosisSet
from edi_pipeline.scrub.engine import (
    LineRule,
    ScrubContext,
    meta,
    names_product,
    points_to,
    rule_kind,
)


@rule_kind("frequency")
@dataclass(frozen=True, kw_only=True, slots=True)
class Frequency(LineRule):
    default_category = "frequency"

    loading_intervals_days: tuple[int, ...] = field(
        default=(),
        metadata=meta("minimum days between consecutive loading doses, e.g. [14, 28]", minimum=1),
    )
    cycle_interval_days: int = field(
        metadata=meta(
            "minimum days between the first doses of consecutive maintenance cycles", minimum=1
        )
    )
    cycle_doses: int = field(default=1, metadata=meta("doses per maintenance cycle", minimum=1))
    within_cycle_days: int = field(
        default=0, metadata=meta("minimum days between doses within a cycle", minimum=0)
    )
    grace_days: int = field(default=0, metadata=meta("days early that are tolerated", minimum=0))
    restart_after_days: int | None = field(
        default=None,
        metadata=meta("a gap this long since the last dose starts a new course", minimum=1),
    )
    diagnoses: DiagnosisSet = field(
        default=DiagnosisSet(),
        metadata=meta(
            "apply only when the drug line points to one of these families (empty: always)"
        ),
    )
    exception_allowed: bool = field(
        default=False,
        metadata=meta(
            "a documented medical exception for the drug (e.g. approved dose escalation) waives it"
        ),
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from LineRule.problems(self)
        if self.cycle_doses > 1 and not self.within_cycle_days:
            yield "within_cycle_days", "is required when cycle_doses > 1"

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        lines = [
            ln
            for _, ln in self.lines(claim, ("drug",))
            if not self.diagnoses or points_to(claim, ln, self.diagnoses)
        ]
        if not lines:
            return
        exc = claim.encounter.medical_exception
        if (
            self.exception_allowed
            and exc is not None
            and exc.documented
            and any(names_product(exc.drug, ln.procedure, ln.drug, ctx) for ln in lines)
        ):
            return
        doses = sorted(
            {
                past.date_of_service
                for past in ctx.earlier_claims(claim)
                if any(
                    pl.kind == "drug" and self.matches(pl.procedure, pl.drug) for pl in past.lines
                )
            }
        )
        verdict = self.assess(doses, claim.date_of_service)
        if verdict:
            label = ", ".join(sorted({ln.drug or ln.procedure for ln in lines}))
            yield self.hold(f"{label}: {verdict}")

    def assess(self, earlier: list[date], dos: date) -> str:
        """Why a dose on ``dos`` after the ``earlier`` doses is too soon ('' when it is not)."""
        course: list[date] = []
        for day in earlier:
            if (
                course
                and self.restart_after_days
                and (day - course[-1]).days >= (self.restart_after_days)
            ):
                course = []
            course.append(day)
        if not course:
            return ""
        if self.restart_after_days and (dos - course[-1]).days >= self.restart_after_days:
            return ""
        k = len(course)  # this dose's 0-based index in the course
        loading = len(self.loading_intervals_days)
        start = loading + 1 if loading else 0  # index of the first maintenance dose
        if k <= loading:
            ref, need, phase = course[k - 1], self.loading_intervals_days[k - 1], "loading"
            what = "the previous dose"
        else:
            m = k - start
            if m % self.cycle_doses == 0:
                ref = course[start - 1] if m == 0 else course[start + m - self.cycle_doses]
                need, phase = self.cycle_interval_days, "maintenance"
                what = (
                    "the previous cycle's first dose"
                    if self.cycle_doses > 1
                    else ("the previous dose")
                )
            else:
                ref, need, phase = course[k - 1], self.within_cycle_days, "within-cycle"
                what = "the previous dose"
        gap = (dos - ref).days
        if gap >= need - self.grace_days:
            return ""
        return (
            f"dose {k + 1} of the course on {dos} is {gap} days after {what} ({ref}); "
            f"{phase} doses need at least {need} days"
        )
