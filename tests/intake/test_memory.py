"""Memory stays flat as the file grows: the streaming readers hold one record (JSON Lines,
JSON) or one encounter's rows (grouped CSV) at a time, plus a compact table of ids."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import pytest

from edi_pipeline.intake import Tally, jsonfile, read_file
from edi_pipeline.intake.csvfile import write_csv
from tests.intake.helpers import make_record


def _write(path: Path, n: int) -> Path:
    record = make_record()
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as stream:
            write_csv((dict(record, encounter_id=f"E{i}") for i in range(n)), stream)
        return path
    with path.open("w", encoding="utf-8") as stream:
        if path.suffix == ".json":
            stream.write("[\n")
        for i in range(n):
            text = json.dumps(dict(record, encounter_id=f"E{i}"))
            sep = ",\n" if path.suffix == ".json" and i < n - 1 else "\n"
            stream.write(text + sep)
        if path.suffix == ".json":
            stream.write("]\n")
    return path


def _peaks(path: Path, maps) -> list[int]:
    """Peak traced memory in each stretch of 100 records read."""
    gc.collect()
    tracemalloc.start()
    tally = Tally()
    peaks = []
    for n, _ in enumerate(tally.track(read_file(path, maps)), 1):
        if n % 100 == 0:
            peaks.append(tracemalloc.get_traced_memory()[1])
            # CPython keeps freed tuples on free lists (up to 2,000 of each size), which
            # tracemalloc still counts; they are bounded, but would blur a small test
            gc.collect()
            tracemalloc.reset_peak()
    tracemalloc.stop()
    assert tally.counts.accepted == tally.counts.records
    return peaks


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv"])
def test_peak_memory_does_not_grow_with_the_file(suffix, tmp_path, maps, monkeypatch):
    monkeypatch.setattr(jsonfile, "CHUNK", 64 * 1024)  # the file spans many chunks
    _peaks(_write(tmp_path / f"warm{suffix}", 100), maps)  # compile the schema, fill caches
    peaks = _peaks(_write(tmp_path / f"big{suffix}", 2_000), maps)
    early, late = max(peaks[1:10]), max(peaks[10:])
    # records 1,000 to 2,000 need no more memory than records 100 to 1,000, but for the id
    # tables (8 to 24 bytes an id, briefly twice that while one grows): 200 bytes a record
    # kept anywhere would add 400 kB
    assert late - early < 150_000, (early, late)
