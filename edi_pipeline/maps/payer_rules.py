"""``maps.payer_rules``: each payer's policy rules, the ``[[rule]]`` tables of ``payers/*.toml``.

A payer file holds the payer's coding conventions at the top level (read by ``maps.payers``) and
its rules as an array of tables::

    [[rule]]
    id = "uhc-infliximab-preferred"
    kind = "biosimilar_first"           # a registered rule kind (edi_pipeline.scrub.kinds)
    category = "biosimilar"             # optional: the kind's own category by default
    message = "UHC prefers Inflectra and Avsola"
    source = "UHC Medical Benefit Drug Policy 'Infliximab', effective 2026-02-01"
    effective_from = 2021-02-01
    nonpreferred = ["J1745", "Q5104"]
    preferred = ["infliximab-dyyb", "infliximab-axxq"]

Each rule is checked against its kind's schema (the kind's dataclass fields): required fields,
types, allowed values, cross-field checks, and unknown keys, which are errors because a misspelt
``max_unit`` would silently switch a limit off. Every problem names the file, the rule id (or
its position when the id is missing) and the field. Rule ids are unique across all payers, so an
override can name one.

The rule kinds live in the scrub stage; the loader imports them because a kind's dataclass *is*
its schema (the c7n registry idea), and a second copy of the schema here would drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any

from edi_pipeline.maps import table
from edi_pipeline.maps.schema import Problems, read_toml


@table("payer_rules")
def load(root: Traversable, problems: Problems) -> Mapping[str, tuple[Any, ...]]:
    """Payer key (the file's stem) → its rules in file order, for every ``payers/*.toml``."""
    from edi_pipeline.scrub import KINDS, build_rule  # the kinds define the rule schemas

    folder = root / "payers"
    if not folder.is_dir():
        problems.add("payers/", "folder", None, "is missing")
        return MappingProxyType({})
    out: dict[str, tuple[Any, ...]] = {}
    seen: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml") or not entry.is_file():
            continue
        name = f"payers/{entry.name}"
        payer = entry.name[: -len(".toml")]
        data = read_toml(root, name, problems)
        if data is None:
            continue
        raw_rules = data.get("rule", [])
        if not isinstance(raw_rules, list):
            problems.add(name, "rule", None, "must be an array of tables written [[rule]]")
            continue
        rules = []
        for position, raw in enumerate(raw_rules, start=1):
            scope = f"rule #{position}"
            if not isinstance(raw, dict):
                problems.add(name, scope, None, "must be a table written [[rule]]")
                continue
            rule_id = raw.get("id")
            if isinstance(rule_id, str) and rule_id.strip():
                scope = f"rule {rule_id.strip()}"
            kind_name = raw.get("kind")
            kind = KINDS.get(kind_name) if isinstance(kind_name, str) else None
            if kind is None:
                known = ", ".join(sorted(KINDS))
                problems.add(name, scope, "kind", f"must be one of {known} (got {kind_name!r})")
                continue
            rule, found = build_rule(kind, raw, payer)
            for field, message in found:
                problems.add(name, scope, field, message)
            if rule is None:
                continue
            if rule.id in seen:
                problems.add(name, scope, "id", f"is already used in {seen[rule.id]}")
                continue
            seen[rule.id] = name
            rules.append(rule)
        out[payer] = tuple(rules)
    return MappingProxyType(out)
