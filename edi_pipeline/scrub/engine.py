"""The scrub engine: payer rules as data, a registry of rule kinds, one pure ``scrub()``.

A payer's policy is a list of rules in ``maps/payers/<payer>.toml``. Each rule names a *kind*; a
kind is a frozen dataclass registered with ``@rule_kind("name")`` (the c7n registry idea): its
fields are the schema the map loader checks, its ``check(claim, ctx)`` is a pure function that
yields a ``Hold`` for every way the claim breaks the rule. Adding a kind is adding a module under
``scrub/kinds/``; adding or changing a rule is editing TOML.

``scrub(claim, ctx)`` runs the rules of the claim's payer that are in effect and returns
``Scrubbed(claim, holds)``: no holds means clean. Everything a rule may consult besides the claim
(today's date, earlier claims, recorded overrides, drug names) is in the ``ScrubContext``, so the
engine does no I/O and reads no clock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal

import structlog

from edi_pipeline.models import HOLD_CATEGORIES, Claim, Hold, Scrubbed, ServiceLine
from edi_pipeline.scrub.codeset import CodeSet, DiagnosisSet
from edi_pipeline.scrub.history import NO_HISTORY, ClaimHistory, PastClaim

log = structlog.get_logger()

KINDS: dict[str, type[Rule]] = {}
"""Every registered rule kind by the name a map's ``kind =`` uses."""


def rule_kind(name: str) -> Callable[[type[R]], type[R]]:
    """Register a rule kind under ``name``; its dataclass fields become the map schema."""

    def register(cls: type[R]) -> type[R]:
        if name in KINDS and KINDS[name] is not cls:
            raise ValueError(f"rule kind {name!r} is registered twice")
        if not callable(getattr(cls, "check", None)):
            raise TypeError(f"rule kind {name!r} must define check(claim, ctx)")
        cls.kind = name
        KINDS[name] = cls
        return cls

    return register


def meta(
    doc: str,
    *,
    minimum: int | Decimal | None = None,
    choices: Iterable[str] | None = None,
    lower: bool = False,
) -> dict[str, Any]:
    """A rule parameter's documentation and checks, kept in its dataclass field's metadata:
    ``field(default=…, metadata=meta("what it means", minimum=1))``."""
    return {
        "doc": doc,
        "minimum": minimum,
        "choices": frozenset(choices) if choices is not None else None,
        "lower": lower,
    }


