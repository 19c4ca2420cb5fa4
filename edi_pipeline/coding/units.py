"""Dose → HCPCS billing units, and the discarded amount's JW units (units.md U1–U6).

Pure arithmetic on ``Decimal``. The administered amount is rounded **up** to whole units (U2);
the units the opened single-dose containers can pay for are their labeled content rounded
**down** (U5), and the JW units are what is left (U3), so administered + JW never exceed the
labeled content. JW exists only when at least one unit is left (U4).

Two refinements the reference implies:

- "up to N mg" descriptors (J2930 *up to 125 mg*) count any part of N mg as one unit, so both the
  administered units and the content's units round up (1000 mg = 8 units; a 125 mg vial holds 1).
- when the administered units rounded up would exceed what the opened content can pay for (a
  content that is not a whole number of units), the administered units are capped at the content
  and the cap is reported: payment is "up to the amount of drug indicated on the vial" (U5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import lru_cache

ZERO = Decimal(0)
ONE = Decimal(1)


def units_up(amount_mg: Decimal, unit_mg: Decimal) -> Decimal:
    """Whole units covering ``amount_mg`` (rounded up, U2)."""
    return (amount_mg / unit_mg).to_integral_value(rounding=ROUND_CEILING)


def units_down(amount_mg: Decimal, unit_mg: Decimal) -> Decimal:
    """Whole units contained in ``amount_mg`` (rounded down, U3/U5)."""
    return (amount_mg / unit_mg).to_integral_value(rounding=ROUND_FLOOR)


@dataclass(frozen=True, slots=True)
class Units:
    administered: Decimal  # units on the drug line
    waste: Decimal  # units on the JW line (0: no JW line)
    payable: Decimal  # units the opened content can pay for (single-dose), else administered
    capped: bool  # administered units were capped at the labeled content
    exact_administered: Decimal  # dose ÷ unit before rounding, for derived_from


def single_dose(dose_mg: Decimal, opened_mg: Decimal, unit_mg: Decimal, *, up_to: bool) -> Units:
    """Units for a dose drawn from single-dose containers holding ``opened_mg`` in all.

    The caller has checked ``0 < dose_mg <= opened_mg``.
    """
    exact = dose_mg / unit_mg
    administered = units_up(dose_mg, unit_mg)
    payable = units_up(opened_mg, unit_mg) if up_to else units_down(opened_mg, unit_mg)
    capped = administered > payable
    if capped:
        administered = payable
    waste = payable - administered
    return Units(administered, waste if waste >= ONE else ZERO, payable, capped, exact)


def multi_dose(dose_mg: Decimal, unit_mg: Decimal) -> Units:
    """Units for a dose from a multiple-dose container: what was given, no waste (U8)."""
    administered = units_up(dose_mg, unit_mg)
    return Units(administered, ZERO, administered, False, dose_mg / unit_mg)


def least_waste_opened(sizes_mg: Iterable[Decimal], dose_mg: Decimal) -> Decimal | None:
    """The smallest total content of any combination of the sold sizes that holds the dose (U6).

    None when no size is known. Sizes and dose are scaled to whole hundredths of a mg.
    """
    return _least_opened(tuple(sizes_mg), dose_mg)


@lru_cache(maxsize=8192)
def _least_opened(sizes_mg: tuple[Decimal, ...], dose_mg: Decimal) -> Decimal | None:
    sizes = tuple(sorted({int(s * 100) for s in sizes_mg if s > 0}))
    if not sizes:
        return None
    target = int((dose_mg * 100).to_integral_value(rounding=ROUND_CEILING))
    return Decimal(_least_total(sizes, target)) / 100


@lru_cache(maxsize=4096)
def _least_total(sizes: tuple[int, ...], target: int) -> int:
    """Unbounded knapsack: the least reachable total ≥ target (sizes in hundredths of a mg)."""
    from math import gcd

    step = 0
    for size in sizes:
        step = gcd(step, size)
    scaled = tuple(s // step for s in sizes)
    need = -(-target // step)
    limit = need + max(scaled)
    reachable = bytearray(limit + 1)
    reachable[0] = 1
    for total in range(1, limit + 1):
        for size in scaled:
            if size <= total and reachable[total - size]:
                reachable[total] = 1
                break
    for total in range(need, limit + 1):
        if reachable[total]:
            return total * step
    return limit * step  # unreachable: one of the sizes alone exceeds the need
