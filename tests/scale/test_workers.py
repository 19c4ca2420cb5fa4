"""Scale-out on a real PostgreSQL ledger: several worker processes sharing one drop folder.

Workload: encounter exports (the demo's encounters, re-keyed) dropped into one folder, then 835s
paying every claim that was built. Checked in the ledger and on disk, not in the workers' own
reports: every claim built exactly once, ISA13/GS06 unique and gap-free per sender/receiver and
each in a file on disk, line control numbers unique and gap-free, every remit line matched once.

Faults: one worker of four is SIGKILLed at a step of its stage (``EDI_PIPELINE_FAULT``: inbound
file claimed, build batch leased from the queue, interchange staged, committed, file finished);
the others carry on, and the next round of workers takes the dead worker's file over (its lease
owner is a dead process) and finishes it: nothing lost, nothing twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edi_pipeline.ledger.postgres import PostgresLedger
from edi_pipeline.watch import DropFolder
from tests.pgserver import fresh_database
from tests.scale.workload import built_claims, drop_encounters, drop_remits

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SENDER, RECEIVER = "DEMORHEUM01", "DEMOCLEARING"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edi_pipeline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def workers(n: int, folder: Path, url: str) -> dict:
    done = cli("workers", str(n), str(folder), "--once", "--settle", "0", "--ledger", url, "--json")
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return json.loads(done.stdout)


def _has_claimed(url: str, pid: int) -> bool:
    led = PostgresLedger.open(url)
    try:
        return bool(
            led.query("SELECT 1 FROM inbound_files WHERE lease_owner LIKE ?", (f"%:{pid}:%",))
        )
    finally:
        led.close()


def watchers(folder: Path, url: str, faults: list[str | None]) -> list[int]:
    """One ``watch --once`` process per entry of ``faults``; their exit codes. The first one
    is started alone and the others once it holds a file (or has died), so the fault it
    carries is sure to hit, however the machine schedules their start-up."""
    procs = []
    for n, fault in enumerate(faults):
        env = {**os.environ}
        env.pop("EDI_PIPELINE_FAULT", None)
        if fault:
            env["EDI_PIPELINE_FAULT"] = fault
        argv = [sys.executable, "-m", "edi_pipeline", "watch", str(folder), "--once"]
        argv += ["--settle", "0", "--poll", "--ledger", url]
        procs.append(
            subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        if n == 0:
            deadline = time.monotonic() + 120
            while procs[0].poll() is None and not _has_claimed(url, procs[0].pid):
                assert time.monotonic() < deadline, "the first worker never claimed a file"
                time.sleep(0.05)
    return [p.wait(timeout=300) for p in procs]


@pytest.fixture
def url(pg_server: str) -> str:
    return fresh_database(pg_server)


def check_built_once(url: str, folder: Path, encounter_ids: list[str]) -> PostgresLedger:
    led = PostgresLedger.open(url)
    rows = led.query(
        "SELECT c.encounter_id, c.status, COUNT(ic.id) AS builds FROM claims c "
        "LEFT JOIN interchange_claims ic ON ic.claim_id = c.id "
        "GROUP BY c.encounter_id, c.status ORDER BY c.encounter_id"
    )
    assert [r["encounter_id"] for r in rows] == sorted(encounter_ids)
    assert {(r["status"], r["builds"]) for r in rows} == {("built", 1)}
    # control numbers: unique and gap-free per sender/receiver, every one in a file on disk
    ix = led.query(
        "SELECT isa13, gs06, file, claims FROM interchanges WHERE sender = ? AND receiver = ? "
        "ORDER BY isa13",
        (SENDER, RECEIVER),
    )
    numbers = [int(r["isa13"]) for r in ix]
    assert numbers == list(range(1, len(ix) + 1))
    assert [int(r["gs06"]) for r in ix] == numbers
    assert led.query_one(
        "SELECT last_value FROM control_numbers WHERE sender = ? AND receiver = ? AND kind = ?",
        (SENDER, RECEIVER, "interchange"),
    )["last_value"] == len(ix)
    assert sum(r["claims"] for r in ix) == len(encounter_ids)
    on_disk = sorted(p.name for p in (folder / "outbound").glob("*.837"))
    assert on_disk == sorted(Path(r["file"]).name for r in ix)
    for r in ix:
        head = Path(r["file"]).read_text()[:110]
        assert f"*{r['isa13']}*" in head
    lcns = sorted(int(r[0]) for r in led.query("SELECT line_control_number FROM lines"))
    assert lcns == list(range(1, len(lcns) + 1))
    assert not led.query("SELECT * FROM control_number_gaps")
    assert not list((folder / "inbound").iterdir())
    return led


def check_paid_once(led: PostgresLedger, lines: int, claims: int) -> None:
    matched = led.query(
        "SELECT claim_id, COUNT(*) AS n FROM remit_claims GROUP BY claim_id ORDER BY claim_id"
    )
    assert len(matched) == claims
    assert all(r["claim_id"] is not None and r["n"] == 1 for r in matched)
    per_line = led.query(
        "SELECT a.remit_claim_id, a.sent_line_number, COUNT(*) AS n FROM remit_adjustments a "
        "GROUP BY a.remit_claim_id, a.sent_line_number"
    )
    assert len(per_line) == lines
    assert all(r["sent_line_number"] is not None and r["n"] == 1 for r in per_line)
    statuses = {r[0] for r in led.query("SELECT status FROM claims")}
    assert statuses == {"partially_paid"} or statuses == {"paid"}


def test_four_workers_build_and_post_everything_once(tmp_path, url):
    """The issue's workload at full size: 2,000 inbound encounter files, then 200 835s."""
    folder = tmp_path / "drop"
    ids = drop_encounters(folder / "inbound", 2000, per_file=1)
    report = workers(4, folder, url)
    assert report["summary"]["failed"] == 0 and report["left"] == []
    assert report["summary"]["processed"] == 2000 and report["queued_left"] == 0
    led = check_built_once(url, folder, ids)
    try:
        builders = led.query("SELECT DISTINCT finished_by FROM build_queue")
        assert len(builders) >= 2  # the build was shared, not done by one worker
        claims = built_claims(led)
        lines = drop_remits(folder / "inbound", claims, files=200)
        report = workers(4, folder, url)
        assert report["summary"]["failed"] == 0 and report["left"] == []
        check_paid_once(led, lines, len(claims))
        assert led.query_one("SELECT COUNT(*) AS n FROM remits")["n"] == 200
    finally:
        led.close()


