"""``bundling``: NCCI-style pairs of codes not reported together on one date of service.

A column-2 code (the component) is not paid beside a column-1 code (the comprehensive service)
unless the column-2 line carries a modifier the pair allows: 76942 is never reported with
20600–20611 (the US-guided codes include it); initial hydration is not reported beside another
initial infusion unless a separate IV site was needed (59/XU); an E/M on the day of a procedure
or drug administration needs modifier 25.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from edi_pipeline.models import Claim, Hold, ServiceLine
from edi_pipeline.scrub.codeset import CodeSet
from edi_pipeline.scrub.engine import Rule, ScrubContext, meta, rule_kind


@rule_kind("bundling")
@dataclass(frozen=True, kw_only=True, slots=True)
class Bundling(Rule):
    default_category = "bundling"

    column1: CodeSet = field(metadata=meta("the comprehensive codes: 20600-20611, 96365 …"))
    column2: CodeSet = field(
        metadata=meta("the component codes not reported with a column-1 code: 76942 …")
    )
    bypass_modifiers: tuple[str, ...] = field(
        default=(),
        metadata=meta(
            "modifiers on the column-2 line that allow the pair (empty: never allowed), e.g. 25, "
            "59, XU"
        ),
    )

    @property
    def claim_level(self) -> bool:
        return False

    def triggered_by(self, line: ServiceLine) -> bool:
        return line.procedure in self.column2

    def problems(self) -> Iterator[tuple[str, str]]:
        for mod in self.bypass_modifiers:
            if not (len(mod) == 2 and mod.isalnum() and mod.upper() == mod):
                yield "bypass_modifiers", f"must be two-character modifiers (got {mod!r})"

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        for n2, component in enumerate(claim.lines, start=1):
            if component.procedure not in self.column2:
                continue
            if self.bypass_modifiers and any(
                m in self.bypass_modifiers for m in component.modifiers
            ):
                continue
            for n1, comprehensive in enumerate(claim.lines, start=1):
                if n1 != n2 and comprehensive.procedure in self.column1:
                    allowed = (
                        f"without modifier {' or '.join(self.bypass_modifiers)}"
                        if self.bypass_modifiers
                        else "(no modifier allows the pair)"
                    )
                    yield self.hold(
                        f"line {n2} {component.procedure} with line {n1} "
                        f"{comprehensive.procedure} {allowed}"
                    )
                    break
