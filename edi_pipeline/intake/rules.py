"""The semantic rules intake applies on top of the schema, each under a stable name.

A rule reads one parsed record (a ``dict`` that may be structurally broken in places: every
rule reads defensively and checks only what is well-formed, since the structural check already
reported the rest) and appends ``Issue``s: the field path, the rule's name, a message that
names the field, what was expected and the *kind* of value found (codes and quantities may be
quoted, patient values never), and a severity.

Rules come in three scopes so that one pass over a record serves them all: record rules see
the whole record, drug rules see each drug given (``drugs[i]`` and ``procedures[j].drugs[k]``)
with the facts every drug rule needs worked out once (``DrugFacts``: resolved dose, vials
opened, NDC and package, candidate products), procedure rules see each procedure. Reference
data comes from ``maps`` through a ``RuleContext`` that caches the look-ups, since the same
drugs, NDCs and NPIs recur on nearly every record. The duplicate check needs state across
records and lives in the reader (``duplicate_encounter``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any, Literal

from edi_pipeline.codes import icd10_is_well_formed, ndc_to_11, npi_is_valid
from edi_pipeline.intake.structure import Issue, shown
from edi_pipeline.maps import Maps

Scope = Literal["record", "drug", "procedure"]
RULES: dict[str, tuple[Scope, Callable[..., None]]] = {}

# Rules the schema applies (named there with x-rule, or structural), the reader applies, or
# that a registered rule reports under a second name; listed so documentation and the
# one-test-per-rule check see every name.
SCHEMA_RULES = (
    "structure_type",
    "structure_required",
    "structure_enum",
    "structure_pattern",
    "structure_length",
    "structure_range",
    "structure_items",
    "unknown_field",
    "icd10_shape",
    "dose_one_of",
    "iv_times_required",
    "subscriber_required",
)
READER_RULES = ("duplicate_encounter",)
SECOND_NAMES = ("ndc_unknown",)  # reported by ndc_product
# Problems found while cutting a file into records (jsonfile, csvfile).
CONTAINER_RULES = (
    "json_syntax",
    "not_utf8",
    "container_shape",
    "record_truncated",
    "trailing_data",
    "csv_scalar_disagrees",
    "csv_item_unknown",
    "csv_vials_shape",
    "csv_procedure_ref",
    "csv_visit_repeated",
    "csv_column_ignored",
    "csv_row_shape",
    "csv_header_duplicate",
)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_NPI = re.compile(r"[0-9]{10}")
_HCPCS = re.compile(r"[A-Z][0-9]{4}")
_RIGHT_DIGITS = frozenset({"F5", "F6", "F7", "F8", "F9", "T5", "T6", "T7", "T8", "T9"})
_SIDES = frozenset({"left", "right", "bilateral", "none"})
_DIGITS = frozenset({f"{h}{d}" for h in "FT" for d in "123456789A"})
_DISCARD_TOLERANCE_MG = Decimal("0.5")
_EXTERNAL_CAUSE = frozenset("VWXYvwxy")
_NO: Any = object()


def rule(name: str, scope: Scope) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def register(fn: Callable[..., None]) -> Callable[..., None]:
        RULES[name] = (scope, fn)
        return fn

    return register


def all_rule_names() -> tuple[str, ...]:
    return (*SCHEMA_RULES, *RULES, *READER_RULES, *SECOND_NAMES, *CONTAINER_RULES)


def error(path: str, name: str, message: str) -> Issue:
    return (path, name, f"{path or 'record'}: {message}", "error")


def warning(path: str, name: str, message: str) -> Issue:
    return (path, name, f"{path or 'record'}: {message}", "warning")


# ------------------------------------------------------------------ safe readers


def _obj(value: Any) -> dict[str, Any]:
    return value if type(value) is dict else {}


def _items(value: Any) -> list[Any]:
    return value if type(value) is list else []


def number(value: Any) -> Decimal | None:
    """A JSON number as Decimal, or None for anything else (true/false is not a number)."""
    if type(value) is Decimal:
        return value if value.is_finite() else None
    if type(value) is int:
        return Decimal(value)
    return None


def real_date(value: Any) -> date | None:
    if type(value) is not str or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def real_time(value: Any) -> time | None:
    if type(value) is str and _TIME.fullmatch(value):
        return time(int(value[:2]), int(value[3:]))
    return None


def resolved_dose(drug: dict[str, Any], weight: Any) -> Decimal | None:
    """The dose in mg: ``dose_mg``, or ``dose_mg_per_kg`` × ``weight_kg`` (exactly one given)."""
    has_mg, has_per_kg = "dose_mg" in drug, "dose_mg_per_kg" in drug
    if has_mg and not has_per_kg:
        dose = number(drug["dose_mg"])
        return dose if dose is not None and dose > 0 else None
    if has_per_kg and not has_mg:
        per_kg, kg = number(drug["dose_mg_per_kg"]), number(weight)
        if per_kg is not None and kg is not None and 0 < per_kg <= 10**6 and 0 < kg <= 10**6:
            return per_kg * kg
    return None


def opened_mg(drug: dict[str, Any]) -> Decimal | None:
    """Total content of the vials opened, or None when there are none or any is malformed."""
    vials = drug.get("vials")
    if type(vials) is not list or not vials:
        return None
    total = Decimal(0)
    for vial in vials:
        if type(vial) is not dict:
            return None
        size, count = number(vial.get("size_mg")), vial.get("count")
        if (
            size is None
            or not 0 < size <= 10**6
            or type(count) is not int
            or not 0 < count <= 10**4
        ):
            return None
        total += size * count
    return total


def mg(value: Decimal) -> str:
    """A quantity for a message: no exponent, no trailing zeros."""
    value = value.normalize()
    return format(value, "f") if -20 < value.adjusted() < 20 else str(value)


# ------------------------------------------------------------------ context and drug facts


class RuleContext:
    """The maps, with the look-ups rules repeat on every record cached (one per intake run)."""

    def __init__(self, maps: Maps) -> None:
        self.maps = maps
        self.drugs = maps.drugs
        self.joints = maps.joints
        self.joint_names = frozenset(maps.joints)
        self.payer_keys = frozenset(maps.payers)
        self.place_codes = frozenset(maps.places_of_service)
        self._candidates: dict[str, tuple[Any, ...]] = {}
        self._packages: dict[str, Any] = {}
        self._ndc11: dict[str, str | None] = {}
        self._npi: dict[str, bool] = {}
        self._dates: dict[str, date | None] = {}

    def real_date(self, value: Any) -> date | None:
        """``real_date``, remembered per text: dates of service and birth dates recur."""
        if type(value) is not str:
            return None
        found = self._dates.get(value, _NO)
        if found is _NO:
            found = real_date(value)
            if len(self._dates) < 10_000:
                self._dates[value] = found
        return found

    def candidates(self, name: str) -> tuple[Any, ...]:
        found = self._candidates.get(name)
        if found is None:
            found = self.drugs.candidates(name) if name.strip() else ()
            if len(self._candidates) < 10_000:
                self._candidates[name] = found
        return found

    def ndc11(self, ndc: str) -> str | None:
        found = self._ndc11.get(ndc, _NO)
        if found is _NO:
            found = ndc_to_11(ndc)
            if len(self._ndc11) < 10_000:
                self._ndc11[ndc] = found
        return found

    def package(self, ndc: str) -> Any:
        found = self._packages.get(ndc, _NO)
        if found is _NO:
            found = self.drugs.package(ndc) if self.ndc11(ndc) else None
            if len(self._packages) < 10_000:
                self._packages[ndc] = found
        return found

    def npi_ok(self, npi: str) -> bool:
        ok = self._npi.get(npi)
        if ok is None:
            ok = npi_is_valid(npi)
            if len(self._npi) < 10_000:
                self._npi[npi] = ok
        return ok


@dataclass(slots=True)
class DrugFacts:
    """One drug given, with what several rules need computed once."""

    path: str
    drug: dict[str, Any]
    name: str | None  # the drug name when it is text
    candidates: tuple[Any, ...]  # products the name can mean (empty when unknown)
    ndc: str | None  # the NDC when it is text
    ndc11: str | None  # its 11-digit form, None when malformed
    package: Any  # the maps' package for the NDC, or None
    dose: Decimal | None
    opened: Decimal | None


@dataclass(slots=True)
class RecordFacts:
    """What several record rules need, worked out once per record."""

    drugs: list[DrugFacts]
    dates: list[tuple[str, Any, date | None]]  # (path, value, the real date or None)
    parsed: dict[str, date]  # path -> real date, for the dates that are real


def _record_facts(record: dict[str, Any], ctx: RuleContext) -> RecordFacts:
    real = ctx.real_date
    dates = [(path, value, real(value)) for path, value in _date_fields(record)]
    parsed = {path: day for path, _, day in dates if day is not None}
    return RecordFacts(drugs=_drug_facts(record, ctx), dates=dates, parsed=parsed)


def _drug_facts(record: dict[str, Any], ctx: RuleContext) -> list[DrugFacts]:
    entries: list[tuple[str, dict[str, Any]]] = []
    for i, drug in enumerate(_items(record.get("drugs"))):
        if type(drug) is dict:
            entries.append((f"drugs[{i}]", drug))
    for j, proc in enumerate(_items(record.get("procedures"))):
        if type(proc) is dict:
            for k, drug in enumerate(_items(proc.get("drugs"))):
                if type(drug) is dict:
                    entries.append((f"procedures[{j}].drugs[{k}]", drug))
    weight = record.get("weight_kg")
    facts = []
    for path, drug in entries:
        name, ndc = drug.get("drug"), drug.get("ndc")
        name = name if type(name) is str else None
        ndc = ndc if type(ndc) is str and ndc.strip() else None
        ndc11 = ctx.ndc11(ndc) if ndc is not None else None
        facts.append(
            DrugFacts(
                path=path,
                drug=drug,
                name=name,
                candidates=ctx.candidates(name) if name is not None else (),
                ndc=ndc,
                ndc11=ndc11,
                package=ctx.package(ndc) if ndc11 is not None else None,
                dose=resolved_dose(drug, weight),
                opened=opened_mg(drug),
            )
        )
    return facts


# ------------------------------------------------------------------ record rules


@rule("npi_luhn", "record")
def npi_luhn(
    record: dict[str, Any], ctx: RuleContext, out: list[Issue], facts: RecordFacts
) -> None:
    """The rendering NPI's check digit (Luhn over 80840 + the 10 digits) must be right."""
    npi = _obj(record.get("rendering_provider")).get("npi")
    if type(npi) is str and _NPI.fullmatch(npi) and not ctx.npi_ok(npi):
        out.append(
            error(
                "rendering_provider.npi",
                "npi_luhn",
                "check digit is wrong (Luhn with prefix 80840; got 10 digits that fail it)",
            )
        )


