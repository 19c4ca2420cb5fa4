"""Sets of procedure codes and diagnosis families as a billing lead writes them in a payer map.

Payer policies and NCCI tables name codes three ways: one code (``J1745``), a family by its
leading characters (``J*``, ``Q51*``), and a range of same-shaped codes (``20600-20611``,
``99211-99215``). ``CodeSet`` keeps the three apart so that membership is a set lookup for the
common case. Diagnoses are always families: ``M05`` covers M05.00 through M05.9A, because a policy
that lists "rheumatoid arthritis (M05, M06)" means every code below those categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_CODE = re.compile(r"[A-Z0-9]{1,7}")
_PREFIX = re.compile(r"[A-Z0-9]{1,6}\*")
_RANGE = re.compile(r"([A-Z0-9]{5})-([A-Z0-9]{5})")
_DIAGNOSIS = re.compile(r"[A-TV-Z][0-9][0-9A-Z]?[0-9A-Z]{0,4}")


@dataclass(frozen=True, slots=True)
class CodeSet:
    """Procedure (CPT/HCPCS) codes: exact codes, ``X*`` prefixes and ``A-B`` ranges."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    ranges: tuple[tuple[str, str], ...] = ()
    written: tuple[str, ...] = ()  # as the map wrote them, for messages

    @classmethod
    def parse(cls, items: Iterable[str]) -> CodeSet:
        """Parse the map's list; raises ValueError naming the first entry it cannot read."""
        exact: set[str] = set()
        prefixes: list[str] = []
        ranges: list[tuple[str, str]] = []
        written: list[str] = []
        for raw in items:
            if not isinstance(raw, str):
                raise ValueError(f"codes must be text (got {type(raw).__name__})")
            item = raw.strip().upper()
            written.append(item)
            if _CODE.fullmatch(item):
                exact.add(item)
            elif _PREFIX.fullmatch(item):
                prefixes.append(item[:-1])
            elif m := _RANGE.fullmatch(item):
                low, high = m.groups()
                if low[0].isdigit() != high[0].isdigit() or (
                    not low[0].isdigit() and low[0] != high[0]
                ):
                    raise ValueError(f"range {item!r} mixes code families")
                if low > high:
                    raise ValueError(f"range {item!r} runs backwards")
                ranges.append((low, high))
            else:
                raise ValueError(
                    f"{raw!r} is not a code, a prefix like J* or a range like 20600-20611"
                )
        return cls(frozenset(exact), tuple(prefixes), tuple(ranges), tuple(written))

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, str):
            return False
        if code in self.exact:
            return True
        if self.prefixes and code.startswith(self.prefixes):
            return True
        return any(len(code) == len(lo) and lo <= code <= hi for lo, hi in self.ranges)

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes or self.ranges)

    def __str__(self) -> str:
        return ", ".join(self.written)


@dataclass(frozen=True, slots=True)
class DiagnosisSet:
    """ICD-10-CM families, each a code or its leading characters, with or without the dot."""

    prefixes: tuple[str, ...] = ()
    written: tuple[str, ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str]) -> DiagnosisSet:
        prefixes: list[str] = []
        written: list[str] = []
        for raw in items:
            if not isinstance(raw, str):
                raise ValueError(f"diagnoses must be text (got {type(raw).__name__})")
            item = raw.strip().upper().rstrip("*").replace(".", "")
            if not _DIAGNOSIS.fullmatch(item):
                raise ValueError(f"{raw!r} is not an ICD-10-CM code or family such as M05 or L40.5")
            prefixes.append(item)
            written.append(raw.strip())
        return cls(tuple(prefixes), tuple(written))

    def matches(self, diagnosis: str) -> bool:
        return diagnosis.replace(".", "").upper().startswith(self.prefixes)

    def __bool__(self) -> bool:
        return bool(self.prefixes)

    def __str__(self) -> str:
        return ", ".join(self.written)