EffectiveBasis = Literal["date_of_service", "submission"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """What every rule has, whatever its kind: identity, category, wording, source, dates."""

    kind: ClassVar[str] = ""
    default_category: ClassVar[str] = ""

    id: str = field(
        metadata=meta("unique across all payer files, e.g. aetna-infliximab-biosimilar-first")
    )
    message: str = field(metadata=meta("what the biller is told when the rule holds a claim"))
    source: str = field(
        metadata=meta("the policy document, section and effective date the rule comes from")
    )
    effective_from: date = field(metadata=meta("first date on which the rule applies"))
    effective_to: date | None = field(
        default=None, metadata=meta("last date on which the rule applies")
    )
    effective_basis: EffectiveBasis = field(
        default="date_of_service",
        metadata=meta(
            "which date the effective dates compare with: the claim's date of service (payer "
            "policies) or the day the claim is scrubbed for submission (claims received on/after)",
            choices=("date_of_service", "submission"),
        ),
    )
    category: str = field(
        default="",
        metadata=meta(
            "hold category (closed set); defaults to the kind's own", choices=HOLD_CATEGORIES | {""}
        ),
    )
    verify: bool = field(
        default=False,
        metadata=meta(
            "true when the rule encodes a documented default not yet checked against the payer's "
            "current document; holds say so"
        ),
    )
    last_checked: date | None = field(
        default=None, metadata=meta("when someone last read the source")
    )
    payer: str = field(default="", metadata={"internal": True})

    # ------------------------------------------------------------------ for the engine

    def in_effect(self, date_of_service: date, as_of: date) -> bool:
        on = date_of_service if self.effective_basis == "date_of_service" else as_of
        if on < self.effective_from:
            return False
        return self.effective_to is None or on <= self.effective_to

    def triggered_by(self, line: ServiceLine) -> bool:
        """Whether this line makes the rule worth running; claim-level rules return True."""
        return True

    @property
    def claim_level(self) -> bool:
        """Claim-level rules run on every claim of the payer (no line triggers them)."""
        return True

    def problems(self) -> Iterator[tuple[str, str]]:
        """Cross-field problems as (field, message); the loader reports them like type errors."""
        return iter(())

    # ------------------------------------------------------------------ for kinds

    def hold(self, detail: str = "") -> Hold:
        message = f"{self.message} ({detail})" if detail else self.message
        source = f"{self.source} [VERIFY: unconfirmed default]" if self.verify else self.source
        return Hold(
            rule=self.id,
            category=self.category or self.default_category,
            message=message,
            source=source,
        )


R = typing.TypeVar("R", bound=Rule)


@dataclass(frozen=True, kw_only=True, slots=True)
class LineRule(Rule):
    """A rule about particular services: it names procedure codes and/or drugs (generic names).

    ``drugs = ["infliximab"]`` covers the reference product and every biosimilar
    (``infliximab-dyyb``…); name a biosimilar to cover only that one.
    """

    procedures: CodeSet = field(
        default=CodeSet(),
        metadata=meta("procedure codes the rule is about: J1745, J*, 20600-20611"),
    )
    drugs: tuple[str, ...] = field(
        default=(),
        metadata=meta(
            "drugs the rule is about, by generic name; a name covers its biosimilars", lower=True
        ),
    )
    _seen: dict[tuple[str, str | None], bool] = field(
        default_factory=dict, repr=False, compare=False, metadata={"internal": True}
    )

    @property
    def claim_level(self) -> bool:
        return False

    def triggered_by(self, line: ServiceLine) -> bool:
        return self.matches(line.procedure, line.drug)

    def matches(self, procedure: str, drug: str | None) -> bool:
        """Whether a (procedure, drug) is one of the rule's; remembered, codes are few."""
        key = (procedure, drug)
        found = self._seen.get(key)
        if found is None:
            found = procedure in self.procedures or (drug is not None and drug_in(drug, self.drugs))
            self._seen[key] = found
        return found

    def lines(self, claim: Claim, kinds: Sequence[str] = ()) -> Iterator[tuple[int, ServiceLine]]:
        """(1-based line number, line) for the claim's lines this rule is about."""
        for number, line in enumerate(claim.lines, start=1):
            if (not kinds or line.kind in kinds) and self.matches(line.procedure, line.drug):
                yield number, line

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.procedures and not self.drugs:
            yield "procedures", "name procedures or drugs (the rule applies to nothing)"


def drug_in(drug: str, names: Sequence[str]) -> bool:
    """Whether a generic name is one of ``names`` or a biosimilar of one (``x-abcd`` of ``x``)."""
    drug = drug.lower()
    for name in names:
        if drug == name or (drug.startswith(name) and drug[len(name) : len(name) + 1] == "-"):
            return True
    return False


def names_product(name: str, procedure: str, drug: str | None, ctx: ScrubContext) -> bool:
    """Whether a product named in the encounter (HCPCS, brand or generic) is this line's."""
    if name.strip().upper() == procedure:
        return True
    return drug is not None and ctx.generic_name(name) == drug.lower()


def pointed_diagnoses(claim: Claim, line: ServiceLine) -> tuple[str, ...]:
    """The diagnoses a line points to (the principal when its pointers resolve to none)."""
    found = tuple(
        claim.diagnoses[p - 1] for p in line.diagnosis_pointers if 1 <= p <= len(claim.diagnoses)
    )
    return found or claim.diagnoses[:1]


def points_to(claim: Claim, line: ServiceLine, families: DiagnosisSet) -> bool:
    """Whether the line points to a diagnosis in one of ``families``."""
    return any(families.matches(d) for d in pointed_diagnoses(claim, line))


# --------------------------------------------------------------------------- context


def _lower(name: str) -> str | None:
    return name.strip().lower() or None


@dataclass(frozen=True)
class ScrubContext:
    """Everything a rule may consult besides the claim.

    ``as_of`` is the day the claims are scrubbed for submission (rules whose
    ``effective_basis`` is ``submission`` compare with it; the CLI passes today or ``--as-of``).
    ``rules`` maps a payer key to its rules (``maps.payer_rules``). ``history`` gives earlier
    claims of the member with the payer. ``overrides`` maps a claim id (the encounter id) to the
    rule ids a person has overridden for it, with the recorded reason. ``generic`` turns a drug
    name as written in an encounter (brand or generic) into the generic name coding puts on
    lines (``maps.drugs`` where loaded). ``payers`` is ``maps.payers``, the payers' conventions
    (a rule may fall back on one, as timely filing does on ``timely_filing_days``).
    """

    as_of: date
    rules: Mapping[str, Sequence[Rule]]
    history: ClaimHistory = NO_HISTORY
    overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    generic: Callable[[str], str | None] = _lower
    payers: Mapping[str, Any] = field(default_factory=dict)
    lookback_days: int = 730
    _books: dict[str, RuleBook] = field(default_factory=dict, compare=False, repr=False)
    _memo: list[Any] = field(default_factory=lambda: [None, None], compare=False, repr=False)

    @classmethod
    def from_maps(
        cls,
        maps: Any,
        *,
        as_of: date,
        history: ClaimHistory = NO_HISTORY,
        overrides: Mapping[str, Mapping[str, str]] | None = None,
    ) -> ScrubContext:
        """A context over loaded maps: the payers' rules and the drug table's names."""
        generic: Callable[[str], str | None] = _lower
        if "drugs" in maps:
            generic = _generic_from(maps.drugs)
        return cls(
            as_of=as_of,
            rules=maps.payer_rules,
            history=history,
            overrides=overrides or {},
            generic=generic,
            payers=maps.payers if "payers" in maps else {},
        )

    def book(self, payer_id: str) -> RuleBook:
        book = self._books.get(payer_id)
        if book is None:
            book = self._books[payer_id] = RuleBook(tuple(self.rules.get(payer_id, ())))
        return book

    def earlier_claims(self, claim: Claim) -> Sequence[PastClaim]:
        """The member's other claims with this payer, up to and including the date of service.

        Fetched once per claim however many rules ask; the claim itself (a corrected encounter
        scrubbed again) is left out.
        """
        if self._memo[0] is claim:
            return self._memo[1]
        dos = claim.date_of_service
        found = self.history.claims(
            claim.payer_id,
            claim.encounter.coverage.member_id,
            dos - timedelta(days=self.lookback_days),
            dos,
        )
        result = tuple(p for p in found if p.claim_id != claim.encounter_id)
        self._memo[0], self._memo[1] = claim, result
        return result

    def generic_name(self, name: str) -> str:
        return self.generic(name) or name.strip().lower()


def _generic_from(drugs: Any) -> Callable[[str], str | None]:
    resolve = getattr(drugs, "resolve", None)
    if resolve is None:
        return _lower
    cache: dict[str, str | None] = {}

    def generic(name: str) -> str | None:
        if name not in cache:
            try:
                product = resolve(name)
            except (KeyError, LookupError, ValueError):
                product = None
            found = getattr(product, "generic", None) if product is not None else None
            cache[name] = found.lower() if isinstance(found, str) else _lower(name)
        return cache[name]

    return generic


# --------------------------------------------------------------------------- rule book


class RuleBook:
    """One payer's rules, indexed by the lines that trigger them (learnt as lines are seen)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._always = tuple(i for i, r in enumerate(self.rules) if r.claim_level)
        self._by_line: dict[tuple[Any, ...], tuple[int, ...]] = {}
        self._by_claim: dict[tuple[Any, ...], tuple[Rule, ...]] = {}

    def _triggered(self, line: ServiceLine) -> tuple[int, ...]:
        # everything a trigger may look at: the code, the drug, the kind of line, its modifiers
        key = (line.procedure, line.drug, line.kind, line.modifiers)
        found = self._by_line.get(key)
        if found is None:
            found = tuple(
                i for i, r in enumerate(self.rules) if not r.claim_level and r.triggered_by(line)
            )
            self._by_line[key] = found
        return found

    def candidates(self, claim: Claim) -> tuple[Rule, ...]:
        """The rules worth running on this claim, in the order the payer file lists them."""
        signature = tuple((ln.procedure, ln.drug, ln.kind, ln.modifiers) for ln in claim.lines)
        found = self._by_claim.get(signature)
        if found is None:
            chosen = set(self._always)
            for line in claim.lines:
                chosen.update(self._triggered(line))
            found = tuple(self.rules[i] for i in sorted(chosen))
            if len(self._by_claim) < 100_000:
                self._by_claim[signature] = found
        return found


# --------------------------------------------------------------------------- scrub


def scrub(claim: Claim, ctx: ScrubContext) -> Scrubbed:
    """Run the claim's payer rules that are in effect; every failing rule is a hold.

    A hold whose rule a person has overridden for this claim (``ctx.overrides``) is kept in
    ``Scrubbed.overridden`` instead of ``holds``, so the claim goes through and the report still
    shows what was overridden.
    """
    holds: list[Hold] = []
    overridden: list[Hold] = []
    claim_overrides = ctx.overrides.get(claim.encounter_id, {})
    dos = claim.date_of_service
    as_of = ctx.as_of
    for rule in ctx.book(claim.payer_id).candidates(claim):
        # rule.in_effect(dos, as_of), inlined: it runs for every rule of every claim
        on = dos if rule.effective_basis == "date_of_service" else as_of
        if on < rule.effective_from or (rule.effective_to is not None and on > rule.effective_to):
            continue
        for hold in rule.check(claim, ctx):
            (overridden if rule.id in claim_overrides else holds).append(hold)
    if holds:
        log.info(
            "scrub.claim_held",
            claim_id=claim.encounter_id,
            payer=claim.payer_id,
            rules=sorted({h.rule for h in holds}),
        )
    return Scrubbed(claim, tuple(holds), overridden=tuple(overridden))


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True, slots=True)
class Param:
    """One field of a kind's schema, as the loader and the documentation see it."""

    name: str
    type: Any
    required: bool
    default: Any
    doc: str
    minimum: Any
    choices: frozenset[str] | None
    lower: bool


def schema_of(kind: type[Rule]) -> tuple[Param, ...]:
    """The parameters of a rule kind, read from its dataclass fields (common ones first)."""
    hints = typing.get_type_hints(kind)
    out = []
    for f in dataclasses.fields(kind):
        if f.metadata.get("internal"):
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append(
            Param(
                name=f.name,
                type=hints[f.name],
                required=required,
                default=None if required else f.default,
                doc=f.metadata.get("doc", ""),
                minimum=f.metadata.get("minimum"),
                choices=f.metadata.get("choices"),
                lower=f.metadata.get("lower", False),
            )
        )
    return tuple(out)


def convert(param: Param, value: Any) -> Any:
    """A map value as the parameter's type; raises ValueError saying what was allowed."""
    tp = param.type
    if _optional(tp) is not None:
        tp = _optional(tp)
    origin = typing.get_origin(tp)
    if tp is CodeSet:
        return CodeSet.parse(_as_list(value))
    if tp is DiagnosisSet:
        return DiagnosisSet.parse(_as_list(value))
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(map(str, allowed))} (got {value!r})")
        return value
    if origin is tuple:
        (item,) = {a for a in typing.get_args(tp) if a is not Ellipsis}
        items = _as_list(value)
        out = tuple(_scalar(item, v, param) for v in items)
        if param.choices is not None:
            bad = [v for v in out if v not in param.choices]
            if bad:
                raise ValueError(
                    f"must be among {', '.join(sorted(param.choices))} (got {bad[0]!r})"
                )
        return out
    out = _scalar(tp, value, param)
    if param.choices is not None and out not in param.choices:
        shown = ", ".join(sorted(c for c in param.choices if c))
        raise ValueError(f"must be one of {shown} (got {out!r})")
    return out


