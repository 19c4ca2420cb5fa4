"""The SQLite ledger: one file, WAL journal, real transactions; the single-machine default.

The file holds PHI (encounter ids tied to payers and dates), so it is created 0600 in a 0700
folder whatever the umask; SQLite creates its ``-wal`` and ``-shm`` files with the database
file's mode. Writers take the lock at the start of their transaction (``BEGIN IMMEDIATE``) so a
read-then-write (allocate a control number, record what uses it) can never interleave with
another process's; readers are not blocked (WAL).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline.errors import LedgerError
from edi_pipeline.ledger.base import LedgerMixin, Params

log = structlog.get_logger()

#: how long a writer waits for another process's transaction before giving up
BUSY_TIMEOUT_MS = 30_000


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) 0700 whatever the umask; tighten it if it exists
    and we own it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = path.stat()
    if st.st_uid == os.getuid() and (st.st_mode & 0o777) != 0o700:
        path.chmod(0o700)


class SqliteLedger(LedgerMixin):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self._conn = conn
        self.path = path
        self.location = str(path)
        self._depth = 0

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, migrate: bool = True) -> SqliteLedger:
        """Open (creating if need be) the ledger at ``path`` and bring its schema up to date."""
        path = Path(path)
        try:
            private_dir(path.parent)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                os.fchmod(fd, 0o600)
            finally:
                os.close(fd)
            conn = sqlite3.connect(
                path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"cannot open the ledger {path}: {exc}", code="ledger_open") from exc
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise LedgerError(f"the ledger {path} cannot use WAL (journal mode {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            conn.close()
            raise LedgerError(f"cannot open the ledger {path}: {exc}", code="ledger_open") from exc
        ledger = cls(conn, path)
        if migrate:
            from edi_pipeline.ledger.migrations import migrate as run_migrations

            try:
                run_migrations(ledger)
            except BaseException:
                ledger.close()
                raise
        return ledger

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator[SqliteLedger]:
        """``exclusive`` is what every SQLite write transaction is anyway (BEGIN IMMEDIATE)."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot start a transaction on {self.path}: {exc}") from exc
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self.lookups.clear()
            self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self.lookups.clear()
            self._conn.execute("ROLLBACK")
            raise LedgerError(f"commit failed on {self.path}: {exc}") from exc

    def execute(self, sql: str, params: Params = ()) -> Any:
        try:
            return self._conn.execute(sql, tuple(params))
        except sqlite3.IntegrityError as exc:
            raise LedgerError(f"ledger constraint failed: {exc}", code="ledger_integrity") from exc
        except sqlite3.Error as exc:
            raise LedgerError(f"ledger query failed: {exc}") from exc
