"""Timestamps as the ledger stores them: ISO 8601 UTC text, second precision, portable."""

from __future__ import annotations

from datetime import UTC, date, datetime


def stamp(at: datetime | str) -> str:
    """``2026-11-23T10:00:00Z``; a naive datetime is taken to be UTC (freezegun's, the tests')."""
    if isinstance(at, str):
        return at
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(value: date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()
