"""Check digits and shapes of the public identifiers every stage meets: NPI, NDC, ICD-10-CM.

One implementation, used by intake (to reject), coding (to normalise), and validation (to check
files written by others).
"""

from __future__ import annotations

import re

_NDC_10 = {
    # carton shape -> widths of the labeler, product and package segments
    (4, 4, 2): (1, 0, 0),  # 4-4-2 -> pad labeler to 5
    (5, 3, 2): (0, 1, 0),  # 5-3-2 -> pad product to 4
    (5, 4, 1): (0, 0, 1),  # 5-4-1 -> pad package to 2
}
_ICD10 = re.compile(r"[A-TV-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?")


def npi_is_valid(npi: str) -> bool:
    """Luhn check over the 10-digit NPI with the 80840 prefix (ISO 7812 card issuer prefix)."""
    if not (len(npi) == 10 and npi.isdigit()):
        return False
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def ndc_to_11(ndc: str) -> str | None:
    """The 11-digit 5-4-2 form of an NDC as printed (4-4-2, 5-3-2, 5-4-1 hyphenated, or 11 digits).

    An unhyphenated 10-digit NDC is ambiguous (which segment to pad?) and returns None, as does
    anything else that is not one of those shapes.
    """
    text = ndc.strip()
    if len(text) == 11 and text.isdigit():
        return text
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    shape = tuple(len(p) for p in parts)
    if shape == (5, 4, 2):
        return "".join(parts)
    pad = _NDC_10.get(shape)  # type: ignore[arg-type]
    if pad is None:
        return None
    return "".join("0" * z + p for z, p in zip(pad, parts, strict=True))


def icd10_is_well_formed(code: str) -> bool:
    """ICD-10-CM shape: letter (not U), digit, alphanumeric, then up to 4 more, dot optional."""
    return bool(_ICD10.fullmatch(code.strip().upper())) and len(code.replace(".", "")) <= 7


def icd10_strip(code: str) -> str:
    """The claim form of an ICD-10-CM code: upper case, no dot (HI segments carry no decimal)."""
    return code.strip().upper().replace(".", "")
