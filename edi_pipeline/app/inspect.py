"""The inspect workflow: what is in any X12 file, and what is structurally wrong with it.

For each file: its delimiters, its interchanges, groups and transaction sets (with guide, segment
and claim counts), and every problem the tokenizer and the envelope checks found, each with its
segment ordinal, segment id and byte offset. A file that cannot be read at all is reported as
``readable: false`` and the next file is read. Exit code: 2 when a file could not be read at all,
1 when a file has errors (warnings alone do not count), 0 otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from edi_pipeline.errors import X12Error
from edi_pipeline.models import Problem, Where
from edi_pipeline.x12.envelope import EnvelopeReader, InterchangeSummary
from edi_pipeline.x12.reader import Delimiters, Segment, X12Reader

log = structlog.get_logger()

EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class FileInspection:
    file: str
    readable: bool
    delimiters: Delimiters | None
    interchanges: tuple[InterchangeSummary, ...]
    problems: tuple[Problem, ...]
    segments: int = 0

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


@dataclass(frozen=True, slots=True)
class InspectReport:
    files: tuple[FileInspection, ...]

    @property
    def exit_code(self) -> int:
        if any(not f.readable for f in self.files):
            return EXIT_UNREADABLE
        if any(f.has_errors for f in self.files):
            return EXIT_PROBLEMS
        return EXIT_OK


class _Guarded:
    """Segments of a reader; an X12Error part way ends the stream and is kept as a problem."""

    def __init__(self, reader: X12Reader) -> None:
        self.reader = reader
        self.error: X12Error | None = None
        self.first: Segment | None = None

    def __iter__(self) -> Iterator[Segment]:
        try:
            for seg in self.reader:
                if self.first is None:
                    self.first = seg
                yield seg
        except X12Error as exc:
            self.error = exc


def _error_problem(exc: X12Error, file: str) -> Problem:
    where = exc.where if exc.where.file else exc.where.merged(Where(file=file))
    return Problem(exc.code, exc.message, where, "error")


def inspect_file(
    path: str | os.PathLike[str], *, delimiters: Delimiters | None = None
) -> FileInspection:
    """Read one file through the tokenizer and envelope checks (streaming, constant memory)."""
    name = os.fspath(path)
    reader = X12Reader(path, name=name, delimiters=delimiters)
    guarded = _Guarded(reader)
    env = EnvelopeReader(guarded, file=name)
    count = 0
    for _ in env:
        count += 1
    problems = list(reader.problems) + list(env.problems)
    readable = True
    if guarded.error is not None:
        problems.append(_error_problem(guarded.error, name))
        readable = count > 0  # it read part of the file: report that part
    problems.sort(key=lambda p: (p.where.segment_index or 0, p.where.offset or 0))
    first = guarded.first
    found = first.delimiters if first is not None else reader.delimiters
    log.info(
        "inspect.file_read",
        file=name,
        readable=readable,
        segments=count,
        interchanges=len(env.interchanges),
        problems=len(problems),
    )
    return FileInspection(
        file=name,
        readable=readable,
        delimiters=found if readable else None,
        interchanges=tuple(env.interchanges),
        problems=tuple(problems),
        segments=count,
    )


def inspect_files(
    paths: Iterable[str | os.PathLike[str]], *, delimiters: Delimiters | None = None
) -> InspectReport:
    """Inspect every file, going on to the next whatever happens to one."""
    return InspectReport(tuple(inspect_file(p, delimiters=delimiters) for p in paths))


# --------------------------------------------------------------------------- rendering


def problem_json(p: Problem) -> dict[str, Any]:
    w = p.where
    return {
        "segment_index": w.segment_index,
        "segment_id": w.segment_id,
        "message": p.message,
        "code": p.code,
        "severity": p.severity,
        "offset": w.offset,
    }


def file_json(f: FileInspection) -> dict[str, Any]:
    out: dict[str, Any] = {"file": f.file, "readable": f.readable}
    if f.delimiters is not None:  # a repetition separator not declared (ISA11 "U") is left out
        out["delimiters"] = {k: v for k, v in f.delimiters.as_dict().items() if v is not None}
    out["interchanges"] = [
        {
            "isa13": ix.isa13,
            "segment_index": ix.segment_index,
            "groups": [
                {
                    "gs06": g.gs06,
                    "gs01": g.gs01,
                    "gs08": g.gs08,
                    "transactions": [
                        {
                            "st01": t.st01,
                            "st02": t.st02,
                            "guide": t.guide,
                            "segments": t.segments,
                            "claims": t.claims,
                            "segment_index": t.segment_index,
                            "se01": t.se01,
                        }
                        for t in g.transactions
                    ],
                }
                for g in ix.groups
            ],
        }
        for ix in f.interchanges
    ]
    out["segments"] = f.segments
    out["problems"] = [problem_json(p) for p in f.problems]
    return out


def report_json(report: InspectReport) -> dict[str, Any]:
    return {"files": [file_json(f) for f in report.files]}


def _char(c: str | None) -> str:
    return "none" if c is None else repr(c)


def render_text(report: InspectReport) -> Iterator[str]:
    """Human-readable lines, one file after another."""
    for f in report.files:
        if not f.readable:
            yield f"{f.file}: cannot be read"
            for p in f.problems:
                yield f"  {_where(p)}{p.message}"
            continue
        d = f.delimiters
        delims = (
            f"element {_char(d.element)} component {_char(d.component)} "
            f"repetition {_char(d.repetition)} segment {_char(d.segment)}"
            if d
            else "no delimiters"
        )
        yield f"{f.file}: {f.segments} segments, {len(f.interchanges)} interchange(s); {delims}"
        for ix in f.interchanges:
            yield f"  interchange ISA13 {ix.isa13 or '(no ISA)'}"
            for g in ix.groups:
                yield f"    group GS06 {g.gs06 or '(no GS)'} {g.gs01 or ''} {g.gs08 or ''}".rstrip()
                for t in g.transactions:
                    yield (
                        f"      {t.st01} {t.st02} {t.guide or '(no guide)'}: "
                        f"{t.segments} segments, {t.claims} claim(s)"
                    )
        if f.problems:
            yield f"  problems ({len(f.problems)}):"
            for p in f.problems:
                yield f"    {p.severity}: {_where(p)}{p.message}"


def _where(p: Problem) -> str:
    w = p.where
    parts = []
    if w.segment_index is not None:
        parts.append(f"segment {w.segment_index}")
    if w.segment_id:
        parts.append(w.segment_id)
    if w.offset is not None:
        parts.append(f"(byte {w.offset})")
    return " ".join(parts) + ": " if parts else ""


def exit_code(files: Sequence[FileInspection]) -> int:
    return InspectReport(tuple(files)).exit_code
