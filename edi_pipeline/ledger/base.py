"""The ledger interface every backend implements, and the behaviour they share.

The ledger is the pipeline's memory: which encounters were built into which claims, which
interchange carries which claim at which segment positions, every status a claim went through,
and the control-number sequences. It is a ``Protocol`` so that the SQLite backend (one machine)
and the PostgreSQL backend (scale-out) run one shared test suite.

Portable SQL
    Stage queries (``claims.py``, ``interchanges.py`` and the modules other stages add beside
    them) are written once, for both engines: ``TEXT``/``INTEGER`` columns, ``?`` placeholders
    (a backend that uses another parameter style translates them), ``INSERT … RETURNING``,
    ``INSERT … ON CONFLICT … DO NOTHING``, no engine-specific functions. Times are ISO 8601 UTC
    text (``2026-11-23T10:00:00Z``), money is a decimal string, never a float.

Transactions
    ``with ledger.transaction():`` on SQLite takes the write lock at once (``BEGIN IMMEDIATE``),
    so two writers never interleave. PostgreSQL lets writers run side by side (that is the point
    of it), so a read-then-write that must not interleave locks what it reads: a row
    (``FOR UPDATE``, or ``lock_skip`` to pass over rows other workers hold), a claim key
    (``claims.lock_for_build``), or the whole ledger (``transaction(exclusive=True)``). A nested
    ``transaction()`` joins the outer one. Statements run outside a transaction are committed
    one by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

Row = Any  # a mapping-and-sequence row (sqlite3.Row; psycopg dict_row)
Params = Sequence[Any]


@runtime_checkable
class Ledger(Protocol):
    """What stages need from a ledger backend."""

    #: "sqlite" or "postgresql": lets a migration or query choose a spelling when it must.
    dialect: str

    #: where it lives, for messages (a path, or a URL without its password)
    location: str

    @property
    def connection(self) -> Any:
        """The underlying DB-API connection, for ad hoc queries (tests, reports)."""

    @property
    def lookups(self) -> dict[Any, Any]:
        """Per-connection cache of rows that never change once they exist."""

    def transaction(self, *, exclusive: bool = False) -> AbstractContextManager[Ledger]:
        """One write transaction; commits on success, rolls back on any exception.

        ``exclusive``: no other write transaction runs meanwhile (SQLite: always so; PostgreSQL
        takes the ledger-wide writer lock in exclusive mode instead of shared), for a step that
        must see every other writer's work committed, such as sweeping orphaned staged files."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, params: Params = ()) -> Any:
        """Run one portable statement (``?`` placeholders); returns a cursor."""

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a portable query."""

    def query_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row, or None."""

    def close(self) -> None: ...

    # Conveniences every backend gets from LedgerMixin (implemented in claims/interchanges).
    def record_status(
        self,
        claim_key: Any,
        status: str,
        at: Any,
        source: str | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None: ...


class LedgerMixin:
    """Behaviour shared by every backend, written over ``execute``/``query``.

    The functions live in the stage modules (``ledger/claims.py``, ``ledger/interchanges.py``)
    so that stages can add their own modules; these methods are the short spellings the brief
    promises (``ledger.record_status(...)``, ``ledger.claim_by_encounter(...)`` …).
    """

    _conn: Any  # the backend's open DB-API connection
    location: str  # where the ledger is, safe to print (no password)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    @property
    def lookups(self) -> dict[Any, Any]:
        """Per-connection cache of rows that never change once they exist (practice ids), to
        spare a round trip per claim. A transaction that rolls back clears it: a row it
        created, and cached, is gone."""
        cache = self.__dict__.get("_lookups")
        if cache is None:
            cache = self.__dict__["_lookups"] = {}
        return cache

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        return list(self.execute(sql, params).fetchall())  # type: ignore[attr-defined]

    def query_one(self, sql: str, params: Params = ()) -> Row | None:
        return self.execute(sql, params).fetchone()  # type: ignore[attr-defined]

    def record_status(
        self,
        claim_key: Any,
        status: str,
        at: Any,
        source: str | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Set a claim's status and append it to its history (see ``claims.record_status``)."""
        from edi_pipeline.ledger import claims

        claims.record_status(
            self,  # type: ignore[arg-type]
            claim_key,
            status,
            at,
            source=source,
            code=code,
            message=message,
        )

    def claim_by_encounter(
        self, encounter_id: str, practice: str | None = None, frequency: str | None = None
    ) -> Any:
        from edi_pipeline.ledger import claims

        return claims.claim_by_encounter(self, encounter_id, practice, frequency)  # type: ignore[arg-type]

    def line_by_control_number(self, line_control_number: str) -> Any:
        from edi_pipeline.ledger import claims

        return claims.line_by_control_number(self, line_control_number)  # type: ignore[arg-type]

    def claims_by_control(self, isa13: str | None, st02: str | None = None, **kw: Any) -> Any:
        from edi_pipeline.ledger import interchanges

        return interchanges.claims_by_control(self, isa13, st02, **kw)  # type: ignore[arg-type]


def iter_statements(sql: str) -> Iterator[str]:
    """Split a migration script on ``;`` outside quotes and ``--`` comments.

    sqlite3's ``executescript`` would COMMIT first and break the one-transaction-per-migration
    rule, and psycopg runs one statement per call anyway, so both backends execute these.
    """
    buf: list[str] = []
    quote: str | None = None
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            buf.append(ch)
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch == ";":
            stmt = "".join(buf).strip()
            if stmt:
                yield stmt
            buf = []
        else:
            buf.append(ch)
        i += 1
    stmt = "".join(buf).strip()
    if stmt:
        yield stmt
