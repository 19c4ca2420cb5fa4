"""The one exception tree of edi-pipeline.

Exceptions mean that a unit of work cannot go on; expected problems (a bad record, a malformed
segment) are ``Problem`` values instead. The base class is never raised itself::

    EdiPipelineError
    ├── ConfigError            exit 2: the run cannot start
    │   ├── MapError           a file under maps/ breaks its schema (all problems listed)
    │   └── SettingsError      practice configuration or command-line settings
    ├── InputError             an input file that cannot be read at all
    ├── X12Error
    │   └── X12SyntaxError     the bytes cannot be tokenized as X12
    ├── BuildError             a claim we built fails pyx12: our bug, fail loudly
    ├── LedgerError
    └── DeliveryError          .retryable tells the transport whether to try again

Every error carries ``.code`` (stable snake_case) and ``.where`` (a ``Where``), and its message
never contains patient values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from edi_pipeline.models import Where


class EdiPipelineError(Exception):
    code = "error"

    def __init__(self, message: str, *, where: Where | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where or Where()
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        loc = ", ".join(f"{k} {v}" for k, v in self.where.as_dict().items())
        return f"{loc}: {self.message}" if loc else self.message


class ConfigError(EdiPipelineError):
    code = "config"


class MapError(ConfigError):
    """All the problems found in maps/, one per line."""

    code = "map"

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        super().__init__("maps are invalid:\n  " + "\n  ".join(problems))


class SettingsError(ConfigError):
    code = "settings"


class InputError(EdiPipelineError):
    code = "input"


class X12Error(EdiPipelineError):
    code = "x12"


class X12SyntaxError(X12Error):
    code = "x12_syntax"


class BuildError(EdiPipelineError):
    code = "build"


class LedgerError(EdiPipelineError):
    code = "ledger"


class DeliveryError(EdiPipelineError):
    code = "delivery"

    def __init__(self, message: str, *, retryable: bool, where: Where | None = None):
        super().__init__(message, where=where)
        self.retryable = retryable


@contextmanager
def where(**context: object) -> Iterator[None]:
    """Attach the caller's context (file, record, claim…) to an error raised inside the block."""
    try:
        yield
    except EdiPipelineError as exc:
        exc.where = exc.where.merged(replace(Where(), **context))  # type: ignore[arg-type]
        raise
