"""The CSV export: one row per billable fact, grouped into encounters by ``encounter_id``.

Columns (the README lists them all):

* the encounter's scalar fields flattened with dots (``patient.last_name``,
  ``coverage.subscriber.address.zip``), derived from the schema; every row of an encounter
  repeats them (a blank cell means "not given on this row"; two different values reject the
  encounter naming the column);
* ``item``: ``diagnosis``, ``drug``, ``procedure``, ``visit``, ``lab``, ``authorization`` or
  ``therapy``, and that item's own columns (``ITEM_COLUMNS``); vials are written
  ``100x4;500x1``, an authorization's drugs ``infliximab;Q5103``; a drug injected in a procedure
  names it in ``procedure`` (the 1-based position of the procedure row within the encounter).

Rows of one encounter need not be adjacent, so the file is read twice, streaming both times.
Pass one records, for each encounter id, the line of its last row, in a compact hash table
(``seen.HashTable``: 16–32 bytes per encounter, not the rows). Pass two collects each
encounter's rows and hands the encounter on at its last row: with adjacent rows (the usual
export) only one encounter is held at a time; rows scattered through the file are held until
their encounter's last row. Encounters come out in the order their last rows appear.

Each row keeps its exact text, so a rejected encounter is quarantined as the header plus its
rows, unchanged; a quarantined CSV encounter read back (``from_text``) goes through the same
conversion.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO

from edi_pipeline.errors import InputError
from edi_pipeline.intake.records import RawRecord
from edi_pipeline.intake.seen import HashTable
from edi_pipeline.intake.structure import Issue, schema, shown

_BOM = b"\xef\xbb\xbf"
MAX_ROW_BYTES = 16 << 20
_INT = re.compile(r"-?[0-9]{1,15}")
_DEC = re.compile(r"-?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})")
_VIAL = re.compile(r"\s*([0-9]{1,9}(?:\.[0-9]{1,9})?)\s*[xX×]\s*([0-9]{1,6})\s*")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})

ITEMS = ("diagnosis", "drug", "procedure", "visit", "lab", "authorization", "therapy")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return schema()["$defs"][ref.rsplit("/", 1)[1]] if ref else node


def _kind(node: dict[str, Any]) -> str:
    node = _resolve(node)
    if node.get("type") == "array":
        return "list"
    return str(node.get("type", "string"))


def _flatten(node: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
    for key, sub in _resolve(node).get("properties", {}).items():
        sub = _resolve(sub)
        name = f"{prefix}{key}"
        if sub.get("type") == "object":
            _flatten(sub, f"{name}.", out)
        elif sub.get("type") != "array":
            out[name] = _kind(sub)


def _item_columns() -> dict[str, dict[str, str]]:
    root = schema()
    props, defs = root["properties"], root["$defs"]

    def columns(node: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, str]:
        return {k: _kind(v) for k, v in _resolve(node)["properties"].items() if k not in skip}

    drug = columns(defs["drug"], skip=("vials",))
    drug["vials"] = "vials"
    drug["procedure"] = "integer"
    return {
        "diagnosis": {"code": "string"},
        "drug": drug,
        "procedure": columns(defs["procedure"], skip=("drugs",)),
        "visit": columns(props["visit"]),
        "lab": columns(props["labs"]["items"]),
        "authorization": columns(props["prior_authorizations"]["items"]),
        "therapy": columns(props["therapy_history"]["items"]),
    }


def scalar_columns() -> dict[str, str]:
    """Encounter-level columns (dotted) and their JSON types, from the schema."""
    out: dict[str, str] = {}
    root = dict(schema())
    root["properties"] = {k: v for k, v in root["properties"].items() if k != "visit"}
    _flatten(root, "", out)
    return out


SCALARS = scalar_columns()
ITEM_COLUMNS = _item_columns()
ALL_ITEM_COLUMNS = {c: t for cols in ITEM_COLUMNS.values() for c, t in cols.items()}
ALL_COLUMNS = (*SCALARS, "item", *dict.fromkeys(ALL_ITEM_COLUMNS))
_KNOWN_COLUMNS = frozenset(ALL_COLUMNS)


def _typed(kind: str, text: str) -> Any:
    """A cell as the JSON type its column has; left as text when it does not convert (the
    structural check then reports a type error naming the field)."""
    if kind == "number" and _DEC.fullmatch(text):
        return Decimal(text) if not _INT.fullmatch(text) else int(text)
    if kind == "integer" and _INT.fullmatch(text):
        return int(text)
    if kind == "boolean":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    if kind == "list":
        return [p.strip() for p in text.split(";") if p.strip()]
    return text


def _set(record: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = record
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


# ------------------------------------------------------------------ physical rows


def _rows(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(first line number, bytes) of each CSV record; a quoted cell may span lines."""
    pending: list[bytes] = []
    quotes = size = 0
    start = 0
    for number, line in enumerate(stream, 1):
        if number == 1 and line.startswith(_BOM):
            line = line[3:]
        if not pending:
            start = number
            size = 0
        pending.append(line)
        size += len(line)
        quotes += line.count(b'"')
        if size > MAX_ROW_BYTES:
            raise InputError(
                f"the CSV row starting on line {start} is longer than {MAX_ROW_BYTES} bytes "
                "(a quote that is never closed?); the file cannot be streamed",
                code="record_too_large",
            )
        if quotes % 2 == 0:
            yield start, b"".join(pending) if len(pending) > 1 else line
            pending, quotes = [], 0
    if pending:
        yield start, b"".join(pending)


