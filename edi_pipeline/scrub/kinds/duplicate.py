"""``duplicate``: the same service already billed for the member on the same day (CARC 18).

A line whose procedure and modifiers already appear on another claim of the member with this
payer for the same date of service would deny as a duplicate; a correction goes out as a
replacement (frequency 7) instead, which this rule leaves alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from edi_pipeline.models import Claim, Hold
from edi_pipeline.scrub.engine import Rule, ScrubContext, meta, rule_kind


@rule_kind("duplicate")
@dataclass(frozen=True, kw_only=True, slots=True)
class Duplicate(Rule):
    default_category = "duplicate"

    line_kinds: tuple[str, ...] = field(
        default=("drug", "drug_waste", "administration", "procedure", "guidance", "em", "lab"),
        metadata=meta("the kinds of line compared"),
    )

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        if claim.frequency != "1":
            return
        same_day = [
            p for p in ctx.earlier_claims(claim) if p.date_of_service == claim.date_of_service
        ]
        if not same_day:
            return
        billed = {
            (pl.procedure, tuple(sorted(pl.modifiers))): past.claim_id
            for past in same_day
            for pl in past.lines
            if pl.kind in self.line_kinds
        }
        found: list[str] = []
        others: set[str] = set()
        for n, line in enumerate(claim.lines, start=1):
            if line.kind not in self.line_kinds:
                continue
            other = billed.get((line.procedure, tuple(sorted(line.modifiers))))
            if other is not None:
                mods = "-" + "-".join(line.modifiers) if line.modifiers else ""
                found.append(f"line {n} {line.procedure}{mods}")
                others.add(other)
        if found:
            yield self.hold(
                f"{', '.join(found)} already billed on claim {', '.join(sorted(others))} for "
                f"{claim.date_of_service}"
            )
