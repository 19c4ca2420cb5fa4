"""The containers: JSON (array or {"encounters": …}), JSON Lines and CSV, streamed.

Every container rule has a breaking and a keeping input (``CONTAINER_CASES``); the sample files
under ``fixtures/encounters/`` read as documented; a file mixing good and bad records lets the
good ones through and names the exact field of each bad one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edi_pipeline.errors import InputError
from edi_pipeline.intake import Tally, detect_format, read_file
from edi_pipeline.intake.csvfile import ALL_COLUMNS, encounter_rows
from edi_pipeline.intake.jsonfile import read_json
from edi_pipeline.models import Encounter, Rejection
from tests.conftest import FIXTURES
from tests.intake.helpers import errors, make_record, read_all, warnings, write_jsonl

SAMPLES = FIXTURES / "encounters"


def csv_file(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(ALL_COLUMNS)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


def rows_of(**top: Any) -> list[dict[str, str]]:
    return encounter_rows(make_record(**top))


def first_row(rows: list[dict[str, str]], item: str) -> dict[str, str]:
    return next(r for r in rows if r.get("item") == item)


# ------------------------------------------------------------------ one case per container rule

Case = Callable[[Path, bool], Path]  # (folder, breaking?) -> input file


def _json_syntax(tmp: Path, bad: bool) -> Path:
    line = '{"encounter_id": "T-1001", oops}' if bad else json.dumps(make_record())
    (tmp / "in.jsonl").write_text(line + "\n", encoding="utf-8")
    return tmp / "in.jsonl"


def _not_utf8(tmp: Path, bad: bool) -> Path:
    text = json.dumps(make_record(notes="café"), ensure_ascii=False).encode("utf-8")
    if bad:
        text = text.replace("café".encode(), b"caf\xe9")  # Latin-1, not UTF-8
    (tmp / "in.jsonl").write_bytes(text + b"\n")
    return tmp / "in.jsonl"


def _container_shape(tmp: Path, bad: bool) -> Path:
    (tmp / "in.json").write_text("42" if bad else json.dumps([make_record()]))
    return tmp / "in.json"


def _record_truncated(tmp: Path, bad: bool) -> Path:
    text = json.dumps([make_record(), make_record(encounter_id="T-2")])
    (tmp / "in.json").write_text(text[: text.index('"T-2"') + 10] if bad else text)
    return tmp / "in.json"


def _trailing_data(tmp: Path, bad: bool) -> Path:
    text = json.dumps([make_record()])
    (tmp / "in.json").write_text(text + (' [{"more": 1}]' if bad else "\n"))
    return tmp / "in.json"


def _csv_scalar_disagrees(tmp: Path, bad: bool) -> Path:
    rows = rows_of()
    if bad:
        rows[-1]["patient.last_name"] = "Zebulonovitch"
    return csv_file(tmp / "in.csv", rows)


def _csv_item_unknown(tmp: Path, bad: bool) -> Path:
    rows = rows_of()
    first_row(rows, "lab")["item"] = "imaging" if bad else "LAB"
    return csv_file(tmp / "in.csv", rows)


def _csv_vials_shape(tmp: Path, bad: bool) -> Path:
    rows = rows_of()
    first_row(rows, "drug")["vials"] = "4 vials of 100" if bad else " 100 x 4 "
    return csv_file(tmp / "in.csv", rows)


def _csv_procedure_ref(tmp: Path, bad: bool) -> Path:
    rows = rows_of()
    injected = next(r for r in rows if r.get("procedure"))
    injected["procedure"] = "3" if bad else "1"
    return csv_file(tmp / "in.csv", rows)


def _csv_visit_repeated(tmp: Path, bad: bool) -> Path:
    rows = rows_of()
    if bad:
        rows.append(dict(first_row(rows, "visit"), em_code="99215"))
    return csv_file(tmp / "in.csv", rows)


def _csv_column_ignored(tmp: Path, bad: bool) -> Path:
    rows = rows_of()
    if bad:
        first_row(rows, "lab")["joint"] = "knee"
    return csv_file(tmp / "in.csv", rows)


def _csv_row_shape(tmp: Path, bad: bool) -> Path:
    path = csv_file(tmp / "in.csv", rows_of())
    if bad:
        lines = path.read_text().splitlines()
        lines[2] += ",surplus"
        path.write_text("\n".join(lines) + "\n")
    return path


def _csv_header_duplicate(tmp: Path, bad: bool) -> Path:
    columns = [*ALL_COLUMNS, "notes"] if bad else list(ALL_COLUMNS)
    return csv_file(tmp / "in.csv", rows_of(), columns)


# rule -> (case, the field a rejection names ("" for the whole record), severity)
CONTAINER_CASES: dict[str, tuple[Case, str | None, str]] = {
    "json_syntax": (_json_syntax, None, "error"),
    "not_utf8": (_not_utf8, None, "error"),
    "container_shape": (_container_shape, None, "error"),
    "record_truncated": (_record_truncated, None, "error"),
    "trailing_data": (_trailing_data, None, "error"),
    "csv_scalar_disagrees": (_csv_scalar_disagrees, "patient.last_name", "error"),
    "csv_item_unknown": (_csv_item_unknown, "item", "error"),
    "csv_vials_shape": (_csv_vials_shape, "drugs[0].vials", "error"),
    "csv_procedure_ref": (_csv_procedure_ref, "procedure", "error"),
    "csv_visit_repeated": (_csv_visit_repeated, "visit", "error"),
    "csv_column_ignored": (_csv_column_ignored, "joint", "warning"),
    "csv_row_shape": (_csv_row_shape, None, "error"),
    "csv_header_duplicate": (_csv_header_duplicate, "notes", "error"),
}


@pytest.mark.parametrize("rule", sorted(CONTAINER_CASES))
def test_container_rule_breaking_input(rule, tmp_path, maps):
    case, field, severity = CONTAINER_CASES[rule]
    results = read_all(case(tmp_path, True), maps)
    found = [
        (p.code, p.where.field)
        for r in results
        for p in (r.problems if isinstance(r, Rejection) else r.warnings)
        if p.severity == severity
    ]
    assert (rule, field) in found, found
    if severity == "warning":
        assert all(isinstance(r, Encounter) for r in results)


@pytest.mark.parametrize("rule", sorted(CONTAINER_CASES))
def test_container_rule_keeping_input(rule, tmp_path, maps):
    case, _, _ = CONTAINER_CASES[rule]
    results = read_all(case(tmp_path, False), maps)
    assert results and all(isinstance(r, Encounter) for r in results), [errors(r) for r in results]
    assert all(rule not in {c for c, _ in warnings(r)} for r in results)


# ------------------------------------------------------------------ the sample files


@pytest.mark.parametrize(
    "name", ["encounters.json", "encounters-array.json", "encounters.jsonl", "encounters.csv"]
)
def test_each_sample_shape_reads_the_same_five_encounters(name, maps):
    results = read_all(SAMPLES / name, maps)
    assert [r.encounter_id for r in results] == [f"FX-100{i}" for i in range(1, 6)]
    assert all(isinstance(r, Encounter) for r in results)
    reference = read_all(SAMPLES / "encounters.json", maps)
    assert [r.record_hash for r in results] == [r.record_hash for r in reference]
    assert [r.drugs for r in results] == [r.drugs for r in reference]


MIXED_BAD = {
    "FX-2001": ("structure_range", "drugs[1].vials[0].size_mg"),
    "FX-2002": ("side_valid", "procedures[0].side"),
    "FX-2003": ("icd10_shape", "diagnoses[1]"),
    "FX-2004": ("ndc_shape", "drugs[0].ndc"),
    "FX-2005": ("payer_known", "coverage.payer_id"),
}


@pytest.mark.parametrize("name", ["mixed.json", "mixed.jsonl"])
def test_mixed_file_lets_good_records_through_and_names_each_bad_field(name, maps):
    tally = Tally()
    results = list(tally.track(read_file(SAMPLES / name, maps)))
    good = [r.encounter_id for r in results if isinstance(r, Encounter)]
    assert good == ["FX-1001", "FX-1002", "FX-1003", "FX-1004", "FX-1005"]
    bad = {
        r.encounter_id: errors(r)
        for r in results
        if isinstance(r, Rejection) and r.encounter_id != "FX-1005"
    }
    for encounter_id, (rule, field) in MIXED_BAD.items():
        assert bad[encounter_id] == [(rule, field)], bad[encounter_id]
    duplicate = [r for r in results if isinstance(r, Rejection) and r.encounter_id == "FX-1005"]
    assert [errors(r) for r in duplicate] == [[("duplicate_encounter", "encounter_id")]]
    counts = tally.counts
    expected_records = 12 if name.endswith(".jsonl") else 11  # the JSONL has one broken line
    assert counts.records == expected_records == counts.accepted + counts.rejected
    assert counts.adds_up
    if name.endswith(".jsonl"):
        broken = next(r for r in results if isinstance(r, Rejection) and r.encounter_id is None)
        assert errors(broken) == [("json_syntax", None)] and broken.record == 6


def test_mixed_csv_groups_scattered_rows_and_names_columns_and_lines(maps):
    results = read_all(SAMPLES / "mixed.csv", maps)
    good = {r.encounter_id: r for r in results if isinstance(r, Encounter)}
    assert set(good) == {"FX-1001", "FX-1002", "FX-1003"}
    reference = {r.encounter_id: r.record_hash for r in read_all(SAMPLES / "encounters.json", maps)}
    assert all(good[k].record_hash == reference[k] for k in good)
    bad = {r.encounter_id: r for r in results if isinstance(r, Rejection)}
    assert errors(bad["FX-3001"]) == [("csv_scalar_disagrees", "patient.last_name")]
    assert errors(bad["FX-3002"]) == [("csv_vials_shape", "drugs[0].vials")]
    assert errors(bad["FX-3003"]) == [("csv_item_unknown", "item")]
    lines = (SAMPLES / "mixed.csv").read_text().splitlines()
    for encounter_id, rejection in bad.items():
        line = rejection.problems[0].where.line
        assert lines[line - 1].startswith(encounter_id + ","), (encounter_id, line)


# ------------------------------------------------------------------ JSON streaming


def _records_text(n: int, broken_at: int | None = None) -> str:
    parts = []
    for i in range(n):
        text = json.dumps(make_record(encounter_id=f"T-{i}"), indent=1)
        if i == broken_at:
            text = text.replace('"route": "IV"', '"route": IV', 1)
        parts.append(text)
    return "[\n" + ",\n".join(parts) + "\n]\n"


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000, 1 << 20])
def test_json_array_streams_the_same_in_any_chunk_size(chunk, tmp_path):
    text = _records_text(6, broken_at=2)
    path = tmp_path / "in.json"
    path.write_text(text)
    with path.open("rb") as stream:
        records = list(read_json(stream, "in.json", chunk=chunk))
    assert [r.number for r in records] == [0, 1, 2, 3, 4, 5]
    assert [bool(r.issues) for r in records] == [False, False, True, False, False, False]
    assert records[2].raw.startswith("{") and records[2].raw.endswith("}")
    assert json.loads(records[3].raw)["encounter_id"] == "T-3"


def test_json_object_with_other_keys_and_single_encounter(tmp_path, maps):
    path = tmp_path / "wrapped.json"
    path.write_text(
        json.dumps({"exported": "2025-03-05", "encounters": [make_record()], "count": 1})
    )
    assert [type(r) for r in read_all(path, maps)] == [Encounter]
    single = tmp_path / "single.json"
    single.write_text(json.dumps(make_record()))
    [result] = read_all(single, maps)
    assert isinstance(result, Encounter) and result.source.record == 0


def test_empty_inputs_hold_no_records(tmp_path, maps):
    for name, text in [
        ("a.json", ""),
        ("b.json", "[]"),
        ("c.jsonl", "\n\n"),
        ("d.csv", ""),
        ("e.csv", ",".join(ALL_COLUMNS) + "\n"),
        ("f.json", '{"encounters": []}'),
    ]:
        (tmp_path / name).write_text(text)
        assert read_all(tmp_path / name, maps) == [], name


def test_bom_is_tolerated_in_every_container(tmp_path, maps):
    record = make_record()
    bom = "\ufeff"
    (tmp_path / "a.json").write_text(bom + json.dumps([record]), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(bom + json.dumps(record) + "\n", encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ALL_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(encounter_rows(record))
    (tmp_path / "c.csv").write_text(bom + buffer.getvalue(), encoding="utf-8")
    for name in ("a.json", "b.jsonl", "c.csv"):
        assert all(isinstance(r, Encounter) for r in read_all(tmp_path / name, maps)), name


def test_nan_and_infinity_are_not_json(tmp_path, maps):
    text = json.dumps(make_record()).replace('"weight_kg": 75', '"weight_kg": NaN')
    (tmp_path / "in.jsonl").write_text(text + "\n")
    [result] = read_all(tmp_path / "in.jsonl", maps)
    assert errors(result) == [("json_syntax", None)]


# ------------------------------------------------------------------ CSV


def test_csv_rows_need_not_be_adjacent(tmp_path, maps):
    a, b = rows_of(), rows_of(encounter_id="T-1002")
    interleaved = [row for pair in zip(a, b, strict=False) for row in pair]
    interleaved += a[len(b) :] + b[len(a) :]
    results = read_all(csv_file(tmp_path / "in.csv", interleaved), maps)
    assert sorted(r.encounter_id for r in results) == ["T-1001", "T-1002"]
    assert all(isinstance(r, Encounter) for r in results)
    json_hash = read_all(write_jsonl(tmp_path / "in.jsonl", [make_record()]), maps)[0].record_hash
    assert next(r for r in results if r.encounter_id == "T-1001").record_hash == json_hash


def test_csv_multiline_cell_blank_rows_and_rows_without_an_id(tmp_path, maps):
    rows = rows_of(notes="line one\nline two, with a comma")
    rows.insert(1, {})
    rows.append({"item": "lab", "cpt": "86140"})  # no encounter_id: a record of its own
    results = read_all(csv_file(tmp_path / "in.csv", rows), maps)
    assert [type(r) for r in results] == [Rejection, Encounter] or [type(r) for r in results] == [
        Encounter,
        Rejection,
    ]
    encounter = next(r for r in results if isinstance(r, Encounter))
    assert encounter.notes == "line one\nline two, with a comma"
    orphan = next(r for r in results if isinstance(r, Rejection))
    assert ("structure_required", "encounter_id") in errors(orphan)


def test_csv_scalar_may_be_blank_on_some_rows(tmp_path, maps):
    rows = rows_of()
    for row in rows[1:]:
        row["patient.last_name"] = ""
    [result] = read_all(csv_file(tmp_path / "in.csv", rows), maps)
    assert isinstance(result, Encounter) and result.patient.last_name == "Zebulonova"


def test_csv_typed_cells_that_do_not_convert_are_type_errors(tmp_path, maps):
    rows = rows_of()
    first_row(rows, "drug")["dose_mg_per_kg"] = "five"
    first_row(rows, "visit")["separately_identifiable"] = "maybe"
    [result] = read_all(csv_file(tmp_path / "in.csv", rows), maps)
    assert ("structure_type", "drugs[0].dose_mg_per_kg") in errors(result)
    assert ("structure_type", "visit.separately_identifiable") in errors(result)


# ------------------------------------------------------------------ files


def test_format_is_taken_from_the_extension_or_sniffed(tmp_path):
    (tmp_path / "x.txt").write_text('{"a": 1}\n{"a": 2}\n')
    (tmp_path / "y.txt").write_text('{\n "encounters": []\n}\n')
    (tmp_path / "z.txt").write_text("encounter_id,item\n")
    (tmp_path / "w.dat").write_text("[]")
    assert detect_format(tmp_path / "x.txt") == "jsonl"
    assert detect_format(tmp_path / "y.txt") == "json"
    assert detect_format(tmp_path / "z.txt") == "csv"
    assert detect_format(tmp_path / "w.dat") == "json"
    assert detect_format(Path("a.NDJSON")) == "jsonl"


def test_a_missing_file_is_an_input_error_at_once(tmp_path, maps):
    with pytest.raises(InputError) as caught:
        read_file(tmp_path / "nope.json", maps)
    assert "nope.json" in str(caught.value)
    with pytest.raises(InputError):
        read_file(tmp_path, maps)
