"""Intake throughput and memory: generated encounters in JSON Lines and CSV.

Usage: python scripts/bench_intake.py [--records 100000] [--sizes 25000,50000,100000]

For each format it writes a file of generated encounters (templated on the accepted demo
encounters, every one with its own id and date, 1 in 50 made invalid), then reads it with
``edi_pipeline.intake.read_file`` in a fresh subprocess (so each measurement starts cold) and
reports records/s on one core and the peak resident memory. Running several sizes shows
whether memory stays flat as the file grows.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edi_pipeline.intake.csvfile import write_csv  # noqa: E402

DEMO = ROOT / "fixtures" / "demo" / "encounters.json"


def templates() -> list[dict]:
    records = json.loads(DEMO.read_text("utf-8"))["encounters"]
    return [r for r in records if not r["encounter_id"].startswith("DEMO-19")]


def generate(n: int):
    base = templates()
    start = date(2026, 6, 1)
    for i in range(n):
        record = copy.deepcopy(base[i % len(base)])
        record["encounter_id"] = f"B{i:09d}"
        record["date_of_service"] = (start + timedelta(days=i % 150)).isoformat()
        if i % 50 == 49:  # a bad one now and then: the rejection path is measured too
            record["rendering_provider"] = dict(record["rendering_provider"], npi="1234567890")
        yield record


def write_file(fmt: str, n: int, folder: Path) -> Path:
    path = folder / f"bench-{n}.{fmt}"
    with path.open("w", encoding="utf-8", newline="") as stream:
        if fmt == "jsonl":
            for record in generate(n):
                stream.write(json.dumps(record, separators=(",", ":")))
                stream.write("\n")
        else:
            write_csv(generate(n), stream)
    return path


def child(path: Path) -> None:
    """Read one file; print JSON with the timing and peak RSS (run in a fresh process)."""
    import logging

    import structlog

    from edi_pipeline.intake import Tally, read_file
    from edi_pipeline.maps import load_maps

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    maps = load_maps()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tally = Tally()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for _ in tally.track(read_file(path, maps)):
        pass
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - t0
    counts = tally.counts
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    calibration = None
    if path.suffix == ".jsonl":  # the machine's speed: json.loads alone on the same lines
        with path.open("rb") as stream:
            lines = [line for _, line in zip(range(20000), stream, strict=False)]
        c0 = time.process_time()
        for line in lines:
            json.loads(line)
        calibration = round(len(lines) / (time.process_time() - c0))
        del lines
    print(
        json.dumps(
            {
                "records": counts.records,
                "accepted": counts.accepted,
                "rejected": counts.rejected,
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "records_per_s": round(counts.records / cpu),
                "rss_before_kib": base_rss,
                "peak_rss_kib": peak_rss,
                "bytes": path.stat().st_size,
                "json_loads_per_s": calibration,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--formats", default="jsonl,csv")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            for n in sizes:
                path = write_file(fmt, n, Path(tmp))
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={**os.environ, "PYTHONHASHSEED": "0"},
                )
                result = json.loads(out.stdout)
                print(
                    f"{fmt:5} {n:>7} records {result['bytes'] / 1e6:7.1f} MB  "
                    f"{result['records_per_s']:>7} records/s (cpu {result['cpu_s']} s)  "
                    f"peak RSS {result['peak_rss_kib'] / 1024:6.1f} MiB "
                    f"(after loading maps {result['rss_before_kib'] / 1024:5.1f} MiB)  "
                    f"accepted {result['accepted']} rejected {result['rejected']}"
                    + (
                        f"  [json.loads alone: {result['json_loads_per_s']}/s]"
                        if result["json_loads_per_s"]
                        else ""
                    )
                )
                path.unlink()


if __name__ == "__main__":
    main()
