"""The ledger: claim history, control numbers and what was built, sent and answered.

``open_ledger(spec)`` opens a backend from a path (SQLite, the default) or a
``postgresql://`` URL (the scale-out backend, when installed). Where the ledger is comes from,
in order: ``--ledger``, ``EDI_PIPELINE_LEDGER``, the practice configuration, and otherwise
``./edi-out/ledger.sqlite`` in the working directory whatever ``--out`` says (cli.md).

Stage queries are plain functions over a ``Ledger`` in modules beside this one
(``claims.py``, ``interchanges.py``; delivery, acks and remit add theirs), so SQL lives only in
this package.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from edi_pipeline.errors import SettingsError
from edi_pipeline.ledger.base import Ledger

ENV_VAR = "EDI_PIPELINE_LEDGER"
DEFAULT_PATH = Path("edi-out") / "ledger.sqlite"

__all__ = ["DEFAULT_PATH", "ENV_VAR", "Ledger", "ledger_spec", "open_ledger"]


def ledger_spec(option: str | os.PathLike[str] | None = None, configured: str | None = None) -> str:
    """Where the ledger is: the ``--ledger`` option, else the environment, else the practice
    configuration, else ``./edi-out/ledger.sqlite`` (relative to the working directory)."""
    for value in (option, os.environ.get(ENV_VAR) or None, configured):
        if value:
            return os.fspath(value)
    return str(Path.cwd() / DEFAULT_PATH)


def open_ledger(spec: str | os.PathLike[str] | None = None) -> Ledger:
    """Open the ledger named by ``spec`` (see ``ledger_spec``) and migrate it."""
    target = ledger_spec(spec)
    if target.startswith(("postgresql://", "postgres://")):
        try:
            backend = importlib.import_module("edi_pipeline.ledger.postgres")
        except ImportError as exc:
            raise SettingsError(
                f"--ledger {target.split('@')[-1]}: the PostgreSQL backend is not available ({exc})"
            ) from exc
        return backend.PostgresLedger.open(target)
    if "://" in target:
        raise SettingsError(
            f"--ledger {target!r}: expected a file path or a postgresql:// URL", code="ledger_spec"
        )
    from edi_pipeline.ledger.sqlite import SqliteLedger

    return SqliteLedger.open(target)
