"""``unit_limit``: MUE-style maximum units of a code per line, per date of service, or per window.

Payers deny units above a quantity limit (CMS MUEs per line or per day; commercial quantity
limits such as "120 units per 28 days"). Per day and per window count the member's earlier
claims with this payer too, so two claims on one day cannot slip under the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from edi_pipeline.models import Claim, Hold
from edi_pipeline.scrub.codeset import DiagnosisSet
from edi_pipeline.scrub.engine import LineRule, ScrubContext, meta, points_to, rule_kind


@rule_kind("unit_limit")
@dataclass(frozen=True, kw_only=True, slots=True)
class UnitLimit(LineRule):
    default_category = "unit_limit"

    max_units: Decimal = field(metadata=meta("most billing units allowed", minimum=Decimal(0)))
    per: Literal["line", "day", "window"] = field(
        default="day",
        metadata=meta(
            "line: each line; day: all lines of the date of service; window: the last window_days "
            "days including this date",
            choices=("line", "day", "window"),
        ),
    )
    window_days: int | None = field(
        default=None, metadata=meta("length of the window when per = window", minimum=1)
    )
    include_waste: bool = field(
        default=True, metadata=meta("count JW (discarded) units toward the limit")
    )
    diagnoses: DiagnosisSet = field(
        default=DiagnosisSet(),
        metadata=meta(
            "apply only when a line points to one of these ICD-10-CM families (empty: always)"
        ),
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from LineRule.problems(self)
        if self.per == "window" and self.window_days is None:
            yield "window_days", "is required when per = window"
        if self.per != "window" and self.window_days is not None:
            yield "window_days", "applies only when per = window"

    def _counted(self, kind: str) -> bool:
        return self.include_waste or kind != "drug_waste"

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        lines = [
            (n, ln)
            for n, ln in self.lines(claim)
            if self._counted(ln.kind)
            and (not self.diagnoses or points_to(claim, ln, self.diagnoses))
        ]
        if not lines:
            return
        if self.per == "line":
            for n, ln in lines:
                if ln.units > self.max_units:
                    yield self.hold(
                        f"line {n} {ln.procedure}: {ln.units} units, "
                        f"limit {self.max_units} per line"
                    )
            return
        units = sum((ln.units for _, ln in lines), Decimal(0))
        dos = claim.date_of_service
        since = dos if self.per == "day" else dos - timedelta(days=self.window_days - 1)  # type: ignore[operator]
        earlier = Decimal(0)
        for past in ctx.earlier_claims(claim):
            if past.date_of_service < since:
                continue
            for pl in past.lines:
                if self._counted(pl.kind) and self.matches(pl.procedure, pl.drug):
                    earlier += pl.units
        if units + earlier > self.max_units:
            codes = ", ".join(sorted({ln.procedure for _, ln in lines}))
            span = "per date of service" if self.per == "day" else f"per {self.window_days} days"
            already = f" + {earlier} on earlier claims" if earlier else ""
            yield self.hold(f"{codes}: {units} units{already}, limit {self.max_units} {span}")
