"""Acknowledgments of our own interchanges, ingested into a real ledger: statuses move, reasons
are kept, ``status --json`` says why, and nothing is applied twice or dropped."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs

from edi_pipeline.app.ack import ingest_ack_file, ingest_ack_files
from edi_pipeline.app.status import status
from edi_pipeline.cli import cli
from edi_pipeline.ledger import acks as ack_queries
from edi_pipeline.ledger import claims as ledger_claims
from tests.acks.ackgen import (
    Status277,
    Tx999,
    edit_segment,
    index_837,
    make_277ca,
    make_999,
    make_ta1,
    pyx12_999,
)
from tests.acks.conftest import ACKED_AT, IDS, World
from tests.acks.test_reader_corpus import FILES
from tests.conftest import DESIGN_SCHEMAS, FIXTURES

SCHEMA_FILE = DESIGN_SCHEMAS / "status.schema.json"


def status_schema() -> dict:
    if SCHEMA_FILE.is_file():
        return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return json.loads((FIXTURES / "acks" / "status.schema.json").read_text(encoding="utf-8"))


def statuses(world: World) -> dict[str, str]:
    return {i: world.claim(i).status for i in IDS}


def history(world: World, encounter_id: str) -> list[tuple[str, str | None]]:
    return [
        (h.status, h.source)
        for h in ledger_claims.status_history(world.ledger, world.claim(encounter_id).id)
    ]


def broken_999(world: World, encounter_id: str, line: int) -> tuple[Path, int]:
    """pyx12's own 999 for a copy of our file whose chosen line has an invalid SV103."""
    idx = index_837(world.text)
    target = idx.claim(encounter_id)
    sv1 = target.lines[line - 1].first + 1
    broken = edit_segment(world.text, target.st02, sv1, lambda s: s.replace("*UN*", "*XX*"))
    valid, ack, _ = pyx12_999(broken)
    assert not valid
    return world.write("pyx12.999", ack), sv1


def test_a_rejected_segment_is_tied_to_its_claim_and_line(world_per_claim: World) -> None:
    world = world_per_claim
    world.mark_sent()
    path, position = broken_999(world, "E2002", line=2)
    with capture_logs() as logs:
        report = ingest_ack_file(path, world.ledger, world.maps, now=ACKED_AT)
    assert statuses(world) == {"E2001": "accepted", "E2002": "rejected", "E2003": "accepted"}
    assert history(world, "E2002") == [("built", "build"), ("sent", "deliver"), ("rejected", "999")]
    assert report.exit_code == 1
    (rejected,) = [o for o in report.outcomes if o.verdict.status == "rejected"]
    (reason,) = rejected.verdict.reasons
    line = ledger_claims.claim_lines(world.ledger, world.claim("E2002").id)[1]
    assert (reason.line, reason.line_control_number, reason.position, reason.element) == (
        2,
        line.line_control_number,
        position,
        "SV103",
    )
    events = [e["event"] for e in logs]
    assert "ack.claim_rejected" in events and "ack.file_ingested" in events
    rejected_log = next(e for e in logs if e["event"] == "ack.claim_rejected")
    assert rejected_log["encounter_id"] == "E2002" and rejected_log["code"] == "IK403:7"

    doc = status(world.ledger, "E2002").as_json()
    jsonschema.validate(doc, status_schema())
    (entry,) = doc["claims"]
    assert entry["status"] == "rejected"
    (why,) = entry["reasons"]
    assert why["source"] == "999" and why["code"] == "IK403:7" and why["line"] == 2
    assert "Invalid code value in SV103" in why["message"]
    assert [h["status"] for h in entry["history"]] == ["built", "sent", "rejected"]