def test_one_large_export_is_built_by_several_workers(tmp_path, url):
    """One export of 1,000 encounters: the worker that reads it queues its claims and every
    idle worker takes batches of them, so the build is shared (``finished_by``)."""
    folder = tmp_path / "drop"
    DropFolder(folder).ensure()
    argv = [sys.executable, "-m", "edi_pipeline", "workers", "4", str(folder), "--ledger", url]
    argv += ["--settle", "0", "--poll-interval", "0.1"]
    env = {k: v for k, v in os.environ.items() if k != "EDI_PIPELINE_FAULT"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)  # the workers are up and polling
        ids = drop_encounters(folder / "inbound", 1000, per_file=1000)
        deadline = time.monotonic() + 240
        led = PostgresLedger.open(url)
        try:
            while True:
                done = led.query_one("SELECT COUNT(*) AS n FROM build_queue WHERE state = 'done'")[
                    "n"
                ]
                left = list((folder / "inbound").iterdir())
                if done == 1000 and not left:
                    break
                assert time.monotonic() < deadline, f"{done} of 1000 built"
                time.sleep(0.2)
            builders = led.query(
                "SELECT finished_by, COUNT(*) AS n FROM build_queue GROUP BY finished_by"
            )
        finally:
            led.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    assert len(builders) >= 2, builders
    check_built_once(url, folder, ids).close()


@pytest.mark.parametrize(
    "fault",
    [
        "watch.after_claim@1",  # inbound file claimed, nothing done
        "queue.after_take@1",  # its claims queued, a batch of them leased, nothing built
        "build.before_commit@1",  # claims and control numbers taken, transaction open
        "build.after_commit@1",  # interchange committed, its file not renamed into place
        "watch.after_handler@1",  # export built, the inbound file not marked done
    ],
)
def test_a_worker_killed_mid_claim_leaves_its_work_to_the_others(tmp_path, url, fault):
    folder = tmp_path / "drop"
    ids = drop_encounters(folder / "inbound", 18, per_file=3)  # 6 exports
    codes = watchers(folder, url, [fault, None, None, None])
    assert codes[0] == -9  # SIGKILL, mid-claim
    report = workers(2, folder, url)  # the next round takes the dead worker's file over
    assert report["summary"]["failed"] == 0 and report["left"] == []
    led = check_built_once(url, folder, ids)
    try:
        queue = led.query_one("SELECT MAX(attempts) AS most, COUNT(*) AS n FROM build_queue")
        assert queue["n"] == len(ids)
        if fault.startswith("queue."):  # the dead worker's batch was taken again
            assert queue["most"] >= 2
    finally:
        led.close()


