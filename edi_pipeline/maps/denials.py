"""``maps/denials.toml``: CAS group × CARC × RARC × line context → root cause, denial, fix.

Three kinds of tables (the file's header comment explains them to a billing lead):
``[[code]]`` one row per CARC/RARC (default root cause, denial, fix, ``rarc_decides``),
``[[rule]]`` contextual rules that refine a code by group, RARCs, line kind, NDC presence and
modifiers, and ``[[procedure_kind]]`` patterns that tell a drug line from an administration or a
joint procedure when the line cannot be matched to what we sent. Every row carries ``source``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any

from edi_pipeline.maps import table
from edi_pipeline.maps.schema import Field, Problems, check_row, read_toml
from edi_pipeline.models import ROOT_CAUSES

FILE = "denials.toml"

#: Scrub rule kinds a denial pattern can propose ("closing the loop" in the report).
PREVENT_KINDS = frozenset(
    {
        "auth_required",
        "ndc_required",
        "frequency",
        "unit_limit",
        "bundling",
        "diagnosis_coverage",
        "site_of_care",
        "documentation",
        "biosimilar_first",
        "step_therapy",
    }
)
GROUPS = frozenset({"CO", "OA", "PI", "PR", "CR"})
LINE_KINDS = frozenset(
    {"drug", "drug_waste", "administration", "procedure", "guidance", "em", "lab", "other", "claim"}
)


@dataclass(frozen=True, slots=True)
class CodeRow:
    kind: str  # CARC or RARC
    code: str
    description: str
    root_cause: str
    fix: str
    source: str
    denial: bool | None = None  # CARCs only
    rarc_decides: bool = False
    prevent: str | None = None


@dataclass(frozen=True, slots=True)
class DenialRule:
    id: str
    carc: str
    root_cause: str
    denial: bool
    fix: str
    source: str
    groups: frozenset[str] = frozenset()
    rarcs: frozenset[str] = frozenset()
    line_kinds: frozenset[str] = frozenset()
    ndc: str | None = None  # "present" / "absent"
    modifiers_any: frozenset[str] = frozenset()
    modifiers_none: frozenset[str] = frozenset()
    prevent: str | None = None
    order: int = 0

    @property
    def specificity(self) -> int:
        """Higher wins: RARCs say most about a CARC, then the line kind, then the details."""
        return (
            8 * bool(self.rarcs)
            + 4 * bool(self.line_kinds)
            + 2 * (self.ndc is not None)
            + 2 * bool(self.modifiers_any or self.modifiers_none)
            + 1 * bool(self.groups)
        )


@dataclass(frozen=True, slots=True)
class ProcedureKind:
    pattern: re.Pattern[str]
    kind: str
    source: str
    modifiers_any: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Denials:
    codes: Mapping[tuple[str, str], CodeRow]  # (kind, code)
    rules_by_carc: Mapping[str, tuple[DenialRule, ...]]
    procedure_kinds: tuple[ProcedureKind, ...]

    @property
    def rules(self) -> tuple[DenialRule, ...]:
        return tuple(
            sorted((r for rs in self.rules_by_carc.values() for r in rs), key=lambda r: r.order)
        )

    def carc(self, code: str) -> CodeRow | None:
        return self.codes.get(("CARC", code))

    def rarc(self, code: str) -> CodeRow | None:
        return self.codes.get(("RARC", code))


_CODE_FIELDS = (
    Field("kind", choices=frozenset({"CARC", "RARC"})),
    Field("code", pattern=r"[A-Z0-9]{1,5}"),
    Field("description"),
    Field("root_cause", choices=ROOT_CAUSES),
    Field("denial", "bool", required=False),
    Field("rarc_decides", "bool", required=False, default=False),
    Field("prevent", required=False, choices=PREVENT_KINDS),
    Field("fix"),
    Field("source"),
)
_RULE_FIELDS = (
    Field("id", pattern=r"[a-z0-9][a-z0-9-]*"),
    Field("carc", pattern=r"[A-Z0-9]{1,3}"),
    Field("groups", "list", required=False, default=(), choices=GROUPS),
    Field("rarcs", "list", required=False, default=()),
    Field("line_kinds", "list", required=False, default=(), choices=LINE_KINDS),
    Field("ndc", required=False, choices=frozenset({"present", "absent"})),
    Field("modifiers_any", "list", required=False, default=()),
    Field("modifiers_none", "list", required=False, default=()),
    Field("root_cause", choices=ROOT_CAUSES),
    Field("denial", "bool"),
    Field("fix"),
    Field("prevent", required=False, choices=PREVENT_KINDS),
    Field("source"),
)
_KIND_FIELDS = (
    Field("pattern"),
    Field("modifiers_any", "list", required=False, default=()),
    Field("kind", choices=LINE_KINDS - {"claim"}),
    Field("source"),
)


def parse_denials(data: Mapping[str, Any], problems: Problems, file: str = FILE) -> Denials:
    """Check and type the parsed TOML; every problem is recorded, none is fatal here."""
    for key in data:
        if key not in ("code", "rule", "procedure_kind"):
            problems.add(file, "file", key, "unknown table (expected code, rule, procedure_kind)")
    codes: dict[tuple[str, str], CodeRow] = {}
    for n, raw in enumerate(data.get("code", []), start=1):
        scope = f"code {raw.get('kind', '?')} {raw.get('code', n)}"
        row = check_row(raw, _CODE_FIELDS, problems, file=file, scope=scope)
        if row is None:
            continue
        key = (row["kind"], row["code"])
        if key in codes:
            problems.add(file, scope, "code", "is listed twice")
            continue
        if row["kind"] == "CARC" and row["denial"] is None:
            problems.add(file, scope, "denial", "is required for a CARC")
            continue
        if row["kind"] == "RARC" and row["rarc_decides"]:
            problems.add(file, scope, "rarc_decides", "applies to CARCs only")
            continue
        codes[key] = CodeRow(**row)
    rules: dict[str, list[DenialRule]] = {}
    ids: set[str] = set()
    for n, raw in enumerate(data.get("rule", []), start=1):
        scope = f"rule {raw.get('id', n)}"
        row = check_row(raw, _RULE_FIELDS, problems, file=file, scope=scope)
        if row is None:
            continue
        ok = True
        if row["id"] in ids:
            problems.add(file, scope, "id", "is used by another rule")
            ok = False
        if ("CARC", row["carc"]) not in codes:
            problems.add(file, scope, "carc", f"{row['carc']!r} has no [[code]] row (add one)")
            ok = False
        for rarc in row["rarcs"]:
            if ("RARC", rarc) not in codes:
                problems.add(file, scope, "rarcs", f"{rarc!r} has no [[code]] row (add one)")
                ok = False
        if not ok:
            continue
        ids.add(row["id"])
        rule = DenialRule(
            id=row["id"],
            carc=row["carc"],
            root_cause=row["root_cause"],
            denial=row["denial"],
            fix=row["fix"],
            source=row["source"],
            groups=frozenset(row["groups"]),
            rarcs=frozenset(row["rarcs"]),
            line_kinds=frozenset(row["line_kinds"]),
            ndc=row["ndc"],
            modifiers_any=frozenset(row["modifiers_any"]),
            modifiers_none=frozenset(row["modifiers_none"]),
            prevent=row["prevent"],
            order=n,
        )
        rules.setdefault(rule.carc, []).append(rule)
    kinds: list[ProcedureKind] = []
    for n, raw in enumerate(data.get("procedure_kind", []), start=1):
        scope = f"procedure_kind {n}"
        row = check_row(raw, _KIND_FIELDS, problems, file=file, scope=scope)
        if row is None:
            continue
        try:
            pattern = re.compile(row["pattern"])
        except re.error as exc:
            problems.add(file, scope, "pattern", f"is not a regular expression ({exc})")
            continue
        kinds.append(
            ProcedureKind(pattern, row["kind"], row["source"], frozenset(row["modifiers_any"]))
        )
    return Denials(
        codes=MappingProxyType(codes),
        rules_by_carc=MappingProxyType(
            {
                carc: tuple(sorted(rs, key=lambda r: (-r.specificity, r.order)))
                for carc, rs in rules.items()
            }
        ),
        procedure_kinds=tuple(kinds),
    )


@table("denials")
def load_denials(root: Traversable, problems: Problems) -> Denials | None:
    data = read_toml(root, FILE, problems)
    if data is None:
        return None
    return parse_denials(data, problems)
