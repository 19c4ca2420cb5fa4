"""Drug lines: which product a given drug is, and its HCPCS, units, JW/JZ and NDC lines.

The product comes from the name as written (brand, generic, biosimilar suffix, alias) narrowed by
route and date of service, and from the NDC's package when one is given: the package settles an
ambiguous name and a package of another product is refused, naming both. Where one name has
several codes for the same substance (J2920 *up to 40 mg* and J2930 *up to 125 mg*), the code
needing the fewest units is billed, the smaller unit on a tie (units.md E8/E10).

Container type comes from the package; from the product only where all its presentations agree;
from the encounter's ``multi_dose_vial`` otherwise, and a ``multi_dose_vial`` contradicting a
known package or product is refused naming both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from edi_pipeline.coding import ndc as ndc_rules
from edi_pipeline.coding import units as unit_rules
from edi_pipeline.coding.context import Context, Draft
from edi_pipeline.maps.drugs import DrugPackage, DrugProduct
from edi_pipeline.models import DrugGiven

Container = Literal["single", "multi"]


@lru_cache(maxsize=8192)
def fmt(value: Decimal) -> str:
    """A Decimal as people write it: no exponent, no trailing zeros."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _units(value: Decimal) -> str:
    return f"{fmt(value)} unit" + ("" if value == 1 else "s")


def vials_text(given: DrugGiven) -> str:
    parts = [f"{v.count}×{fmt(v.size_mg)} mg" for v in given.vials]
    return " + ".join(parts) + (
        " vial" if len(parts) == 1 and given.vials[0].count == 1 else " vials"
    )


@dataclass(frozen=True, slots=True)
class ResolvedDrug:
    field: str  # "drugs[0]" or "procedures[1].drugs[0]"
    given: DrugGiven
    product: DrugProduct
    package: DrugPackage | None
    ndc11: str | None
    container: Container | None  # None: unknown (only allowed when nothing is billed for it)
    pointer: int

    @property
    def name(self) -> str:
        return self.product.generic


def resolve(given: DrugGiven, field: str, ctx: Context) -> ResolvedDrug | None:
    """The product, package and container of a drug given, or None with problems recorded."""
    drugs = ctx.maps.drugs
    dos = ctx.encounter.date_of_service
    candidates = drugs.candidates(given.drug, route=given.route, on=dos)
    if not candidates:
        _explain_no_candidate(given, field, ctx)
        return None

    ndc11 = package = None
    if given.ndc:
        ndc11, why = ndc_rules.to_11(given.ndc, drugs)
        if why:
            ctx.error("ndc_format", f"{field}.ndc", f"ndc {why}")
            return None
        package = drugs.package(ndc11) if ndc11 else None
        if package is not None:
            matching = tuple(c for c in candidates if c.hcpcs == package.hcpcs)
            if not matching:
                codes = ", ".join(c.hcpcs for c in candidates)
                ctx.error(
                    "ndc_product_mismatch",
                    f"{field}.ndc",
                    f"NDC {ndc11} is {package.description} ({package.hcpcs}), but drug "
                    f"{given.drug!r} by route {given.route} on {dos} is {codes}",
                )
                return None
            candidates = matching

    generics = sorted({c.generic for c in candidates})
    if len(generics) > 1:
        options = "; ".join(
            f"{g} ({', '.join(c.hcpcs for c in candidates if c.generic == g)})" for g in generics
        )
        ctx.error(
            "drug_ambiguous",
            f"{field}.drug",
            f"drug {given.drug!r} by route {given.route} may be {options}: "
            "name the product or give its NDC",
        )
        return None
    product = _fewest_units(candidates, given.dose_mg)

    if given.hcpcs and given.hcpcs.strip().upper() != product.hcpcs:
        ctx.error(
            "hcpcs_mismatch",
            f"{field}.hcpcs",
            f"hcpcs {given.hcpcs.strip().upper()} disagrees with {product.hcpcs} derived from "
            f"drug {given.drug!r}, route {given.route}, date {dos}"
            + (f" and NDC {ndc11}" if package else ""),
        )
        return None

    container = _container(given, field, product, package, ctx)
    if container == "conflict":
        return None
    return ResolvedDrug(
        field=field,
        given=given,
        product=product,
        package=package,
        ndc11=ndc11,
        container=container,
        pointer=ctx.pointer_for(product.indications),
    )


