"""The values the remit stage passes around: what an 835 says, and what we make of it.

Parsing yields ``RemitClaim`` (one 2100 loop with its 2110 ``RemitLine``s and ``Adjustment``s)
as soon as the claim ends, and one ``RemitTransaction`` per ST/SE (the payment, its PLBs and the
running totals), so a file of any size is read in constant memory. Balancing yields
``Imbalance``s; classification turns each ``Adjustment`` into a ``ClassifiedAdjustment``.

Patient names and member ids (NM1*QC/IL) are deliberately not kept: matching uses the patient
control number (our CLM01) and line control numbers, which are identifiers, not PHI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Literal

from edi_pipeline.models import Problem, Where

ZERO = Decimal("0.00")

#: CLP02 values (X12 element 1029) and what they mean for the remit stage.
REVERSAL = "22"
DENIED = "4"


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS reason/amount(/quantity) triplet: ``CAS*CO*45*20.00`` is one Adjustment."""

    group: str  # CO, OA, PI, PR (CR tolerated from non-conforming payers)
    carc: str
    amount: Decimal  # positive decreases payment, negative increases it
    quantity: Decimal | None = None
    segment_index: int = 0  # the CAS segment's 1-based ordinal in the file
    position: int = 1  # which triplet of the CAS (1..6)


@dataclass(frozen=True, slots=True)
class Procedure:
    """A composite procedure identifier (SVC01 or SVC06): ``HC:J1745:JW``."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RemitLine:
    """One 2110 service line."""

    number: int  # 1-based position within its claim
    procedure: Procedure  # SVC01, as adjudicated
    charge: Decimal  # SVC02
    paid: Decimal  # SVC03
    units: Decimal | None = None  # SVC05 units paid (absent: 1 by TR3 convention)
    original: Procedure | None = None  # SVC06: what we billed, when the payer changed it
    original_units: Decimal | None = None  # SVC07
    revenue_code: str | None = None  # SVC04
    service_from: date | None = None  # DTM*472 or DTM*150
    service_to: date | None = None  # DTM*151
    control_number: str | None = None  # REF*6R: our 2400 REF*6R echoed back
    adjustments: tuple[Adjustment, ...] = ()
    rarcs: tuple[str, ...] = ()  # LQ*HE
    allowed: Decimal | None = None  # AMT*B6 (informational, not part of balancing)
    segment_index: int = 0

    @property
    def billed(self) -> Procedure:
        """The procedure as we billed it: SVC06 when present, else SVC01."""
        return self.original or self.procedure

    @property
    def billed_units(self) -> Decimal | None:
        return self.original_units if self.original_units is not None else self.units


@dataclass(frozen=True, slots=True)
class Payment:
    """The header of one ST/SE: one payment (BPR) with its trace (TRN), payer and payee."""

    file: str
    st02: str
    handling: str  # BPR01
    amount: Decimal  # BPR02 total actual provider payment
    credit_debit: str  # BPR03
    method: str  # BPR04
    paid_on: date | None  # BPR16
    trace_number: str  # TRN02
    payer_identifier: str  # TRN03
    payer_name: str = ""  # N1*PR N102
    payer_id: str = ""  # N1*PR N104, else REF*2U, else TRN03
    payee_name: str = ""
    payee_id: str = ""  # N1*PE N104 (NPI/TIN)
    production_date: date | None = None  # DTM*405
    segment_index: int = 0

    @property
    def date(self) -> date | None:
        return self.paid_on or self.production_date


@dataclass(frozen=True, slots=True)
class RemitClaim:
    """One 2100 claim payment loop, with its service lines."""

    payment: Payment
    patient_control_number: str  # CLP01 = our CLM01 (maybe truncated/prefixed by the payer)
    status_code: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal | None = None  # CLP05 (informational)
    filing_indicator: str = ""  # CLP06
    payer_claim_number: str = ""  # CLP07
    facility_type: str = ""  # CLP08 (place of service for professional claims)
    frequency: str = ""  # CLP09
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    lines: tuple[RemitLine, ...] = ()
    rarcs: tuple[str, ...] = ()  # MOA03-07 / MIA05, MIA20-23
    statement_from: date | None = None  # DTM*232
    statement_to: date | None = None  # DTM*233
    received_on: date | None = None  # DTM*050
    original_reference: str | None = None  # REF*F8
    authorization: str | None = None  # REF*G1 / REF*BB
    segment_index: int = 0
    problems: tuple[Problem, ...] = ()

    @property
    def is_reversal(self) -> bool:
        return self.status_code == REVERSAL

    def all_adjustments(self) -> tuple[Adjustment, ...]:
        out = list(self.adjustments)
        for line in self.lines:
            out.extend(line.adjustments)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB reason/amount pair: a provider-level adjustment not tied to a claim by syntax."""

    provider_id: str
    fiscal_period: date | None
    reason: str  # PLB03-1
    reference: str  # PLB03-2 (often the ICN/patient control number it offsets)
    amount: Decimal  # positive reduces the payment
    segment_index: int = 0
    position: int = 1