@rule("icd10_principal", "record")
def icd10_principal(
    record: dict[str, Any], ctx: RuleContext, out: list[Issue], facts: RecordFacts
) -> None:
    """The first diagnosis is the principal: an external-cause code (V00–Y99) never is."""
    codes = record.get("diagnoses")
    if type(codes) is list and codes and type(codes[0]) is str:
        first = codes[0].strip()
        if first[:1] in _EXTERNAL_CAUSE and icd10_is_well_formed(first):
            out.append(
                error(
                    "diagnoses[0]",
                    "icd10_principal",
                    "an external-cause code (V00-Y99) cannot be the principal "
                    "diagnosis; list the condition treated first",
                )
            )


def _date_fields(record: dict[str, Any]) -> list[tuple[str, Any]]:
    subscriber = _obj(_obj(record.get("coverage")).get("subscriber"))
    fields = [
        ("date_of_service", record.get("date_of_service")),
        ("patient.birth_date", _obj(record.get("patient")).get("birth_date")),
    ]
    if subscriber:
        fields.append(("coverage.subscriber.birth_date", subscriber.get("birth_date")))
    for i, auth in enumerate(_items(record.get("prior_authorizations"))):
        auth = _obj(auth)
        fields.append((f"prior_authorizations[{i}].valid_from", auth.get("valid_from")))
        fields.append((f"prior_authorizations[{i}].valid_to", auth.get("valid_to")))
    for i, therapy in enumerate(_items(record.get("therapy_history"))):
        therapy = _obj(therapy)
        fields.append((f"therapy_history[{i}].start", therapy.get("start")))
        fields.append((f"therapy_history[{i}].end", therapy.get("end")))
    return fields


