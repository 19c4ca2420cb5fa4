"""``timely_filing``: a claim filed too long after its date of service is denied (CARC 29).

Medicare Part B allows 12 months from the date of service (42 CFR 424.44); commercial contracts
commonly 90–180 days; Medicaid is state-specific. The day compared is the scrub's ``as_of`` (the
day the claim would be submitted). The limit is the payer's ``timely_filing_days`` (a top-level
key of its map) unless the rule sets ``days``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from edi_pipeline.models import Claim, Hold
from edi_pipeline.scrub.engine import Rule, ScrubContext, meta, rule_kind


@rule_kind("timely_filing")
@dataclass(frozen=True, kw_only=True, slots=True)
class TimelyFiling(Rule):
    default_category = "timely_filing"

    days: int | None = field(
        default=None,
        metadata=meta(
            "days after the date of service within which the claim must be filed (empty: the "
            "payer's timely_filing_days)",
            minimum=1,
        ),
    )

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        days = self.days
        if days is None:
            payer = ctx.payers.get(claim.payer_id)
            days = getattr(payer, "timely_filing_days", None)
        if days is None:
            return
        age = (ctx.as_of - claim.date_of_service).days
        if age > days:
            yield self.hold(
                f"date of service {claim.date_of_service} is {age} days before {ctx.as_of}; "
                f"limit {days} days"
            )
