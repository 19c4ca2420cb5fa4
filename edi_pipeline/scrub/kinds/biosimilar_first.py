"""``biosimilar_first``: a non-preferred product needs a documented exception or a failed trial.

Commercial plans prefer some infliximab/rituximab/tocilizumab products (UHC: Inflectra and Avsola
over Remicade and Renflexis). The non-preferred product is paid only with a documented medical
exception for it, or, where the policy allows, a trial of a preferred product of at least
``trial_days`` that ended in inadequate response (intolerance or a contraindication counts
whatever the duration).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from edi_pipeline.models import Claim, Hold, ServiceLine
from edi_pipeline.scrub.codeset import CodeSet
from edi_pipeline.scrub.engine import (
    Rule,
    ScrubContext,
    drug_in,
    meta,
    names_product,
    rule_kind,
)

FAILED = ("inadequate_response", "intolerance", "contraindicated")


@rule_kind("biosimilar_first")
@dataclass(frozen=True, kw_only=True, slots=True)
class BiosimilarFirst(Rule):
    default_category = "biosimilar"

    nonpreferred: CodeSet = field(
        metadata=meta("HCPCS codes of the non-preferred products, e.g. J1745, Q5104")
    )
    preferred: tuple[str, ...] = field(
        metadata=meta(
            "preferred products by generic name, e.g. infliximab-dyyb, infliximab-axxq", lower=True
        )
    )
    trial_days: int | None = field(
        default=None,
        metadata=meta(
            "a trial of a preferred product this long that failed satisfies the rule (empty: only "
            "a documented medical exception does)",
            minimum=1,
        ),
    )
    exception_allowed: bool = field(
        default=True, metadata=meta("a documented medical exception satisfies the rule")
    )

    @property
    def claim_level(self) -> bool:
        return False

    def triggered_by(self, line: ServiceLine) -> bool:
        return line.kind == "drug" and line.procedure in self.nonpreferred

    def check(self, claim: Claim, ctx: ScrubContext) -> Iterator[Hold]:
        enc = claim.encounter
        for n, line in enumerate(claim.lines, start=1):
            if not self.triggered_by(line):
                continue
            exc = enc.medical_exception
            if (
                self.exception_allowed
                and exc is not None
                and exc.documented
                and names_product(exc.drug, line.procedure, line.drug, ctx)
            ):
                continue
            if self.trial_days is not None and self._failed_trial(claim, ctx):
                continue
            needs = "a documented medical exception" if self.exception_allowed else ""
            if self.trial_days is not None:
                trial = f"a failed trial of {self.trial_days}+ days of a preferred product"
                needs = f"{needs} or {trial}" if needs else trial
            label = f"{line.procedure} ({line.drug})" if line.drug else line.procedure
            yield self.hold(
                f"line {n} {label} is not preferred; preferred: {', '.join(self.preferred)}; "
                f"needs {needs}"
            )

    def _failed_trial(self, claim: Claim, ctx: ScrubContext) -> bool:
        for th in claim.encounter.therapy_history:
            if th.outcome not in FAILED:
                continue
            if not drug_in(ctx.generic_name(th.drug), self.preferred):
                continue
            if th.outcome != "inadequate_response":
                return True
            end = th.end or claim.date_of_service
            if (end - th.start).days >= self.trial_days:  # type: ignore[operator]
                return True
        return False
