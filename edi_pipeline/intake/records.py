"""What every container reader yields: one raw record, parsed or not, with its exact text.

A reader's only job is to cut a file into records, each with the number the user will look for
(line for JSON Lines and CSV, array index for JSON) and the record's text exactly as read, so a
rejected record can be quarantined unchanged. Whether the record is a valid encounter is decided
later, in one place, for every container alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from edi_pipeline.intake.structure import Issue

RawFormat = Literal["json", "json_text", "csv"]
MISSING: Any = object()


@dataclass(slots=True)
class RawRecord:
    """One record as cut from its container.

    ``value`` is the parsed JSON value (``MISSING`` when the text does not parse; ``issues``
    then says why). ``raw_format`` tells the quarantine how to store ``raw``: ``json`` (valid
    JSON text, stored as JSON), ``json_text`` (text that is not JSON, stored as a string) or
    ``csv`` (the header and rows of one encounter, stored as a string). ``lines`` maps item
    paths of a CSV encounter (``drugs[1]``) to the line they came from.
    """

    number: int
    raw: str
    value: Any = MISSING
    issues: list[Issue] = field(default_factory=list)
    raw_format: RawFormat = "json"
    line: int | None = None
    lines: dict[str, int] | None = None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# Decimal for every fraction (doses must stay exact); NaN/Infinity are not JSON.
DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant)


def syntax_issue(exc: Exception) -> Issue:
    """A parse failure described by position only (the decoder's text never quotes values)."""
    if isinstance(exc, json.JSONDecodeError):
        what = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    elif isinstance(exc, RecursionError):
        what = "nested too deeply"
    else:
        what = "a number is out of range or not a JSON number"
    return ("", "json_syntax", f"record: is not valid JSON ({what})", "error")


def parse_json_text(text: str) -> tuple[Any, list[Issue]]:
    try:
        return DECODER.decode(text), []
    except (ValueError, RecursionError) as exc:
        return MISSING, [syntax_issue(exc)]


def dump_json(value: Any) -> str:
    """JSON text of a parsed value, keeping Decimals exact (``json.dumps`` cannot)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(
                f"{json.dumps(str(k), ensure_ascii=False)}: {dump_json(v)}"
                for k, v in value.items()
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(dump_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def is_quarantine_entry(value: Any) -> bool:
    """A line of a quarantine file (``{"record": …, "reasons": […], …}``) fed back in."""
    return type(value) is dict and "record" in value and "reasons" in value
