"""The build queue on both backends: claims taken in batches under leases, each row by one
worker at a time, a dead or expired worker's rows taken over, poison rows failed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from edi_pipeline.ledger import build_queue as q

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
OTHER_HOST = "build-host-7.example:4242:deadbeef"  # not this host: only its lease says it's gone


def items(n: int, start: int = 0, payload: str = "{}") -> list[q.Enqueue]:
    return [
        q.Enqueue(f"E{i:04d}", "1", "clearinghouse", payload, f"h{i}", "exp.json", i)
        for i in range(start, start + n)
    ]


def take(led, owner: str, limit: int = 10, now=NOW, lease: float = 60.0) -> list[q.Queued]:
    return q.take(led, owner=owner, now=now, lease_seconds=lease, limit=limit, practice="P")


def test_batches_are_taken_oldest_first_and_never_twice(ledger):
    assert q.enqueue(ledger, "P", items(25), NOW) == 25
    first = take(ledger, "me:1:a")
    second = take(ledger, OTHER_HOST)
    assert [r.encounter_id for r in first] == [f"E{i:04d}" for i in range(10)]
    assert {r.id for r in first}.isdisjoint({r.id for r in second})
    assert len(take(ledger, "me:1:b", limit=100)) == 5
    assert take(ledger, "me:1:c") == []  # every row leased to a live worker
    assert q.counts(ledger) == {"waiting": 0, "leased": 25, "done": 0, "failed": 0}


def test_another_practice_queue_is_not_taken(ledger):
    q.enqueue(ledger, "OTHER", items(3), NOW)
    assert take(ledger, "me:1:a") == []


def test_finish_is_only_for_the_lease_holder(ledger):
    q.enqueue(ledger, "P", items(2), NOW)
    rows = take(ledger, OTHER_HOST)
    done = [(r.id, "built", "000000001") for r in rows]
    assert q.finish(ledger, done, owner="me:1:a", now=NOW) == 0
    assert q.finish(ledger, done, owner=OTHER_HOST, now=NOW) == 2
    assert q.entry(ledger, "P", "E0000", "1")["isa13"] == "000000001"
    assert q.counts(ledger)["done"] == 2


def test_an_expired_lease_is_taken_over_a_live_one_is_not(ledger):
    q.enqueue(ledger, "P", items(3), NOW)
    take(ledger, OTHER_HOST, lease=60)
    assert take(ledger, "me:1:a", now=NOW + timedelta(seconds=30)) == []
    taken = take(ledger, "me:1:a", now=NOW + timedelta(seconds=61))
    assert len(taken) == 3 and {r.attempts for r in taken} == {1}  # attempts before this take


def test_a_dead_worker_on_this_host_is_taken_over_at_once(ledger):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    q.enqueue(ledger, "P", items(2), NOW)
    take(ledger, f"{socket.gethostname()}:{dead.pid}:0000", lease=3600)
    assert len(take(ledger, f"{socket.gethostname()}:{os.getpid()}:me")) == 2


def test_a_row_that_keeps_killing_its_builders_is_failed(ledger):
    q.enqueue(ledger, "P", items(1), NOW)
    at = NOW
    for _ in range(q.MAX_ATTEMPTS):
        assert len(take(ledger, OTHER_HOST, now=at, lease=1)) == 1
        at += timedelta(seconds=2)
    assert take(ledger, "me:1:a", now=at) == []
    entry = q.entry(ledger, "P", "E0000", "1")
    assert entry["state"] == "failed" and "never finished" in entry["reason"]


def test_enqueue_again_refreshes_a_waiting_row_leaves_a_leased_one_requeues_a_done_one(ledger):
    q.enqueue(ledger, "P", items(3), NOW)
    (leased,) = take(ledger, OTHER_HOST, limit=1)
    q.finish(ledger, [(leased.id, "rejected", None)], owner=OTHER_HOST, now=NOW)
    (leased2,) = take(ledger, OTHER_HOST, limit=1)
    # E0000 done (rejected), E0001 leased, E0002 waiting
    assert q.enqueue(ledger, "P", items(3, payload='{"v":2}'), NOW) == 2
    rows = {r.encounter_id: r for r in take(ledger, "me:1:a", limit=10)}
    assert set(rows) == {"E0000", "E0002"} and rows["E0002"].payload == '{"v":2}'
    assert rows["E0000"].attempts == 0  # queued afresh
    assert q.entry(ledger, "P", leased2.encounter_id, "1")["state"] == "ready"


def test_release_gives_a_workers_rows_back(ledger):
    q.enqueue(ledger, "P", items(4), NOW)
    take(ledger, OTHER_HOST)
    assert q.release(ledger, OTHER_HOST) == 4
    assert len(take(ledger, "me:1:a")) == 4


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_rows_locked_by_a_taker_are_skipped_not_waited_for(ledger, reopen):
    q.enqueue(ledger, "P", items(6), NOW)
    holder = reopen()
    with holder.transaction():
        held = holder.query(
            "SELECT id FROM build_queue ORDER BY id LIMIT 3 FOR UPDATE"
        )  # another worker mid-take
        started = time.monotonic()
        taken = take(ledger, "me:1:a")
        assert time.monotonic() - started < 2
        assert {r.id for r in taken}.isdisjoint({r["id"] for r in held}) and len(taken) == 3
