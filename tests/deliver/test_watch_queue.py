"""The build queue through the watcher (SQLite, in-process): an export's claims are queued and
built; a ``once`` watcher that finds a file in another live worker's hands builds that worker's
queued claims until the file is done, then returns."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import jsonschema

from edi_pipeline.app.build import ToBuild, default_validator
from edi_pipeline.app.build_queue import drain, enqueue_claims
from edi_pipeline.app.outbound import default_code, default_read
from edi_pipeline.app.watch import WatchOptions, build_queued, watch_folder
from edi_pipeline.ledger import build_queue
from edi_pipeline.ledger import delivery as q
from edi_pipeline.ledger.sqlite import SqliteLedger
from edi_pipeline.maps import load_maps
from edi_pipeline.models import Encounter
from edi_pipeline.practice import load_practice
from edi_pipeline.watch import DropFolder, Watcher, WatchSettings
from tests.build.conftest import report_schema
from tests.scale.workload import encounters


def export(path: Path, count: int, prefix: str) -> bytes:
    data = json.dumps({"encounters": encounters(count, prefix=prefix)}).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def test_an_export_is_built_through_the_queue(tmp_path: Path) -> None:
    folder = DropFolder(tmp_path / "drop").ensure()
    export(folder.inbound / "e.json", 12, "WQ")
    ledger_path = tmp_path / "ledger.sqlite"
    summary = watch_folder(
        WatchOptions(folder.root, once=True, settle=0, polling=True),
        ledger_spec=str(ledger_path),
    )
    (outcome,) = summary.files
    assert outcome.status == "processed"
    assert outcome.summary["built"] == 12 and outcome.summary["queued"] == 0
    with SqliteLedger.open(ledger_path) as led:
        assert build_queue.counts(led) == {"waiting": 0, "leased": 0, "done": 12, "failed": 0}
        rows = led.query("SELECT DISTINCT outcome, isa13, payload FROM build_queue")
        # built once, and the claim (patient data) no longer kept once built
        assert [tuple(r) for r in rows] == [("built", "000000001", "")]
    report = json.loads((folder.outbound / "report.json").read_text())
    jsonschema.validate(report, report_schema())  # the published shape, queue mode or not
    assert report["queued"] == [] and len(report["claims"]) == 12


def test_leases_are_taken_on_the_real_clock_whatever_the_run_is_stamped(tmp_path: Path) -> None:
    """A reader whose file has been in hand for long (its ``now`` is old) must still hold a
    lease that lasts from the moment it takes the batch, or another worker would take the
    batch while it is built."""
    maps, practice = load_maps(), load_practice(None)
    long_ago = datetime.now(UTC) - timedelta(seconds=3600)
    leases: list[str] = []
    with SqliteLedger.open(tmp_path / "ledger.sqlite") as led:
        data = export(tmp_path / "e.json", 3, "LC")
        assert data
        items = [
            ToBuild(default_code(e, maps).claim, e.record_hash, "e.json", e.source.record)
            for e in default_read(tmp_path / "e.json", maps)
            if isinstance(e, Encounter)
        ]
        enqueue_claims(led, practice, items, long_ago)

        def validator(paths, processes, today):
            leases.extend(r[0] for r in led.query("SELECT lease_until FROM build_queue"))
            return default_validator(paths, processes, today)

        drained = drain(
            led,
            practice,
            maps.payers,
            out_dir=tmp_path / "out",
            owner="me:1:a",
            now=lambda: long_ago,
            validator=validator,
        )
    assert [c.status for c in drained.claims] == ["built"] * 3
    real_now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert leases and all(lease > real_now for lease in leases)


def test_a_once_watcher_helps_build_what_a_live_worker_queued(tmp_path: Path) -> None:
    folder = DropFolder(tmp_path / "drop").ensure()
    data = export(folder.inbound / "big.json", 30, "HQ")
    content_hash = hashlib.sha256(data).hexdigest()
    maps, practice = load_maps(), load_practice(None)
    now = datetime.now(UTC)
    led = SqliteLedger.open(tmp_path / "ledger.sqlite")
    try:
        # another worker (alive: this test's parent process) holds the file and has queued it
        other = f"{socket.gethostname()}:{os.getppid()}:reader"
        q.claim_inbound(
            led, content_hash, name="big.json", size=len(data), owner=other, now=now,
            lease_seconds=600,
        )  # fmt: skip
        items = [
            ToBuild(default_code(e, maps).claim, e.record_hash, "big.json", e.source.record)
            for e in default_read(folder.inbound / "big.json", maps)
            if isinstance(e, Encounter)
        ]
        enqueue_claims(led, practice, items, now)

        def reader_finishes_when_the_queue_is_built() -> None:
            with SqliteLedger.open(tmp_path / "ledger.sqlite") as mine:
                deadline = time.monotonic() + 60
                while build_queue.counts(mine)["done"] < 30 and time.monotonic() < deadline:
                    time.sleep(0.05)
                q.finish_inbound(
                    mine, content_hash, owner=other, state="done", kind="encounters", now=now
                )
                (folder.inbound / "big.json").unlink()

        reader = threading.Thread(target=reader_finishes_when_the_queue_is_built)
        reader.start()
        watcher = Watcher(folder, led, {}, WatchSettings(settle=0, use_watchdog=False))
        watcher.idle = partial(build_queued, watcher, practice)
        summary = watcher.once(max_wait=0)
        reader.join(60)
        assert summary.count("busy") == 1
        done = led.query("SELECT finished_by, COUNT(*) AS n FROM build_queue GROUP BY 1")
        assert [(r["finished_by"], r["n"]) for r in done] == [(watcher.owner, 30)]
        assert len(list(folder.outbound.glob("*.837"))) == 1
    finally:
        led.close()


def test_an_encounter_twice_in_one_export_is_built_once_and_the_copy_rejected(
    tmp_path: Path,
) -> None:
    folder = DropFolder(tmp_path / "drop").ensure()
    records = encounters(3, prefix="DQ")
    (folder.inbound / "e.json").write_text(json.dumps({"encounters": [*records, records[1]]}))
    summary = watch_folder(
        WatchOptions(folder.root, once=True, settle=0, polling=True),
        ledger_spec=str(tmp_path / "ledger.sqlite"),
    )
    (outcome,) = summary.files
    assert (outcome.summary["built"], outcome.summary["rejected"]) == (3, 1)
    report = json.loads((folder.outbound / "report.json").read_text())
    (rejection,) = report["rejected"]
    assert rejection["encounter_id"] == "DQ00001" and rejection["record"] == 3
    assert "appears earlier" in rejection["errors"][0]["message"]