def _decode(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), False


def _cells(text: str) -> list[str]:
    try:
        return next(csv.reader([text]), [])
    except csv.Error:  # a NUL byte or a bare carriage return outside quotes
        cleaned = text.replace("\x00", "").replace("\r", " ")
        try:
            return next(csv.reader([cleaned]), [])
        except csv.Error:
            return cleaned.split(",")


class _Header:
    def __init__(self, text: str) -> None:
        self.text = text
        self.names = [c.strip() for c in _cells(text.rstrip("\r\n"))]
        self.index = {}
        self.duplicates = []
        for i, name in enumerate(self.names):
            if name in self.index:
                self.duplicates.append(name)
            else:
                self.index[name] = i
        self.id_col = self.index.get("encounter_id")
        self.scalar_names = [n for n in SCALARS if n in self.index]
        positions = [self.index[n] for n in self.scalar_names]
        self.scalar_width = max(positions, default=-1) + 1
        # itemgetter returns a bare value for one position: always make it a tuple
        self.scalar_getter = (
            operator.itemgetter(*positions)
            if len(positions) > 1
            else (lambda cells, p=tuple(positions): tuple(cells[i] for i in p))
        )
        # every column that is not a scalar: the item, its columns, unknown ones (for the
        # stray-column warnings)
        self.item_names = frozenset(n for n in self.names if n and n not in SCALARS)


class _Row:
    __slots__ = ("cells", "line", "ok", "text")

    def __init__(self, line: int, text: str, ok: bool) -> None:
        self.line = line
        self.text = text
        self.ok = ok
        self.cells = _cells(text.rstrip("\r\n"))


def _row_id(header: _Header, cells: list[str]) -> str:
    if header.id_col is None or header.id_col >= len(cells):
        return ""
    return cells[header.id_col].strip()


# ------------------------------------------------------------------ rows -> one record


def _filled(header: _Header, row: _Row, names: frozenset[str]) -> dict[str, str]:
    """The row's non-blank cells of the given columns (a repeated column: its first cell)."""
    filled: dict[str, str] = {}
    for name, text in zip(header.names, row.cells, strict=False):
        if text and name in names and name not in filled:
            text = text.strip()
            if text:
                filled[name] = text
    return filled


def _pad(cells: list[str], width: int) -> list[str]:
    return cells + [""] * (width - len(cells))


def _issue(path: str, rule: str, message: str, severity: str = "error") -> Issue:
    return (path, rule, message, severity)


