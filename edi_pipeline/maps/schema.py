"""A small declarative checker for map rows (CSV rows and TOML tables).

A table declares its fields once (``Field(name, kind, required, choices, pattern)``); ``check_row``
converts the raw values to typed ones and reports every problem scoped to file, row (or rule id)
and field, the way pre-commit's cfgv and c7n's policy errors do. No problem is fatal here: the
caller collects them all and ``load_maps`` raises one ``MapError``.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib.resources.abc import Traversable
from typing import Any, Literal

Kind = Literal["str", "int", "decimal", "date", "bool", "list", "table", "any"]


class Problems(list[str]):
    """Problems found while loading maps, each one line naming file, row or rule, and field."""

    def add(self, file: str, scope: str, field: str | None, message: str) -> None:
        where = f"{file}: {scope}" + (f": field {field}" if field else "")
        self.append(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Kind = "str"
    required: bool = True
    choices: frozenset[str] | None = None
    pattern: str | None = None
    default: Any = None


def _convert(kind: Kind, value: Any) -> Any:
    if kind == "any":
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"must be text (got {type(value).__name__})")
        return value.strip()
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("must be a whole number (got a boolean)")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise ValueError(f"must be a whole number (got {value!r})")
    if kind == "decimal":
        if isinstance(value, float):
            value = repr(value)
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"must be a decimal number (got {value!r})") from None
    if kind == "date":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"must be a date YYYY-MM-DD (got {value!r})") from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("yes", "true", "1", "y"):
            return True
        if text in ("no", "false", "0", "n"):
            return False
        raise ValueError(f"must be yes/no (got {value!r})")
    if kind == "list":
        if isinstance(value, list):
            return tuple(value)
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(";") if p.strip())
        raise ValueError(f"must be a list (got {type(value).__name__})")
    if kind == "table":
        if isinstance(value, Mapping):
            return dict(value)
        raise ValueError(f"must be a table (got {type(value).__name__})")
    raise AssertionError(kind)


def check_row(
    raw: Mapping[str, Any],
    fields: Sequence[Field],
    problems: Problems,
    *,
    file: str,
    scope: str,
    allow_unknown: bool = False,
) -> dict[str, Any] | None:
    """Typed values of one row, or None (with problems recorded) when any field is wrong."""
    ok = True
    out: dict[str, Any] = {}
    known = {f.name for f in fields}
    if not allow_unknown:
        for key in raw:
            if key not in known:
                problems.add(file, scope, key, "unknown field (a misspelt name would be ignored)")
                ok = False
    for f in fields:
        value = raw.get(f.name)
        if value is None or (isinstance(value, str) and value.strip() == "" and f.kind != "str"):
            if f.required:
                problems.add(file, scope, f.name, "is required")
                ok = False
            out[f.name] = f.default
            continue
        if isinstance(value, str) and value.strip() == "" and f.kind == "str":
            if f.required:
                problems.add(file, scope, f.name, "is required")
                ok = False
            out[f.name] = f.default
            continue
        try:
            typed = _convert(f.kind, value)
        except ValueError as exc:
            problems.add(file, scope, f.name, str(exc))
            ok = False
            continue
        if f.choices is not None:
            values = typed if isinstance(typed, tuple) else (typed,)
            bad = [v for v in values if v not in f.choices]
            if bad:
                allowed = ", ".join(sorted(f.choices))
                problems.add(file, scope, f.name, f"must be one of {allowed} (got {bad[0]!r})")
                ok = False
                continue
        if f.pattern is not None and isinstance(typed, str) and not re.fullmatch(f.pattern, typed):
            problems.add(file, scope, f.name, f"must match {f.pattern} (got {typed!r})")
            ok = False
            continue
        out[f.name] = typed
    return out if ok else None


def read_csv(
    root: Traversable, name: str, problems: Problems
) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as a spreadsheet shows it, row) for each data row of ``root/name``."""
    path = root / name
    if not path.is_file():
        problems.add(name, "file", None, "is missing")
        return
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    for number, row in enumerate(reader, start=2):
        if None in row:
            problems.add(name, f"row {number}", None, "has more cells than the header")
            continue
        yield number, {k: (v if v is not None else "") for k, v in row.items()}


def read_toml(root: Traversable, name: str, problems: Problems) -> dict[str, Any] | None:
    path = root / name
    if not path.is_file():
        problems.add(name, "file", None, "is missing")
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problems.add(name, "file", None, f"is not valid TOML: {exc}")
        return None