@rule("date_real", "record")
def date_real(
    record: dict[str, Any], ctx: RuleContext, out: list[Issue], facts: RecordFacts
) -> None:
    """A date shaped YYYY-MM-DD must be a real calendar date (no 2025-02-30)."""
    for path, value, day in facts.dates:
        if day is None and type(value) is str and _DATE.fullmatch(value):
            out.append(
                error(path, "date_real", "is not a real calendar date (got a date-shaped text)")
            )


_RANGES = (
    ("prior_authorizations", "valid_from", "valid_to", "is before valid_from"),
    ("therapy_history", "start", "end", "is before start"),
)


@rule("date_order", "record")
def date_order(
    record: dict[str, Any], ctx: RuleContext, out: list[Issue], facts: RecordFacts
) -> None:
    """Ranges run forwards, and nobody is born after the date of service."""
    days = facts.parsed
    service = days.get("date_of_service")
    if service is not None:
        for prefix in ("patient", "coverage.subscriber"):
            born = days.get(f"{prefix}.birth_date")
            if born is not None and born > service:
                out.append(
                    error(f"{prefix}.birth_date", "date_order", "is after the date of service")
                )
    for key, first, last, words in _RANGES:
        items = record.get(key)
        if type(items) is not list:
            continue
        for i in range(len(items)):
            start, end = days.get(f"{key}[{i}].{first}"), days.get(f"{key}[{i}].{last}")
            if start is not None and end is not None and end < start:
                out.append(error(f"{key}[{i}].{last}", "date_order", words))


