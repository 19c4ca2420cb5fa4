"""``maps/drugs.csv`` and ``maps/drug_packages.csv``: billable drug products and their packages.

A *product* is what a HCPCS code bills (infliximab-dyyb → Q5103, 10 mg per unit); a *package*
is what an NDC names (Inflectra 100 mg vial, single-dose). Container type belongs to the package:
Kenalog-40's 1 mL vial is single-dose and its 5 mL and 10 mL vials are multiple-dose, so JW/JZ
depend on the NDC, not on the drug. Where a product's presentations differ, the product row says
``container_by_ndc`` and coding must learn the container from the package or the encounter.

HCPCS codes are date-effective (units.md U13): a product carries ``effective_from`` and
``effective_to`` and ``candidates(name, on=day)`` only offers codes valid on the date of service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib.resources.abc import Traversable
from typing import Literal

from edi_pipeline.codes import ndc_to_11
from edi_pipeline.maps import table
from edi_pipeline.maps._tables import checked_rows
from edi_pipeline.maps.schema import Field, Problems

ProductKind = Literal["reference", "biosimilar", "other"]
Container = Literal["single", "multi"]
NdcUnit = Literal["UN", "ML", "GR", "ME", "F2"]
UnitBasis = Literal["mass", "dose", "unknown"]

ROUTES = frozenset({"IV", "IV_PUSH", "SC", "IM", "INTRA_ARTICULAR", "ORAL"})
PER_DOSE = "per dose"
_ICD10_PREFIX = r"[A-TV-Z][0-9][0-9A-Z]?(\.?[0-9A-Z]{1,4})?"


def normalise_name(name: str) -> str:
    """The form names are matched in: case-folded, single spaces."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class DrugProduct:
    """One HCPCS drug code and the facts coding needs about it."""

    hcpcs: str
    generic: str
    brands: tuple[str, ...]
    aliases: tuple[str, ...]
    unit_mg: Decimal | None  # None when the billing unit is not a mass ("per dose", "250 cc")
    unit_label: str  # the long descriptor's unit, e.g. "10 mg", "up to 125 mg", "per dose"
    kind: ProductKind
    reference_hcpcs: str | None  # the reference product of a biosimilar
    routes: tuple[str, ...]
    single_dose_default: bool  # container type when no package says otherwise
    container_by_ndc: bool  # presentations differ: the package (or encounter) must say
    vial_sizes_mg: tuple[Decimal, ...]  # labeled contents sold, for the least-waste check
    effective_from: date | None
    effective_to: date | None
    buy_and_bill: bool  # normally bought and billed by the practice (not pharmacy benefit)
    self_administered: bool  # Medicare Part B self-administered-drug exclusion candidate
    complex_eligible: bool  # a biologic/antineoplastic that complex administration may apply to
    hydration_fluid: bool  # a fluid whose administration is hydration, not a drug line
    indications: tuple[str, ...]  # ICD-10-CM prefixes (no dots) the product is given for
    source: str

    @property
    def unit_basis(self) -> UnitBasis:
        if self.unit_mg is not None:
            return "mass"
        if self.unit_label.casefold() == PER_DOSE:
            return "dose"
        return "unknown"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.generic, *self.brands, *self.aliases)

    def effective_on(self, day: date) -> bool:
        if self.effective_from is not None and day < self.effective_from:
            return False
        return not (self.effective_to is not None and day > self.effective_to)


@dataclass(frozen=True, slots=True)
class DrugPackage:
    """One NDC package: its labeled content, container type and NDC unit of measure."""

    ndc11: str
    hcpcs: str
    description: str
    content_mg: Decimal
    container: Container
    ndc_unit: NdcUnit
    ndc_quantity: Decimal  # package units in one package (UN 1 per vial, ML 20 per 20 mL vial)
    source: str

    @property
    def labeler(self) -> str:
        return self.ndc11[:5]