def group_to_record(header: _Header, rows: list[_Row]) -> RawRecord:
    """One encounter's rows as a parsed record (the same dict a JSON export would give)."""
    issues: list[Issue] = []
    lines: dict[str, int] = {}
    first = rows[0].line
    record: dict[str, Any] = {}
    raw = header.text + "".join(r.text if r.text.endswith("\n") else r.text + "\n" for r in rows)

    for name in header.duplicates:
        issues.append(
            _issue(
                name, "csv_header_duplicate", f"{name}: the header names this column more than once"
            )
        )
    width = len(header.names)
    for row in rows:
        if not row.ok:
            issues.append(_issue("", "not_utf8", f"record: line {row.line} is not valid UTF-8"))
        if len(row.cells) > width:
            issues.append(
                _issue(
                    "",
                    "csv_row_shape",
                    f"record: line {row.line} has {len(row.cells)} "
                    f"cells, more than the {width} columns of the header",
                )
            )
    filled_rows = [(row, _filled(header, row, header.item_names)) for row in rows]

    # Scalars: the same on every row that fills them (rows usually repeat them exactly).
    width_needed = header.scalar_width
    tuples = [
        header.scalar_getter(
            r.cells if len(r.cells) >= width_needed else _pad(r.cells, width_needed)
        )
        for r in rows
    ]
    scalar_values: dict[str, dict[str, int]] = {}
    if all(t == tuples[0] for t in tuples):
        for name, text in zip(header.scalar_names, tuples[0], strict=True):
            text = text.strip()
            if text:
                scalar_values[name] = {text: first}
    else:
        for row, values in zip(rows, tuples, strict=True):
            for name, text in zip(header.scalar_names, values, strict=True):
                text = text.strip()
                if not text:
                    continue
                seen = scalar_values.get(name)
                if seen is None:
                    scalar_values[name] = {text: row.line}
                elif text not in seen:
                    seen[text] = row.line
    for column, seen in scalar_values.items():
        if len(seen) > 1:
            at = sorted(seen.values())
            issues.append(
                _issue(
                    column,
                    "csv_scalar_disagrees",
                    f"{column}: differs between rows of the "
                    f"encounter (lines {at[0]} and {at[1]}); every row must repeat the same "
                    "value",
                )
            )
            lines[column] = at[1]
        else:
            _set(record, column, _typed(SCALARS[column], next(iter(seen))))

    if header.id_col is None:
        # Perhaps no header at all: its cells would be data, so they are not quoted.
        issues.append(
            _issue(
                "encounter_id",
                "structure_required",
                "encounter_id: is required, and the "
                "CSV header has no encounter_id column (is the first line a header?)",
            )
        )
    else:
        for name in header.names:
            if name and name not in _KNOWN_COLUMNS:
                issues.append(
                    _issue(
                        name,
                        "unknown_field",
                        f"{name}: is not a column of the encounter CSV; kept and ignored",
                        "warning",
                    )
                )

    diagnoses: list[str] = []
    drugs: list[dict[str, Any]] = []
    procedures: list[dict[str, Any]] = []
    injected: list[tuple[dict[str, Any], int, str, bool]] = []  # (drug, line, ref, bad vials)
    items: dict[str, list[dict[str, Any]]] = {"lab": [], "authorization": [], "therapy": []}
    visit_line: int | None = None

    for row, filled in filled_rows:
        given = filled.get("item", "")
        item = given.lower()
        columns = ITEM_COLUMNS.get(item)
        if columns is None:
            if item:
                issues.append(
                    _issue(
                        "item",
                        "csv_item_unknown",
                        f"item: line {row.line} must be one of "
                        f"{', '.join(ITEMS)} ({shown('item', given)})",
                    )
                )
                lines.setdefault("item", row.line)
                continue
            stray = [c for c in filled if c in ALL_ITEM_COLUMNS]
            if stray:
                issues.append(
                    _issue(
                        stray[0],
                        "csv_column_ignored",
                        f"{stray[0]}: line {row.line} has no item, so its item columns are ignored",
                        "warning",
                    )
                )
            continue
        for column in filled:
            if column in ALL_ITEM_COLUMNS and column not in columns:
                issues.append(
                    _issue(
                        column,
                        "csv_column_ignored",
                        f"{column}: is not a column of a {item} row (line {row.line}); ignored",
                        "warning",
                    )
                )
        if item == "diagnosis":
            lines[f"diagnoses[{len(diagnoses)}]"] = row.line
            diagnoses.append(filled.get("code", ""))
            continue
        entry: dict[str, Any] = {}
        bad_vials = False
        for column, kind in columns.items():
            text = filled.get(column)
            if text is None or column == "procedure":
                continue
            if kind == "vials":
                vials = _vials(text)
                bad_vials = vials is None
                entry["vials"] = text if vials is None else vials
            else:
                entry[column] = _typed(kind, text)
        if item == "drug":
            ref = filled.get("procedure")
            if ref:
                injected.append((entry, row.line, ref, bad_vials))
                continue
            path = f"drugs[{len(drugs)}]"
            lines[path] = row.line
            drugs.append(entry)
            if bad_vials:
                issues.append(_vials_issue(path, row.line))
        elif item == "procedure":
            lines[f"procedures[{len(procedures)}]"] = row.line
            procedures.append(entry)
        elif item == "visit":
            if visit_line is not None:
                issues.append(
                    _issue(
                        "visit",
                        "csv_visit_repeated",
                        f"visit: lines {visit_line} and "
                        f"{row.line} both give the visit; an encounter has one",
                    )
                )
            else:
                visit_line = lines["visit"] = row.line
                record["visit"] = entry
        else:
            key = _ITEM_ARRAYS[item]
            lines[f"{key}[{len(items[item])}]"] = row.line
            items[item].append(entry)

    for entry, line, ref, bad_vials in injected:
        n = int(ref) if _INT.fullmatch(ref) else 0
        if not 1 <= n <= len(procedures):
            issues.append(
                _issue(
                    "procedure",
                    "csv_procedure_ref",
                    f"procedure: line {line} names a "
                    f"procedure the encounter does not have ({len(procedures)} procedure "
                    "row(s)); give the 1-based position of the procedure row",
                )
            )
            lines.setdefault("procedure", line)
            continue
        inj = procedures[n - 1].setdefault("drugs", [])
        path = f"procedures[{n - 1}].drugs[{len(inj)}]"
        lines[path] = line
        inj.append(entry)
        if bad_vials:
            issues.append(_vials_issue(path, line))

    for key, values in (
        ("diagnoses", diagnoses),
        ("drugs", drugs),
        ("procedures", procedures),
        ("labs", items["lab"]),
        ("prior_authorizations", items["authorization"]),
        ("therapy_history", items["therapy"]),
    ):
        if values:
            record[key] = values
    lines[""] = first
    return RawRecord(first, raw, record, issues=issues, raw_format="csv", line=first, lines=lines)


