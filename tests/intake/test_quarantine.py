"""The quarantine: rejected records unchanged with their reasons; private, atomic, resubmittable."""

from __future__ import annotations

import json
import os
import stat

import pytest

from edi_pipeline.intake import quarantine_path, read_file, write_quarantine
from edi_pipeline.models import Encounter, Rejection
from tests.conftest import FIXTURES
from tests.intake.helpers import errors, make_record, read_all, write_jsonl

SAMPLES = FIXTURES / "encounters"


def rejections(path, maps):
    return [r for r in read_file(path, maps) if isinstance(r, Rejection)]


def entries(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o277])
def test_quarantine_is_owner_only_whatever_the_umask(umask, tmp_path, maps):
    old = os.umask(umask)
    try:
        path = write_quarantine(
            tmp_path / "out", "mixed.jsonl", rejections(SAMPLES / "mixed.jsonl", maps)
        )
    finally:
        os.umask(old)
    assert path == tmp_path / "out" / "quarantine" / "mixed.jsonl.rejected.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind


def test_quarantine_keeps_each_record_unchanged_with_its_reasons(tmp_path, maps):
    rejected = rejections(SAMPLES / "mixed.jsonl", maps)
    path = write_quarantine(tmp_path, str(SAMPLES / "mixed.jsonl"), rejected)
    lines = entries(path)
    assert len(lines) == len(rejected) == 7
    source = (SAMPLES / "mixed.jsonl").read_text(encoding="utf-8").splitlines()
    for entry, rejection in zip(lines, rejected, strict=True):
        original = source[rejection.record - 1]
        if entry["format"] == "json":
            assert entry["record"] == json.loads(original)
        else:
            assert entry["format"] == "json_text" and entry["record"] == original
        assert entry["record_number"] == rejection.record
        assert entry["encounter_id"] == rejection.encounter_id
        assert entry["file"].endswith("mixed.jsonl")
        assert {r["rule"] for r in entry["reasons"]} == {p.code for p in rejection.problems}
        assert all(r["message"].startswith(r["field"] or "record") for r in entry["reasons"])


def test_numbers_stay_as_written_in_the_quarantine(tmp_path, maps):
    text = json.dumps(make_record()).replace('"dose_mg_per_kg": 5', '"dose_mg_per_kg": 5.10')
    text = text.replace('"npi": "1234567893"', '"npi": "1234567890"')
    (tmp_path / "in.jsonl").write_text(text + "\n")
    path = write_quarantine(tmp_path, "in.jsonl", rejections(tmp_path / "in.jsonl", maps))
    assert '"dose_mg_per_kg": 5.10' in path.read_text()


def test_an_empty_run_replaces_a_stale_quarantine(tmp_path, maps):
    write_quarantine(tmp_path, "x.json", rejections(SAMPLES / "mixed.json", maps))
    path = write_quarantine(tmp_path, "x.json", [])
    assert path.read_text() == ""


def test_fixed_records_are_resubmitted_as_is(tmp_path, maps):
    path = write_quarantine(tmp_path, "mixed.jsonl", rejections(SAMPLES / "mixed.jsonl", maps))
    fixed = []
    for entry in entries(path):
        if entry["encounter_id"] == "FX-2001":
            entry["record"]["drugs"][1]["vials"][0]["size_mg"] = 125
        elif entry["encounter_id"] == "FX-2004":
            entry["record"]["drugs"][0]["ndc"] = "50242-137-01"
        elif entry["format"] == "json_text":
            entry["record"] = entry["record"].replace("oops", '"notes": "fixed"')
        fixed.append(json.dumps(entry))
    path.write_text("\n".join(fixed) + "\n")

    built = {
        r.encounter_id for r in read_file(SAMPLES / "mixed.jsonl", maps) if isinstance(r, Encounter)
    }  # what the ledger knows after the first run
    results = read_all(path, maps, known_ids=built)
    assert len(results) == 7
    accepted = {r.encounter_id for r in results if isinstance(r, Encounter)}
    assert accepted == {"FX-2001", "FX-2004"}
    still = [r for r in results if isinstance(r, Rejection)]
    assert {r.encounter_id for r in still} == {
        "FX-2002",
        "FX-2003",
        "FX-2005",
        "FX-1005",
        "FX-2006",
    }
    # the fixed JSON text parses now; that record is still incomplete, so it fails on fields
    text_record = next(r for r in still if r.encounter_id == "FX-2006")
    assert ("structure_required", "place_of_service") in errors(text_record)

    # quarantining the quarantine keeps the records one level deep, still re-submittable
    again = write_quarantine(tmp_path / "again", path.name, still)
    for entry in entries(again):
        assert "reasons" not in (entry["record"] if isinstance(entry["record"], dict) else {})
    assert len(read_all(again, maps, known_ids=built)) == len(still)


def test_csv_records_are_quarantined_as_csv_and_come_back(tmp_path, maps):
    rejected = rejections(SAMPLES / "mixed.csv", maps)
    path = write_quarantine(tmp_path, "mixed.csv", rejected)
    lines = entries(path)
    assert {e["format"] for e in lines} == {"csv"}
    source = (SAMPLES / "mixed.csv").read_text(encoding="utf-8")
    header = source.splitlines(keepends=True)[0]
    for entry in lines:
        assert entry["record"].startswith(header)
        for row in entry["record"].splitlines(keepends=True)[1:]:
            assert row in source  # every row exactly as it was
        assert all("line" in r for r in entry["reasons"])
    for entry in lines:
        if entry["encounter_id"] == "FX-3001":
            entry["record"] = entry["record"].replace("Lindquist", "Lindqvist")
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))
    results = {r.encounter_id: r for r in read_all(path, maps)}
    assert isinstance(results["FX-3001"], Encounter)
    assert isinstance(results["FX-3002"], Rejection) and isinstance(results["FX-3003"], Rejection)


def test_quarantine_path_uses_the_input_name_only():
    assert (
        quarantine_path("out", "/data/in/export.csv").as_posix()
        == "out/quarantine/export.csv.rejected.jsonl"
    )


def test_read_counts_every_record_of_a_quarantine_file(tmp_path, maps):
    record = make_record(encounter_id="T-9")
    bad = dict(record, place_of_service="1")
    path = write_quarantine(
        tmp_path, "in.jsonl", rejections(write_jsonl(tmp_path / "in.jsonl", [bad, bad]), maps)
    )
    assert [errors(r) for r in read_all(path, maps)] == [
        [("structure_pattern", "place_of_service")],
        [("structure_pattern", "place_of_service"), ("duplicate_encounter", "encounter_id")],
    ]
