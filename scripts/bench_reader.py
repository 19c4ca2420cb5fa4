#!/usr/bin/env python3
"""Benchmark the X12 reader against the raw split floor and pyx12's reader, on the same bytes.

    python scripts/bench_reader.py                 # 50 MB 837P + 50 MB 835, and a 500 MB 837P
    python scripts/bench_reader.py --mb 80 --large-mb 0 --dir /tmp/bench

It generates (never commits: the default folder ``bench-data/`` is git-ignored) a large 837P and a
large 835 with valid envelopes (SE01/GE01/IEA01 and control numbers right), then times, each in a
fresh subprocess so that peak memory is its own:

* ``floor``: the file read in 1 MiB chunks, ``bytes.split`` on the segment terminator and each
  segment on the element separator (Python lists of elements, nothing more);
* ``ours``: ``edi_pipeline.x12.reader.X12Reader`` yielding positioned ``Segment`` values;
* ``pyx12``: ``pyx12.x12file.X12Reader`` (its streaming segment reader with envelope checks).

It prints MB/s, segments/s, claims/s and peak resident memory for each, and the ratios. With
``--large-mb`` (default 500) it also reads a file that size with our reader alone, to show memory
stays flat whatever the size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1_000_000
CLAIMS_PER_ST = 1000

ISA = (
    "ISA*00*          *00*          *ZZ*SUBMIT001      *ZZ*RECV001        "
    "*250115*0930*^*00501*{isa13:09d}*0*P*:~\n"
)


# --------------------------------------------------------------------------- generation


def _claim_837(n: int) -> tuple[str, int]:
    """One rheumatology infusion claim (infliximab, waste, infusion codes); its segment count."""
    pcn = f"E{n:09d}"
    vials = 5 + n % 4
    given = vials * 100 - (n % 3) * 10
    waste = vials * 100 - given
    drug = Decimal("11.50") * given // 10
    waste_charge = Decimal("11.50") * waste // 10
    total = drug + waste_charge + 450 + 160
    dos = f"202501{1 + n % 28:02d}"
    lines = [
        f"HL*{2 * (n % CLAIMS_PER_ST) + 2}*1*22*0",
        "SBR*P*18*GRP0001******CI",
        f"NM1*IL*1*PATIENT{n % 997}*FIRST****MI*M{n:011d}",
        "N3*200 ELM ST",
        "N4*ANYTOWN*PA*171020002",
        f"DMG*D8*19{50 + n % 40}0{1 + n % 9}1{n % 9}*F",
        "NM1*PR*2*EXAMPLE HEALTH PLAN*****PI*00000",
        f"CLM*{pcn}*{total}***11:B:1*Y*A*Y*Y",
        f"REF*G1*AUTH{n:08d}",
        "HI*ABK:M0579*ABF:Z79899",
        "NM1*82*1*SMITH*ALEX****XX*1111111112",
        "PRV*PE*PXC*207RR0500X",
        "LX*1",
        f"SV1*HC:J1745*{drug}*UN*{given // 10}***1",
        f"DTP*472*D8*{dos}",
        f"REF*6R*{pcn}L1",
        "LIN**N4*57894003001",
        f"CTP****{given // 100}*UN",
        "LX*2",
        f"SV1*HC:J1745:JW*{waste_charge}*UN*{max(waste // 10, 1)}***1",
        f"DTP*472*D8*{dos}",
        f"REF*6R*{pcn}L2",
        "LIN**N4*57894003001",
        "CTP****1*UN",
        "LX*3",
        "SV1*HC:96413*450*UN*1***1:2",
        f"DTP*472*D8*{dos}",
        f"REF*6R*{pcn}L3",
        "LX*4",
        "SV1*HC:96415*160*UN*1***1:2",
        f"DTP*472*D8*{dos}",
        f"REF*6R*{pcn}L4",
    ]
    return "".join(line + "~\n" for line in lines), len(lines)


def _claim_835(n: int) -> tuple[str, int, Decimal]:
    """One claim payment (CLP) with four service lines; its segment count and paid amount."""
    pcn = f"E{n:09d}"
    charges = [Decimal("575.00"), Decimal("57.50"), Decimal("450.00"), Decimal("160.00")]
    paid = [c * Decimal("0.8") for c in charges]
    lines = [
        f"CLP*{pcn}*1*{sum(charges)}*{sum(paid)}*0*MC*ICN{n:012d}*11*1",
        f"NM1*QC*1*PATIENT{n % 997}*FIRST****MI*M{n:011d}",
        "NM1*82*1*SMITH*ALEX****XX*1111111112",
        "DTM*232*20250110",
    ]
    for k, (charge, pay) in enumerate(zip(charges, paid, strict=True), start=1):
        lines += [
            f"SVC*HC:{('J1745', 'J1745:JW', '96413', '96415')[k - 1]}*{charge}*{pay}**1",
            "DTM*472*20250110",
            f"CAS*CO*45*{charge - pay}",
            f"REF*6R*{pcn}L{k}",
            f"AMT*B6*{pay}",
        ]
    return "".join(line + "~\n" for line in lines), len(lines), sum(paid)


def generate_837(path: Path, target: int) -> dict[str, int]:
    """Write an 837P of at least ``target`` bytes: one ISA/GS, many ST of 1000 claims each."""
    claims = transactions = 0
    with path.open("w", encoding="ascii", newline="") as out:
        out.write(ISA.format(isa13=1))
        out.write("GS*HC*SUBMIT001*RECV001*20250115*0930*1*X*005010X222A1~\n")
        written = 0
        while written < target:
            transactions += 1
            head = [
                f"ST*837*{transactions:04d}*005010X222A1",
                f"BHT*0019*00*B{transactions:08d}*20250115*0930*CH",
                "NM1*41*2*EXAMPLE RHEUMATOLOGY BILLING*****46*SUBMIT001",
                "PER*IC*BILLING CONTACT*TE*5555550100",
                "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*RECV001",
                "HL*1**20*1",
                "PRV*BI*PXC*207RR0500X",
                "NM1*85*2*EXAMPLE RHEUMATOLOGY GROUP*****XX*1234567893",
                "N3*100 MAIN ST",
                "N4*ANYTOWN*PA*171010001",
                "REF*EI*123456789",
            ]
            chunk = ["".join(line + "~\n" for line in head)]
            count = len(head)
            for _ in range(CLAIMS_PER_ST):
                text, n = _claim_837(claims)
                chunk.append(text)
                count += n
                claims += 1
            chunk.append(f"SE*{count + 1}*{transactions:04d}~\n")
            block = "".join(chunk)
            out.write(block)
            written += len(block)
        out.write(f"GE*{transactions}*1~\nIEA*1*{1:09d}~\n")
    return {"claims": claims, "transactions": transactions}


def generate_835(path: Path, target: int) -> dict[str, int]:
    """Write an 835 of at least ``target`` bytes, balanced per transaction (BPR02 = sum CLP04)."""
    claims = transactions = 0
    with path.open("w", encoding="ascii", newline="") as out:
        out.write(ISA.format(isa13=2))
        out.write("GS*HP*PAYER01*SUBMIT001*20250120*1200*2*X*005010X221A1~\n")
        written = 0
        while written < target:
            transactions += 1
            body, count, total = [], 0, Decimal(0)
            for _ in range(CLAIMS_PER_ST):
                text, n, paid = _claim_835(claims)
                body.append(text)
                count += n
                total += paid
                claims += 1
            head = [
                f"ST*835*{transactions:04d}",
                f"BPR*I*{total}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880"
                "*DA*98765*20250120",
                f"TRN*1*EFT{transactions:08d}*1512345678",
                "DTM*405*20250119",
                "N1*PR*EXAMPLE HEALTH PLAN",
                "N3*1 PAYER WAY",
                "N4*CAPITAL*PA*171000000",
                "PER*BL*PROVIDER SERVICES*TE*8005550100",
                "N1*PE*EXAMPLE RHEUMATOLOGY GROUP*XX*1234567893",
                "LX*1",
            ]
            block = (
                "".join(line + "~\n" for line in head)
                + "".join(body)
                + f"SE*{count + len(head) + 1}*{transactions:04d}~\n"
            )
            out.write(block)
            written += len(block)
        out.write(f"GE*{transactions}*2~\nIEA*1*{2:09d}~\n")
    return {"claims": claims, "transactions": transactions}


# --------------------------------------------------------------------------- measured readers


def _floor(path: str) -> int:
    segments = 0
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            parts = (tail + chunk).split(b"~")
            tail = parts.pop()
            for part in parts:
                part.split(b"*")
            segments += len(parts)
    if tail.strip():
        tail.split(b"*")
        segments += 1
    return segments


def _ours(path: str) -> int:
    from edi_pipeline.x12.reader import X12Reader

    segments = 0
    for _ in X12Reader(path):
        segments += 1
    return segments


def _pyx12(path: str) -> int:
    import pyx12.x12file

    segments = 0
    with pyx12.x12file.X12Reader(path) as reader:
        for _ in reader:
            segments += 1
    return segments


READERS = {"floor": _floor, "ours": _ours, "pyx12": _pyx12}


def child(kind: str, path: str) -> None:
    """Run one reader over one file in this (fresh) process and print a JSON line."""
    if kind == "ours":
        import edi_pipeline.x12.reader  # noqa: F401 - imported before the clock starts
    elif kind == "pyx12":
        import pyx12.x12file  # noqa: F401
    start = time.perf_counter()
    segments = READERS[kind](path)
    seconds = time.perf_counter() - start
    print(json.dumps({"segments": segments, "seconds": seconds, "peak_kb": _peak_kb()}))


def _peak_kb() -> int:
    """This process's peak resident memory: VmHWM (its own high-water mark) where /proc has it;
    Linux's ru_maxrss can carry the RSS of the process that forked it across exec."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(kind: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report


