"""``edi-pipeline inspect`` and ``edi-pipeline validate``: output shapes and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from edi_pipeline.cli import cli
from tests.conftest import DESIGN_SCHEMAS
from tests.x12.support import X12_FIXTURES, fixture

GOOD = str(X12_FIXTURES / "example_837p.x12")
ENVELOPE_ERRORS = str(fixture("x12_multiple_isa.txt"))  # SE01 wrong in both transaction sets
ALL_FIXTURES = sorted(str(p) for p in X12_FIXTURES.iterdir() if p.suffix != ".tsv")

needs_schemas = pytest.mark.skipif(
    not (DESIGN_SCHEMAS / "inspect.schema.json").is_file(),
    reason="../shared/design/schemas is not beside this checkout",
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--log-format", "json", *args])


@needs_schemas
def test_inspect_json_matches_the_published_schema() -> None:
    result = run("inspect", "--json", *ALL_FIXTURES)
    document = json.loads(result.stdout)  # stdout is JSON only, logs went to stderr
    schema = json.loads((DESIGN_SCHEMAS / "inspect.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert len(document["files"]) == len(ALL_FIXTURES)


def test_inspect_json_content() -> None:
    result = run("inspect", "--json", GOOD, ENVELOPE_ERRORS)
    assert result.exit_code == 1, result.output
    good, bad = json.loads(result.stdout)["files"]
    assert good["readable"] and good["problems"] == []
    assert good["delimiters"] == {
        "element": "*",
        "component": ":",
        "repetition": "^",
        "segment": "~",
    }
    (ix,) = good["interchanges"]
    assert ix["isa13"] == "000000001"
    (tx,) = ix["groups"][0]["transactions"]
    assert (tx["st01"], tx["st02"], tx["guide"], tx["segments"], tx["claims"]) == (
        "837",
        "0001",
        "005010X222A1",
        41,
        1,
    )
    assert len(bad["interchanges"]) == 2
    assert {(p["segment_index"], p["segment_id"]) for p in bad["problems"]} == {
        (36, "SE"),
        (74, "SE"),
    }
    assert bad["problems"][0]["message"] == "SE01 says 25 segments, counted 34 (ST through SE)"


def test_inspect_exit_codes_and_it_keeps_going(tmp_path: Path) -> None:
    assert run("inspect", GOOD).exit_code == 0
    missing = str(tmp_path / "missing.835")
    result = run("inspect", "--json", missing, GOOD)
    assert result.exit_code == 2
    files = json.loads(result.stdout)["files"]
    assert [f["readable"] for f in files] == [False, True]
    assert files[0]["problems"][0]["message"].startswith("cannot open")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02 this is not x12")
    assert run("inspect", str(junk), GOOD).exit_code == 2


def test_inspect_text_output() -> None:
    result = run("inspect", ENVELOPE_ERRORS)
    assert result.exit_code == 1
    assert "interchange ISA13 000000905" in result.stdout
    assert "837 987654 005010X222A1: 34 segments, 2 claim(s)" in result.stdout
    assert "error: segment 36 SE (byte" in result.stdout


def test_inspect_delimiters_option(tmp_path: Path) -> None:
    odd = tmp_path / "odd.x12"
    odd.write_bytes(b"ST#837#1@BHT#0019@SE#3#1@")
    assert run("inspect", str(odd)).exit_code == 2  # nothing to infer the delimiters from
    result = run("inspect", "--json", "--delimiters", "#,:,none,@", str(odd))
    assert result.exit_code == 0, result.output
    (f,) = json.loads(result.stdout)["files"]
    assert f["delimiters"]["segment"] == "@" and f["segments"] == 3
    bad = run("inspect", "--delimiters", "#,#,^,~", str(odd))
    assert bad.exit_code == 2 and "must all differ" in bad.output


def test_inspect_help_has_an_example() -> None:
    result = run("inspect", "--help")
    assert result.exit_code == 0 and "Example: edi-pipeline inspect" in result.output


def test_validate_exit_codes_and_json(tmp_path: Path) -> None:
    ok = run("validate", GOOD)
    assert ok.exit_code == 0, ok.output
    assert "valid (0 error(s)" in ok.stdout and "claim PCN0001 (segment 21): ok" in ok.stdout
    bad = run("validate", "--json", str(fixture("x12_bad_valid_code.txt")))
    assert bad.exit_code == 1
    (doc,) = json.loads(bad.stdout)["files"]
    assert doc["valid"] is False and doc["errors"]
    first = doc["errors"][0]
    assert set(first) >= {"segment_index", "segment_id", "loop", "element", "claim_id", "message"}
    assert any(e["claim_id"] == "A37YH556" for e in doc["errors"])
    missing = run("validate", str(tmp_path / "nope.837"), GOOD)
    assert missing.exit_code == 2
    assert "cannot be read" in missing.stdout or "cannot open" in missing.stdout


def test_validate_help_has_an_example() -> None:
    result = run("validate", "--help")
    assert result.exit_code == 0 and "Example: edi-pipeline validate" in result.output