_ITEM_ARRAYS = {
    "lab": "labs",
    "authorization": "prior_authorizations",
    "therapy": "therapy_history",
}


def _vials_issue(path: str, line: int) -> Issue:
    return _issue(
        f"{path}.vials",
        "csv_vials_shape",
        f"{path}.vials: line {line} must be SIZExCOUNT separated by ';', e.g. 100x4;500x1",
    )


def _vials(text: str) -> list[dict[str, Any]] | None:
    out = []
    for part in text.split(";"):
        if not part.strip():
            continue
        m = _VIAL.fullmatch(part)
        if m is None:
            return None
        size = Decimal(m.group(1))
        out.append(
            {
                "size_mg": int(size)
                if size == size.to_integral_value() and "." not in m.group(1)
                else size,
                "count": int(m.group(2)),
            }
        )
    return out or None


# ------------------------------------------------------------------ the two passes


def read_csv(open_stream: Any) -> Iterator[RawRecord]:
    """Records of a CSV file; ``open_stream()`` opens the file (binary) for each pass."""
    last_line = HashTable()
    with open_stream() as stream:
        rows = _rows(stream)
        first = next(rows, None)
        if first is None:
            return
        header = _Header(_decode(first[1])[0])
        for number, data in rows:
            text, _ = _decode(data)
            key = _row_id(header, _cells(text.rstrip("\r\n")))
            if key:
                last_line.set(key, number)

    pending: dict[str, list[_Row]] = {}
    with open_stream() as stream:
        rows = _rows(stream)
        next(rows, None)
        for number, data in rows:
            text, ok = _decode(data)
            row = _Row(number, text, ok)
            if not any(c.strip() for c in row.cells):
                continue  # a blank line, or a row of empty cells as spreadsheets write them
            key = _row_id(header, row.cells)
            if not key:
                yield group_to_record(header, [row])
                continue
            group = pending.get(key)
            if group is None:
                group = pending[key] = []
            group.append(row)
            if last_line.get(key) == number:
                del pending[key]
                yield group_to_record(header, group)
    for group in sorted(pending.values(), key=lambda g: g[0].line):
        yield group_to_record(header, group)


