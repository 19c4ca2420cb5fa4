"""``edi-pipeline scrub``: exit codes, the JSON on stdout, held claims in the ledger, overrides
with reasons, and the submission day taken from the clock at the edge (freezegun)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from edi_pipeline.cli import cli
from edi_pipeline.ledger import claims as core
from edi_pipeline.ledger.sqlite import SqliteLedger
from tests.conftest import FIXTURES

DEMO = FIXTURES / "demo" / "scrub_encounters.json"
PRACTICE = "demo-rheumatology"  # the bundled demo practice's key


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_PIPELINE_LEDGER", raising=False)


def subset(tmp_path: Path, *ids: str) -> Path:
    """A file holding only these demo encounters."""
    encounters = json.loads(DEMO.read_text())["encounters"]
    chosen = [e for e in encounters if e["encounter_id"] in ids]
    assert len(chosen) == len(ids)
    path = tmp_path / f"subset-{len(ids)}.json"
    path.write_text(json.dumps({"encounters": chosen}))
    return path


def scrub(*args: str):
    return CliRunner().invoke(cli, ["scrub", *args], catch_exceptions=False)


def test_all_clean_exits_0(tmp_path: Path) -> None:
    path = subset(tmp_path, "S-AET-CLEAN", "S-MCR-CLEAN-KNEE")
    result = scrub(str(path), "--json", "--as-of", "2026-11-23")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [c["status"] for c in doc["claims"]] == ["clean", "clean"]
    assert doc["summary"] == {
        **doc["summary"],
        "clean": 2,
        "held": 0,
        "held_dollars": "0.00",
        "rejected": 0,
    }


def test_held_claims_exit_1_with_their_reasons_in_json(tmp_path: Path) -> None:
    result = scrub(str(DEMO), "--json", "--as-of", "2026-11-23")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)  # stdout is JSON only; logs went to stderr
    held = {c["encounter_id"]: c for c in doc["claims"] if c["status"] == "held"}
    hold = held["S-UHC-BIOSIM"]["holds"][0]
    assert hold["rule"] == "uhc-infliximab-preferred"
    assert hold["category"] == "biosimilar"
    assert "Avsola" in hold["message"] and "UHC Medical Benefit Drug Policy" in hold["source"]
    assert doc["summary"]["held"] == len(held)
    assert doc["summary"]["recorded_in_ledger"] is False  # no ledger here


def test_human_output_names_rule_category_and_source(tmp_path: Path) -> None:
    path = subset(tmp_path, "S-MCR-SITE")
    result = scrub(str(path), "--as-of", "2026-11-23")
    assert result.exit_code == 1
    assert "[site_of_care] medicare-drug-in-hospital-outpatient" in result.stdout
    assert "source: CMS Place of Service code set" in result.stdout
    assert "0 clean, 1 held" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],  # nothing to do
        ["--as-of", "2025-02-30", "FILE"],
        ["--override", "S-AET-AUTH", "--reason", "x"],  # no rule id
        ["--override", "S-AET-AUTH:no-such-rule", "--reason", "x"],
        ["--override", "S-AET-AUTH:aetna-iv-biologics-auth"],  # no reason
        ["FILE", "--reason", "why"],  # a reason without an override
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    path = subset(tmp_path, "S-AET-CLEAN")
    args = [str(path) if a == "FILE" else a for a in args]
    result = CliRunner().invoke(cli, ["scrub", *args, "--ledger", str(tmp_path / "l.sqlite")])
    assert result.exit_code == 2, result.output


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["scrub", "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "--override" in result.output


def test_held_claim_is_stored_then_an_override_lets_it_through(tmp_path: Path) -> None:
    ledger_path = tmp_path / "ledger.sqlite"
    path = subset(tmp_path, "S-AET-AUTH", "S-AET-CLEAN")
    first = scrub(str(path), "--json", "--as-of", "2026-11-23", "--ledger", str(ledger_path))
    assert first.exit_code == 1
    assert json.loads(first.stdout)["summary"]["recorded_in_ledger"] is True
    with _open(ledger_path) as ledger:
        stored = core.claim(ledger, core.ClaimKey(PRACTICE, "S-AET-AUTH"))
        assert stored is not None and stored.status == "held"
        assert [h.rule for h in core.holds(ledger, stored.id)] == ["aetna-iv-biologics-auth"]
        assert core.claim(ledger, core.ClaimKey(PRACTICE, "S-AET-CLEAN")) is None  # not built

    override = scrub(
        "--override",
        "S-AET-AUTH:aetna-iv-biologics-auth",
        "--reason",
        "retro-authorization PA-99 granted 2026-11-20",
        "--ledger",
        str(ledger_path),
    )
    assert override.exit_code == 0, override.output

    again = scrub(str(path), "--json", "--as-of", "2026-11-23", "--ledger", str(ledger_path))
    assert again.exit_code == 0, again.stdout
    claims = {c["encounter_id"]: c for c in json.loads(again.stdout)["claims"]}
    passed = claims["S-AET-AUTH"]
    assert passed["status"] == "clean" and passed["holds"] == []
    assert passed["overridden"] == [
        {
            **passed["overridden"][0],
            "rule": "aetna-iv-biologics-auth",
            "reason": "retro-authorization PA-99 granted 2026-11-20",
        }
    ]
    with _open(ledger_path) as ledger:
        assert core.holds(ledger, core.ClaimKey(PRACTICE, "S-AET-AUTH")) == []


def test_a_corrected_encounter_goes_through(tmp_path: Path) -> None:
    ledger_path = tmp_path / "ledger.sqlite"
    path = subset(tmp_path, "S-AET-AUTH")
    assert scrub(str(path), "--as-of", "2026-11-23", "--ledger", str(ledger_path)).exit_code == 1
    encounter = json.loads(path.read_text())["encounters"][0]
    encounter["prior_authorizations"] = [
        {
            "number": "PA-NEW",
            "drugs": ["infliximab-dyyb"],
            "valid_from": "2026-10-01",
            "valid_to": "2027-03-31",
        }
    ]
    path.write_text(json.dumps({"encounters": [encounter]}))
    fixed = scrub(str(path), "--json", "--as-of", "2026-11-23", "--ledger", str(ledger_path))
    assert fixed.exit_code == 0, fixed.stdout
    with _open(ledger_path) as ledger:
        assert core.holds(ledger, core.ClaimKey(PRACTICE, "S-AET-AUTH")) == []


@pytest.mark.parametrize(("today", "status"), [("2026-11-01", "clean"), ("2026-11-02", "held")])
def test_without_as_of_the_submission_day_is_today(tmp_path: Path, today: str, status: str) -> None:
    """Aetna's 90-day filing limit for a 2026-08-03 visit: day 90 is 2026-11-01."""
    path = subset(tmp_path, "S-AET-LATE")
    with freeze_time(f"{today} 09:30:00"):
        result = scrub(str(path), "--json")
    doc = json.loads(result.stdout)
    assert doc["as_of"] == today
    assert doc["claims"][0]["status"] == status
    assert result.exit_code == (0 if status == "clean" else 1)


class _open:
    """A ledger opened and closed around a block."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> SqliteLedger:
        self.ledger = SqliteLedger.open(self.path)
        return self.ledger

    def __exit__(self, *exc: object) -> None:
        self.ledger.close()
