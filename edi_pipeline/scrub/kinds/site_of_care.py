"""``site_of_care``: services allowed only in some places of service.

Commercial site-of-care programs send infusions after the first doses to the office or home
rather than the hospital outpatient department (POS 19/22); a professional claim whose drug
lines are set in a hospital outpatient department is billed by the hospital, not the practice.
``after_doses`` lets the first doses of a course be given anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from edi_pipeline.models import Claim, Hold
from edi_pipeline.scrub.engine import LineRule, ScrubContext, meta, rule_kind


@rule_kind("site_of_care")
@dataclass(frozen=True, kw_only=True, slots=True)
class SiteOfCare(LineRule):
    default_category = "site_of_care"

    allowed_pos: tuple[str, ...] = field(
        metadata=meta("allowed CMS place-of-service codes, e.g. 11, 12")
    )
    after_doses: int = field(
        default=0,
        metadata=meta(
            "earlier doses (claims with a line of these codes or drugs) that may be given anywhere "
            "before the rule applies",
            minimum=0,
        ),
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from LineRule.problems(self)
        for pos in self.allowed_pos:
            if not (len(pos) == 2 and pos.isdigit()):
                yield "allowed_pos", f"must be two-digit POS codes (got {pos!r})"
        if not self.allowed_pos:
            yield "allowed_pos", "must name at least one place of service"

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        if claim.place_of_service in self.allowed_pos:
            return
        lines = list(self.lines(claim))
        if not lines:
            return
        if self.after_doses:
            earlier = sum(
                1
                for past in ctx.earlier_claims(claim)
                if any(self.matches(pl.procedure, pl.drug) for pl in past.lines)
            )
            if earlier < self.after_doses:
                return
        codes = ", ".join(sorted({ln.procedure for _, ln in lines}))
        after = f" after {self.after_doses} dose(s)" if self.after_doses else ""
        yield self.hold(
            f"{codes} in POS {claim.place_of_service}{after}; allowed: "
            f"{', '.join(self.allowed_pos)}"
        )
