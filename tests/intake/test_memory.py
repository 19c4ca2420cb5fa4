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


def _peak(path: Path, maps) -> int:
    gc.collect()
    tracemalloc.start()
    tally = Tally()
    for n, _ in enumerate(tally.track(read_file(path, maps))):
        if n % 100 == 0:
            # CPython keeps freed tuples on free lists (up to 2,000 of each size), which
            # tracemalloc still counts; they are bounded, but would blur a small test
            gc.collect()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert tally.counts.accepted == tally.counts.records
    return peak


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv"])
def test_peak_memory_does_not_grow_with_the_file(suffix, tmp_path, maps, monkeypatch):
    monkeypatch.setattr(jsonfile, "CHUNK", 64 * 1024)  # both files span several chunks
    _peak(_write(tmp_path / f"warm{suffix}", 3), maps)  # compile the schema, fill caches
    small = _peak(_write(tmp_path / f"small{suffix}", 250), maps)
    large = _peak(_write(tmp_path / f"large{suffix}", 2_000), maps)
    # 8x the records: only the id tables grow (16 to 32 bytes an id); a leak of even 100 bytes
    # a record would show (scripts/bench_intake.py measures 100,000 records in a subprocess)
    print("PEAKS", suffix, small, large)
    assert (large - small) / 1_750 < 100, (small, large)