class Drugs:
    """The drug products and packages, with the look-ups coding and intake use."""

    def __init__(self, products: tuple[DrugProduct, ...], packages: tuple[DrugPackage, ...]):
        self.products = products
        self.packages = packages
        self._by_hcpcs = {p.hcpcs: p for p in products}
        self._by_name: dict[str, list[DrugProduct]] = {}
        for product in products:
            for name in {normalise_name(n) for n in (product.hcpcs, *product.names)}:
                self._by_name.setdefault(name, []).append(product)
        self._packages = {p.ndc11: p for p in packages}
        self._packages_by_hcpcs: dict[str, list[DrugPackage]] = {}
        for package in packages:
            self._packages_by_hcpcs.setdefault(package.hcpcs, []).append(package)
        self._found: dict[tuple[str, str | None, date | None], tuple[DrugProduct, ...]] = {}
        self._sizes: dict[str, tuple[Decimal, ...]] = {}
        for product in products:
            sizes = set(product.vial_sizes_mg)
            sizes.update(
                p.content_mg
                for p in self._packages_by_hcpcs.get(product.hcpcs, ())
                if p.container == "single"
            )
            self._sizes[product.hcpcs] = tuple(sorted(sizes))

    def candidates(
        self, name: str, *, route: str | None = None, on: date | None = None
    ) -> tuple[DrugProduct, ...]:
        """Every product a name (generic, brand, alias or HCPCS) can mean, in file order,
        narrowed to a route and to codes effective on a date when those are given."""
        key = (name, route, on)
        hit = self._found.get(key)
        if hit is not None:
            return hit
        found = tuple(
            p
            for p in self._by_name.get(normalise_name(name), ())
            if (route is None or route in p.routes) and (on is None or p.effective_on(on))
        )
        if len(self._found) >= 100_000:  # the table is immutable; the memo only bounds memory
            self._found.clear()
        self._found[key] = found
        return found

    def resolve(
        self, name: str, *, route: str | None = None, on: date | None = None
    ) -> DrugProduct | None:
        """The product a name means, or None when it is unknown.

        Where a name covers several codes (methylprednisolone sodium succinate is J2920 and
        J2930; methylprednisolone acetate changed code on 2024-04-01) this is the first listed;
        coding chooses among ``candidates`` by route, date and dose.
        """
        found = self.candidates(name, route=route, on=on)
        return found[0] if found else None

    def by_hcpcs(self, code: str) -> DrugProduct | None:
        return self._by_hcpcs.get(code.strip().upper())

    def package(self, ndc: str) -> DrugPackage | None:
        """The package an NDC names (11 digits, or any printed 10-digit hyphenated form)."""
        if len(ndc) == 11 and ndc.isdigit():
            return self._packages.get(ndc)
        ndc11 = ndc_to_11(ndc)
        return self._packages.get(ndc11) if ndc11 else None

    def single_dose_sizes(self, hcpcs: str) -> tuple[Decimal, ...]:
        """Every single-dose content sold for a product (its vial sizes and known packages)."""
        return self._sizes.get(hcpcs, ())

    def packages_for(self, hcpcs: str) -> tuple[DrugPackage, ...]:
        return tuple(self._packages_by_hcpcs.get(hcpcs, ()))

    def __len__(self) -> int:
        return len(self.products)

    def __repr__(self) -> str:
        return f"<drugs: {len(self.products)} products, {len(self.packages)} packages>"


_PRODUCT_FIELDS = (
    Field("hcpcs", pattern=r"[A-Z][0-9]{4}"),
    Field("generic"),
    Field("brands", "list", required=False, default=()),
    Field("aliases", "list", required=False, default=()),
    Field("unit_mg", "decimal", required=False),
    Field("unit_label"),
    Field("kind", choices=frozenset({"reference", "biosimilar", "other"})),
    Field("reference_hcpcs", required=False, pattern=r"[A-Z][0-9]{4}"),
    Field("routes", "list", choices=ROUTES),
    Field("single_dose_default", "bool"),
    Field("container_by_ndc", "bool"),
    Field("vial_sizes_mg", "list", required=False, default=()),
    Field("effective_from", "date", required=False),
    Field("effective_to", "date", required=False),
    Field("buy_and_bill", "bool"),
    Field("self_administered", "bool"),
    Field("complex_eligible", "bool"),
    Field("hydration_fluid", "bool"),
    Field("indications", "list", required=False, default=()),
    Field("source"),
)

_PACKAGE_FIELDS = (
    Field("ndc11", pattern=r"[0-9]{11}"),
    Field("hcpcs", pattern=r"[A-Z][0-9]{4}"),
    Field("description"),
    Field("content_mg", "decimal"),
    Field("container", choices=frozenset({"single", "multi"})),
    Field("ndc_unit", choices=frozenset({"UN", "ML", "GR", "ME", "F2"})),
    Field("ndc_quantity", "decimal"),
    Field("source"),
)


def _positive(value: Decimal) -> bool:
    return value.is_finite() and value > 0


