"""``maps/ack_codes.csv``: every acknowledgment code we may read, and what a biller should do.

One row per (kind, code). ``meaning`` is the code list's own description (shortened);
``message`` is what a biller reads: what went wrong and what to do next. ``outcome`` tells
tie-back which way a code moves a claim, so that the decision is data too:

===============  ============================================  =================================
kind             code list                                      outcome
===============  ============================================  =================================
ta104            TA104 interchange acknowledgment (A/E/R)      required
ta105            TA105 interchange note code (X12 I18)
ik304            IK304 segment syntax error (DE 620)
ik403            IK403 element syntax error (DE 621)
ik501            IK501 transaction set acknowledgment (717)    required
ak901            AK901 functional group acknowledgment (715)   required
ik502            IK502–IK506 transaction set error (DE 618)
ak905            AK905–AK909 functional group error (DE 716)
stc_category     STC01-1 claim status category (source 507)    required
stc_status       STC01-2 claim status (source 508)
entity           STC01-3 entity identifier (DE 98)
stc_action       STC03 action code (DE 306)                    required
===============  ============================================  =================================

A ``stc_status`` message may say ``{entity}``: it is replaced with the entity row's message
("billing provider") when the STC names one. Every row carries its ``source``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from types import MappingProxyType

from edi_pipeline.maps import table
from edi_pipeline.maps.schema import Field, Problems, check_row, read_csv

FILE = "ack_codes.csv"

KINDS = frozenset(
    {
        "ta104",
        "ta105",
        "ik304",
        "ik403",
        "ik501",
        "ak901",
        "ik502",
        "ak905",
        "stc_category",
        "stc_status",
        "entity",
        "stc_action",
    }
)
OUTCOMES = frozenset(
    {
        "accepted",
        "accepted_with_errors",
        "rejected",
        "partial",
        "pending",
        "forwarded",
        "review",
    }
)
#: kinds whose rows decide a claim's next status: each row must say which way
NEEDS_OUTCOME = frozenset({"ta104", "ik501", "ak901", "stc_category", "stc_action"})
_PLACEHOLDER = re.compile(r"\{([^}]*)\}")

FIELDS = (
    Field("kind", choices=KINDS),
    Field("code", pattern=r"[A-Z0-9]{1,3}"),
    Field("meaning"),
    Field("message"),
    Field("outcome", required=False, choices=OUTCOMES),
    Field("source"),
)


@dataclass(frozen=True, slots=True)
class AckCode:
    kind: str
    code: str
    meaning: str
    message: str
    outcome: str | None
    source: str


class AckCodes(Mapping[tuple[str, str], AckCode]):
    """Read-only lookup of ``(kind, code)`` → ``AckCode``."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Mapping[tuple[str, str], AckCode]):
        self._rows = MappingProxyType(dict(rows))

    def __getitem__(self, key: tuple[str, str]) -> AckCode:
        return self._rows[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def find(self, kind: str, code: str | None) -> AckCode | None:
        """The row for ``code`` of ``kind`` (codes compared without padding), or None."""
        if code is None:
            return None
        return self._rows.get((kind, code.strip().upper()))

    def knows(self, kind: str, code: str | None) -> bool:
        return self.find(kind, code) is not None

    def outcome(self, kind: str, code: str | None) -> str | None:
        row = self.find(kind, code)
        return None if row is None else row.outcome

    def codes(self, kind: str) -> frozenset[str]:
        return frozenset(code for k, code in self._rows if k == kind)

    def __repr__(self) -> str:
        return f"<ack_codes: {len(self._rows)} rows>"


@table("ack_codes")
def load(root: Traversable, problems: Problems) -> AckCodes:
    rows: dict[tuple[str, str], AckCode] = {}
    for number, raw in read_csv(root, FILE, problems):
        scope = f"row {number}"
        typed = check_row(raw, FIELDS, problems, file=FILE, scope=scope)
        if typed is None:
            continue
        kind, code = typed["kind"], typed["code"]
        scope = f"row {number} ({kind} {code})"
        if (kind, code) in rows:
            problems.add(FILE, scope, "code", "appears twice for this kind")
            continue
        if kind in NEEDS_OUTCOME and not typed["outcome"]:
            problems.add(FILE, scope, "outcome", f"is required for kind {kind}")
            continue
        bad = [p for p in _PLACEHOLDER.findall(typed["message"]) if p != "entity"]
        if bad or (kind != "stc_status" and "{" in typed["message"]):
            problems.add(
                FILE, scope, "message", "only stc_status messages may use a placeholder, {entity}"
            )
            continue
        rows[(kind, code)] = AckCode(
            kind,
            code,
            typed["meaning"],
            typed["message"],
            typed["outcome"] or None,
            typed["source"],
        )
    return AckCodes(rows)