@dataclass(frozen=True, slots=True)
class RemitTransaction:
    """The end of one ST/SE: its payment, PLBs, and what its claims added up to."""

    payment: Payment
    provider_adjustments: tuple[ProviderAdjustment, ...]
    claims: int
    claims_paid: Decimal  # Σ CLP04 over the transaction's claims
    segments: int  # ST..SE inclusive, as counted
    problems: tuple[Problem, ...] = ()

    @property
    def provider_adjustment_total(self) -> Decimal:
        return sum((p.amount for p in self.provider_adjustments), ZERO)


Level = Literal["line", "claim", "transaction"]


@dataclass(frozen=True, slots=True)
class Imbalance:
    """An amount relation of 835.md §6 that does not hold, with both sides and where."""

    level: Level
    expected: Decimal  # the side the TR3 states (SVC03, CLP04, BPR02)
    computed: Decimal  # what the other amounts add up to
    formula: str
    where: Where = field(default_factory=Where)
    claim: str | None = None  # CLP01
    line: int | None = None
    st02: str | None = None  # the transaction set (payment) it belongs to

    @property
    def difference(self) -> Decimal:
        return self.expected - self.computed


@dataclass(frozen=True, slots=True)
class Classification:
    """What one adjustment means: root cause, whether it is a denial, and what to do."""

    root_cause: str  # closed set models.ROOT_CAUSES
    denial: bool
    fix: str
    rule: str  # the id of the maps/denials.toml rule that decided, or "unknown-code"
    source: str
    prevent: str | None = None  # the scrub rule kind that would have held the claim
    known: bool = True


@dataclass(frozen=True, slots=True)
class ClassifiedAdjustment:
    adjustment: Adjustment
    rarcs: tuple[str, ...]
    classification: Classification

    @property
    def at_stake(self) -> Decimal:
        """Dollars a biller can recover by acting on the fix: the amount of a denial, else 0."""
        return self.adjustment.amount if self.classification.denial else ZERO


LineContextKind = Literal[
    "drug", "drug_waste", "administration", "procedure", "guidance", "em", "lab", "other", "claim"
]


@dataclass(frozen=True, slots=True)
class LineContext:
    """What a rule may look at besides the codes: the kind of line and what we sent on it."""

    kind: str = "other"
    modifiers: tuple[str, ...] = ()
    ndc_present: bool | None = None  # None: unknown (the line is not matched to what we sent)
    procedure: str = ""


def positional_builder(cls: type) -> Callable[..., object]:
    """A constructor for a frozen, slotted dataclass that takes every field positionally and
    stores each through its slot descriptor.

    Why: a frozen dataclass's ``__init__`` goes through ``object.__setattr__`` once per field,
    which made building records the largest single cost of reading a large 835 (millions of
    ``Adjustment``/``RemitLine``/``RemitClaim``). The object made is the very same (same class,
    same field values, equal and hashing alike); only the hot paths of the remit stage use this,
    and they pass every field, so defaults and ``__post_init__`` (none here) do not apply.
    """
    names = [f.name for f in fields(cls)]
    scope: dict[str, object] = {"_new": object.__new__, "_cls": cls}
    for name in names:
        scope[f"_set_{name}"] = getattr(cls, name).__set__
    args = ", ".join(names)
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names)
    source = f"def build({args}):\n    self = _new(_cls)\n{body}    return self\n"
    exec(source, scope)  # generated from the class's own field names only
    build = scope["build"]
    build.__doc__ = f"{cls.__name__}({args}), all positional (see positional_builder)."
    return build  # type: ignore[return-value]


new_adjustment = positional_builder(Adjustment)
new_procedure = positional_builder(Procedure)
new_line = positional_builder(RemitLine)
new_claim = positional_builder(RemitClaim)