def report(
    name: str, path: Path, info: dict[str, int], kinds: list[str], repeat: int
) -> dict[str, dict]:
    """Time each reader ``repeat`` times, interleaved (so a busy machine hurts all alike); keep
    each reader's best run and its peak memory."""
    size = path.stat().st_size
    print(
        f"\n{name}: {path} — {size / MB:.1f} MB, {info['claims']:,} claims, "
        f"{info['transactions']:,} transaction sets (best of {repeat})"
    )
    print(f"  {'reader':<7} {'MB/s':>8} {'segments/s':>12} {'claims/s':>10} {'peak RSS':>10}")
    results: dict[str, dict] = {}
    for _ in range(repeat):
        for kind in kinds:
            r = measure(kind, path)
            best = results.get(kind)
            if best is None or r["seconds"] < best["seconds"]:
                results[kind] = r
    for kind, r in results.items():
        r["mb_s"] = size / MB / r["seconds"]
        r["seg_s"] = r["segments"] / r["seconds"]
        r["claims_s"] = info["claims"] / r["seconds"]
        print(
            f"  {kind:<7} {r['mb_s']:8.1f} {r['seg_s']:12,.0f} {r['claims_s']:10,.0f} "
            f"{r['peak_kb'] / 1024:8.1f} MB"
        )
    counts = {r["segments"] for r in results.values()}
    read = ", ".join(f"{k} {v['segments']:,}" for k, v in results.items())
    print(f"  segments read: {read}")
    if len(counts) != 1:
        print("  WARNING: the readers disagree on the segment count")
    if "ours" in results:
        ours = results["ours"]["mb_s"]
        if "pyx12" in results:
            print(f"  ours / pyx12: {ours / results['pyx12']['mb_s']:.1f}x")
        if "floor" in results:
            print(f"  ours / floor: {ours / results['floor']['mb_s']:.2f}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--mb", type=int, default=55, help="size of the 837P and 835 (MB)")
    parser.add_argument(
        "--large-mb", type=int, default=500, help="size of the memory-check 837P (0: skip)"
    )
    parser.add_argument("--skip-pyx12", action="store_true", help="pyx12 takes ~10 s per 50 MB")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader; the best counts")
    parser.add_argument("--child", nargs=2, metavar=("READER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPU(s)")
    kinds = ["floor", "ours"] + ([] if args.skip_pyx12 else ["pyx12"])
    generated: list[Path] = []
    try:
        for name, generate in (("837P", generate_837), ("835", generate_835)):
            path = args.dir / f"bench-{name.lower()}.x12"
            info = generate(path, args.mb * MB)
            generated.append(path)
            report(name, path, info, kinds, args.repeat)
        if args.large_mb:
            path = args.dir / "bench-large-837p.x12"
            info = generate_837(path, args.large_mb * MB)
            generated.append(path)
            report("837P, memory check", path, info, ["ours"], 1)
    finally:
        if not args.keep:
            for path in generated:
                path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
