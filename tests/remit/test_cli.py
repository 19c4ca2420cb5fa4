"""``edi-pipeline remit``: the JSON contract of cli.md (validated against the shared schema),
exit codes 0/1/2, streaming output, and unreadable files reported without stopping the run."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner

from edi_pipeline.cli import cli
from tests.conftest import DESIGN_SCHEMAS, FIXTURES

RT = FIXTURES / "835" / "roundtrip.835"
CORPUS = FIXTURES / "835" / "corpus"
PLACEHOLDER = (
    CORPUS / "affect-therapeutics__edi-835-parser__tests__test_edi_835_files__sample_835.txt"
)


@pytest.fixture(autouse=True)
def _no_default_ledger(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_PIPELINE_LEDGER", raising=False)


def schema() -> dict:
    path = DESIGN_SCHEMAS / "remit.schema.json"
    if not path.is_file():
        pytest.skip("../shared/design/schemas is not beside this checkout")
    return json.loads(path.read_text())


def run(*args: str):
    return CliRunner().invoke(cli, ["remit", *args])


def test_json_matches_schema_and_every_cas_once() -> None:
    result = run(
        str(RT), *map(str, sorted(p for p in CORPUS.iterdir() if p.suffix != ".md")), "--json"
    )
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, schema())
    assert result.exit_code == 1  # the placeholder file is out of balance and has bad segments
    # every adjustment printed once; amounts are money strings with two places
    amounts = [a["amount"] for c in doc["claims"] for a in c["adjustments"]]
    amounts += [a["amount"] for c in doc["claims"] for ln in c["lines"] for a in ln["adjustments"]]
    assert len(amounts) == len(
        {
            (c["file"], a["segment_index"], i)
            for c in doc["claims"]
            for i, a in enumerate(
                c["adjustments"] + [x for ln in c["lines"] for x in ln["adjustments"]]
            )
        }
    )
    files = {f["file"]: f for f in doc["files"]}
    assert files[str(PLACEHOLDER)]["balanced"] is False
    assert files[str(RT)]["balanced"] is True
    ndc = next(c for c in doc["claims"] if c["patient_control_number"] == "RT-NDC")
    adj = ndc["lines"][0]["adjustments"][0]
    assert (adj["group"], adj["carc"], adj["rarcs"], adj["root_cause"], adj["denial"]) == (
        "CO",
        "16",
        ["M119"],
        "coding_ndc",
        True,
    )
    assert adj["at_stake"] == "4000.00" and "2410" in adj["fix"]


def test_exit_0_when_all_balanced() -> None:
    result = run(str(RT), "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["summary"]["denied_dollars"] == "21380.00"
    assert doc["summary"]["claims"] == 11 and doc["summary"]["unmatched"] == 11


def test_unreadable_file_is_reported_and_the_next_one_read(tmp_path) -> None:
    bad = tmp_path / "garbage.835"
    bad.write_bytes(b"\x00\x01 this is not x12 at all")
    result = run(str(bad), str(RT), "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1
    first, second = doc["files"]
    assert first["readable"] is False and first["problems"]
    assert second["balanced"] is True and len(doc["claims"]) == 11


def test_usage_error_exit_2(tmp_path) -> None:
    assert run().exit_code == 2
    assert run(str(tmp_path / "missing.835")).exit_code == 2
    assert run(str(RT), "--ledger", "ftp://nowhere").exit_code == 2


def test_help_has_an_example() -> None:
    result = run("--help")
    assert result.exit_code == 0 and "Example: edi-pipeline remit" in result.output