def test_accepted_999_then_277ca_payer_verdicts(world: World) -> None:
    world.mark_sent()
    valid, ack, errors = pyx12_999(world.text)
    assert valid, errors
    report = ingest_ack_file(world.write("ok.999", ack), world.ledger, world.maps, now=ACKED_AT)
    assert report.exit_code == 0
    assert set(statuses(world).values()) == {"accepted"}

    idx = index_837(world.text)
    e3_line = idx.claim("E2003").lines[0].control
    ca = make_277ca(
        idx,
        [
            Status277("E2001", ("A2:20",), payer_claim_number="ICN0001"),
            Status277("E2002", ("A7:562:85",), payer_claim_number="ICN0002"),
            Status277("E2003", ("A2:20",), lines=((e3_line, "A7:453"),)),
            Status277("ZZ999", ("A2:20",)),
        ],
    )
    report = ingest_ack_file(world.write("ca.277", ca), world.ledger, world.maps, now=ACKED_AT)
    assert statuses(world) == {
        "E2001": "payer_accepted",
        "E2002": "payer_rejected",
        "E2003": "payer_accepted",
    }
    assert world.claim("E2001").payer_claim_number == "ICN0001"
    assert world.claim("E2002").payer_claim_number is None  # never a REF*F8 for a rejection
    assert report.exit_code == 1  # a payer rejection and an unmatched claim
    (unmatched,) = report.unmatched
    assert unmatched.reference == "CLM01 ZZ999"
    assert [r["reference"] for r in ack_queries.unmatched(world.ledger)] == ["CLM01 ZZ999"]

    doc = status(world.ledger).as_json()
    jsonschema.validate(doc, status_schema())
    by_id = {c["encounter_id"]: c for c in doc["claims"]}
    e2 = by_id["E2002"]
    assert e2["reasons"][0]["code"] == "A7:562:85" and e2["reasons"][0]["source"] == "277CA"
    assert "NPI of the billing provider" in e2["reasons"][0]["message"]
    assert e2["reported_payer_claim_number"] == "ICN0002" and e2["payer_claim_number"] is None
    assert by_id["E2001"]["payer_claim_number"] == "ICN0001" and by_id["E2001"]["reasons"] == []
    assert [h["status"] for h in e2["history"]] == ["built", "sent", "accepted", "payer_rejected"]
    assert e2["history"][-1]["code"] == "A7:562:85"


def test_the_same_file_twice_changes_nothing(world: World) -> None:
    world.mark_sent()
    path = world.write("ta1.ta1", make_ta1(index_837(world.text), "R", "025"))
    first = ingest_ack_file(path, world.ledger, world.maps, now=ACKED_AT)
    assert set(statuses(world).values()) == {"rejected"}
    again = world.write("copy-of-ta1.txt", path.read_text())
    second = ingest_ack_file(again, world.ledger, world.maps, now=ACKED_AT)
    assert first.files[0].duplicate_of is None and second.files[0].duplicate_of is not None
    assert not second.outcomes and second.exit_code == 0
    assert history(world, "E2001") == [("built", "build"), ("sent", "deliver"), ("rejected", "TA1")]


def test_a_late_999_never_moves_a_claim_back(world: World) -> None:
    world.mark_sent()
    idx = index_837(world.text)
    ingest_ack_file(
        world.write("a.277", make_277ca(idx, [Status277(i, ("A2:20",)) for i in IDS])),
        world.ledger,
        world.maps,
        now=ACKED_AT,
    )
    assert set(statuses(world).values()) == {"payer_accepted"}
    late = make_999(idx, [Tx999(st) for st in idx.st02s], "A")
    report = ingest_ack_file(world.write("late.999", late), world.ledger, world.maps)
    assert set(statuses(world).values()) == {"payer_accepted"}
    assert all(not o.applied and "past accepted" in (o.note or "") for o in report.outcomes)
    assert report.exit_code == 0


