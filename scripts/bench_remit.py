"""Benchmark: 835 parse + balance + classify, against edi-835-parser and pyx12, same file, same run.

Generates (does not commit) an 835 whose claims are the 2100/2110 loops of the corpus samples in
fixtures/835/corpus, repeated with unique patient control numbers, in one ST with a BPR02 that
balances. Each contender runs in its own subprocess so its peak resident memory (ru_maxrss) is
its own. Then ours runs again on a file 4x larger to show memory stays flat.

    python scripts/bench_remit.py [--claims 100000] [--skip-peers] [--repeat 3]

``--repeat N`` runs every contender N times, interleaved (ours, peers, ours, peers…), and keeps
each one's fastest run by CPU time: on a shared machine the other load only ever adds time, so
the minimum is the fairest figure for every contender alike.

Peers (not project dependencies; install into the venv to compare):
    pip install edi-835-parser      # https://pypi.org/project/edi-835-parser/
    pyx12 is already a dependency.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data"
SHAPES = [
    "LinuxForHealth__x12__src__tests__resources__835_005010X221A1__managed-care.835",
    "LinuxForHealth__x12__src__tests__resources__835_005010X221A1__medicare-part-a.835",
    "keironstoddart__edi-835-parser__tests__test_edi_835_files__united_healthcare_legacy_sample.txt",
    "azoner__pyx12__pyx12__tests__835_mult_loops.txt",
    "Project-Herophilus__Project-Herophilus-Assets__Testing__TestData__samples-edi__835Sample_OutpatientRetro_.txt",
]


def claim_shapes() -> list[list[list[str]]]:
    """The claim loops (CLP … up to the next CLP/LX/PLB/SE) of the corpus samples, as fields."""
    shapes = []
    for name in SHAPES:
        text = (ROOT / "fixtures" / "835" / "corpus" / name).read_text("latin-1")
        comp = ">" if "*P*>~" in text[:120] else ":"
        current: list[list[str]] | None = None
        for raw in text.split("~"):
            seg = raw.strip()
            if not seg:
                continue
            fields = (
                [f.replace(comp, ":") for f in seg.split("*")] if comp != ":" else seg.split("*")
            )
            if fields[0] == "CLP":
                current = [fields]
                shapes.append(current)
            elif fields[0] in ("LX", "PLB", "SE", "TS3", "TS2"):
                current = None
            elif current is not None:
                current.append(fields)
    return shapes


def generate(path: Path, claims: int) -> None:
    """Claims go to a body file first (BPR02, their total, comes before them in the 835)."""
    shapes = claim_shapes()
    total = Decimal(0)
    segments = 0
    body_path = path.with_suffix(".body")
    with body_path.open("w", encoding="latin-1") as body:
        chunk: list[str] = []
        for n in range(claims):
            if n % 50 == 0:
                chunk.append(f"LX*{n // 50 + 1}~\n")
                segments += 1
            for fields in shapes[n % len(shapes)]:
                if fields[0] == "CLP":
                    fields = [fields[0], f"B{n:09d}", *fields[2:]]
                    total += Decimal(fields[4])
                chunk.append("*".join(fields) + "~\n")
                segments += 1
            if len(chunk) > 50_000:
                body.write("".join(chunk))
                chunk = []
        body.write("".join(chunk))
    with path.open("w", encoding="latin-1") as out, body_path.open(encoding="latin-1") as body:
        out.write(
            "ISA*00*          *00*          *ZZ*BENCHPAYER     *ZZ*BENCHPRACTICE  *250110*0900*^*"
            "00501*000000001*0*P*:~\nGS*HP*BENCHPAYER*BENCHPRACTICE*20250110*0900*1*X*005010X221A1~\n"
            "ST*835*0001~\n"
            f"BPR*I*{total}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*"
            "20250110~\nTRN*1*BENCH1*1512345678~\nN1*PR*BENCH PAYER~\n"
            "N1*PE*BENCH PRACTICE*XX*1234567893~\n"
        )
        for block in iter(lambda: body.read(1 << 20), ""):
            out.write(block)
        out.write(f"SE*{segments + 6}*0001~\nGE*1*1~\nIEA*1*000000001~\n")
    body_path.unlink()


OURS = """
import sys, time, resource
from pathlib import Path
from edi_pipeline.app.remit import process
from edi_pipeline.maps import load_maps
maps = load_maps()
t = time.perf_counter(); c = time.process_time()
run = process([Path(sys.argv[1])], maps=maps)
d = time.perf_counter() - t; cpu = time.process_time() - c
f = run.files[0]
assert f.balanced, [i.formula for i in f.imbalances[:3]]
print(run.claims, d, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, cpu)
"""
OURS_PARSE_ONLY = """
import sys, time, resource
from edi_pipeline.remit.parse import RemitReader
t = time.perf_counter(); c = time.process_time()
n = sum(1 for e in RemitReader(sys.argv[1]) if hasattr(e, 'lines'))
d = time.perf_counter() - t; cpu = time.process_time() - c
print(n, d, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, cpu)
"""
EDI835 = """
import sys, time, resource, warnings
warnings.simplefilter('ignore')
from edi_835_parser import parse
t = time.perf_counter(); c = time.process_time()
tx = parse(sys.argv[1])
n = sum(len(ts.claims) for ts in tx.transaction_sets)
d = time.perf_counter() - t; cpu = time.process_time() - c
print(n, d, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, cpu)
"""
PYX12 = """
import sys, time, resource
import pyx12.error_handler, pyx12.x12file
t = time.perf_counter(); c = time.process_time()
n = 0
src = pyx12.x12file.X12Reader(sys.argv[1])
for seg in src:
    if seg.get_seg_id() == 'CLP':
        n += 1
