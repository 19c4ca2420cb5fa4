"""``ndc_required``: drug lines must carry the 11-digit NDC with its quantity and unit.

Medicaid requires the NDC on physician-administered drug claims (Deficit Reduction Act 2005) and
many plans follow; a drug line without one is denied (CARC 16 with RARC M119).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from edi_pipeline.models import Claim, Hold, ServiceLine
from edi_pipeline.scrub.codeset import CodeSet
from edi_pipeline.scrub.engine import Rule, ScrubContext, meta, rule_kind

_LINE_KINDS = ("drug", "drug_waste", "administration", "procedure", "guidance", "em", "lab")


@rule_kind("ndc_required")
@dataclass(frozen=True, kw_only=True, slots=True)
class NdcRequired(Rule):
    default_category = "ndc"

    procedures: CodeSet = field(
        default=CodeSet(),
        metadata=meta(
            "the codes that need an NDC (empty: every line of the kinds below), e.g. J*, Q*"
        ),
    )
    line_kinds: tuple[str, ...] = field(
        default=("drug", "drug_waste"),
        metadata=meta("the kinds of line checked", choices=_LINE_KINDS),
    )
    require_quantity: bool = field(
        default=True, metadata=meta("also require the NDC quantity and unit")
    )

    @property
    def claim_level(self) -> bool:
        return False

    def triggered_by(self, line: ServiceLine) -> bool:
        return line.kind in self.line_kinds and (
            not self.procedures or line.procedure in self.procedures
        )

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        for n, line in enumerate(claim.lines, start=1):
            if not self.triggered_by(line):
                continue
            if not line.ndc:
                yield self.hold(f"line {n} {line.procedure}: no NDC")
            elif not (len(line.ndc) == 11 and line.ndc.isdigit()):
                yield self.hold(f"line {n} {line.procedure}: NDC is not 11 digits")
            elif self.require_quantity and (line.ndc_quantity is None or line.ndc_unit is None):
                yield self.hold(f"line {n} {line.procedure}: NDC quantity or unit missing")
