"""The ``ledger`` fixture: a fresh, migrated ledger per test, one per backend.

Tests in this folder are written against the ``Ledger`` interface only, so a new backend joins by
adding its name to ``BACKENDS`` and a branch in ``open_backend`` (the PostgreSQL backend adds a
server fixture and ``postgres``-marked params).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edi_pipeline.ledger.base import Ledger

BACKENDS = [pytest.param("sqlite", id="sqlite")]


def open_backend(backend: str, tmp_path: Path) -> Ledger:
    if backend == "sqlite":
        from edi_pipeline.ledger.sqlite import SqliteLedger

        return SqliteLedger.open(tmp_path / "ledger" / "ledger.sqlite")
    raise AssertionError(f"unknown ledger backend {backend}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def ledger(backend: str, tmp_path: Path) -> Iterator[Ledger]:
    opened = open_backend(backend, tmp_path)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def reopen(backend: str, tmp_path: Path):
    """Open another connection to the same ledger (another process's view)."""
    opened: list[Ledger] = []

    def _reopen() -> Ledger:
        led = open_backend(backend, tmp_path)
        opened.append(led)
        return led

    yield _reopen
    for led in opened:
        led.close()