def test_a_worker_killed_after_posting_an_835_posts_nothing_twice(tmp_path, url):
    folder = tmp_path / "drop"
    ids = drop_encounters(folder / "inbound", 18, per_file=6)
    workers(2, folder, url)
    led = check_built_once(url, folder, ids)
    try:
        claims = built_claims(led)
        lines = drop_remits(folder / "inbound", claims, files=6)
        codes = watchers(folder, url, ["watch.after_handler@1", None, None])
        assert codes[0] == -9
        report = workers(2, folder, url)
        assert report["summary"]["failed"] == 0 and report["left"] == []
        check_paid_once(led, lines, len(claims))
        assert led.query_one("SELECT COUNT(*) AS n FROM remits")["n"] == 6
    finally:
        led.close()


def test_delivery_workers_send_each_interchange_once_despite_a_kill(tmp_path, url):
    folder, dest = tmp_path / "drop", tmp_path / "clearinghouse"
    dest.mkdir()
    ids = drop_encounters(folder / "inbound", 24, per_file=3)  # 8 exports
    workers(2, folder, url)
    led = check_built_once(url, folder, ids)
    try:  # as many interchanges as the build batches made (the queue may join exports)
        built = led.query_one("SELECT COUNT(*) AS n FROM interchanges")["n"]
    finally:
        led.close()
    assert built >= 1
    argv = [sys.executable, "-m", "edi_pipeline", "deliver", "--to", f"folder:{dest}"]
    argv += ["--ledger", url]
    env = {k: v for k, v in os.environ.items() if k != "EDI_PIPELINE_FAULT"}
    # The first deliverer is killed after its first upload, before the ledger says "sent" (it
    # runs alone first, so the kill cannot be pre-empted by the others taking every file).
    killed = subprocess.run(
        argv,
        env={**env, "EDI_PIPELINE_FAULT": "deliver.after_upload@1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
    )
    assert killed.returncode == -9
    # Two live deliverers then share the rest, reconciling the dead one's interchange.
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(2)
    ]
    codes = [p.wait(timeout=300) for p in procs]
    assert all(code in (0, 1) for code in codes), codes
    again = cli("deliver", "--to", f"folder:{dest}", "--ledger", url)
    assert again.returncode == 0, again.stderr[-2000:]
    led = PostgresLedger.open(url)
    try:
        rows = led.query("SELECT id, status, remote_name FROM interchanges ORDER BY id")
        assert len(rows) == built and {r["status"] for r in rows} == {"sent"}
        sent = led.query(
            "SELECT interchange_id, COUNT(*) AS n FROM delivery_events WHERE status = 'sent' "
            "GROUP BY interchange_id"
        )
        assert len(sent) == built and all(r["n"] == 1 for r in sent)
        assert sorted(p.name for p in dest.iterdir()) == sorted(r["remote_name"] for r in rows)
        assert {r[0] for r in led.query("SELECT status FROM claims")} == {"sent"}
    finally:
        led.close()


def test_run_and_status_work_unchanged_on_postgresql(tmp_path, url):
    """The one-shot job on a PostgreSQL ledger: the demo builds as it does on SQLite, a second
    run builds nothing new, and ``status`` reads the claims back."""
    first = subprocess.run(
        [sys.executable, "-m", "edi_pipeline", "run", "--ledger", url, "--json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert first.returncode == 1, first.stderr[-2000:]  # the demo holds claims on purpose
    summary = json.loads(first.stdout)["summary"]
    assert summary["built"] > 0 and summary["held"] > 0
    again = subprocess.run(
        [sys.executable, "-m", "edi_pipeline", "run", "--ledger", url, "--json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert json.loads(again.stdout)["summary"]["already_built"] == summary["built"]
    status = cli("status", "--ledger", url, "--json")
    assert status.returncode == 0, status.stderr[-2000:]
    claims = json.loads(status.stdout)["claims"]
    assert sum(1 for c in claims if c["status"] == "built") == summary["built"]