def _explain_no_candidate(given: DrugGiven, field: str, ctx: Context) -> None:
    drugs = ctx.maps.drugs
    by_name = drugs.candidates(given.drug)
    if not by_name:
        ctx.error("drug_unknown", f"{field}.drug", f"drug {given.drug!r} is not in maps/drugs")
        return
    by_route = drugs.candidates(given.drug, route=given.route)
    if not by_route:
        routes = sorted({r for p in by_name for r in p.routes})
        ctx.error(
            "route_mismatch",
            f"{field}.route",
            f"drug {given.drug!r} is not given by route {given.route} in maps/drugs "
            f"(routes: {', '.join(routes)})",
        )
        return
    spans = ", ".join(
        f"{p.hcpcs} {p.effective_from or '…'} to {p.effective_to or '…'}" for p in by_route
    )
    ctx.error(
        "hcpcs_not_effective",
        f"{field}.drug",
        f"no code for drug {given.drug!r} is effective on "
        f"{ctx.encounter.date_of_service} ({spans})",
    )


def _fewest_units(candidates: tuple[DrugProduct, ...], dose_mg: Decimal) -> DrugProduct:
    if len(candidates) == 1:
        return candidates[0]

    def key(p: DrugProduct) -> tuple[Decimal, Decimal]:
        if p.unit_mg is None or dose_mg <= 0:
            return (Decimal(0), Decimal(0))
        return (unit_rules.units_up(dose_mg, p.unit_mg), p.unit_mg)

    return min(candidates, key=key)


def _container(
    given: DrugGiven,
    field: str,
    product: DrugProduct,
    package: DrugPackage | None,
    ctx: Context,
) -> Container | Literal["conflict"] | None:
    stated: Container | None = None
    if given.multi_dose_vial is not None:
        stated = "multi" if given.multi_dose_vial else "single"
    if package is not None:
        if stated is not None and stated != package.container:
            ctx.error(
                "container_conflict",
                f"{field}.multi_dose_vial",
                f"multi_dose_vial is {given.multi_dose_vial} but NDC {package.ndc11} "
                f"({package.description}) is a {package.container}-dose package",
            )
            return "conflict"
        return package.container
    if product.container_by_ndc:
        return stated
    known: Container = "single" if product.single_dose_default else "multi"
    if stated is not None and stated != known:
        ctx.error(
            "container_conflict",
            f"{field}.multi_dose_vial",
            f"multi_dose_vial is {given.multi_dose_vial} but maps/drugs lists every "
            f"{product.generic} ({product.hcpcs}) presentation as {known}-dose",
        )
        return "conflict"
    return known


# ------------------------------------------------------------------------------- drug lines


@dataclass(frozen=True, slots=True)
class _Group:
    """The vials of one package opened for a dose (one NDC → one line, ndc.md s3)."""

    package: DrugPackage | None
    opened_mg: Decimal
    text: str


