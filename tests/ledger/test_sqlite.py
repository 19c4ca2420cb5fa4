"""The SQLite backend itself: a private WAL file, the write lock, and where the ledger is."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from edi_pipeline.errors import LedgerError, SettingsError
from edi_pipeline.ledger import ENV_VAR, ledger_spec, open_ledger
from edi_pipeline.ledger.sqlite import SqliteLedger


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o002])
def test_file_is_private_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = tmp_path / "deep" / "er" / "ledger.sqlite"
        with SqliteLedger.open(path) as led, led.transaction():
            led.execute("INSERT INTO practices (key, created_at) VALUES ('P', 'now')")
        assert mode(path) == 0o600
        assert mode(path.parent) == 0o700
        wal = path.with_name(path.name + "-wal")
        for extra in (wal, path.with_name(path.name + "-shm")):
            if extra.exists():
                assert mode(extra) & 0o077 == 0, extra
    finally:
        os.umask(old)


def test_an_existing_loose_file_is_tightened(tmp_path):
    path = tmp_path / "ledger.sqlite"
    path.touch(mode=0o644)
    path.chmod(0o644)
    SqliteLedger.open(path).close()
    assert mode(path) == 0o600


def test_journal_is_wal(tmp_path):
    with SqliteLedger.open(tmp_path / "l.sqlite") as led:
        assert led.query_one("PRAGMA journal_mode")[0] == "wal"


def test_a_writer_holds_the_lock_from_begin(tmp_path):
    """BEGIN IMMEDIATE: a second writer cannot even start while the first is open."""
    path = tmp_path / "l.sqlite"
    with SqliteLedger.open(path) as first, SqliteLedger.open(path) as second:
        second.connection.execute("PRAGMA busy_timeout = 50")
        with first.transaction():
            with (
                pytest.raises(LedgerError, match="cannot start a transaction"),
                second.transaction(),
            ):
                pass
            # readers are not blocked (WAL)
            assert second.query("SELECT id FROM migrations") != []
        with second.transaction():
            pass


def test_cannot_open_a_folder(tmp_path):
    with pytest.raises(LedgerError, match="cannot open the ledger"):
        SqliteLedger.open(tmp_path)


def test_where_the_ledger_is(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert ledger_spec() == str(tmp_path / "edi-out" / "ledger.sqlite")
    assert ledger_spec(configured="/cfg.sqlite") == "/cfg.sqlite"
    monkeypatch.setenv(ENV_VAR, "/env.sqlite")
    assert ledger_spec(configured="/cfg.sqlite") == "/env.sqlite"
    assert ledger_spec("/opt.sqlite", configured="/cfg.sqlite") == "/opt.sqlite"


def test_open_ledger_default_and_bad_specs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    led = open_ledger()
    led.close()
    assert (tmp_path / "edi-out" / "ledger.sqlite").is_file()
    with pytest.raises(SettingsError, match="postgresql:// URL"):
        open_ledger("mysql://x/y")