@rule("weight_required", "record")
def weight_required(
    record: dict[str, Any], ctx: RuleContext, out: list[Issue], facts: RecordFacts
) -> None:
    """A per-kg dose needs the patient's weight to be multiplied out."""
    if "weight_kg" in record:
        return
    for f in facts.drugs:
        if "dose_mg_per_kg" in f.drug:
            out.append(
                error(
                    "weight_kg", "weight_required", f"is required because {f.path} is dosed per kg"
                )
            )
            return


@rule("payer_known", "record")
def payer_known(
    record: dict[str, Any], ctx: RuleContext, out: list[Issue], facts: RecordFacts
) -> None:
    """coverage.payer_id is a key of maps/payers."""
    payer = _obj(record.get("coverage")).get("payer_id")
    if type(payer) is str and payer.strip() and payer not in ctx.payer_keys:
        known = ", ".join(sorted(ctx.payer_keys))
        out.append(
            error(
                "coverage.payer_id",
                "payer_known",
                f"is not a payer in maps/payers (known: {known}; "
                f"{shown('coverage.payer_id', payer)})",
            )
        )


@rule("place_of_service_known", "record")
def place_of_service_known(
    record: dict[str, Any], ctx: RuleContext, out: list[Issue], facts: RecordFacts
) -> None:
    """place_of_service is a code of maps/places_of_service.csv."""
    pos = record.get("place_of_service")
    if type(pos) is str and len(pos) == 2 and pos.isdigit() and pos not in ctx.place_codes:
        known = ", ".join(sorted(ctx.place_codes))
        out.append(
            error(
                "place_of_service",
                "place_of_service_known",
                f"is not a place of service in maps/places_of_service.csv (known: "
                f"{known}; {shown('place_of_service', pos)})",
            )
        )


# ------------------------------------------------------------------ drug rules


def _product_words(product: Any) -> str:
    return f"{product.hcpcs} {product.generic}" if product is not None else "an unknown product"


@rule("stop_after_start", "drug")
def stop_after_start(f: DrugFacts, ctx: RuleContext, out: list[Issue]) -> None:
    """An administration stops after it starts, on the same day."""
    start_text, stop_text = f.drug.get("start_time"), f.drug.get("stop_time")
    if stop_text is None:
        return
    start, stop = real_time(start_text), real_time(stop_text)
    if start is not None and stop is not None and stop <= start:
        out.append(
            error(
                f"{f.path}.stop_time",
                "stop_after_start",
                f"must be after start_time on the same day (got {start_text} to {stop_text})",
            )
        )


@rule("vials_hold_dose", "drug")
def vials_hold_dose(f: DrugFacts, ctx: RuleContext, out: list[Issue]) -> None:
    """The vials opened must hold at least the dose given."""
    if f.dose is not None and f.opened is not None and f.opened < f.dose:
        out.append(
            error(
                f"{f.path}.vials",
                "vials_hold_dose",
                f"the vials opened hold {mg(f.opened)} mg, less than the dose of {mg(f.dose)} mg",
            )
        )


