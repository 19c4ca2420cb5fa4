"""NDC on drug lines (ndc.md): the 11-digit form, and the NDC quantity in the package's unit.

The NDC quantity counts package units (``UN`` vials, ``ML``…), not HCPCS units: it is the share
of the opened packages that a line reports. A drug line reports the administered milligrams and
its JW line the discarded milligrams, each converted with the package's labeled content and
quantity (Remicade: 100 mg = UN 1, so 375 mg = UN 3.75 and its JW line UN 0.25; Riabni: 500 mg =
ML 50). Quantities keep at most three decimals (the NUCC/CTP04 convention) and the two lines of
one package always add up to the packages opened.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from edi_pipeline.codes import ndc_to_11
from edi_pipeline.maps.drugs import DrugPackage, Drugs

QUANTUM = Decimal("0.001")
_ndc_to_11 = lru_cache(maxsize=65536)(ndc_to_11)  # pure; a practice uses few NDCs


def to_11(ndc: str, drugs: Drugs) -> tuple[str | None, str | None]:
    """(11-digit NDC, None) or (None, why not).

    An unhyphenated 10-digit NDC is ambiguous (ndc.md s1); it is accepted only when exactly one of
    its three paddings is a package in ``maps/drugs``, never guessed otherwise.
    """
    ndc11 = _ndc_to_11(ndc)
    if ndc11 is not None:
        return ndc11, None
    text = ndc.strip()
    if len(text) == 10 and text.isdigit():
        paddings = ("0" + text, text[:5] + "0" + text[5:], text[:9] + "0" + text[9:])
        known = [p for p in paddings if drugs.package(p) is not None]
        if len(known) == 1:
            return known[0], None
        return None, "is 10 digits without hyphens (ambiguous: 4-4-2, 5-3-2 or 5-4-1?)"
    return None, "is not an NDC (10 digits hyphenated 4-4-2/5-3-2/5-4-1, or 11 digits)"


def quantity(mg: Decimal, package: DrugPackage) -> Decimal:
    """The NDC quantity for ``mg`` of this package's product, in the package's unit."""
    value = mg / package.content_mg * package.ndc_quantity
    return _tidy(value.quantize(QUANTUM, rounding=ROUND_HALF_UP))


def split_quantity(
    administered_mg: Decimal, opened_mg: Decimal, package: DrugPackage
) -> tuple[Decimal, Decimal]:
    """(drug line quantity, JW line quantity) adding up to the opened packages exactly."""
    total = quantity(opened_mg, package)
    given = quantity(administered_mg, package)
    waste = total - given
    return _tidy(given), _tidy(waste)


def _tidy(value: Decimal) -> Decimal:
    """Without trailing zeros (``4``, ``3.75``), never in exponent form."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
