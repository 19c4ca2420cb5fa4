"""The quarantine: rejected records, unchanged, with their reasons, private and written atomically.

``<out>/quarantine/<input name>.rejected.jsonl`` holds one JSON object per line::

    {"record": <the record as read>, "reasons": [{"field": "drugs[1].vials[0].size_mg",
     "rule": "structure_range", "message": "...", "severity": "error", "line": 14}],
     "file": "encounters.csv", "record_number": 3, "encounter_id": "E1003", "format": "json"}

``record`` is the original record: the JSON value itself when it was valid JSON (spliced in as
read, only line breaks between tokens turned into spaces so it fits one line), or a string
holding the text when it was not JSON (``format`` ``json_text``) or the CSV header and rows of
one encounter (``format`` ``csv``). Fix ``record`` and feed the file back to intake: the readers
recognise these entries and take ``record`` as the input record.

The file holds PHI, so it is created owner-only (0600, its folder 0700) whatever the umask,
written to a temporary name, fsynced and renamed over the previous quarantine of that input.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import structlog

from edi_pipeline.models import Rejection

log = structlog.get_logger()

FILE_MODE = 0o600
DIR_MODE = 0o700


def quarantine_path(out_dir: Path, input_name: str) -> Path:
    return Path(out_dir) / "quarantine" / f"{Path(input_name).name}.rejected.jsonl"


def entry_line(rejection: Rejection) -> str:
    """One quarantine line (without the newline) for a rejection."""
    if rejection.raw_format == "json":
        record = rejection.raw.replace("\r", " ").replace("\n", " ")
    else:
        record = json.dumps(rejection.raw, ensure_ascii=False)
    reasons = [
        {
            "field": p.where.field or "",
            "rule": p.code,
            "message": p.message,
            "severity": p.severity,
            **({"line": p.where.line} if p.where.line is not None else {}),
        }
        for p in rejection.problems
    ]
    meta = json.dumps(
        {
            "reasons": reasons,
            "file": rejection.file,
            "record_number": rejection.record,
            "encounter_id": rejection.encounter_id,
            "format": rejection.raw_format,
        },
        ensure_ascii=False,
    )
    return '{"record": ' + record + ", " + meta[1:]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_quarantine(out_dir: Path, input_name: str, rejections: Iterable[Rejection]) -> Path:
    """Write (replace) the quarantine file of one input; returns its path.

    Written even when there are no rejections, so a stale quarantine from an earlier run of the
    same input never survives a clean run.
    """
    target = quarantine_path(out_dir, input_name)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, DIR_MODE)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    count = 0
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            for rejection in rejections:
                stream.write(entry_line(rejection))
                stream.write("\n")
                count += 1
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    log.info("intake.quarantine_written", file=str(target), records=count)
    return target
