"""Hypothesis: whatever the input, intake never crashes and every record is counted once.

(``INTAKE_EXAMPLES=1000`` runs more examples than the default 60.)

Arbitrary JSON values (as JSON Lines and as a JSON array), valid records with arbitrary values
dropped in at arbitrary places, arbitrary CSV rows (any cells, any ids, scattered), arbitrary
bytes: the result is one ``Encounter`` or ``Rejection`` per record read, and the counts add up
against an independent count of the input.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_pipeline.intake import Tally, read_file
from edi_pipeline.intake.csvfile import ALL_COLUMNS, encounter_rows
from edi_pipeline.maps import load_maps
from edi_pipeline.models import Encounter, Rejection
from tests.intake.helpers import make_record, set_path

MAPS = load_maps()
SETTINGS = settings(
    max_examples=int(os.environ.get("INTAKE_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)

PATHS = [
    "encounter_id",
    "date_of_service",
    "place_of_service",
    "rendering_provider",
    "rendering_provider.npi",
    "patient",
    "patient.birth_date",
    "patient.address",
    "patient.address.zip",
    "coverage",
    "coverage.payer_id",
    "coverage.relationship",
    "diagnoses",
    "diagnoses[0]",
    "weight_kg",
    "drugs",
    "drugs[0]",
    "drugs[0].drug",
    "drugs[0].ndc",
    "drugs[0].dose_mg_per_kg",
    "drugs[0].vials",
    "drugs[0].vials[0]",
    "drugs[0].vials[0].size_mg",
    "drugs[0].vials[0].count",
    "drugs[0].discarded_mg",
    "drugs[0].route",
    "drugs[0].start_time",
    "drugs[0].stop_time",
    "drugs[0].hcpcs",
    "drugs[0].multi_dose_vial",
    "procedures",
    "procedures[0]",
    "procedures[0].joint",
    "procedures[0].side",
    "procedures[0].digit",
    "procedures[0].drugs",
    "procedures[0].drugs[0].ndc",
    "visit",
    "visit.minutes",
    "labs",
    "labs[0].units",
    "prior_authorizations",
    "prior_authorizations[0].valid_to",
    "therapy_history",
    "therapy_history[0].end",
    "prior_claim",
    "medical_exception",
]


def _count(path: Path) -> tuple[list[Any], Any]:
    tally = Tally()
    results = list(tally.track(read_file(path, MAPS)))
    counts = tally.counts
    assert counts.adds_up
    assert all(isinstance(r, Encounter | Rejection) for r in results)
    return results, counts


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="intake-prop-"))


@SETTINGS
@given(st.lists(json_values, max_size=8))
def test_arbitrary_json_values_as_json_lines(values):
    path = _tmp() / "in.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    _, counts = _count(path)
    assert counts.records == len(values)


@SETTINGS
@given(st.lists(json_values, max_size=8), st.booleans())
def test_arbitrary_json_values_as_a_json_array(values, wrapped):
    path = _tmp() / "in.json"
    doc: Any = {"encounters": values} if wrapped else values
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    _, counts = _count(path)
    assert counts.records == len(values)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=4))
def test_valid_records_with_arbitrary_values_dropped_in(changes):
    record = make_record()
    for path, value in changes:
        try:
            set_path(record, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # a parent was replaced by an earlier change
    path = _tmp() / "in.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    results, counts = _count(path)
    assert counts.records == 1
    [result] = results
    if isinstance(result, Rejection):
        assert all(p.message for p in result.problems)
        assert result.raw == json.dumps(record)


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@SETTINGS
@given(
    st.lists(
        st.sampled_from([c for c in ALL_COLUMNS if c != "encounter_id"]) | st.text(max_size=6),
        max_size=8,
        unique=True,
    ),
    st.lists(
        st.tuples(st.sampled_from(["", "A1", "B-2", " A1 ", "C3"]), st.lists(cells, max_size=8)),
        max_size=10,
    ),
)
def test_arbitrary_csv_rows(columns, rows):
    header = ["encounter_id", *[c for c in columns if c != "encounter_id"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    expected_ids: set[str] = set()
    lone = 0
    for encounter_id, values in rows:
        row = [encounter_id, *values]
        writer.writerow(row)
        if encounter_id.strip():
            expected_ids.add(encounter_id.strip())
        elif any(v.strip() for v in row):
            lone += 1
    path = _tmp() / "in.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    _, counts = _count(path)
    assert counts.records == len(expected_ids) + lone


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(PATHS[:20]), st.text(max_size=10)), max_size=3),
    st.permutations(range(12)),
)
def test_valid_csv_encounters_with_cells_changed_and_rows_shuffled(changes, order):
    records = [make_record(), make_record(encounter_id="T-2")]
    rows = [row for r in records for row in encounter_rows(r)]
    for path, text in changes:
        column = path.replace("[0]", "").split(".")[-1]
        if column in ALL_COLUMNS:
            rows[len(text) % len(rows)][column] = text
    shuffled = [rows[i] for i in order if i < len(rows)] + rows[12:]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ALL_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(shuffled)
    path = _tmp() / "in.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    _, counts = _count(path)
    ids = {r.get("encounter_id", "").strip() for r in shuffled} - {""}
    lone = sum(
        1
        for r in shuffled
        if not r.get("encounter_id", "").strip() and any(v.strip() for v in r.values())
    )
    assert counts.records == len(ids) + lone


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from(["in.json", "in.jsonl", "in.csv"]))
def test_arbitrary_bytes_never_crash(data, name):
    path = _tmp() / name
    path.write_bytes(data)
    _count(path)