def drug_lines(drug: ResolvedDrug, ctx: Context, modifiers: tuple[str, ...] = ()) -> list[Draft]:
    """The drug line(s) and JW line(s) of a drug the practice supplied; none if white-bagged."""
    given, product = drug.given, drug.product
    if given.supplied_by == "pharmacy":
        ctx.notes.append(
            f"{drug.field}: {product.generic} supplied by the pharmacy (white-bagged): "
            "administration billed, drug not billed"
        )
        return []
    if product.hydration_fluid:
        return []
    basis = product.unit_basis
    if basis == "unknown":
        ctx.error(
            "unit_unknown",
            f"{drug.field}.drug",
            f"the billing unit of {product.hcpcs} ({product.unit_label}) is not a mass or a dose",
        )
        return []
    if given.dose_mg <= 0:
        ctx.error("dose_invalid", f"{drug.field}.dose_mg", "dose_mg must be greater than 0")
        return []
    container = drug.container
    if container is None:
        if not _container_irrelevant(drug, ctx):
            ctx.error(
                "container_unknown",
                f"{drug.field}.multi_dose_vial",
                f"{product.generic} ({product.hcpcs}) comes in single- and multiple-dose "
                f"containers and {ctx.payer.name} bills them differently here: give the NDC "
                "of the package used or multi_dose_vial",
            )
            return []
        container = "multi"  # the same lines as single-dose for this payer and dose
        ctx.notes.append(
            f"{drug.field}: container type of {product.hcpcs} unknown; single- and "
            f"multiple-dose give the same lines for {ctx.payer.key} (no JZ, no billable waste)"
        )
    single = container == "single"
    waste_modifier = ctx.maps.waste
    no_waste_modifier = ctx.maps.no_waste
    dos = ctx.encounter.date_of_service

    if basis == "dose":
        # one unit per dose: each single-dose syringe or vial opened is one dose
        count = Decimal(sum(v.count for v in given.vials) or 1)
        units = unit_rules.Units(count, Decimal(0), count, False, count)
        opened = given.opened_mg or given.dose_mg
        how = (
            f"{fmt(given.dose_mg)} mg {product.generic}"
            + (f" from {vials_text(given)}" if given.vials else "")
            + f": billed {product.unit_label} → {_units(count)}"
        )
    elif not single:
        assert product.unit_mg is not None
        units = unit_rules.multi_dose(given.dose_mg, product.unit_mg)
        opened = given.dose_mg
        how = (
            f"{fmt(given.dose_mg)} mg {product.generic} from a multiple-dose vial: "
            f"{fmt(given.dose_mg)} ÷ {fmt(product.unit_mg)} mg = {fmt(units.exact_administered)}"
            f" → {_units(units.administered)}; no JW/JZ on multiple-dose containers"
        )
    else:
        assert product.unit_mg is not None
        opened_or_none = _opened(drug, ctx)
        if opened_or_none is None:
            return []
        opened = opened_or_none
        up_to = product.unit_label.casefold().startswith("up to")
        units = unit_rules.single_dose(given.dose_mg, opened, product.unit_mg, up_to=up_to)
        source = vials_text(given) if given.vials else f"{fmt(opened)} mg opened"
        how = (
            f"{fmt(given.dose_mg)} mg {product.generic} from {source}: {fmt(given.dose_mg)} ÷ "
            f"{product.unit_label} = {fmt(units.exact_administered)} → "
            f"{_units(units.administered)} (rounded up)"
        )
        if units.capped:
            ctx.warn(
                "units_capped",
                f"{drug.field}.dose_mg",
                f"{fmt(given.dose_mg)} mg rounds up to more units than the {fmt(opened)} mg opened "
                f"can pay for: billed {fmt(units.administered)} units (the labeled content)",
            )
            how += f", capped at the {fmt(opened)} mg labeled content"
        _check_least_waste(drug, opened, ctx)

    bill_waste = single and units.waste >= 1 and ctx.payer.jw_required
    line_modifiers = modifiers
    if single and units.waste < 1 and ctx.payer.jz_required_on(dos):
        line_modifiers = (*modifiers, no_waste_modifier)
        how += f"; nothing billable discarded → {no_waste_modifier} ({ctx.payer.key})"
    elif single and units.waste >= 1 and not ctx.payer.jw_required:
        ctx.notes.append(
            f"{drug.field}: {fmt(units.waste)} units of {product.hcpcs} discarded, "
            f"not billed ({ctx.payer.key} takes no JW line)"
        )

    groups = _ndc_groups(drug, container, opened, ctx)
    lines: list[Draft] = []
    waste_lines: list[Draft] = []
    unit_mg = product.unit_mg
    remaining = given.dose_mg
    drawn_before = Decimal(0)
    jw_left = units.waste if bill_waste else Decimal(0)
    shares = []
    for group in groups:
        drawn = min(remaining, group.opened_mg) if basis == "mass" else given.dose_mg
        remaining -= drawn
        shares.append(drawn)
    for index, (group, drawn) in enumerate(zip(groups, shares, strict=True)):
        if basis == "mass" and len(groups) > 1:
            assert unit_mg is not None
            after = min(unit_rules.units_up(drawn_before + drawn, unit_mg), units.administered)
            before = min(unit_rules.units_up(drawn_before, unit_mg), units.administered)
            line_units = after - before
            drawn_before += drawn
        else:
            line_units = units.administered
        ndc_fields: dict[str, object] = {}
        waste_fields: dict[str, object] = {}
        if group.package is not None:
            given_qty, waste_qty = ndc_rules.split_quantity(drawn, group.opened_mg, group.package)
            ndc_fields = {
                "ndc": group.package.ndc11,
                "ndc_quantity": given_qty,
                "ndc_unit": group.package.ndc_unit,
            }
            waste_fields = {**ndc_fields, "ndc_quantity": waste_qty}
        text = how if len(groups) == 1 else f"{how}; this line: {fmt(drawn)} mg from {group.text}"
        if line_units > 0:
            lines.append(
                Draft(
                    procedure=product.hcpcs,
                    units=line_units,
                    kind="drug",
                    derived_from=text,
                    field=drug.field,
                    modifiers=line_modifiers,
                    pointers=(drug.pointer,),
                    drug=product.generic,
                    **ndc_fields,  # type: ignore[arg-type]
                )
            )
        waste_mg = group.opened_mg - drawn
        if jw_left > 0 and waste_mg > 0 and unit_mg is not None:
            is_last_waste = all(
                g.opened_mg - s <= 0
                for g, s in zip(groups[index + 1 :], shares[index + 1 :], strict=True)
            )
            jw_units = (
                jw_left if is_last_waste else min(jw_left, unit_rules.units_down(waste_mg, unit_mg))
            )
            if jw_units > 0:
                jw_left -= jw_units
                waste_lines.append(
                    Draft(
                        procedure=product.hcpcs,
                        units=jw_units,
                        kind="drug_waste",
                        derived_from=(
                            f"{fmt(waste_mg)} mg of {product.generic} discarded from "
                            f"{group.text}: {fmt(units.payable)} payable units "
                            f"(labeled content in whole units) − {fmt(units.administered)} "
                            f"administered = {_units(units.waste)}"
                            if len(groups) == 1
                            else f"{fmt(waste_mg)} mg of {product.generic} discarded from "
                            f"{group.text}: {fmt(jw_units)} of {fmt(units.waste)} waste units"
                        ),
                        field=drug.field,
                        modifiers=(*modifiers, waste_modifier),
                        pointers=(drug.pointer,),
                        drug=product.generic,
                        note=f"{fmt(waste_mg)} MG DISCARDED",
                        **waste_fields,  # type: ignore[arg-type]
                    )
                )
    return lines + waste_lines


