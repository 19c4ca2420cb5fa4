"""``edi-pipeline run`` / ``build`` end to end: the demo, report.json, the ledger, re-runs,
claims that fail validation, private files, exit codes."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from edi_pipeline.app import build as app_build
from edi_pipeline.app.build import ToBuild, build_claims
from edi_pipeline.cli import cli
from edi_pipeline.ledger import claims as ledger_claims
from edi_pipeline.ledger import interchanges as ledger_ix
from edi_pipeline.ledger.sqlite import SqliteLedger
from edi_pipeline.maps import load_maps
from edi_pipeline.practice import load_practice
from edi_pipeline.validate import validate_x12
from edi_pipeline.x12.reader import read_segments
from tests.build.builders import make_claim
from tests.build.conftest import FROZEN, report_schema
from tests.conftest import FIXTURES

BUILD = FIXTURES / "build" / "encounters.json"  # 9 records: 7 built, 1 held, 1 rejected


def invoke(*args: str):
    return CliRunner().invoke(cli, ["--log-format", "json", *args], catch_exceptions=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def ledger_at(path: Path) -> SqliteLedger:
    return SqliteLedger.open(path)


@freeze_time(FROZEN)
def test_run_without_arguments_runs_the_bundled_demo(workdir: Path):
    result = invoke("run")
    assert result.exit_code in (0, 1), result.output
    assert "bundled demo practice" in result.stderr
    assert "bundled demo exports" in result.stderr
    assert "scrub_encounters.json as of 2026-11-23" in result.stderr
    assert "writing to ./edi-out/" in result.stderr
    out = workdir / "edi-out"
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    summary = report["summary"]
    assert summary["built"] > 0
    assert summary["records"] == summary["built"] + summary["held"] + summary["rejected"]
    assert result.exit_code == (1 if summary["held"] or summary["rejected"] else 0)
    for ix in report["interchanges"]:
        checked = validate_x12(workdir / ix["file"], today=date(2025, 3, 5))
        assert checked.valid, [e.as_dict() for e in checked.errors]
    assert f"{summary['built']} claims" in result.stdout


@freeze_time(FROZEN)
def test_build_writes_valid_files_report_and_ledger(workdir: Path):
    result = invoke("build", str(BUILD), "--out", "out")
    assert result.exit_code == 1, result.output  # one claim held, one record rejected
    assert "bundled demo practice" in result.stderr
    out = workdir / "out"
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    built = [c for c in report["claims"] if c["status"] == "built"]
    held = [c for c in report["claims"] if c["status"] == "held"]
    assert (len(built), len(held), len(report["rejected"])) == (7, 1, 1)
    assert held[0]["encounter_id"] == "BLD-0003"
    assert held[0]["holds"][0]["category"] == "biosimilar"
    assert report["rejected"][0]["errors"][0]["field"] == "rendering_provider.npi"
    assert report["summary"]["records"] == 9
    [ix] = report["interchanges"]
    assert ix == {
        "file": "out/demo-rheumatology-clearinghouse-000000001.837",
        "isa13": "000000001",
        "claims": 7,
        "receiver": "clearinghouse",
    }
    path = workdir / ix["file"]
    checked = validate_x12(path, today=date(2025, 3, 5))
    assert checked.valid, [e.as_dict() for e in checked.errors]
    segs = list(read_segments(path.read_bytes()))
    assert segs[0].get(9) == "250305" and segs[0].get(10) == "0930"  # frozen clock
    assert sum(1 for s in segs if s.tag == "CLM") == 7
    assert sum(1 for s in segs if s.tag == "PAT") == 2  # the child and the spouse
    assert report["summary"]["built_dollars"] == str(
        sum(Decimal(c["charge"]) for c in built).quantize(Decimal("0.01"))
    )
    jw = [ln for c in built for ln in c["lines"] if "JW" in ln["modifiers"]]
    assert jw and all(ln["ndc"] and ln["ndc_quantity"] for ln in jw)
    # PHI at rest is private, whatever the umask
    for p in (out, out / "quarantine", workdir / "edi-out"):
        assert mode(p) == 0o700
    for p in (path, out / "report.json", workdir / "edi-out" / "ledger.sqlite"):
        assert mode(p) == 0o600
    assert "7 claims" in result.stdout and "held" in result.stdout
    with ledger_at(workdir / "edi-out" / "ledger.sqlite") as led:
        tx = ledger_ix.claims_by_control(led, "000000001", "0001")
        assert [t.encounter_id for t in tx] == [c["encounter_id"] for c in built]
        for t in tx:  # the recorded positions are the claim's segments in the file
            st = next(s.index for s in segs if s.tag == "ST")
            first = segs[st + t.first_segment - 2]
            assert (first.tag, first.get(3)) == ("HL", "22")
        held_claim = ledger_claims.claim_by_encounter(led, "BLD-0003")
        assert held_claim.status == "held"
        assert ledger_claims.holds(led, held_claim.id)[0].category == "biosimilar"


@freeze_time(FROZEN)
def test_the_same_input_twice_builds_nothing_new(workdir: Path):
    first = invoke("build", str(BUILD), "--out", "out")
    assert first.exit_code == 1
    second = invoke("build", str(BUILD), "--out", "out", "--json")
    assert second.exit_code == 1  # still one held and one rejected record
    report = json.loads(second.stdout)  # stdout is the JSON document alone
    jsonschema.validate(report, report_schema())
    assert report["interchanges"] == []
    again = [c for c in report["claims"] if c.get("already_built")]
    assert len(again) == 7 and all(c["interchange"] == "000000001" for c in again)
    assert all(c["lines"] for c in again)
    assert "already built" in second.stderr
    assert sorted(p.name for p in (workdir / "out").glob("*.837")) == [
        "demo-rheumatology-clearinghouse-000000001.837"
    ]
    with ledger_at(workdir / "edi-out" / "ledger.sqlite") as led:
        rows = led.query("SELECT COUNT(*) AS n FROM claims WHERE status = 'built'")
        assert rows[0]["n"] == 7
        assert len(ledger_ix.interchanges(led)) == 1
        assert (
            ledger_ix.last_control_number(led, "DEMORHEUM01", "DEMOCLEARING", ledger_ix.INTERCHANGE)
            == 1
        )
        lcns = led.query("SELECT line_control_number AS l FROM lines")
        assert len({r["l"] for r in lcns}) == len(lcns) > 7


@freeze_time(FROZEN)
def test_a_changed_record_after_build_is_refused_not_rebuilt(workdir: Path):
    assert invoke("build", str(BUILD), "--out", "out").exit_code == 1
    data = json.loads(BUILD.read_text())
    data["encounters"][1]["diagnoses"] = ["M17.11"]
    changed = workdir / "changed.json"
    changed.write_text(json.dumps(data))
    result = invoke("build", str(changed), "--out", "out", "--json")
    report = json.loads(result.stdout)
    [refused] = [r for r in report["rejected"] if r["encounter_id"] == "BLD-0002"]
    assert refused["errors"][0]["code"] == "changed_after_build"
    assert report["interchanges"] == []


def test_usage_and_configuration_errors_exit_2(workdir: Path, tmp_path: Path):
    assert invoke("run", "--config", str(tmp_path / "missing.toml")).exit_code == 2
    config = tmp_path / "practice.toml"
    config.write_text((FIXTURES / "demo" / "practice.toml").read_text())
    result = invoke("run", "--config", str(config))
    assert result.exit_code == 2
    assert "no INPUT" in result.stderr
    assert invoke("build", str(BUILD)).exit_code == 2  # --out is required
    assert invoke("build", str(BUILD), "--out", "o", "--ledger", "mysql://x").exit_code == 2


def test_every_command_has_help_with_an_example():
    for name in ("run", "build"):
        result = invoke(name, "--help")
        assert result.exit_code == 0
        assert "Example: edi-pipeline " + name in result.output


# ------------------------------------------------------------------ validation before release

NOW = datetime(2025, 3, 5, 9, 30, tzinfo=UTC)
MAPS = load_maps()
PRACTICE = load_practice()


def _build(items, tmp_path: Path, **kw):
    with ledger_at(tmp_path / "ledger.sqlite") as led:
        batch = build_claims(
            items,
            practice=PRACTICE,
            payers=MAPS.payers,
            ledger=led,
            out_dir=tmp_path / "out",
            now=NOW,
            **kw,
        )
        return (
            batch,
            {c.encounter_id: c.status for c in ledger_claims.all_claims(led)},
            ledger_claims,
        )


def _unnumbered(claim):
    return replace(claim, lines=tuple(replace(ln, line_control_number=None) for ln in claim.lines))


def test_a_claim_pyx12_rejects_is_not_released_and_is_reported(tmp_path: Path):
    good = _unnumbered(make_claim("GOOD1"))
    future = replace(_unnumbered(make_claim("FUTURE1")), date_of_service=date(2025, 9, 1))
    batch, statuses, _ = _build([ToBuild(good, file="in.json", record=0),
                                 ToBuild(future, file="in.json", record=1)], tmp_path)  # fmt: skip
    outcome = {c.encounter_id: c for c in batch.claims}
    assert outcome["GOOD1"].status == "built"
    bad = outcome["FUTURE1"]
    assert (bad.status, bad.stage) == ("rejected", "pyx12")
    err = bad.errors[0]
    assert (err.segment_id, err.loop, err.field) == ("DTP", "2400", "DTP03")
    assert err.segment_position is not None and err.segment_position > 15  # inside its ST
    assert statuses == {"GOOD1": "built", "FUTURE1": "rejected"}
    [ix] = batch.interchanges
    text = Path(tmp_path / "out" / Path(ix.file).name).read_text()
    assert "FUTURE1" not in text and "CLM*GOOD1*" in text
    assert validate_x12(text.encode(), today=NOW.date()).valid
    # nothing staged or scratch is left behind
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [Path(ix.file).name]


@pytest.mark.slow
def test_parallel_validation_gives_the_same_verdicts(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(app_build, "MIN_CHUNK", 2)
    items = [ToBuild(_unnumbered(make_claim(f"P{i}"))) for i in range(5)]
    items.append(
        ToBuild(replace(_unnumbered(make_claim("LATE")), date_of_service=date(2025, 12, 1)))
    )
    batch, statuses, _ = _build(items, tmp_path, processes=2)
    assert statuses == {**{f"P{i}": "built" for i in range(5)}, "LATE": "rejected"}
    [ix] = batch.interchanges
    assert ix.claims == 5


def test_an_unbuildable_claim_is_rejected_before_validation(tmp_path: Path):
    bad = replace(_unnumbered(make_claim("NOF8")), frequency="7")  # no payer claim number
    batch, statuses, _ = _build([ToBuild(bad)], tmp_path)
    [c] = batch.claims
    assert (c.status, c.stage, c.errors[0].code) == ("rejected", "build", "f8_missing")
    assert batch.interchanges == ()
    assert statuses == {"NOF8": "rejected"}


def test_events_are_named_and_carry_no_phi(tmp_path: Path):
    from structlog.testing import capture_logs

    enc = make_claim("LOG1").encounter
    with capture_logs() as logs:
        _build([ToBuild(_unnumbered(make_claim("LOG1")))], tmp_path)
    events = [e["event"] for e in logs]
    assert "build.interchange_written" in events
    rendered = json.dumps(logs, default=str)
    for value in (enc.patient.last_name, enc.patient.first_name, enc.coverage.member_id):
        assert value not in rendered


@freeze_time(FROZEN)
def test_run_delivers_what_it_built_when_given_a_destination(workdir: Path):
    outbox = workdir / "outbox"
    outbox.mkdir()
    result = invoke("run", "--json", "--to", f"folder:{outbox}")
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    sent = report["delivery"]["sent"]
    assert [s["isa13"] for s in sent] == [i["isa13"] for i in report["interchanges"]]
    delivered = sorted(p.name for p in outbox.iterdir())
    assert delivered == sorted(Path(i["file"]).name for i in report["interchanges"])
    assert all(mode(outbox / name) == 0o600 for name in delivered)
    # A second run builds nothing new and sends nothing twice.
    again = json.loads(invoke("run", "--json", "--to", f"folder:{outbox}").stdout)
    assert again["delivery"]["sent"] == []
    assert sorted(p.name for p in outbox.iterdir()) == delivered
