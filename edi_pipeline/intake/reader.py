"""``read_file``: every record of an export becomes an ``Encounter`` or a ``Rejection``.

The container readers cut the file into raw records; each record then goes through the same
decision whatever the container: the structural check compiled from the schema, the semantic
rules, the duplicate check. Any error rejects the record with one reason per failing field;
warnings (unknown fields, an NDC the maps do not know) travel with the accepted encounter.
Records come out in file order (CSV: in the order encounters' last rows appear), one result per
record, so the counts always add up: records read = accepted + rejected.

A quarantine file (``<name>.rejected.jsonl``) is itself a valid input: each entry's ``record``
is taken back as it is (after the user fixed it), so a fixed record is re-submitted unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import structlog

from edi_pipeline.errors import InputError
from edi_pipeline.intake import csvfile, jsonfile
from edi_pipeline.intake.build import build_encounter
from edi_pipeline.intake.records import (
    MISSING,
    RawRecord,
    dump_json,
    parse_json_text,
)
from edi_pipeline.intake.rules import RuleContext, check_rules
from edi_pipeline.intake.seen import HashTable
from edi_pipeline.intake.structure import Issue, check_structure
from edi_pipeline.maps import Maps
from edi_pipeline.models import Encounter, Problem, Rejection, Where

log = structlog.get_logger()

Format = Literal["json", "jsonl", "csv"]
_ID = re.compile(r"[A-Za-z0-9-]{1,38}")
_INDEX = re.compile(r"\[[0-9]+\]")


def detect_format(path: Path) -> Format:
    """By extension (``.json``, ``.jsonl``/``.ndjson``, ``.csv``), else by the first character."""
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".csv"):
        return "csv"
    with path.open("rb") as stream:
        head = stream.read(65536).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        return "json"
    if head.startswith(b"{"):
        first = head.split(b"\n", 1)[0]
        value, issues = parse_json_text(first.decode("utf-8", "replace"))
        return "jsonl" if not issues and isinstance(value, dict) else "json"
    return "csv"


def _raw_records(path: Path, fmt: Format, opener: Callable[[], BinaryIO]) -> Iterator[RawRecord]:
    if fmt == "csv":
        yield from csvfile.read_csv(opener)
        return
    with opener() as stream:
        if fmt == "jsonl":
            yield from jsonfile.read_jsonl(stream)
        else:
            yield from jsonfile.read_json(stream, str(path))


def _unwrap(raw: RawRecord) -> RawRecord:
    """A quarantine entry fed back in: its ``record`` is the record."""
    entry = raw.value
    record, fmt = entry["record"], entry.get("format", "json")
    if fmt == "csv" and type(record) is str:
        inner = csvfile.from_text(record)
        inner.number, inner.line, inner.lines = raw.number, raw.line, None
        return inner
    if fmt == "json_text" and type(record) is str:
        value, issues = parse_json_text(record)
        return RawRecord(
            raw.number, record, value, issues, "json_text" if issues else "json", line=raw.line
        )
    try:
        text = dump_json(record)
    except RecursionError:
        text = raw.raw
    return RawRecord(raw.number, text, record, line=raw.line)


def _line_of(raw: RawRecord, path: str) -> int | None:
    """The CSV line a field came from (its item row), else the record's line."""
    if raw.lines is None:
        return raw.line
    if path in raw.lines:
        return raw.lines[path]
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in raw.lines:
            return raw.lines[key]
        head = key.rsplit("[", 1)[0] if key.endswith("]") else None
        if head is not None and head in raw.lines:
            return raw.lines[head]
    return raw.line


class _FileState:
    """What reading one file remembers across records: ids seen, counts, warnings logged."""

    def __init__(self, name: str, fmt: Format, maps: Maps) -> None:
        self.ctx = RuleContext(maps)
        self.name = name
        self.fmt = fmt
        self.seen = HashTable(values=False)
        self.records = 0
        self.accepted = 0
        self.rejected = 0
        self.warnings = 0
        self._warned: set[tuple[str, str]] = set()  # (rule, field pattern) logged once
        self._seen_paths: set[tuple[str, str]] = set()  # (rule, exact path) already handled

    def note_warnings(self, warnings: list[Issue], record: int, encounter_id: str | None) -> None:
        self.warnings += len(warnings)
        for path, rule, _, _ in warnings:
            if (rule, path) in self._seen_paths:
                continue
            if len(self._seen_paths) < 10_000:
                self._seen_paths.add((rule, path))
            key = (rule, _INDEX.sub("[]", path))
            if key not in self._warned and len(self._warned) < 1000:
                self._warned.add(key)
                log.info(
                    "intake.warning_noted",
                    file=self.name,
                    rule=rule,
                    field=key[1],
                    record=record,
                    encounter_id=encounter_id,
                )


