"""The PostgreSQL ledger: the scale-out backend, many workers on many hosts sharing one ledger.

Same interface and the same stage SQL as SQLite (``base.py``): ``?`` placeholders are rewritten
to psycopg's ``%s`` here (outside quotes; a literal ``%`` is doubled), rows answer both by name
and by position, and the migrations are the same modules with the ``{id}`` token spelled as an
identity column.

Concurrency. The connection is in autocommit mode; ``transaction()`` opens a real transaction
(READ COMMITTED). SQLite serialises every writer with ``BEGIN IMMEDIATE``; PostgreSQL does not,
so the read-then-write steps that need it take row locks instead: a control-number sequence is
advanced with ``UPDATE … RETURNING`` (the row lock is held until the interchange that uses the
number commits, so numbers stay gap-free per sender/receiver), and work is claimed with
``SELECT … FOR UPDATE SKIP LOCKED`` (``lock_skip``), so a worker passes over a row another
worker holds instead of queueing behind it. Migrations run under a session advisory lock so that
workers starting together apply each one once.

The URL may carry a password; ``location`` never does (it is what messages print).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import structlog

from edi_pipeline.errors import LedgerError
from edi_pipeline.ledger.base import LedgerMixin, Params

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the PostgreSQL ledger needs psycopg 3: pip install 'edi-pipeline[postgres]'"
    ) from exc

log = structlog.get_logger()

#: key of the advisory lock that serialises migrations across processes ("edi-ledger")
MIGRATION_LOCK = 0x6564_692D_6C65_6467 & 0x7FFF_FFFF_FFFF_FFFF
#: key of the ledger-wide writer lock: every write transaction holds it shared, an exclusive
#: transaction (``transaction(exclusive=True)``) holds it alone
WRITER_LOCK = MIGRATION_LOCK - 1
#: how long a statement may wait for a lock before the ledger reports it (ms)
LOCK_TIMEOUT_MS = 30_000


class PgRow(tuple):
    """A row that reads like ``sqlite3.Row``: by position, by column name, and ``keys()``."""

    __slots__ = ()
    _names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names.index(key))
            except ValueError:
                raise IndexError(f"no such column: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())
    row_type = type("Row", (PgRow,), {"__slots__": (), "_names": names})

    def make(values: Sequence[Any]) -> PgRow:
        return row_type(values)

    return make


_PLACEHOLDER_SCAN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|\?|%")


def translate(sql: str) -> str:
    """Portable SQL → psycopg: ``?`` → ``%s`` and ``%`` → ``%%``, except inside quotes or
    comments."""

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        return text

    return _PLACEHOLDER_SCAN.sub(swap, sql)


def _param(value: Any) -> Any:
    """Bind values as SQLite would store them: the schema's columns are TEXT and INTEGER."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def redact(url: str) -> str:
    """The URL without its password (for messages and ``location``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[-1]}"))


class PostgresLedger(LedgerMixin):
    dialect = "postgresql"
    #: appended to a claiming SELECT: take the row or pass over it if another worker holds it
    lock_skip = " FOR UPDATE SKIP LOCKED"
    #: appended to a SELECT that must read-then-write the row under its lock
    lock_wait = " FOR UPDATE"

    def __init__(self, conn: psycopg.Connection[Any], url: str):
        self._conn = conn
        self.url = url
        self.location = redact(url)
        self._depth = 0
        self._exclusive = False

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> PostgresLedger:
        """Connect to the ledger database at ``url`` and bring its schema up to date."""
        try:
            conn = psycopg.connect(url, autocommit=True, row_factory=_row_factory)
            conn.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
        except psycopg.Error as exc:
            raise LedgerError(
                f"cannot open the ledger {redact(url)}: {_first_line(exc)}", code="ledger_open"
            ) from exc
        ledger = cls(conn, url)
        if migrate:
            from edi_pipeline.ledger.migrations import migrate as run_migrations

            try:
                conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
                try:
                    run_migrations(ledger)
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
            except BaseException:
                ledger.close()
                raise
        return ledger

    @property
    def connection(self) -> psycopg.Connection[Any]:
        return self._conn

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator[PostgresLedger]:
        """A write transaction. It holds the ledger-wide writer lock shared (writers run side by
        side) or, with ``exclusive``, alone: such a transaction starts once every running
        writer has finished and keeps new ones waiting until it ends (SQLite's behaviour for
        every transaction; here only for the few steps that need it)."""
        if self._depth:
            if exclusive and not self._exclusive:
                raise LedgerError("an exclusive transaction cannot join a shared one")
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        try:  # one round trip: a transaction starts for every write, so it counts
            self._conn.execute(f"BEGIN; SELECT {lock}({int(WRITER_LOCK)})")
        except psycopg.Error as exc:
            self._rollback()
            raise LedgerError(f"cannot start a transaction on {self.location}: {exc}") from exc
        self._depth = 1
        self._exclusive = exclusive
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        try:
            self._conn.execute("COMMIT")
        except psycopg.Error as exc:
            self._rollback()
            raise LedgerError(f"commit failed on {self.location}: {_first_line(exc)}") from exc

    def _rollback(self) -> None:
        self.lookups.clear()
        try:
            self._conn.execute("ROLLBACK")
        except psycopg.Error:  # the connection is gone: the server rolled it back
            log.warning("ledger.rollback_failed", location=self.location)

    def execute(self, sql: str, params: Params = ()) -> Any:
        try:
            return self._conn.execute(translate(sql), tuple(_param(p) for p in params))
        except pg_errors.IntegrityError as exc:
            raise LedgerError(
                f"ledger constraint failed: {_first_line(exc)}", code="ledger_integrity"
            ) from exc
        except psycopg.Error as exc:
            raise LedgerError(f"ledger query failed: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
