"""Benchmark the build stage: coding + 837P build, pyx12 validation serial and parallel.

    python scripts/bench_build.py [--claims 10000] [--processes N] [--skip-serial]

Demo-like claims: the bundled demo encounters (the ones intake accepts and coding codes) are
repeated under new encounter ids until there are ``--claims`` of them. Timed separately:

* coding (``coding.code``) of every encounter;
* build alone: the pre-build checks and ``claim837.build_interchange`` into one interchange
  (one ST per 5000 claims), the way ``build`` renders before and inside the ledger commit;
* release: the ledger transaction (control and line control numbers, claims, lines, positions),
  the staged file, commit and rename, on a fresh SQLite ledger;
* pyx12 validation (``validate.validate_many``: pyx12 plus the semantic pass) of the whole
  interchange in one process, and split into chunks over ``--processes`` processes, the way
  ``build`` validates large batches.

Prints claims/s for each (wall clock, and CPU time for the steps that run in this process) and
the share of the time pyx12 takes. The parallel figure is wall clock only (its work happens in
child processes).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edi_pipeline.app.build import ToBuild, release
from edi_pipeline.claim837 import build_interchange, claim_problems
from edi_pipeline.coding import code
from edi_pipeline.files import stage, staged_name
from edi_pipeline.intake import read_file
from edi_pipeline.ledger.sqlite import SqliteLedger
from edi_pipeline.maps import load_maps
from edi_pipeline.models import Encounter
from edi_pipeline.practice import demo_root, load_practice
from edi_pipeline.validate import validate_many

NOW = datetime(2025, 3, 5, 9, 30, tzinfo=UTC)
TODAY = date(2025, 3, 5)


def numbered_lines(claims):
    """Line control numbers as the ledger assigns them (ten digits, one sequence)."""
    counter = iter(range(1, sum(len(c.lines) for c in claims) + 1))
    return [
        replace(
            c,
            lines=tuple(replace(ln, line_control_number=f"{next(counter):010d}") for ln in c.lines),
        )
        for c in claims
    ]


def timed(label: str, n: int, fn, *, cpu: bool = True):
    """Run ``fn``; print wall time and claims/s, and (single-process steps) CPU time too: on a
    shared machine the CPU figure is the one that says what the code costs."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = fn()
    wall, used = time.perf_counter() - wall0, time.process_time() - cpu0
    line = f"{label:<46} {wall:8.2f} s wall {n / wall:9,.0f}/s"
    if cpu:
        line += f" | {used:7.2f} s CPU {n / used:9,.0f}/s"
    print(line, flush=True)
    return result, wall, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-serial", action="store_true", help="skip serial pyx12")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))

    maps = load_maps()
    practice = load_practice()
    receiver = practice.receivers[0]
    demo = Path(str(demo_root() / "encounters.json"))
    seeds = [e for e in read_file(demo, maps) if isinstance(e, Encounter)]
    seeds = [e for e in seeds if code(e, maps).claim is not None]
    encounters = [
        replace(seeds[i % len(seeds)], encounter_id=f"B{i:08d}") for i in range(args.claims)
    ]
    n = len(encounters)
    print(f"{n} demo-like claims from {len(seeds)} coded demo encounters; {os.cpu_count()} CPUs")

    coded, w_code, t_code = timed("coding", n, lambda: [code(e, maps).claim for e in encounters])
    claims = [c for c in coded if c is not None]

    def build_alone():
        for c in claims:
            if claim_problems(c, practice, maps.payers, numbered=False):
                raise SystemExit(f"claim {c.encounter_id} cannot be built")
        numbered = numbered_lines(claims)
        return build_interchange(
            numbered, practice, receiver, maps.payers, isa13=1, gs06=1, now=NOW, check=False
        )

    built, w_build, t_build = timed("build alone (checks + 837P text)", n, build_alone)
    print(f"{'':<46} {len(built.text) / 1e6:8.1f} MB, {built.segment_count:,} segments")
    both = t_code + t_build
    print(f"{'coding + build (CPU)':<46} {both:8.2f} s     {n / both:9,.0f}/s")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with SqliteLedger.open(folder / "ledger.sqlite") as ledger:
            timed(
                "release (ledger txn + staged file + rename)",
                n,
                lambda: release(
                    ledger,
                    [ToBuild(c) for c in claims],
                    practice,
                    receiver,
                    maps.payers,
                    out_dir=folder / "out",
                    now=NOW,
                    x12_now=NOW,
                ),
            )

        whole = folder / "whole.837"
        stage(whole, built.text.encode("ascii"))
        os.replace(staged_name(whole), whole)
        t_serial = None
        if not args.skip_serial:
            [result], w_serial, t_serial = timed(
                "pyx12 validation, 1 process, 1 file",
                n,
                lambda: validate_many([whole], processes=1, today=TODAY),
            )
            assert result.valid, result.errors[:3]

        chunks = max(1, args.processes)
        size = math.ceil(len(claims) / chunks)
        paths = []
        for k in range(chunks):
            part = claims[k * size : (k + 1) * size]
            if not part:
                continue
            numbered = numbered_lines(part)
            ix = build_interchange(
                numbered, practice, receiver, maps.payers, isa13=0, gs06=0, now=NOW, check=False
            )
            path = folder / f"part{k}.837"
            stage(path, ix.text.encode("ascii"))
            os.replace(staged_name(path), path)
            paths.append(path)
        results, w_parallel, _ = timed(
            f"pyx12 validation, {args.processes} processes, {len(paths)} chunks",
            n,
            lambda: validate_many(paths, processes=args.processes, today=TODAY),
            cpu=False,
        )
        assert all(r.valid for r in results), [r.errors[:3] for r in results]

    print()
    pure_cpu, pure_wall = t_code + t_build, w_code + w_build
    if t_serial is not None:
        print(f"pyx12 (serial) takes {t_serial / t_build:5.1f}x the CPU time of our build")
        print(
            "pyx12 share of coding + build + validation, serial (CPU):   "
            f"{t_serial / (pure_cpu + t_serial):6.1%}"
        )
        print(
            "pyx12 share of coding + build + validation, serial (wall):  "
            f"{w_serial / (pure_wall + w_serial):6.1%}"
        )
        print(f"parallel speed-up of validation (wall): {w_serial / w_parallel:4.2f}x")
    print(
        f"pyx12 share of coding + build + validation, {args.processes} processes (wall): "
        f"{w_parallel / (pure_wall + w_parallel):6.1%}"
    )


if __name__ == "__main__":
    main()
