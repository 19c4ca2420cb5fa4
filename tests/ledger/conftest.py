"""The ``ledger`` fixture: a fresh, migrated ledger per test, one per backend.

Tests in this folder are written against the ``Ledger`` interface only, so every test runs on
SQLite (one file) and on PostgreSQL (a real server started for the session on a free loopback
port, a fresh database per test; ``postgres``-marked).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edi_pipeline.ledger.base import Ledger

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def open_backend(backend: str, tmp_path: Path, location: str | None = None) -> Ledger:
    if backend == "sqlite":
        from edi_pipeline.ledger.sqlite import SqliteLedger

        return SqliteLedger.open(tmp_path / "ledger" / "ledger.sqlite")
    if backend == "postgresql":
        from edi_pipeline.ledger.postgres import PostgresLedger

        assert location is not None
        return PostgresLedger.open(location)
    raise AssertionError(f"unknown ledger backend {backend}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def location(backend: str, request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL database URL of this test (None for SQLite, which uses tmp_path)."""
    if backend != "postgresql":
        return None
    from tests.pgserver import fresh_database

    return fresh_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def ledger(backend: str, tmp_path: Path, location: str | None) -> Iterator[Ledger]:
    opened = open_backend(backend, tmp_path, location)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def reopen(backend: str, tmp_path: Path, location: str | None):
    """Open another connection to the same ledger (another process's view)."""
    opened: list[Ledger] = []

    def _reopen() -> Ledger:
        led = open_backend(backend, tmp_path, location)
        opened.append(led)
        return led

    yield _reopen
    for led in opened:
        led.close()