@rule("discarded_agrees", "drug")
def discarded_agrees(f: DrugFacts, ctx: RuleContext, out: list[Issue]) -> None:
    """A documented discarded amount must equal the vials' content minus the dose (±0.5 mg)."""
    if "discarded_mg" not in f.drug or f.dose is None or f.opened is None or f.opened < f.dose:
        return
    discarded = number(f.drug["discarded_mg"])
    if discarded is None or discarded > 10**6:
        return
    expected = f.opened - f.dose
    if abs(discarded - expected) > _DISCARD_TOLERANCE_MG:
        out.append(
            error(
                f"{f.path}.discarded_mg",
                "discarded_agrees",
                f"documents {mg(discarded)} mg discarded, but the vials "
                f"({mg(f.opened)} mg) minus the dose ({mg(f.dose)} mg) leave "
                f"{mg(expected)} mg (0.5 mg tolerance)",
            )
        )


@rule("drug_known", "drug")
def drug_known(f: DrugFacts, ctx: RuleContext, out: list[Issue]) -> None:
    """The drug names a product in maps/drugs (generic, brand or alias, any case).

    Oral premedications are recorded but never billed, so they need not be in the map.
    """
    oral = f.drug.get("route") == "ORAL"
    if f.name is not None and f.name.strip() and not f.candidates and not oral:
        path = f"{f.path}.drug"
        out.append(
            error(
                path,
                "drug_known",
                "is not a drug in maps/drugs.csv by generic, brand or alias name "
                f"({shown(path, f.name)})",
            )
        )


@rule("ndc_shape", "drug")
def ndc_shape(f: DrugFacts, ctx: RuleContext, out: list[Issue]) -> None:
    """An NDC is 10 digits hyphenated 4-4-2, 5-3-2 or 5-4-1, or 11 digits (5-4-2)."""
    if f.ndc is not None and f.ndc11 is None:
        path = f"{f.path}.ndc"
        out.append(
            error(
                path,
                "ndc_shape",
                "must be 10 digits hyphenated 4-4-2, 5-3-2 or 5-4-1, or 11 digits "
                f"({shown(path, f.ndc)}; 10 digits without hyphens are ambiguous)",
            )
        )


@rule("ndc_product", "drug")
def ndc_product(f: DrugFacts, ctx: RuleContext, out: list[Issue]) -> None:
    """An NDC the maps know must be a package of the drug named; an unknown one only warns."""
    if f.ndc11 is None:
        return
    package = f.package
    if package is None:
        out.append(
            warning(
                f"{f.path}.ndc",
                "ndc_unknown",
                "is not in maps/drug_packages.csv; accepted, since no bundled list is complete",
            )
        )
        return
    if f.candidates and all(p.hcpcs != package.hcpcs for p in f.candidates):
        owner = ctx.drugs.by_hcpcs(package.hcpcs)
        out.append(
            error(
                f"{f.path}.ndc",
                "ndc_product",
                f"{package.ndc11} is {package.description} ({_product_words(owner)}), "
                f"not the drug named ({_product_words(f.candidates[0])})",
            )
        )


@rule("hcpcs_matches", "drug")
def hcpcs_matches(f: DrugFacts, ctx: RuleContext, out: list[Issue]) -> None:
    """An optional ``hcpcs`` must be the code of the product the drug and NDC resolve to."""
    code = f.drug.get("hcpcs")
    if type(code) is not str or not _HCPCS.fullmatch(code):
        return
    if f.package is not None:
        expected = {f.package.hcpcs}
        what = f"NDC {f.package.ndc11} ({_product_words(ctx.drugs.by_hcpcs(f.package.hcpcs))})"
    elif f.candidates:
        expected = {p.hcpcs for p in f.candidates}
        what = f"the drug named ({', '.join(_product_words(p) for p in f.candidates)})"
    else:
        return
    if code not in expected:
        given = ctx.drugs.by_hcpcs(code)
        said = _product_words(given) if given is not None else "a code not in maps/drugs.csv"
        out.append(error(f"{f.path}.hcpcs", "hcpcs_matches", f"{said} disagrees with {what}"))


@rule("multi_dose_matches", "drug")
def multi_dose_matches(f: DrugFacts, ctx: RuleContext, out: list[Issue]) -> None:
    """``multi_dose_vial`` must not contradict the container of a known NDC package."""
    flag = f.drug.get("multi_dose_vial")
    if type(flag) is bool and f.package is not None and flag != (f.package.container == "multi"):
        out.append(
            error(
                f"{f.path}.multi_dose_vial",
                "multi_dose_matches",
                f"says {'multi' if flag else 'single'}-dose, but NDC "
                f"{f.package.ndc11} is {f.package.description} "
                f"({f.package.container}-dose)",
            )
        )


