"""Control numbers: per sender/receiver, taken inside the recording transaction, never reused."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from edi_pipeline.errors import LedgerError
from edi_pipeline.ledger import interchanges
from edi_pipeline.ledger.interchanges import INTERCHANGE


def take(ledger, sender="SUB", receiver="RCV"):
    with ledger.transaction():
        return interchanges.next_control_number(ledger, sender, receiver, INTERCHANGE)


def test_sequences_are_per_sender_and_receiver(ledger):
    assert [take(ledger) for _ in range(3)] == [1, 2, 3]
    assert take(ledger, receiver="OTHER") == 1
    assert take(ledger, sender="SUB2") == 1
    assert take(ledger) == 4
    assert interchanges.last_control_number(ledger, "SUB", "RCV", INTERCHANGE) == 4


def test_a_rolled_back_transaction_gives_its_number_back(ledger):
    take(ledger)
    with pytest.raises(RuntimeError), ledger.transaction():
        assert interchanges.next_control_number(ledger, "SUB", "RCV", INTERCHANGE) == 2
        raise RuntimeError("crash before the interchange was recorded")
    assert take(ledger) == 2


def test_numbers_are_only_taken_inside_a_transaction(ledger):
    with pytest.raises(LedgerError, match="inside the transaction"):
        interchanges.next_control_number(ledger, "SUB", "RCV", INTERCHANGE)
    with pytest.raises(LedgerError, match="inside the transaction"):
        interchanges.next_line_control_numbers(ledger, 3)


def test_line_control_numbers_are_one_global_sequence(ledger):
    with ledger.transaction():
        a = interchanges.next_line_control_numbers(ledger, 3)
        b = interchanges.next_line_control_numbers(ledger, 2)
        assert interchanges.next_line_control_numbers(ledger, 0) == []
    assert a + b == [interchanges.format_line_control_number(n) for n in range(1, 6)]


def test_gaps_are_recorded_with_their_reason(ledger):
    with ledger.transaction():
        n = interchanges.next_control_number(ledger, "SUB", "RCV", INTERCHANGE)
        interchanges.record_gap(ledger, "SUB", "RCV", INTERCHANGE, n, "file lost", "2026-01-01")
    [gap] = interchanges.gaps(ledger, "SUB", "RCV")
    assert (gap["value"], gap["reason"]) == (1, "file lost")


def _worker(args: tuple[str, str, int, str | None]) -> list[int]:
    backend, tmp, count, location = args
    from tests.ledger.conftest import open_backend

    led = open_backend(backend, Path(tmp), location)
    try:
        return [take(led) for _ in range(count)]
    finally:
        led.close()


@pytest.mark.slow
def test_concurrent_processes_never_share_or_skip_a_number(backend, ledger, tmp_path, location):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(_worker, [(backend, str(tmp_path), 40, location)] * 4)
    taken = sorted(n for part in results for n in part)
    assert taken == list(range(1, 161))
