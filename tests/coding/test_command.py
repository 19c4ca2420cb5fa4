"""``edi-pipeline code INPUT --json``: intake + coding through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from edi_pipeline.cli import cli

GOOD = {
    "encounters": [
        {
            "encounter_id": "CLI-1",
            "date_of_service": "2025-03-04",
            "place_of_service": "11",
            "rendering_provider": {
                "npi": "1234567893",
                "last_name": "DOCTOR",
                "first_name": "TEST",
            },
            "patient": {
                "patient_id": "P1",
                "last_name": "TESTPATIENT",
                "first_name": "ALPHA",
                "birth_date": "1960-01-01",
                "sex": "F",
                "address": {
                    "line1": "1 Example St",
                    "city": "Testville",
                    "state": "PA",
                    "zip": "19000",
                },
            },
            "coverage": {
                "payer_id": "medicare",
                "member_id": "TESTMEMBER01",
                "relationship": "self",
            },
            "diagnoses": ["M05.79"],
            "drugs": [
                {
                    "drug": "infliximab",
                    "ndc": "57894-0030-01",
                    "dose_mg": 375,
                    "vials": [{"size_mg": 100, "count": 4}],
                    "route": "IV",
                    "start_time": "09:30",
                    "stop_time": "12:30",
                },
                {
                    "drug": "methylprednisolone",
                    "dose_mg": 100,
                    "vials": [{"size_mg": 125, "count": 1}],
                    "route": "IV",
                    "start_time": "09:00",
                    "stop_time": "09:30",
                },
            ],
        }
    ]
}


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "encounters.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_code_json_lists_lines_with_derived_from(tmp_path):
    result = CliRunner().invoke(cli, ["code", str(write(tmp_path, GOOD)), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["coded"] == 1 and doc["summary"]["rejected"] == 0
    claim = doc["claims"][0]
    assert claim["encounter_id"] == "CLI-1"
    codes = [(line["procedure"], line["modifiers"], line["units"]) for line in claim["lines"]]
    assert codes == [
        ("96365", [], 1),
        ("96366", [], 2),
        ("96367", [], 1),
        ("J1745", [], 38),
        ("J1745", ["JW"], 2),
        ("J2930", ["JZ"], 1),
    ]
    assert all(line["derived_from"] for line in claim["lines"])
    assert claim["lines"][3]["ndc"] == "57894003001" and claim["lines"][3]["ndc_quantity"] == "3.75"
    assert "TESTPATIENT" not in result.stdout and "TESTMEMBER01" not in result.stdout


def test_code_exit_1_names_the_field_it_cannot_code(tmp_path):
    data = json.loads(json.dumps(GOOD))
    kenalog = {"drug": "Kenalog-40", "route": "INTRA_ARTICULAR", "dose_mg": 40}  # no NDC
    data["encounters"][0]["procedures"] = [
        {"kind": "injection", "joint": "knee", "side": "right", "drugs": [kenalog]}
    ]
    result = CliRunner().invoke(cli, ["code", str(write(tmp_path, data)), "--json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["claims"] == []
    problems = doc["not_coded"][0]["problems"]
    expected = {
        "code": "coding_container_unknown",
        "field": "procedures[0].drugs[0].multi_dose_vial",
    }
    assert expected.items() <= problems[0].items()


def test_code_human_output(tmp_path):
    result = CliRunner().invoke(cli, ["code", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0
    assert "96365" in result.stdout and "1 coded, 0 not coded, 0 rejected" in result.stdout


def test_code_needs_an_input():
    result = CliRunner().invoke(cli, ["code"])
    assert result.exit_code == 2


def test_code_help_has_an_example():
    result = CliRunner().invoke(cli, ["code", "--help"])
    assert result.exit_code == 0 and "Example: edi-pipeline code" in result.stdout