@rule("ndc_missing", "drug")
def ndc_missing(f: DrugFacts, ctx: RuleContext, out: list[Issue]) -> None:
    """A buy-and-bill drug without an NDC: warned here, held by payers that require NDCs."""
    drug = f.drug
    if "ndc" in drug or drug.get("supplied_by") == "pharmacy" or drug.get("route") == "ORAL":
        return
    product = f.candidates[0] if f.candidates else None
    if product is not None and product.buy_and_bill and not product.hydration_fluid:
        out.append(
            warning(
                f"{f.path}.ndc",
                "ndc_missing",
                f"is missing for a buy-and-bill drug ({product.hcpcs}); payers that "
                "require NDCs will hold the claim",
            )
        )


# ------------------------------------------------------------------ procedure rules


@rule("joint_known", "procedure")
def joint_known(path: str, proc: dict[str, Any], ctx: RuleContext, out: list[Issue]) -> None:
    """The joint names a row of maps/joints.csv."""
    joint = proc.get("joint")
    if type(joint) is str and joint.strip() and joint not in ctx.joint_names:
        out.append(
            error(
                f"{path}.joint",
                "joint_known",
                f"is not a joint in maps/joints.csv ({shown(path + '.joint', joint)})",
            )
        )


@rule("side_valid", "procedure")
def side_valid(path: str, proc: dict[str, Any], ctx: RuleContext, out: list[Issue]) -> None:
    """The side and digit fit the joint: lateral joints need a side, digits only on digits."""
    name = proc.get("joint")
    if type(name) is not str or name not in ctx.joint_names:
        return
    joint = ctx.joints[name]
    side, digit = proc.get("side", "none"), proc.get("digit")
    if type(side) is not str or side not in _SIDES:
        return
    if joint.lateral and side == "none":
        out.append(
            error(
                f"{path}.side",
                "side_valid",
                f"{name} has a left and a right: side must be left, right or bilateral (got none)",
            )
        )
    elif not joint.lateral and side != "none":
        out.append(
            error(
                f"{path}.side", "side_valid", f"{name} is midline: side must be none (got {side!r})"
            )
        )
    if type(digit) is not str or digit not in _DIGITS:
        return
    family = "finger" if digit.startswith("F") else "toe"
    if joint.digit is None:
        out.append(
            error(
                f"{path}.digit",
                "side_valid",
                f"is only for finger and toe joints, not {name} (got {digit!r})",
            )
        )
    elif joint.digit != family:
        out.append(
            error(
                f"{path}.digit",
                "side_valid",
                f"{digit!r} is a {family} modifier, but {name} is a {joint.digit} joint",
            )
        )
    elif side == "bilateral":
        out.append(
            error(f"{path}.side", "side_valid", f"one digit ({digit!r}) cannot be bilateral")
        )
    elif side in ("left", "right") and (digit in _RIGHT_DIGITS) != (side == "right"):
        hand = "right" if digit in _RIGHT_DIGITS else "left"
        out.append(
            error(
                f"{path}.digit",
                "side_valid",
                f"{digit!r} is a {hand}-side digit, but side is {side}",
            )
        )


# ------------------------------------------------------------------ driver

_RECORD = [fn for scope, fn in RULES.values() if scope == "record"]
_DRUG = [fn for scope, fn in RULES.values() if scope == "drug"]
_PROCEDURE = [fn for scope, fn in RULES.values() if scope == "procedure"]


def check_rules(record: dict[str, Any], ctx: RuleContext | Maps) -> list[Issue]:
    """Every rule's issues for one record, record rules first."""
    if not isinstance(ctx, RuleContext):
        ctx = RuleContext(ctx)
    out: list[Issue] = []
    facts = _record_facts(record, ctx)
    for fn in _RECORD:
        fn(record, ctx, out, facts)
    for f in facts.drugs:
        for fn in _DRUG:
            fn(f, ctx, out)
    procedures = record.get("procedures")
    if type(procedures) is list:
        for j, proc in enumerate(procedures):
            if type(proc) is dict:
                path = f"procedures[{j}]"
                for fn in _PROCEDURE:
                    fn(path, proc, ctx, out)
    return out