def _optional(tp: Any) -> Any:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return None


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise ValueError(f'must be a list such as ["a", "b"] (got {type(value).__name__})')


def _scalar(tp: Any, value: Any, param: Param) -> Any:
    if tp is str:
        if not isinstance(value, str):
            raise ValueError(f"must be text (got {type(value).__name__})")
        text = value.strip()
        if not text:
            raise ValueError("must not be empty")
        return text.lower() if param.lower else text
    if tp is bool:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false (got {value!r})")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number (got {value!r})")
        if param.minimum is not None and value < param.minimum:
            raise ValueError(f"must be a whole number >= {param.minimum} (got {value!r})")
        return value
    if tp is Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"must be a number (got {value!r})")
        try:
            number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except ArithmeticError:
            raise ValueError(f"must be a number (got {value!r})") from None
        if not number.is_finite():
            raise ValueError(f"must be a number (got {value!r})")
        if param.minimum is not None and number < param.minimum:
            raise ValueError(f"must be a number >= {param.minimum} (got {value!r})")
        return number
    if tp is date:
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return date.fromisoformat(value.strip())
        raise ValueError(f"must be a date YYYY-MM-DD (got {value!r})")
    raise TypeError(f"rule parameter {param.name}: unsupported type {tp!r}")


def build_rule(
    kind: type[Rule], raw: Mapping[str, Any], payer: str
) -> tuple[Rule | None, list[tuple[str | None, str]]]:
    """A rule of ``kind`` from one ``[[rule]]`` table, or the problems as (field, message)."""
    problems: list[tuple[str | None, str]] = []
    params = {p.name: p for p in schema_of(kind)}
    values: dict[str, Any] = {}
    for key in raw:
        if key != "kind" and key not in params:
            problems.append(
                (
                    key,
                    f"unknown field for kind {kind.kind} (a misspelt name is ignored "
                    f"silently otherwise); allowed: {', '.join(sorted(params))}",
                )
            )
    for name, p in params.items():
        if name not in raw:
            if p.required:
                problems.append((name, "is required"))
            continue
        try:
            values[name] = convert(p, raw[name])
        except ValueError as exc:
            problems.append((name, str(exc)))
    if problems:
        return None, problems
    rule = kind(**values, payer=payer)
    if rule.effective_to is not None and rule.effective_to < rule.effective_from:
        problems.append(("effective_to", f"is before effective_from ({rule.effective_from})"))
    problems.extend(rule.problems())
    return (None, problems) if problems else (rule, [])
