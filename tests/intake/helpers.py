"""A complete, valid encounter record (as an export would hold it) and ways to run intake on it.

The patient values are distinctive made-up strings (``PHI``) so that tests can search every
message, log line and report for them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from edi_pipeline.intake import read_file
from edi_pipeline.intake.csvfile import write_csv
from edi_pipeline.intake.records import dump_json
from edi_pipeline.models import Encounter, Rejection

PHI = {
    "last_name": "Zebulonova",
    "first_name": "Quintessa",
    "birth_date": "1951-06-17",
    "member_id": "MBR77Q1X9K",
    "line1": "4471 Pelican Crest Rd",
    "city": "Vandergriftburg",
    "zip": "53799",
    "patient_id": "MRN-884213",
    "sub_last_name": "Zebulonov",
    "sub_birth_date": "1949-03-08",
}

_BASE: dict[str, Any] = {
    "encounter_id": "T-1001",
    "date_of_service": "2025-03-04",
    "place_of_service": "11",
    "rendering_provider": {"npi": "1234567893", "last_name": "Okafor", "first_name": "Amara"},
    "patient": {
        "patient_id": PHI["patient_id"],
        "last_name": PHI["last_name"],
        "first_name": PHI["first_name"],
        "birth_date": PHI["birth_date"],
        "sex": "F",
        "address": {"line1": PHI["line1"], "city": PHI["city"], "state": "WI", "zip": PHI["zip"]},
    },
    "coverage": {"payer_id": "medicare", "member_id": PHI["member_id"]},
    "diagnoses": ["M05.79", "M17.11"],
    "weight_kg": 75,
    "drugs": [
        {
            "drug": "Inflectra",
            "ndc": "0069-0809-01",
            "dose_mg_per_kg": 5,
            "vials": [{"size_mg": 100, "count": 4}],
            "discarded_mg": 25,
            "route": "IV",
            "start_time": "09:00",
            "stop_time": "11:10",
        },
        {
            "drug": "diphenhydramine",
            "dose_mg": 25,
            "vials": [{"size_mg": 50, "count": 1}],
            "route": "IV_PUSH",
            "start_time": "08:50",
            "stop_time": "08:53",
        },
    ],
    "procedures": [
        {
            "kind": "injection",
            "joint": "knee",
            "side": "right",
            "guidance": "ultrasound",
            "drugs": [
                {
                    "drug": "Kenalog-40",
                    "ndc": "0003-0293-05",
                    "dose_mg": 40,
                    "vials": [{"size_mg": 40, "count": 1}],
                    "route": "INTRA_ARTICULAR",
                }
            ],
        }
    ],
    "visit": {"em_code": "99214", "separately_identifiable": True, "minutes": 30},
    "labs": [{"cpt": "86140"}],
    "prior_authorizations": [
        {
            "number": "PA-1",
            "drugs": ["infliximab-dyyb"],
            "valid_from": "2025-01-01",
            "valid_to": "2025-12-31",
            "units_approved": 400,
        }
    ],
    "therapy_history": [
        {
            "drug": "methotrexate",
            "start": "2023-01-01",
            "end": "2024-06-30",
            "outcome": "inadequate_response",
        }
    ],
}

SUBSCRIBER = {
    "last_name": PHI["sub_last_name"],
    "first_name": PHI["first_name"],
    "birth_date": PHI["sub_birth_date"],
    "sex": "M",
    "address": {"line1": PHI["line1"], "city": PHI["city"], "state": "WI", "zip": PHI["zip"]},
}


def make_record(**top: Any) -> dict[str, Any]:
    """A fresh valid record; keyword arguments replace top-level fields (None removes one)."""
    record = copy.deepcopy(_BASE)
    for key, value in top.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _walk(record: Any, path: str) -> tuple[Any, str | int]:
    parts = [
        m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _PART.finditer(path)
    ]
    node = record
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def set_path(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node, last = _walk(record, path)
    node[last] = value
    return record


def del_path(record: dict[str, Any], path: str) -> dict[str, Any]:
    node, last = _walk(record, path)
    del node[last]
    return record


def write_jsonl(path: Path, records: Iterable[Any]) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        for record in records:
            stream.write(dump_json(record) + "\n")
    return path


def write_json(path: Path, records: list[Any], wrapped: bool = True) -> Path:
    doc: Any = {"encounters": records} if wrapped else records
    path.write_text(dump_json(doc), encoding="utf-8")
    return path


def write_csv_file(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_csv(records, stream)
    return path


def read_all(path: Path, maps: Any, **kw: Any) -> list[Encounter | Rejection]:
    return list(read_file(path, maps, **kw))


def run_one(tmp_path: Path, record: Any, maps: Any, **kw: Any) -> Encounter | Rejection:
    [result] = read_all(write_jsonl(tmp_path / "one.jsonl", [record]), maps, **kw)
    return result


def errors(result: Encounter | Rejection) -> list[tuple[str, str | None]]:
    if isinstance(result, Encounter):
        return []
    return [(p.code, p.where.field) for p in result.problems if p.severity == "error"]


def warnings(result: Encounter | Rejection) -> list[tuple[str, str | None]]:
    problems = result.warnings if isinstance(result, Encounter) else result.problems
    return [(p.code, p.where.field) for p in problems if p.severity == "warning"]
