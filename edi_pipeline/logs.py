"""structlog configuration, done once by the CLI and the watcher.

Library modules only call ``structlog.get_logger()``. Logs go to stderr because stdout belongs to
``--json``. A processor drops PHI keys before anything is rendered, so that a mistake elsewhere
(logging a whole patient dict) cannot leak a name, birth date, member id or address.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal

import structlog

PHI_KEYS = frozenset(
    {
        "patient",
        "subscriber",
        "first_name",
        "last_name",
        "name",
        "birth_date",
        "dob",
        "member_id",
        "address",
        "line1",
        "line2",
        "city",
        "zip",
        "notes",
        "group_number",
        "patient_id",
        "raw",
        "record",
        "segment_text",
    }
)

REDACTED = "[phi removed]"


def _scrub(value: Any, depth: int) -> Any:
    if depth > 4:
        return REDACTED
    if isinstance(value, Mapping):
        return {k: _scrub(v, depth + 1) for k, v in value.items() if k not in PHI_KEYS}
    if isinstance(value, list | tuple):
        return [_scrub(v, depth + 1) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        # A whole domain value (an Encounter, a Person) is never rendered: only its type.
        return f"<{type(value).__name__}>"
    return value


def drop_phi(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Remove PHI keys at every level, and replace dataclass values with their type name."""
    return {k: _scrub(v, 0) for k, v in event_dict.items() if k not in PHI_KEYS}


def configure(fmt: Literal["console", "json"] | None = None, level: int = logging.INFO) -> None:
    """Configure structlog: console on a terminal, JSON otherwise (or as asked)."""
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            drop_phi,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