def _container_irrelevant(drug: ResolvedDrug, ctx: Context) -> bool:
    """Whether single- and multiple-dose would code the same: no JZ, and no billable waste."""
    given, product = drug.given, drug.product
    if ctx.payer.jz_required_on(ctx.encounter.date_of_service):
        return False
    if not ctx.payer.jw_required or product.unit_basis != "mass":
        return True
    if given.vials:
        opened = given.opened_mg
    elif given.discarded_mg is not None:
        opened = given.dose_mg + given.discarded_mg
    else:
        return False
    if product.unit_mg is None or opened < given.dose_mg:
        return False
    up_to = product.unit_label.casefold().startswith("up to")
    units = unit_rules.single_dose(given.dose_mg, opened, product.unit_mg, up_to=up_to)
    return units.waste < 1


def _opened(drug: ResolvedDrug, ctx: Context) -> Decimal | None:
    given = drug.given
    if given.vials:
        opened = given.opened_mg
        where = f"{drug.field}.vials"
    elif given.discarded_mg is not None:
        opened = given.dose_mg + given.discarded_mg
        where = f"{drug.field}.discarded_mg"
    else:
        ctx.error(
            "vials_missing",
            f"{drug.field}.vials",
            f"{drug.product.generic} comes in single-dose containers: the vials opened (or "
            "discarded_mg) are needed to bill the waste (JW) or its absence (JZ)",
        )
        return None
    if opened < given.dose_mg:
        ctx.error(
            "dose_exceeds_vials",
            where,
            f"dose {fmt(given.dose_mg)} mg is more than the {fmt(opened)} mg the opened "
            "containers hold",
        )
        return None
    return opened


