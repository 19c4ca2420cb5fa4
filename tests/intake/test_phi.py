"""No rejection message, quarantine reason or log line carries a patient's name, birth date,
member id or address, even when exactly those fields are the broken ones."""

from __future__ import annotations

import json
import logging

import structlog

from edi_pipeline.intake import read_file, write_quarantine
from edi_pipeline.logs import configure
from edi_pipeline.models import Rejection
from tests.intake.helpers import PHI, SUBSCRIBER, make_record, set_path, write_jsonl
from tests.intake.test_containers import csv_file, rows_of

PHI_VALUES = [v for k, v in PHI.items() if k != "patient_id"] + ["1951", "06-17", "Pelican"]


def _broken_records() -> list[dict]:
    records = []
    r = make_record(encounter_id="P-1")
    set_path(r, "patient.birth_date", "1951-06-31")  # date_real on the birth date
    set_path(r, "patient.address.zip", PHI["line1"])  # pattern: an address where a zip goes
    set_path(r, "patient.address.state", PHI["city"])
    records.append(r)
    r = make_record(encounter_id="P-2")
    set_path(r, "patient.last_name", 1951)  # a number where a name goes
    set_path(r, "coverage.member_id", "")  # empty
    set_path(r, "patient.sex", PHI["first_name"])  # enum with a name in it
    set_path(r, "patient.nickname", PHI["first_name"])  # unknown field holding PHI
    records.append(r)
    r = make_record(encounter_id="P-3")
    set_path(r, "coverage.relationship", "spouse")
    set_path(r, "coverage.subscriber", dict(SUBSCRIBER, birth_date="2031-01-01"))  # date_order
    set_path(r, "patient.birth_date", "2030-01-01")
    records.append(r)
    r = make_record(encounter_id=PHI["last_name"] + " 1")  # an id that is not an id
    records.append(r)
    r = make_record(encounter_id="P-5")
    set_path(r, "coverage.payer_id", PHI["member_id"])  # PHI where a code goes
    set_path(r, "drugs[0].drug", PHI["last_name"])
    set_path(r, "procedures[0].joint", PHI["city"])
    set_path(r, "drugs[0].ndc", PHI["zip"])
    records.append(r)
    return records


def _assert_clean(text: str) -> None:
    for value in PHI_VALUES:
        assert value not in text, f"PHI {value!r} leaked into: {text[:300]}"


def test_no_phi_in_messages_quarantine_reasons_or_logs(tmp_path, maps, capsys):
    configure("json", level=logging.DEBUG)
    try:
        path = write_jsonl(tmp_path / "in.jsonl", _broken_records())
        results = list(read_file(path, maps))
        assert all(isinstance(r, Rejection) for r in results)
        quarantine = write_quarantine(tmp_path / "out", path.name, results)
        # log the whole results too, as a careless caller might
        structlog.get_logger().info("test.results_logged", results=results, record=results[0].raw)
    finally:
        structlog.reset_defaults()
    captured = capsys.readouterr()
    _assert_clean(captured.err)
    _assert_clean(captured.out)
    for result in results:
        for problem in result.problems:
            _assert_clean(problem.message)
            _assert_clean(json.dumps(problem.where.as_dict()))
        assert result.encounter_id is None or result.encounter_id.startswith("P-")
    for line in quarantine.read_text().splitlines():
        entry = json.loads(line)
        _assert_clean(json.dumps(entry["reasons"]))
        _assert_clean(json.dumps(entry["encounter_id"]))
    rules = {p.code for r in results for p in r.problems}
    assert {
        "date_real",
        "structure_pattern",
        "structure_type",
        "structure_enum",
        "structure_length",
        "date_order",
        "unknown_field",
        "payer_known",
        "drug_known",
        "joint_known",
        "ndc_shape",
    } <= rules


def test_no_phi_in_csv_messages(tmp_path, maps, capsys):
    rows = rows_of()
    rows[-1]["patient.last_name"] = PHI["last_name"] + "x"  # disagreeing scalar
    rows[0]["coverage.member_id"] = PHI["member_id"] + "y"
    configure("json", level=logging.DEBUG)
    try:
        results = list(read_file(csv_file(tmp_path / "in.csv", rows), maps))
    finally:
        structlog.reset_defaults()
    [rejection] = results
    for problem in rejection.problems:
        _assert_clean(problem.message)
    _assert_clean(capsys.readouterr().err)