def from_text(text: str) -> RawRecord:
    """A quarantined CSV encounter (header and rows as text) read back as one record."""
    physical = list(_rows(io.BytesIO(text.encode("utf-8", "replace"))))
    header = _Header(physical[0][1].decode("utf-8") if physical else "")
    rows = [_Row(n, d.decode("utf-8"), True) for n, d in physical[1:]]
    rows = [r for r in rows if any(c.strip() for c in r.cells)]
    if not rows:
        return RawRecord(
            1,
            text,
            issues=[("", "csv_row_shape", "record: holds no CSV rows", "error")],
            raw_format="csv",
        )
    return group_to_record(header, rows)


# ------------------------------------------------------------------ writing (fixtures, tools)


def _cell_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _scalar_cells(record: dict[str, Any]) -> dict[str, str]:
    cells: dict[str, str] = {}
    for column in SCALARS:
        node: Any = record
        for part in column.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and not isinstance(node, dict | list):
            cells[column] = _cell_text(node)
    return cells


def _item_cells(item: str, entry: dict[str, Any]) -> dict[str, str]:
    cells = {"item": item}
    for column in ITEM_COLUMNS[item]:
        value = entry.get(column)
        if value is None:
            continue
        if column == "vials" and isinstance(value, list):
            cells[column] = ";".join(f"{v['size_mg']}x{v['count']}" for v in value)
        else:
            cells[column] = _cell_text(value)
    return cells


def encounter_rows(record: dict[str, Any]) -> list[dict[str, str]]:
    """The CSV rows of one encounter record (the inverse of reading; unknown fields are lost)."""
    items: list[dict[str, str]] = []
    items += [{"item": "diagnosis", "code": str(c)} for c in record.get("diagnoses", ())]
    items += [_item_cells("drug", d) for d in record.get("drugs", ())]
    for n, proc in enumerate(record.get("procedures", ()), 1):
        items.append(_item_cells("procedure", proc))
        for drug in proc.get("drugs", ()):
            items.append({**_item_cells("drug", drug), "procedure": str(n)})
    if record.get("visit") is not None:
        items.append(_item_cells("visit", record["visit"]))
    items += [_item_cells("lab", lab) for lab in record.get("labs", ())]
    items += [_item_cells("authorization", a) for a in record.get("prior_authorizations", ())]
    items += [_item_cells("therapy", t) for t in record.get("therapy_history", ())]
    scalars = _scalar_cells(record)
    return [{**scalars, **item} for item in (items or [{}])]


def write_csv(records: Any, stream: Any, columns: tuple[str, ...] = ALL_COLUMNS) -> None:
    """Write encounter records as CSV (text stream) with the given columns (default: all)."""
    writer = csv.DictWriter(
        stream, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for record in records:
        writer.writerows(encounter_rows(record))


def used_columns(records: Any) -> tuple[str, ...]:
    """The columns (in the documented order) that any of these records fills."""
    used: set[str] = set()
    for record in records:
        for row in encounter_rows(record):
            used.update(k for k, v in row.items() if v != "")
    return tuple(c for c in ALL_COLUMNS if c in used or c in ("encounter_id", "item"))