def _check_least_waste(drug: ResolvedDrug, opened: Decimal, ctx: Context) -> None:
    given, product = drug.given, drug.product
    if not given.vials or opened == given.dose_mg:
        return
    sizes = ctx.maps.drugs.single_dose_sizes(product.hcpcs)
    best = unit_rules.least_waste_opened(sizes, given.dose_mg)
    if best is None or opened <= best or product.unit_mg is None:
        return
    up_to = product.unit_label.casefold().startswith("up to")
    count = unit_rules.units_up if up_to else unit_rules.units_down
    if count(opened, product.unit_mg) > count(best, product.unit_mg):  # waste that bills units
        ctx.warn(
            "vials_not_least_waste",
            f"{drug.field}.vials",
            f"{vials_text(given)} ({fmt(opened)} mg) for {fmt(given.dose_mg)} mg: the sizes sold "
            f"({', '.join(fmt(s) for s in sizes)} mg) can hold it in {fmt(best)} mg; "
            "avoidable waste may be denied (units.md U6)",
        )


def _ndc_groups(
    drug: ResolvedDrug, container: Container, opened: Decimal, ctx: Context
) -> list[_Group]:
    """The packages the dose came from, largest first (one line per NDC, ndc.md s3).

    Where no NDC can be given with its quantity, a single group without package: the line goes
    without NDC and, when the payer requires one, a warning says so; whether that holds the
    claim is payer policy (the scrub stage's ``ndc_required`` rules, category ``ndc``).
    """
    given, package = drug.given, drug.package
    required = ctx.payer.ndc_required and drug.product.buy_and_bill
    whole = [_Group(None, opened, vials_text(given) if given.vials else f"{fmt(opened)} mg")]
    if drug.ndc11 is None:
        if required:
            ctx.warn(
                "ndc_missing",
                f"{drug.field}.ndc",
                f"{ctx.payer.name} requires the NDC on drug lines: {drug.product.hcpcs} has none",
            )
        return whole
    if package is None:
        ctx.warn(
            "ndc_package_unknown",
            f"{drug.field}.ndc",
            f"NDC {drug.ndc11} is not a package in maps/drug_packages.csv: its content and unit "
            "are unknown, so its quantity cannot be derived; the line goes without NDC",
        )
        return whole
    if container == "multi" or not given.vials:
        return [_Group(package, opened, package.description)]
    by_size: dict[Decimal, Decimal] = {}
    for vial in given.vials:
        by_size[vial.size_mg] = by_size.get(vial.size_mg, Decimal(0)) + vial.size_mg * vial.count
    groups: list[_Group] = []
    for size in sorted(by_size, reverse=True):
        match = package if size == package.content_mg else _sibling(package, size, ctx)
        if match is None:
            ctx.warn(
                "ndc_package_unknown",
                f"{drug.field}.vials",
                f"no package of {drug.product.hcpcs} from labeler {package.labeler} holds "
                f"{fmt(size)} mg in maps/drug_packages.csv (NDC {package.ndc11} holds "
                f"{fmt(package.content_mg)} mg): the lines go without NDC",
            )
            return whole
        count = by_size[size] / size
        groups.append(
            _Group(match, by_size[size], f"{fmt(count)}×{fmt(size)} mg NDC {match.ndc11}")
        )
    if len(groups) > 1 and not ctx.payer.split_lines_by_ndc:
        ctx.warn(
            "ndc_not_split",
            f"{drug.field}.vials",
            f"{ctx.payer.name} takes one line per drug: only NDC {package.ndc11} is reported",
        )
        return [_Group(package, opened, vials_text(given))]
    return groups


def _sibling(package: DrugPackage, size: Decimal, ctx: Context) -> DrugPackage | None:
    found = [
        p
        for p in ctx.maps.drugs.packages_for(package.hcpcs)
        if p.labeler == package.labeler
        and p.content_mg == size
        and p.container == package.container
    ]
    return found[0] if len(found) == 1 else None
