"""The validate workflow: TR3 validation of X12 files with pyx12, plus our semantic checks.

Every file is validated in turn (or in worker processes), whatever happens to one. Exit code: 2
when a file could not be read at all, 1 when any file has errors, 0 when all are valid.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from edi_pipeline.validate import ValidationIssue, ValidationResult, validate_many

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class ValidateReport:
    results: tuple[ValidationResult, ...]

    @property
    def exit_code(self) -> int:
        if any(not r.readable for r in self.results):
            return EXIT_UNREADABLE
        if any(not r.valid for r in self.results):
            return EXIT_ERRORS
        return EXIT_OK


def validate_files(
    paths: Iterable[str | os.PathLike[str]], *, processes: int = 1, today: date | None = None
) -> ValidateReport:
    """Validate each file (in ``processes`` workers when more than one)."""
    names = [os.fspath(p) for p in paths]
    results = validate_many([Path(n) for n in names], processes=processes, today=today)
    # Keep the user's spelling of each path in the report.
    fixed = tuple(replace(r, file=name) for name, r in zip(names, results, strict=True))
    return ValidateReport(fixed)


def report_json(report: ValidateReport) -> dict[str, Any]:
    return {"files": [r.as_dict() for r in report.results]}


def _issue_line(i: ValidationIssue) -> str:
    parts = []
    if i.segment_index is not None:
        parts.append(f"segment {i.segment_index}")
    if i.segment_id:
        parts.append(i.segment_id)
    if i.loop:
        parts.append(f"loop {i.loop}")
    if i.element:
        parts.append(i.element)
    if i.claim_id:
        parts.append(f"claim {i.claim_id}")
    where = " ".join(parts)
    return f"{i.severity}: {where + ': ' if where else ''}{i.message} [{i.code}]"


def render_text(report: ValidateReport) -> Iterator[str]:
    for r in report.results:
        status = "cannot be read" if not r.readable else "valid" if r.valid else "INVALID"
        bad = sum(1 for c in r.claims if c.errors)
        claims = f"; {len(r.claims)} claim(s), {bad} with errors" if r.claims else ""
        yield (
            f"{r.file}: {status} ({len(r.errors)} error(s), {len(r.warnings)} warning(s){claims})"
        )
        for note in r.notes:
            yield f"  note: {note}"
        for c in r.claims:
            yield f"  claim {c.claim_id} (segment {c.segment_index}): " + (
                f"{c.errors} error(s)" if c.errors else "ok"
            )
        for issue in (*r.errors, *r.warnings):
            yield "  " + _issue_line(issue)


def exit_code(results: Sequence[ValidationResult]) -> int:
    return ValidateReport(tuple(results)).exit_code
