"""The one small interface every delivery transport speaks, and the helpers they share.

A transport moves one named blob of bytes to a destination atomically: it writes a temporary
name, checks what arrived, and renames it into place, never over an existing file. It is also
able to say whether a name is already there, and how big it is, which is all that delivery
needs to reconcile a crash (see ``edi_pipeline.deliver``). Transports know nothing about the
ledger, interchanges or claims.

Errors are ``DeliveryError`` with ``retryable`` set: ``True`` for a failure that may go away
(connection refused, timeout, connection lost), ``False`` for one that will not (host key
refused, the name already holds another file, permission denied). Messages name the host and
the file, never a credential.

``fault(step)`` is a test hook: with ``EDI_PIPELINE_FAULT=deliver.mid_upload`` (or
``deliver.mid_upload@3`` for the third time the step is reached) the process kills itself with
SIGKILL at that step, so crash-recovery tests can stop a real delivery at each point.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import structlog

from edi_pipeline.errors import DeliveryError, SettingsError

log = structlog.get_logger()

FAULT_ENV = "EDI_PIPELINE_FAULT"
_fault_hits: Counter[str] = Counter()


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a transport did with one file: the final remote name and the size it verified."""

    name: str
    size: int
    destination: str  # the transport's loggable description, e.g. "sftp://host:2222/inbox"


@runtime_checkable
class Transport(Protocol):
    """Put files somewhere, atomically and without overwriting, and look at what is there."""

    #: where the files go, safe to log and to store (no user name, no credential)
    description: str

    def put(self, name: str, data: bytes) -> Receipt:
        """Write ``data`` under ``name`` (temporary name, verify size, rename). Never overwrite."""

    def exists(self, name: str) -> int | None:
        """The size of the file called ``name`` at the destination, or ``None`` when absent."""

    def close(self) -> None:
        """Release connections; the transport may be used again afterwards (it reconnects)."""


def temp_name(name: str) -> str:
    """The temporary name a file is written under before its rename.

    It is the same for every attempt, so a resend after a crash overwrites the leftover partial
    instead of leaving litter, and a leading dot keeps downstream pollers from picking it up.
    """
    return f".{name}.part"


def check_name(name: str) -> str:
    """A remote name is one plain file name: no directories, no hidden or temporary names."""
    if (
        not name
        or "/" in name
        or "\\" in name
        or name.startswith(".")
        or name.endswith(".part")
        or "\x00" in name
    ):
        raise SettingsError(f"remote file name {name!r} is not a plain file name")
    return name


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Retry:
    """How often and how patiently to try a retryable operation (exponential backoff)."""

    attempts: int = 4
    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 10.0

    def delays(self) -> list[float]:
        """The waits between attempts: one fewer than ``attempts``."""
        out, delay = [], self.first_delay
        for _ in range(max(self.attempts - 1, 0)):
            out.append(min(delay, self.max_delay))
            delay *= self.factor
        return out


def with_retries(
    operation: Callable[[], T],
    retry: Retry,
    *,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation``; on a retryable ``DeliveryError`` wait and try again, then give up.

    The last error is raised unchanged so that its message (host and file) reaches the user,
    with a note of how many attempts were made.
    """
    delays = retry.delays()
    for attempt in range(1, retry.attempts + 1):
        try:
            return operation()
        except DeliveryError as exc:
            if not exc.retryable or attempt == retry.attempts:
                if exc.retryable:
                    exc.message = f"{exc.message} (gave up after {attempt} attempts)"
                    exc.args = (exc.message,)
                raise
            wait = delays[attempt - 1]
            log.warning(
                "deliver.attempt_failed",
                what=what,
                attempt=attempt,
                retry_in=round(wait, 3),
                error=exc.code,
            )
            sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def fault(step: str) -> None:
    """Kill this process with SIGKILL at ``step`` when ``EDI_PIPELINE_FAULT`` names it (tests)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    _fault_hits[step] += 1
    for item in spec.split(","):
        wanted, _, nth = item.strip().partition("@")
        if wanted == step and _fault_hits[step] == int(nth or "1"):
            os.kill(os.getpid(), signal.SIGKILL)
