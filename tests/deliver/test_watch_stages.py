"""The watcher wired to the real stages (``app.watch.HANDLERS``), in-process and as a real
``edi-pipeline watch`` process killed with SIGKILL at each step and restarted."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edi_pipeline.app.watch import HANDLERS, WatchOptions, watch_folder
from edi_pipeline.ledger import delivery as q
from edi_pipeline.ledger.sqlite import SqliteLedger

ROOT = Path(__file__).resolve().parents[2]
REMIT = ROOT / "fixtures" / "835" / "roundtrip.835"
ACKS = ROOT / "fixtures" / "acks" / "corpus"
ACK999 = ACKS / "999" / "imsweb__x12-parser__src__test__resources__837_5010__x12_999_rejected.txt"
ACK277 = (
    ACKS / "277ca" / "imsweb__x12-parser__src__test__resources__277_5010__x12_277CA_accepted.txt"
)
DEMO = ROOT / "fixtures" / "demo" / "encounters.json"
TA1 = ACKS / "ta1" / "xlate__staedi__src__test__resources__wiki__x12_interchange_ack.txt"


def demo_records() -> int:
    data = json.loads(DEMO.read_text())
    return len(data["encounters"] if isinstance(data, dict) else data)


def drop(folder: Path, name: str, source: Path | bytes, *, done: bool = True) -> None:
    inbound = folder / "inbound"
    inbound.mkdir(parents=True, exist_ok=True)
    data = source if isinstance(source, bytes) else source.read_bytes()
    (inbound / name).write_bytes(data)
    if done:
        (inbound / f"{name}.done").write_bytes(b"")


def counts(ledger_path: Path) -> dict[str, int]:
    with SqliteLedger.open(ledger_path) as ledger:
        return {
            "remits": ledger.query_one("SELECT COUNT(*) AS n FROM remits")["n"],
            "remit_claims": ledger.query_one("SELECT COUNT(*) AS n FROM remit_claims")["n"],
            "ack_files": ledger.query_one("SELECT COUNT(*) AS n FROM ack_files")["n"],
            "done": len(q.inbound_files(ledger, "done")),
            "processing": len(q.inbound_files(ledger, "processing")),
        }


def test_inbound_acks_and_remits_reach_their_stages(tmp_path: Path) -> None:
    folder, ledger_path = tmp_path / "drop", tmp_path / "ledger.sqlite"
    drop(folder, "payer.x12", REMIT)
    drop(folder, "clearinghouse-1.txt", ACK999)
    drop(folder, "clearinghouse-2.txt", ACK277)
    drop(folder, "ta1.txt", TA1)
    summary = watch_folder(WatchOptions(folder, once=True), ledger_spec=str(ledger_path))
    by_name = {f.name: f for f in summary.files}
    assert {n: (f.status, f.kind, f.detail) for n, f in by_name.items()} == {
        "payer.x12": ("processed", "remit", "835"),
        "clearinghouse-1.txt": ("processed", "ack", "999"),
        "clearinghouse-2.txt": ("processed", "ack", "277CA"),
        "ta1.txt": ("processed", "ack", "TA1"),
    }
    assert by_name["payer.x12"].summary["balanced"] is True
    assert by_name["payer.x12"].summary["claims"] > 0
    # verdicts about interchanges this ledger never sent: reported by the ack stage
    assert by_name["clearinghouse-1.txt"].problems
    before = counts(ledger_path)
    assert before["remits"] == 1 and before["ack_files"] == 3 and before["done"] == 4

    # the same 835 again under another name: not posted twice
    drop(folder, "payer-again.x12", REMIT)
    summary = watch_folder(WatchOptions(folder, once=True), ledger_spec=str(ledger_path))
    assert [(f.name, f.status) for f in summary.files] == [("payer-again.x12", "duplicate")]
    assert counts(ledger_path) == before
    assert sorted(os.listdir(folder / "archive")) == sorted(
        ["payer.x12", "payer-again.x12", "clearinghouse-1.txt", "clearinghouse-2.txt", "ta1.txt"]
    )


def test_an_835_with_problems_is_archived_and_the_status_says_so(tmp_path: Path) -> None:
    folder, ledger_path = tmp_path / "drop", tmp_path / "ledger.sqlite"
    truncated = REMIT.read_bytes().split(b"ST*835")[0] + b"ST*835*0001~"  # no SE, GE, IEA
    drop(folder, "truncated.835", truncated)
    drop(folder, "garbage.835", b"ISA*00*not really an interchange")
    summary = watch_folder(WatchOptions(folder, once=True), ledger_spec=str(ledger_path))
    assert summary.exit_code == 1
    by_name = {f.name: f for f in summary.files}
    assert by_name["truncated.835"].status == "processed" and by_name["truncated.835"].problems
    assert (folder / "archive" / "truncated.835").exists()
    assert by_name["garbage.835"].status == "failed"
    reason = (folder / "error" / "garbage.835.reason.txt").read_text()
    assert "garbage.835" in reason and "cannot be read" in reason


def test_an_encounter_export_is_built_into_outbound_once(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from edi_pipeline.watch import DropFolder, Watcher

    folder = DropFolder(tmp_path / "drop").ensure()
    drop(folder.root, "export.json", DEMO)
    when = datetime(2025, 3, 5, 9, 30, tzinfo=UTC)  # the demo's as-of day: claims are built
    with SqliteLedger.open(tmp_path / "ledger.sqlite") as ledger:
        watcher = Watcher(folder, ledger, HANDLERS, now=lambda: when)
        summary = watcher.once()
        (result,) = summary.files
        assert (result.status, result.kind, result.detail) == ("processed", "encounters", "json")
        built = result.summary["built"]
        assert built > 0 and result.summary["records"] == demo_records()
        assert len(result.summary["interchanges"]) >= 1
        outbound = sorted(p.name for p in folder.outbound.iterdir())
        assert "report.json" in outbound
        assert sum(name.endswith(".837") for name in outbound) == len(
            result.summary["interchanges"]
        )
        claims_before = ledger.query_one("SELECT COUNT(*) AS n FROM claims")["n"]
        ix_before = ledger.query_one("SELECT COUNT(*) AS n FROM interchanges")["n"]

        # the watcher died after the stage and before the ledger said "done": the file is
        # taken again, and the stage builds nothing twice
        content = hashlib.sha256(DEMO.read_bytes()).hexdigest()
        with ledger.transaction():
            ledger.execute(
                "UPDATE inbound_files SET state = 'processing', lease_owner = 'elsewhere:1:x', "
                "lease_until = '2000-01-01T00:00:00Z' WHERE content_hash = ?",
                (content,),
            )
        drop(folder.root, "export.json", DEMO)
        (again,) = Watcher(folder, ledger, HANDLERS, now=lambda: when).once().files
        assert again.status == "processed" and again.summary["built"] == 0
        assert again.summary["already_built"] == built
        assert ledger.query_one("SELECT COUNT(*) AS n FROM claims")["n"] == claims_before
        assert ledger.query_one("SELECT COUNT(*) AS n FROM interchanges")["n"] == ix_before
        assert q.inbound_file(ledger, content).attempts == 2


def test_the_handler_table_names_every_kind() -> None:
    assert set(HANDLERS) == {"encounters", "ack", "remit"}


def _watch(folder: Path, ledger_path: Path, *extra: str, env: dict[str, str] | None = None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_PIPELINE_")}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edi_pipeline",
            "--log-format",
            "json",
            "watch",
            str(folder),
            "--ledger",
            str(ledger_path),
            "--json",
            *extra,
        ],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("step", ["watch.after_claim", "watch.after_handler", "watch.after_finish"])
def test_watcher_killed_at_each_step_then_restarted_processes_once(
    tmp_path: Path, step: str
) -> None:
    folder, ledger_path = tmp_path / "drop", tmp_path / "ledger.sqlite"
    drop(folder, "a-remit.x12", REMIT)
    drop(folder, "b-ack.x12", ACK999)
    # killed while handling the second file: the first is done, the second is mid-way
    killed = _watch(folder, ledger_path, "--once", env={"EDI_PIPELINE_FAULT": f"{step}@2"})
    _out, err = killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL, err
    state = counts(ledger_path)
    assert state["remits"] == 1
    assert state["ack_files"] == (0 if step == "watch.after_claim" else 1)
    assert state["processing"] == (0 if step == "watch.after_finish" else 1)
    assert (folder / "inbound" / "b-ack.x12").exists()  # not moved before the ledger said so

    restarted = _watch(folder, ledger_path, "--once")
    out, err = restarted.communicate(timeout=60)
    assert restarted.returncode in (0, 1), err
    report = json.loads(out)
    statuses = [(f["name"], f["status"]) for f in report["files"]]
    expected = "duplicate" if step == "watch.after_finish" else "processed"
    assert statuses == [("b-ack.x12", expected)]
    final = counts(ledger_path)
    assert final == {
        "remits": 1,
        "remit_claims": state["remit_claims"],
        "ack_files": 1,
        "done": 2,
        "processing": 0,
    }
    assert sorted(p for p in os.listdir(folder / "inbound")) == []
    assert sorted(os.listdir(folder / "archive")) == ["a-remit.x12", "b-ack.x12"]


@pytest.mark.slow
def test_watcher_killed_while_a_file_is_being_written_then_restarted(tmp_path: Path) -> None:
    folder, ledger_path = tmp_path / "drop", tmp_path / "ledger.sqlite"
    watcher = _watch(folder, ledger_path, "--settle", "0.5", "--poll-interval", "0.1")
    try:
        inbound = folder / "inbound"
        deadline = time.monotonic() + 30
        while not inbound.is_dir() and time.monotonic() < deadline:
            time.sleep(0.05)
        data = REMIT.read_bytes()
        target = inbound / "slow-copy.835"
        with target.open("wb") as fh:  # a slow copy: half now, a pause, the watcher dies
            fh.write(data[: len(data) // 2])
            fh.flush()
            time.sleep(0.3)
            watcher.kill()
            watcher.wait(10)
            fh.write(data[len(data) // 2 :])
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait(10)
    assert counts(ledger_path)["done"] == 0  # the half file was never taken
    restarted = _watch(folder, ledger_path, "--once", "--settle", "0.3")
    out, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err
    report = json.loads(out)
    assert [(f["name"], f["status"]) for f in report["files"]] == [("slow-copy.835", "processed")]
    assert counts(ledger_path)["remits"] == 1
    assert (folder / "archive" / "slow-copy.835").read_bytes() == data


@pytest.mark.slow
def test_sigterm_stops_the_watcher_gracefully(tmp_path: Path) -> None:
    folder, ledger_path = tmp_path / "drop", tmp_path / "ledger.sqlite"
    watcher = _watch(folder, ledger_path, "--settle", "0.2", "--poll-interval", "0.1")
    try:
        deadline = time.monotonic() + 30
        while not (folder / "inbound").is_dir() and time.monotonic() < deadline:
            time.sleep(0.05)
        drop(folder, "remit.835", REMIT, done=False)
        while not (folder / "archive" / "remit.835").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=15)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, err
    assert json.loads(out)["summary"]["processed"] == 1
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert "watch.stop_requested" in events and events[-1] == "watch.finished"


@pytest.mark.slow
def test_watcher_killed_after_building_an_export_builds_nothing_twice(tmp_path: Path) -> None:
    folder, ledger_path = tmp_path / "drop", tmp_path / "ledger.sqlite"
    drop(folder, "export.json", DEMO)
    killed = _watch(
        folder, ledger_path, "--once", env={"EDI_PIPELINE_FAULT": "watch.after_handler"}
    )
    _out, err = killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL, err

    def claim_rows() -> list[tuple[str, str, str]]:
        with SqliteLedger.open(ledger_path) as ledger:
            return [
                (r["encounter_id"], r["frequency"], r["status"])
                for r in ledger.query("SELECT encounter_id, frequency, status FROM claims")
            ]

    after_kill = claim_rows()
    assert after_kill  # the stage ran to the end before the kill: its claims are recorded
    restarted = _watch(folder, ledger_path, "--once")
    out, err = restarted.communicate(timeout=120)
    assert restarted.returncode in (0, 1), err  # 1: some claims held (timely filing, today)
    (result,) = json.loads(out)["files"]
    assert result["status"] == "processed"
    assert result["summary"]["records"] == demo_records()
    assert claim_rows() == after_kill
    assert counts(ledger_path)["done"] == 1
    assert os.listdir(folder / "archive") == ["export.json"]