d = time.perf_counter() - t; cpu = time.process_time() - c
print(n, d, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, cpu)
"""


def measure(label: str, code: str, path: Path) -> dict | None:
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    if proc.returncode != 0:
        print(f"{label}: failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    claims, seconds, rss_kb, cpu = proc.stdout.strip().splitlines()[-1].split()[:4]
    out = {
        "label": label,
        "claims": int(claims),
        "seconds": float(seconds),
        "cpu_seconds": float(cpu),
        "claims_per_s": int(claims) / float(seconds),
        "claims_per_cpu_s": int(claims) / float(cpu),
        "peak_rss_mb": int(rss_kb) / 1024,
    }
    report(out)
    return out


def report(out: dict) -> None:
    print(
        f"{out['label']:<40} {out['claims']:>7} claims {out['seconds']:6.2f} s wall "
        f"{out['cpu_seconds']:6.2f} s cpu {out['claims_per_cpu_s']:>8,.0f} claims/cpu-s "
        f"peak RSS {out['peak_rss_mb']:6.1f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="runs per contender; the best is kept")
    args = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    path = DATA / f"remit-{args.claims}.835"
    big = DATA / f"remit-{args.claims * 4}.835"
    t = time.perf_counter()
    if not path.exists():
        generate(path, args.claims)
    if not big.exists():
        generate(big, args.claims * 4)
    print(
        f"generated in {time.perf_counter() - t:.1f} s: {path.name} "
        f"({path.stat().st_size / 1e6:.1f} MB), {big.name} ({big.stat().st_size / 1e6:.1f} MB)"
    )
    contenders = [
        ("ours", "edi-pipeline parse+balance+classify", OURS, path),
        ("ours_parse", "edi-pipeline parse only", OURS_PARSE_ONLY, path),
    ]
    if not args.skip_peers:
        contenders += [
            ("edi835", "edi-835-parser parse", EDI835, path),
            ("pyx12", "pyx12 X12Reader (segments only)", PYX12, path),
        ]
    contenders.append(("ours_big", f"edi-pipeline, {args.claims * 4} claims", OURS, big))
    repeat = max(1, args.repeat)
    runs: dict[str, list[dict]] = {key: [] for key, *_ in contenders}
    for n in range(repeat):
        if repeat > 1:
            print(f"-- round {n + 1} of {repeat}")
        for key, label, code, file in contenders:
            out = measure(label, code, file)
            if out is not None:
                runs[key].append(out)
    results = {
        key: (min(found, key=lambda r: r["cpu_seconds"]) if found else None)
        for key, found in runs.items()
    }
    if repeat > 1:
        print(f"-- best of {repeat} (lowest CPU time) per contender")
        for out in results.values():
            if out:
                report(out)
    ours = results["ours"]
    for key, name in (("edi835", "edi-835-parser"), ("pyx12", "pyx12 reader")):
        peer = results.get(key)
        if ours and peer:
            print(
                f"ratio vs {name}: {ours['claims_per_cpu_s'] / peer['claims_per_cpu_s']:.2f}x "
                f"claims per CPU second ({ours['claims_per_s'] / peer['claims_per_s']:.2f}x wall), "
                f"{peer['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x less memory"
            )
    print(json.dumps({k: v for k, v in results.items() if v}, indent=1))


if __name__ == "__main__":
    main()