def _load_products(root: Traversable, problems: Problems) -> tuple[DrugProduct, ...]:
    file = "drugs.csv"
    products: list[DrugProduct] = []
    seen: dict[str, int] = {}
    references: dict[str, tuple[int, str]] = {}
    for number, row in checked_rows(root, file, _PRODUCT_FIELDS, problems):
        scope = f"row {number}"
        ok = True

        def bad(field: str, message: str, scope: str = scope) -> None:
            nonlocal ok
            problems.add(file, scope, field, message)
            ok = False

        if row["hcpcs"] in seen:
            bad("hcpcs", f"duplicate code {row['hcpcs']} (first on row {seen[row['hcpcs']]})")
        unit = row["unit_mg"]
        if unit is not None and not _positive(unit):
            bad("unit_mg", f"must be a mass in mg greater than 0 (got {unit})")
        sizes: list[Decimal] = []
        for text in row["vial_sizes_mg"]:
            try:
                size = Decimal(text)
            except ArithmeticError:
                size = Decimal(0)
            if not _positive(size):
                bad("vial_sizes_mg", f"each size must be mg greater than 0 (got {text!r})")
            sizes.append(size)
        if row["kind"] == "biosimilar" and not row["reference_hcpcs"]:
            bad("reference_hcpcs", "is required for a biosimilar")
        if row["kind"] != "biosimilar" and row["reference_hcpcs"]:
            bad("reference_hcpcs", f"is only for biosimilars (kind is {row['kind']})")
        start, end = row["effective_from"], row["effective_to"]
        if start and end and end < start:
            bad("effective_to", f"is before effective_from ({end} < {start})")
        indications = []
        for code in row["indications"]:
            if not re.fullmatch(_ICD10_PREFIX, code):
                bad("indications", f"each must be an ICD-10-CM code or prefix (got {code!r})")
            indications.append(code.replace(".", ""))
        if not ok:
            continue
        seen[row["hcpcs"]] = number
        if row["reference_hcpcs"]:
            references[row["hcpcs"]] = (number, row["reference_hcpcs"])
        products.append(
            DrugProduct(
                hcpcs=row["hcpcs"],
                generic=row["generic"],
                brands=row["brands"],
                aliases=row["aliases"],
                unit_mg=unit,
                unit_label=row["unit_label"],
                kind=row["kind"],
                reference_hcpcs=row["reference_hcpcs"],
                routes=row["routes"],
                single_dose_default=row["single_dose_default"],
                container_by_ndc=row["container_by_ndc"],
                vial_sizes_mg=tuple(sizes),
                effective_from=start,
                effective_to=end,
                buy_and_bill=row["buy_and_bill"],
                self_administered=row["self_administered"],
                complex_eligible=row["complex_eligible"],
                hydration_fluid=row["hydration_fluid"],
                indications=tuple(indications),
                source=row["source"],
            )
        )
    by_code = {p.hcpcs: p for p in products}
    for number, ref in references.values():
        target = by_code.get(ref)
        if target is None or target.kind != "reference":
            problems.add(
                file,
                f"row {number}",
                "reference_hcpcs",
                f"{ref} is not a reference product in {file}",
            )
    for product in products:
        if product.unit_basis == "unknown" and not product.hydration_fluid:
            number = seen[product.hcpcs]
            problems.add(
                file,
                f"row {number}",
                "unit_mg",
                f"is required unless unit_label is {PER_DOSE!r} or the product is a "
                "hydration fluid",
            )
    return tuple(products)


def _load_packages(
    root: Traversable, problems: Problems, products: dict[str, DrugProduct]
) -> tuple[DrugPackage, ...]:
    file = "drug_packages.csv"
    packages: list[DrugPackage] = []
    seen: dict[str, int] = {}
    for number, row in checked_rows(root, file, _PACKAGE_FIELDS, problems):
        scope = f"row {number}"
        ok = True
        if row["ndc11"] in seen:
            problems.add(file, scope, "ndc11", f"duplicate NDC (first on row {seen[row['ndc11']]})")
            ok = False
        product = products.get(row["hcpcs"])
        if product is None:
            problems.add(file, scope, "hcpcs", f"{row['hcpcs']} is not a product in drugs.csv")
            ok = False
        for field in ("content_mg", "ndc_quantity"):
            if not _positive(row[field]):
                problems.add(file, scope, field, f"must be greater than 0 (got {row[field]})")
                ok = False
        if product is not None and not product.container_by_ndc:
            expected = "single" if product.single_dose_default else "multi"
            if row["container"] != expected:
                problems.add(
                    file,
                    scope,
                    "container",
                    f"{row['container']} contradicts drugs.csv {row['hcpcs']} "
                    f"(single_dose_default={product.single_dose_default}, container_by_ndc=no)",
                )
                ok = False
        if not ok:
            continue
        seen[row["ndc11"]] = number
        packages.append(DrugPackage(**row))
    return tuple(packages)


@table("drugs")
def load(root: Traversable, problems: Problems) -> Drugs:
    products = _load_products(root, problems)
    packages = _load_packages(root, problems, {p.hcpcs: p for p in products})
    return Drugs(products, packages)