def test_every_corpus_ack_is_ingested_and_reported(world: World) -> None:
    report = ingest_ack_files(FILES, world.ledger, world.maps, now=ACKED_AT)
    assert len(report.files) == len(FILES)
    assert not report.outcomes  # none of them is about our claims
    assert report.unmatched  # …and every verdict in them is reported, not dropped
    bad = next(f for f in report.files if "invalid999" in f.file)
    assert [p.where.segment_index for p in bad.errors] == [4, 7, 8]
    assert report.exit_code == 1
    assert set(statuses(world).values()) == {"built"}


def test_cli_ack_and_status(world: World, tmp_path: Path) -> None:
    world.mark_sent()
    idx = index_837(world.text)
    ack = world.write("cli.277", make_277ca(idx, [Status277("E2002", ("A7:164:IL",))]))
    runner = CliRunner()
    result = runner.invoke(
        cli, ["ack", str(ack), "--json", "--ledger", str(world.ledger_path)], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    (claim,) = doc["files"][0]["claims"]
    assert claim["encounter_id"] == "E2002" and claim["status"] == "payer_rejected"
    assert "member number of the subscriber" in claim["reasons"][0]["message"]
    assert doc["summary"]["payer_rejected"] == 1

    result = runner.invoke(
        cli, ["status", "--json", "--ledger", str(world.ledger_path)], catch_exceptions=False
    )
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, status_schema())
    assert {c["encounter_id"]: c["status"] for c in doc["claims"]} == {
        "E2001": "sent",
        "E2002": "payer_rejected",
        "E2003": "sent",
    }
    result = runner.invoke(cli, ["status", "--claim", "NOPE", "--ledger", str(world.ledger_path)])
    assert result.exit_code == 1
    human = runner.invoke(cli, ["status", "--claim", "E2002", "--ledger", str(world.ledger_path)])
    assert "payer_rejected" in human.output and "A7:164:IL" in human.output


def test_cli_ack_on_a_malformed_file_names_the_segment(world: World) -> None:
    bad = next(p for p in FILES if "invalid999" in p.name)
    result = CliRunner().invoke(cli, ["ack", str(bad), "--ledger", str(world.ledger_path)])
    assert result.exit_code == 1
    assert "error: segment 4 (IK5): IK5 outside a transaction set response" in result.output
    assert "error: segment 7 (IK5) IK501: IK501 must be one of A, E, M, R, W, X (got 'Q')" in (
        result.output
    )


@pytest.mark.parametrize("command", ["ack", "reprocess", "status"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Example: edi-pipeline " + command in result.output


def test_status_explains_holds_and_build_rejections(world: World) -> None:
    from decimal import Decimal

    from edi_pipeline.ledger.claims import ClaimKey
    from edi_pipeline.models import Hold

    key = ClaimKey(world.practice.key, "E3001", "1")
    hold = Hold("aetna-auth", "authorization", "prior authorization required", "Aetna policy")
    ledger_claims.upsert_claim(
        world.ledger, key, status="held", payer_id="aetna", charge=Decimal("10"), at=ACKED_AT,
        source="scrub",
    )  # fmt: skip
    ledger_claims.replace_holds(world.ledger, key, (hold,), ACKED_AT)
    ledger_claims.upsert_claim(
        world.ledger, ClaimKey(world.practice.key, "E3002", "1"), status="rejected",
        payer_id="aetna", charge=Decimal("10"), at=ACKED_AT, source="pyx12",
        message="SV103: (XX) is not a valid code",
    )  # fmt: skip
    doc = status(world.ledger).as_json()
    jsonschema.validate(doc, status_schema())
    by_id = {c["encounter_id"]: c for c in doc["claims"]}
    assert by_id["E3001"]["reasons"] == [
        {
            "source": "scrub",
            "code": "aetna-auth",
            "message": "prior authorization required",
            "category": "authorization",
        }
    ]
    assert by_id["E3002"]["reasons"] == [
        {"source": "pyx12", "code": None, "message": "SV103: (XX) is not a valid code"}
    ]
    assert by_id["E2001"]["reasons"] == [] and by_id["E2001"]["status"] == "built"
