"""``auth_required``: the service needs a prior authorization that covers it.

Covering means all of: an authorization in the encounter names the product (its HCPCS code or
its generic/brand name: authorizations are product-specific, so one for Remicade does not cover
Inflectra), is valid on the date of service, and still has units and visits left once the
member's earlier claims with this payer in the authorization's window are counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from edi_pipeline.models import Claim, Hold, PriorAuthorization, ServiceLine
from edi_pipeline.scrub.engine import LineRule, ScrubContext, meta, names_product, rule_kind


@rule_kind("auth_required")
@dataclass(frozen=True, kw_only=True, slots=True)
class AuthRequired(LineRule):
    default_category = "authorization"

    count_waste: bool = field(
        default=True, metadata=meta("JW (discarded) units count against the units approved")
    )

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        by_code: dict[str, list[ServiceLine]] = {}
        for _, line in self.lines(claim):
            if line.kind == "drug_waste" and not self.count_waste:
                continue
            by_code.setdefault(line.procedure, []).append(line)
        auths = claim.encounter.prior_authorizations
        dos = claim.date_of_service
        for code, lines in by_code.items():
            drug = next((ln.drug for ln in lines if ln.drug), None)
            label = f"{code} ({drug})" if drug else code
            naming = [a for a in auths if any(names_product(n, code, drug, ctx) for n in a.drugs)]
            if not naming:
                yield self.hold(f"{label}: no prior authorization on file names this product")
                continue
            current = [a for a in naming if a.valid_from <= dos <= a.valid_to]
            if not current:
                spans = "; ".join(f"{a.valid_from} to {a.valid_to}" for a in naming)
                yield self.hold(f"{label}: authorization not valid on {dos} (valid {spans})")
                continue
            shortfalls = [self._shortfall(a, code, drug, lines, claim, ctx) for a in current]
            if all(shortfalls):
                yield self.hold(f"{label}: {shortfalls[0]}")

    def _shortfall(
        self,
        auth: PriorAuthorization,
        code: str,
        drug: str | None,
        lines: list[ServiceLine],
        claim: Claim,
        ctx: ScrubContext,
    ) -> str:
        """What this authorization lacks for the claim ('' when it covers it)."""
        if auth.units_approved is None and auth.visits_approved is None:
            return ""  # nothing is counted against it: no need to read the history
        codes = {n.strip().upper() for n in auth.drugs}
        generics = {ctx.generic_name(n) for n in auth.drugs}
        used_units = Decimal(0)
        visits = 0
        for past in ctx.earlier_claims(claim):
            if not auth.valid_from <= past.date_of_service <= auth.valid_to:
                continue
            counted = [
                pl
                for pl in past.lines
                if (pl.procedure in codes or (pl.drug is not None and pl.drug.lower() in generics))
                and (self.count_waste or pl.kind != "drug_waste")
            ]
            if counted:
                visits += 1
                used_units += sum((pl.units for pl in counted), Decimal(0))
        units = sum((ln.units for ln in lines), Decimal(0))
        if auth.units_approved is not None and used_units + units > auth.units_approved:
            return (
                f"{units} units billed + {used_units} used of {auth.units_approved} approved "
                f"by authorization {auth.number}"
            )
        if auth.visits_approved is not None and visits + 1 > auth.visits_approved:
            return (
                f"visit {visits + 1} of {auth.visits_approved} approved by authorization "
                f"{auth.number}"
            )
        return ""
