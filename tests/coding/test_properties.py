"""Hypothesis properties of the units and infusion rules (issue 5 Show, style.md s6)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from edi_pipeline.coding import code
from edi_pipeline.coding.units import units_down
from edi_pipeline.maps import load_maps
from edi_pipeline.models import Vials
from tests.factories import make_drug, make_encounter

MAPS = load_maps()
# single-dose products with a mass unit (not "up to"), by name, with their sold vial sizes
PRODUCTS = [
    (p.generic, p.unit_mg, p.vial_sizes_mg, p.routes[0])
    for p in MAPS.drugs.products
    if p.unit_mg is not None
    and p.single_dose_default
    and not p.container_by_ndc
    and not p.unit_label.startswith("up to")
    and p.vial_sizes_mg
    and p.effective_on(__import__("datetime").date(2025, 3, 4))
    and p.routes[0] in ("IV", "SC")
    and len(MAPS.drugs.candidates(p.generic, route=p.routes[0])) == 1
]


@st.composite
def dose_and_vials(draw):
    name, unit, sizes, route = draw(st.sampled_from(PRODUCTS))
    counts = draw(st.lists(st.integers(0, 4), min_size=len(sizes), max_size=len(sizes)).filter(any))
    vials = tuple(Vials(size, count) for size, count in zip(sizes, counts, strict=True) if count)
    opened = sum(v.size_mg * v.count for v in vials)
    tenths = draw(st.integers(1, int(opened * 10)))
    return name, unit, route, Decimal(tenths) / 10, vials, opened


@settings(max_examples=300, deadline=None)
@given(dose_and_vials())
def test_units_never_exceed_the_opened_content(case):
    name, unit, route, dose, vials, opened = case
    times = {"start_time": "09:00", "stop_time": "10:00"} if route == "IV" else {}
    drug = make_drug(name, route=route, dose_mg=dose, vials=vials, **times)
    coded = code(make_encounter(drugs=(drug,)), MAPS)
    assert coded.claim is not None, [p.message for p in coded.problems]
    drug_lines = [line for line in coded.claim.lines if line.kind == "drug"]
    waste_lines = [line for line in coded.claim.lines if line.kind == "drug_waste"]
    administered = sum((line.units for line in drug_lines), Decimal(0))
    waste = sum((line.units for line in waste_lines), Decimal(0))
    assert administered + waste <= units_down(opened, unit)
    assert waste == 0 or waste >= 1
    for line in coded.claim.lines:
        assert line.units == line.units.to_integral_value() and line.units >= 1
    has_jw = any("JW" in line.modifiers for line in coded.claim.lines)
    has_jz = any("JZ" in line.modifiers for line in coded.claim.lines)
    assert not (has_jw and has_jz)
    if has_jw:
        assert all("JZ" not in line.modifiers for line in drug_lines)


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def infusion_days(draw):
    names = [
        "infliximab",
        "tocilizumab",
        "methylprednisolone",
        "diphenhydramine",
        "Prolia",
        "normal saline",
    ]
    drugs = []
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=5)):
        start = draw(st.integers(8 * 60, 14 * 60))
        length = draw(st.integers(1, 300))
        if name == "infliximab":
            drugs.append(
                make_drug(
                    name,
                    dose_mg=400,
                    vials=((100, 4),),
                    start_time=_clock(start),
                    stop_time=_clock(start + length),
                )
            )
        elif name == "tocilizumab":
            drugs.append(
                make_drug(
                    name,
                    dose_mg=400,
                    vials=((400, 1),),
                    start_time=_clock(start),
                    stop_time=_clock(start + length),
                )
            )
        elif name == "methylprednisolone":
            drugs.append(
                make_drug(
                    name,
                    dose_mg=125,
                    vials=((125, 1),),
                    start_time=_clock(start),
                    stop_time=_clock(start + length),
                )
            )
        elif name == "diphenhydramine":
            drugs.append(
                make_drug(
                    name,
                    route="IV_PUSH",
                    dose_mg=50,
                    multi_dose_vial=True,
                    start_time=_clock(start),
                )
            )
        elif name == "Prolia":
            drugs.append(make_drug(name, route="SC", dose_mg=60, vials=((60, 1),)))
        else:
            drugs.append(
                make_drug(
                    name, dose_mg=1, start_time=_clock(start), stop_time=_clock(start + length)
                )
            )
    order = draw(st.permutations(range(len(drugs))))
    return tuple(drugs), tuple(drugs[i] for i in order)


@settings(max_examples=200, deadline=None)
@given(infusion_days())
def test_infusion_coding_is_invariant_to_drug_order(case):
    listed, shuffled = case
    first = code(make_encounter(drugs=listed), MAPS)
    second = code(make_encounter(drugs=shuffled), MAPS)
    assert (first.claim is None) == (second.claim is None)
    if first.claim is None:
        return

    def view(coded):
        return [
            (
                line.procedure,
                line.modifiers,
                line.units,
                line.charge,
                line.ndc,
                line.ndc_quantity,
                line.derived_from,
            )
            for line in coded.claim.lines
        ]

    assert view(first) == view(second)
    initials = [
        line
        for line in first.claim.lines
        if line.procedure in {"96365", "96374", "96372", "96360", "96413", "96409"}
    ]
    assert len(initials) <= 1 or all(line.procedure == "96372" for line in initials[1:])
