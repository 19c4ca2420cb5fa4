"""Scale-out throughput: claims/s end to end (encounter exports in a drop folder → built,
recorded, control-numbered 837P interchanges on disk) with 1, 2 and 4 workers on a PostgreSQL
ledger, against one worker on SQLite.

A real PostgreSQL server is started for the run (Debian's binaries, as in the tests). Each run
gets a fresh folder and a fresh ledger; the time is the wall clock of ``edi-pipeline workers N
--once`` from start to exit (worker start-up included, as a scheduler would see it), and the
run is checked: every claim built once.

Two workloads, each on every configuration: ``--claims`` exports of one encounter each (many
small files: per-file overhead and file claiming), and one export of ``--claims`` encounters
(one large file: the build queue spreads its claims over the workers).

    python scripts/bench_scale.py [--claims 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pgserver import fresh_database, start_server  # noqa: E402
from tests.scale.workload import drop_encounters  # noqa: E402


def run(workers: int, ledger: str, claims: int, per_file: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp) / "drop"
        drop_encounters(folder / "inbound", claims, per_file=per_file)
        if ledger == "sqlite":
            ledger = str(Path(tmp) / "ledger.sqlite")
        argv = [sys.executable, "-m", "edi_pipeline", "workers", str(workers), str(folder)]
        argv += ["--once", "--settle", "0", "--ledger", ledger, "--json"]
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=os.environ.copy())
        elapsed = time.perf_counter() - start
        report = json.loads(done.stdout)
        if report["summary"]["failed"] or report["left"]:
            raise SystemExit(f"run failed: {report}")
        from edi_pipeline.ledger import open_ledger

        led = open_ledger(ledger)
        try:
            built = led.query_one(
                "SELECT COUNT(*) AS n FROM claims c WHERE c.status = 'built' AND "
                "(SELECT COUNT(*) FROM interchange_claims ic WHERE ic.claim_id = c.id) = 1"
            )["n"]
        finally:
            led.close()
        if built != claims:
            raise SystemExit(f"{built} of {claims} claims built once")
        return elapsed, built


def _spin() -> None:
    sum(range(20_000_000))


def parallel_cpu() -> float:
    """How many busy processes this machine really runs at once (2 on two free cores; less
    when other work or a CPU quota shares them): the ceiling of any worker speed-up here."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    _spin()
    one = time.perf_counter() - start
    procs = [ctx.Process(target=_spin) for _ in range(4)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return 4 * one / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=2000)
    args = parser.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(f"{os.cpu_count()} cores, parallel CPU available now: x{parallel_cpu():.2f}")
    server = start_server()
    base = next(server)
    try:
        for label, per_file in (
            (f"{args.claims} exports of 1 encounter", 1),
            (f"1 export of {args.claims} encounters", args.claims),
        ):
            results = {"sqlite x1": run(1, "sqlite", args.claims, per_file)[0]}
            for n in (1, 2, 4):
                results[f"postgresql x{n}"] = run(n, fresh_database(base), args.claims, per_file)[0]
            print(label)
            reference = args.claims / results["sqlite x1"]
            pg1 = args.claims / results["postgresql x1"]
            for name, elapsed in results.items():
                rate = args.claims / elapsed
                print(
                    f"  {name:16s} {elapsed:7.2f} s  {rate:7.1f} claims/s  "
                    f"×{rate / reference:.2f} sqlite  ×{rate / pg1:.2f} postgresql x1"
                )
    finally:
        for _ in server:
            pass
    print(f"parallel CPU available after: x{parallel_cpu():.2f}")


if __name__ == "__main__":
    main()
