"""The drop-folder watcher on a real folder, with real filesystem events and a real ledger.

Stages are given to the watcher as a table; here a recording stage stands in for them so that
each test can count exactly how often a content was handed over (the real table is exercised in
test_watch_stages.py)."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from edi_pipeline.errors import InputError
from edi_pipeline.ledger import delivery as q
from edi_pipeline.watch import (
    DropFolder,
    Inbound,
    StageOutcome,
    Watcher,
    WatchSettings,
    is_candidate,
    route,
)

ACK999 = (
    b"ISA*00*          *00*          *ZZ*PAYER          *ZZ*SENDER         *261123*1000*^*00501*"
    b"000000101*0*T*:~GS*FA*PAYER*SENDER*20261123*1000*101*X*005010X231A1~ST*999*0001*005010X231A1~"
    b"AK1*HC*1*005010X222A1~AK9*A*1*1*1~SE*4*0001~GE*1*101~IEA*1*000000101~"
)
TA1 = (
    b"ISA*00*          *00*          *ZZ*PAYER          *ZZ*SENDER         *261123*1000*^*00501*"
    b"000000102*0*T*:~TA1*000000001*261123*1000*A*000~IEA*0*000000102~"
)


def x12(gs01: str, st01: str, version: str) -> bytes:
    return (
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*SENDER         *261123*1000*^*00501*"
        f"000000103*0*T*:~GS*{gs01}*PAYER*SENDER*20261123*1000*103*X*{version}~"
        f"ST*{st01}*0001*{version}~SE*2*0001~GE*1*103~IEA*1*000000103~"
    ).encode()


@pytest.mark.parametrize(
    ("content", "kind", "detail"),
    [
        (b'{"encounters": []}', "encounters", "json"),
        (b'\xef\xbb\xbf  [{"encounter_id": "E1"}]', "encounters", "json"),
        (b'{"encounter_id": "E1"}\n{"encounter_id": "E2"}\n', "encounters", "json"),
        (b"encounter_id,date_of_service,item\nE1,2026-01-02,drug\n", "encounters", "csv"),
        (b'"Encounter_ID","x"\n"E1","y"\n', "encounters", "csv"),
        (ACK999, "ack", "999"),
        (TA1, "ack", "TA1"),
        (x12("HN", "277", "005010X214"), "ack", "277CA"),
        (x12("HP", "835", "005010X221A1"), "remit", "835"),
        (b"\r\n" + x12("HP", "835", "005010X221A1"), "remit", "835"),
        (x12("HC", "837", "005010X222A1"), None, "837"),
        (x12("BE", "834", "005010X220A1"), None, "834"),
        (b"name,dob\nx,y\n", None, "unknown"),
        (b"", None, "empty"),
        (b"\x00\x01binary", None, "unknown"),
    ],
)
def test_route_by_content(content: bytes, kind: str | None, detail: str) -> None:
    found = route(content)
    assert (found.kind, found.detail) == (kind, detail)
    assert (found.reason is None) == (kind is not None)


def test_names_being_written_are_not_candidates() -> None:
    assert is_candidate("claims.835") and is_candidate("export.json")
    for name in (".x.835", "a.part", "a.tmp", "a.json.done", "a.reason.txt", "a.crdownload", "a~"):
        assert not is_candidate(name)


class Recorder:
    """A stage that records each hand-off (and writes one output file per call)."""

    def __init__(self, fail_on: bytes | None = None, raise_on: bytes | None = None):
        self.calls: list[tuple[str, str, str]] = []
        self.fail_on = fail_on
        self.raise_on = raise_on
        self.lock = threading.Lock()

    def __call__(self, inbound: Inbound) -> StageOutcome:
        data = inbound.path.read_bytes()
        with self.lock:
            self.calls.append((inbound.name, inbound.content_hash, inbound.route.kind))
        assert hashlib.sha256(data).hexdigest() == inbound.content_hash
        if self.raise_on is not None and self.raise_on in data:
            raise InputError("the export cannot be read: record 3 is not an object")
        if self.fail_on is not None and self.fail_on in data:
            return StageOutcome(failed="no transaction could be read")
        (inbound.outbound / f"{inbound.content_hash[:16]}.out").write_text(inbound.route.detail)
        return StageOutcome(summary={"claims": 1}, problems=b"held" in data)

    def hashes(self) -> list[str]:
        return [h for _, h, _ in self.calls]


def handlers(stage: Recorder) -> dict[str, Recorder]:
    return {"encounters": stage, "ack": stage, "remit": stage}


def drop(folder: Path, name: str, data: bytes, *, done: bool = False) -> Path:
    path = folder / "inbound" / name
    path.write_bytes(data)
    if done:
        (folder / "inbound" / (name + ".done")).write_bytes(b"")
    return path


def encounters(n: int) -> bytes:
    return f'{{"encounters": [{{"encounter_id": "E{n:05d}"}}]}}'.encode()


def test_once_processes_each_content_once_and_files_it_away(tmp_path: Path, ledger) -> None:
    folder = DropFolder(tmp_path / "drop").ensure()
    for name in ("inbound", "outbound", "archive", "error"):
        assert stat.S_IMODE((folder.root / name).stat().st_mode) == 0o700
    stage = Recorder()
    drop(folder.root, "a.json", encounters(1), done=True)
    drop(folder.root, "ack.x12", ACK999, done=True)
    drop(folder.root, "held.json", encounters(2) + b" held", done=True)
    with capture_logs() as logs:
        summary = Watcher(folder, ledger, handlers(stage), WatchSettings(settle=5)).once()
    assert sorted(n for n, _, _ in stage.calls) == ["a.json", "ack.x12", "held.json"]
    assert summary.count("processed") == 3 and summary.exit_code == 1  # a stage had problems
    assert sorted(os.listdir(folder.inbound)) == []  # markers removed with their files
    assert sorted(os.listdir(folder.archive)) == ["a.json", "ack.x12", "held.json"]
    for path in folder.archive.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = q.inbound_files(ledger)
    assert {r.state for r in rows} == {"done"} and len(rows) == 3
    by_name = {r.name: r for r in rows}
    assert by_name["ack.x12"].kind == "ack" and by_name["ack.x12"].outcome["detail"] == "999"
    assert by_name["a.json"].archived_as == str(folder.archive / "a.json")
    assert [e["event"] for e in logs].count("watch.file_processed") == 3

    # the same content again, under another name, and the very same name: never processed twice
    drop(folder.root, "a-copy.json", encounters(1), done=True)
    drop(folder.root, "a.json", encounters(1), done=True)
    summary = Watcher(folder, ledger, handlers(stage), WatchSettings(settle=5)).once()
    assert len(stage.calls) == 3
    assert summary.count("duplicate") == 2 and summary.exit_code == 0
    assert q.inbound_file(ledger, hashlib.sha256(encounters(1)).hexdigest()).copies == 3
    assert os.listdir(folder.inbound) == []
    assert len(os.listdir(folder.archive)) == 4  # a-copy.json kept; the same name kept once


def test_a_file_still_being_written_is_not_taken(tmp_path: Path, ledger) -> None:
    folder = DropFolder(tmp_path / "drop").ensure()
    stage = Recorder()
    path = drop(folder.root, "big.json", b'{"encounters": [')
    stop = threading.Event()

    def writer() -> None:  # keeps appending, as a slow copy does
        with path.open("ab") as fh:
            while not stop.is_set():
                fh.write(b'{"encounter_id": "E1"},')
                fh.flush()
                time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        summary = Watcher(folder, ledger, handlers(stage), WatchSettings(settle=0.3)).once(
            max_wait=1.0
        )
    finally:
        stop.set()
        thread.join()
    assert stage.calls == [] and summary.incomplete == ["big.json"]
    assert q.inbound_files(ledger) == []
    with path.open("ab") as fh:
        fh.write(b'{"encounter_id": "E2"}]}')
    summary = Watcher(folder, ledger, handlers(stage), WatchSettings(settle=0.3)).once()
    assert [n for n, _, _ in stage.calls] == ["big.json"] and summary.incomplete == []
    assert (
        hashlib.sha256((folder.archive / "big.json").read_bytes()).hexdigest() == stage.hashes()[0]
    )


def test_failures_go_to_error_with_a_reason_and_are_retried_when_dropped_again(
    tmp_path: Path,
    ledger,
) -> None:
    folder = DropFolder(tmp_path / "drop").ensure()
    stage = Recorder(fail_on=b"E00002", raise_on=b"E00003")
    drop(folder.root, "bad.json", encounters(2), done=True)
    drop(folder.root, "broken.json", encounters(3), done=True)
    drop(folder.root, "mystery.txt", b"hello, world\n", done=True)
    drop(folder.root, "claims.837", x12("HC", "837", "005010X222A1"), done=True)
    summary = Watcher(folder, ledger, handlers(stage), WatchSettings(settle=5)).once()
    assert summary.count("failed") == 4 and summary.exit_code == 1
    assert sorted(os.listdir(folder.error)) == sorted(
        f"{n}{s}"
        for n in ("bad.json", "broken.json", "mystery.txt", "claims.837")
        for s in ("", ".reason.txt")
    )
    reason = (folder.error / "bad.json.reason.txt").read_text()
    assert "no transaction could be read" in reason and "bad.json" in reason
    assert "record 3 is not an object" in (folder.error / "broken.json.reason.txt").read_text()
    assert "not an X12" in (folder.error / "mystery.txt.reason.txt").read_text()
    assert "what we send" in (folder.error / "claims.837.reason.txt").read_text()
    for path in folder.error.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {r.state for r in q.inbound_files(ledger)} == {"failed"}
    assert len(stage.calls) == 2  # unroutable files never reach a stage

    # dropped again (say after a map fix): retried, and this time it works
    stage.fail_on = None
    drop(folder.root, "bad.json", encounters(2), done=True)
    summary = Watcher(folder, ledger, handlers(stage), WatchSettings(settle=5)).once()
    assert summary.count("processed") == 1
    row = q.inbound_file(ledger, hashlib.sha256(encounters(2)).hexdigest())
    assert row.state == "done" and row.attempts == 2
    assert (folder.archive / "bad.json").exists()


def test_a_file_claimed_by_a_live_watcher_is_left_to_it(tmp_path: Path, ledger) -> None:
    from datetime import UTC, datetime

    folder = DropFolder(tmp_path / "drop").ensure()
    stage = Recorder()
    data = encounters(7)
    drop(folder.root, "e.json", data, done=True)
    content_hash = hashlib.sha256(data).hexdigest()
    live = f"{socket.gethostname()}:{os.getppid()}:other"
    q.claim_inbound(
        ledger,
        content_hash,
        name="e.json",
        size=len(data),
        owner=live,
        now=datetime.now(UTC),
        lease_seconds=600,
    )
    summary = Watcher(folder, ledger, handlers(stage), WatchSettings(settle=5)).once(max_wait=0)
    assert summary.count("busy") == 1 and stage.calls == []
    assert (folder.inbound / "e.json").exists()

    # its owner dies: the next watcher takes it over at once
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with ledger.transaction():
        ledger.execute(
            "UPDATE inbound_files SET lease_owner = ? WHERE content_hash = ?",
            (f"{socket.gethostname()}:{child.pid}:gone", content_hash),
        )
    summary = Watcher(folder, ledger, handlers(stage), WatchSettings(settle=5)).once()
    assert summary.count("processed") == 1 and len(stage.calls) == 1
    assert q.inbound_file(ledger, content_hash).attempts == 2


@pytest.mark.parametrize("use_watchdog", [True, False], ids=["events", "polling"])
def test_run_picks_up_drops_and_stops_gracefully(
    tmp_path: Path,
    ledger,
    use_watchdog: bool,
) -> None:
    folder = DropFolder(tmp_path / "drop").ensure()
    stage = Recorder()
    settings = WatchSettings(settle=0.2, poll_interval=0.5, use_watchdog=use_watchdog)
    watcher = Watcher(folder, ledger, handlers(stage), settings)
    stop = threading.Event()
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("s", watcher.run(stop)))
    with capture_logs() as logs:
        thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        drop(folder.root, "late.835", x12("HP", "835", "005010X221A1"))
        while not stage.calls and time.monotonic() - started < 10:
            time.sleep(0.01)
        latency = time.monotonic() - started
        drop(folder.root, "marked.json", encounters(9), done=True)
        while len(stage.calls) < 2 and time.monotonic() - started < 10:
            time.sleep(0.01)
        stop.set()
        watcher.wake()
        thread.join(5)
    assert not thread.is_alive()
    assert [k for _, _, k in stage.calls] == ["remit", "encounters"]
    assert latency < 0.2 + 0.5 + 1.0  # settle + at most one poll interval + slack
    assert result["s"].count("processed") == 2
    started_event = next(e for e in logs if e["event"] == "watch.started")
    assert started_event["mode"] == ("events" if use_watchdog else "polling")
    assert logs[-1]["event"] == "watch.finished"
    assert q.inbound_files(ledger, "processing") == []


@pytest.mark.slow
def test_a_thousand_files_dropped_at_once_are_each_processed_once(tmp_path: Path, ledger) -> None:
    folder = DropFolder(tmp_path / "drop").ensure()
    stage = Recorder()
    watcher = Watcher(folder, ledger, handlers(stage), WatchSettings(settle=0.3, poll_interval=0.2))
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,))
    thread.start()
    started = time.monotonic()
    try:
        for n in range(1000):
            kind = n % 3
            data = (
                encounters(n)
                if kind == 0
                else x12("HP", "835", "005010X221A1").replace(b"000000103", f"{n:09d}".encode())
                if kind == 1
                else ACK999.replace(b"000000101", f"{n:09d}".encode())
            )
            drop(tmp_path / "drop", f"f{n:04d}.{['json', '835', '999'][kind]}", data)
        # a few copies of already-dropped content, under other names
        for n in range(0, 30, 3):
            drop(tmp_path / "drop", f"copy{n:04d}.json", encounters(n))
        while time.monotonic() - started < 55:
            if not os.listdir(folder.inbound):
                break
            time.sleep(0.1)
    finally:
        stop.set()
        watcher.wake()
        thread.join(10)
    elapsed = time.monotonic() - started
    assert os.listdir(folder.inbound) == [], f"left after {elapsed:.1f}s"
    assert len(stage.calls) == 1000 and len(set(stage.hashes())) == 1000
    assert len(q.inbound_files(ledger, "done")) == 1000
    assert len(os.listdir(folder.archive)) == 1010
    assert len(os.listdir(folder.outbound)) == 1000
    kinds = [k for _, _, k in stage.calls]
    assert kinds.count("encounters") == 334 and kinds.count("remit") == 333
    assert elapsed < 60