def decide(
    raw: RawRecord,
    maps: Maps,
    state: _FileState,
    known_ids: Container[str],
) -> Encounter | Rejection:
    """Accept or reject one raw record."""
    value = raw.value
    if type(value) is dict and "record" in value and "reasons" in value:  # is_quarantine_entry
        raw = _unwrap(raw)
    issues = list(raw.issues)
    value = raw.value
    encounter_id: str | None = None
    clean = None
    if value is not MISSING:
        if type(value) is dict:
            eid = value.get("encounter_id")
            if type(eid) is str and _ID.fullmatch(eid):
                encounter_id = eid
        clean, structural = check_structure(value)
        if issues:  # the container already named these fields (a CSV cell, say): one reason each
            named = {i[0] for i in issues if i[0]}
            structural = [i for i in structural if i[0] not in named]
        issues.extend(structural)
        if type(value) is dict:
            semantic = check_rules(value, state.ctx)
            if structural or issues:
                broken = {i[0] for i in issues if i[3] == "error"}
                semantic = [i for i in semantic if i[0] not in broken]
            issues.extend(semantic)
        if encounter_id is not None:
            if encounter_id in known_ids:
                issues.append(
                    (
                        "encounter_id",
                        "duplicate_encounter",
                        f"encounter_id: {encounter_id} was already built into a claim "
                        "(ledger); send a replacement (prior_claim) instead",
                        "error",
                    )
                )
            elif state.seen.add(encounter_id):
                issues.append(
                    (
                        "encounter_id",
                        "duplicate_encounter",
                        f"encounter_id: {encounter_id} appears earlier in this file",
                        "error",
                    )
                )
    state.records += 1
    if not issues and type(clean) is dict:  # the common case: nothing to report
        state.accepted += 1
        source = Where(file=state.name, record=raw.number, encounter_id=encounter_id, line=raw.line)
        return build_encounter(clean, source=source)
    errors = [i for i in issues if i[3] == "error"]
    warnings = [i for i in issues if i[3] != "error"]
    state.note_warnings(warnings, raw.number, encounter_id)

    def problem(issue: Issue) -> Problem:
        path, rule, message, severity = issue
        where = Where(
            file=state.name,
            record=raw.number,
            encounter_id=encounter_id,
            field=path or None,
            line=_line_of(raw, path) if state.fmt == "csv" else raw.line,
        )
        return Problem(code=rule, message=message, where=where, severity=severity)  # type: ignore[arg-type]

    if errors or clean is None or type(clean) is not dict:
        state.rejected += 1
        problems = tuple(problem(i) for i in errors + warnings)
        log.warning(
            "intake.record_rejected",
            file=state.name,
            record=raw.number,
            encounter_id=encounter_id,
            rules=sorted({i[1] for i in errors}),
            fields=[i[0] or "record" for i in errors][:20],
        )
        return Rejection(
            file=state.name,
            record=raw.number,
            encounter_id=encounter_id,
            problems=problems,
            raw=raw.raw,
            raw_format=raw.raw_format,
        )
    state.accepted += 1
    source = Where(file=state.name, record=raw.number, encounter_id=encounter_id, line=raw.line)
    return build_encounter(clean, source=source, warnings=tuple(problem(i) for i in warnings))


def read_file(
    path: Path, maps: Maps, *, known_ids: Container[str] = ()
) -> Iterator[Encounter | Rejection]:
    """Stream the encounters of one export file (JSON, JSON Lines or CSV), in file order.

    ``known_ids`` are encounter ids the ledger has already built: such a record is rejected as
    a duplicate. Raises ``InputError`` now if the file cannot be opened at all.
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise InputError("is not a file", where=Where(file=str(path)), code="input_missing")
        fmt = detect_format(path)
        path.open("rb").close()  # readable: fail here with the file named, not mid-stream
    except OSError as exc:
        raise InputError(
            f"cannot be read ({exc.strerror or type(exc).__name__})",
            where=Where(file=str(path)),
            code="input_unreadable",
        ) from None
    return _read(path, fmt, maps, known_ids)


def _read(
    path: Path, fmt: Format, maps: Maps, known_ids: Container[str]
) -> Iterator[Encounter | Rejection]:
    state = _FileState(str(path), fmt, maps)
    for raw in _raw_records(path, fmt, lambda: path.open("rb")):
        yield decide(raw, maps, state, known_ids)
    log.info(
        "intake.file_read",
        file=state.name,
        format=fmt,
        records=state.records,
        accepted=state.accepted,
        rejected=state.rejected,
        warnings=state.warnings,
    )
