"""Claiming work with leases, on both backends: inbound files and interchanges to deliver.

A row another worker holds is passed over (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, no waiting),
an expired lease of a worker on another host is taken over, a live one is not, and two builders
of one claim key are serialised (PostgreSQL: advisory lock per key).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from edi_pipeline.errors import LedgerError
from edi_pipeline.ledger import claims, delivery, interchanges
from edi_pipeline.ledger.claims import ClaimKey

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
OTHER_HOST = "build-host-7.example:4242:deadbeef"  # not this host: only its lease says it's gone


def claim(led, owner, now=NOW, lease=60.0, content="c" * 64):
    return delivery.claim_inbound(
        led, content, name="x.json", size=10, owner=owner, now=now, lease_seconds=lease
    )


def test_a_live_lease_on_another_host_is_busy_an_expired_one_is_taken(ledger):
    outcome, _ = claim(ledger, OTHER_HOST)
    assert outcome == "claimed"
    outcome, row = claim(ledger, "me:1:a", now=NOW + timedelta(seconds=30))
    assert (outcome, row.owner) == ("busy", OTHER_HOST)
    outcome, row = claim(ledger, "me:1:a", now=NOW + timedelta(seconds=61))
    assert (outcome, row.owner, row.attempts) == ("claimed", "me:1:a", 2)
    # the first owner comes back after its lease: it may not finish what is no longer its own
    assert not delivery.finish_inbound(
        ledger, "c" * 64, owner=OTHER_HOST, state="done", kind="encounters", now=NOW
    )


def test_content_is_claimed_once_by_many_connections(ledger, reopen):
    others = [reopen() for _ in range(3)]
    outcomes = [claim(led, f"{OTHER_HOST}{i}")[0] for i, led in enumerate([ledger, *others])]
    assert outcomes == ["claimed", "busy", "busy", "busy"]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_row_locked_by_another_worker_is_passed_over_not_waited_for(ledger, reopen):
    claim(ledger, OTHER_HOST, lease=0)  # claimed, lease already over: free to take
    holder = reopen()
    with holder.transaction():
        holder.query("SELECT * FROM inbound_files WHERE content_hash = ? FOR UPDATE", ("c" * 64,))
        started = time.monotonic()
        outcome, _ = claim(ledger, "me:1:a", now=NOW + timedelta(seconds=5))
        assert time.monotonic() - started < 2  # no waiting on the lock
        assert outcome == "busy"
    outcome, _ = claim(ledger, "me:1:a", now=NOW + timedelta(seconds=5))
    assert outcome == "claimed"


def _interchange(led) -> delivery.OutgoingInterchange:
    with led.transaction():
        n = interchanges.next_control_number(led, "S", "R", interchanges.INTERCHANGE)
        iid = interchanges.record_interchange(
            led,
            practice="P1",
            file="/x.837",
            sender="S",
            receiver="R",
            isa13=f"{n:09d}",
            gs06=str(n),
            usage="T",
            claims=0,
            at=NOW,
        )
    item = delivery.interchange(led, iid)
    assert item is not None
    return item


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_interchange_being_claimed_elsewhere_is_skipped(ledger, reopen):
    item = _interchange(ledger)
    holder = reopen()
    kw = dict(destination="folder:/out", remote_name="a.837", size=1, lease_seconds=60)
    with holder.transaction():
        holder.query("SELECT id FROM interchanges WHERE id = ? FOR UPDATE", (item.id,))
        started = time.monotonic()
        assert delivery.start_sending(ledger, item, owner="me:1:a", now=NOW, **kw) is None
        assert time.monotonic() - started < 2
    taken = delivery.start_sending(ledger, item, owner="me:1:a", now=NOW, **kw)
    assert taken is not None and taken.owner == "me:1:a" and taken.status == "sending"
    # a live lease on another host keeps it from a second sender
    assert delivery.start_sending(ledger, taken, owner=OTHER_HOST, now=NOW, **kw) is None


def test_claim_keys_are_locked_only_inside_a_transaction(ledger):
    key = ClaimKey("P1", "E1", "1")
    if ledger.dialect == "sqlite":
        claims.lock_for_build(ledger, [key])  # the writer lock already serialises builders
        return
    with pytest.raises(LedgerError):
        claims.lock_for_build(ledger, [key])


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_second_builder_of_a_claim_waits_for_the_first(ledger, reopen):
    key = ClaimKey("P1", "E1", "1")
    other = reopen()
    order: list[str] = []

    def second() -> None:
        with other.transaction():
            claims.lock_for_build(other, [key])
            order.append("second")

    with ledger.transaction():
        claims.lock_for_build(ledger, [key, ClaimKey("P1", "E0", "1")])
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]


def test_an_exclusive_transaction_is_a_transaction(ledger):
    with ledger.transaction(exclusive=True):
        claims.ensure_practice(ledger, "P1", NOW)
        with ledger.transaction():  # a nested one joins it
            claims.ensure_practice(ledger, "P2", NOW)
    assert claims.practice_id(ledger, "P2") is not None
