"""Benchmark: scrub N claims against all six payer maps, next to coding and 837P build, one core.

The claims come from the scrub demo (``fixtures/demo/scrub_encounters.json``: every payer, every
rule kind, clean and held), repeated with fresh encounter ids, members and dates of service until
there are N of them; members get several claims over the weeks so history-based rules (frequency,
authorization units, duplicates, site of care) have earlier claims to read. Timed, on the same
claims:

- coding: ``edi_pipeline.coding.code`` (encounter → claim)
- build: ``claim837.build_interchange`` for the claims (segments written, no pyx12)
- scrub without history, scrub with the batch's own history (what ``edi-pipeline scrub`` does
  without a ledger), and scrub reading a SQLite ledger already holding the claims as built.

The target is scrub adding < 20% to coding + build.

    PYTHONPATH=. python scripts/bench_scrub.py             # 10,000 claims, practice mix
    PYTHONPATH=. python scripts/bench_scrub.py --mix demo  # every demo case equally often
"""

from __future__ import annotations

import argparse
import gc
import logging
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from edi_pipeline.claim837 import build_interchange
from edi_pipeline.coding import code
from edi_pipeline.intake import read_file
from edi_pipeline.logs import configure
from edi_pipeline.maps import load_maps
from edi_pipeline.models import Claim, Encounter, Rejection
from edi_pipeline.practice import load_practice
from edi_pipeline.scrub import InMemoryHistory, LayeredHistory, ScrubContext, scrub

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo" / "scrub_encounters.json"
AS_OF = date(2026, 11, 23)  # dates of service move forward from the demo's, so only
# the demo's own late claims meet the filing limits


def encounters(n: int, maps, mix: str) -> list[Encounter]:  # type: ignore[no-untyped-def]
    """N encounters from the demo's, moved on by whole weeks, for members of five visits each.

    ``mix="demo"`` takes every demo encounter equally often (two thirds of them are built to be
    held); ``mix="practice"`` takes the demo's clean encounters four times as often as the ones
    built to be held, closer to a practice's day.
    """
    base = [e for e in read_file(DEMO, maps) if not isinstance(e, Rejection)]
    if mix == "practice":
        clean = [
            e
            for e in base
            if e.encounter_id.rsplit("-", 1)[-1] in CLEAN_CASES
            or e.encounter_id.endswith(("-1", "CLEAN-KNEE"))
        ]
        base = clean * 4 + base
    out: list[Encounter] = []
    i = 0
    while len(out) < n:
        template = base[i % len(base)]
        round_ = i // len(base)
        shift = timedelta(weeks=8 * (round_ % 5))  # five visits of one member, 8 weeks apart
        member = f"{template.coverage.member_id}-{i % len(base)}-{round_ // 5}"
        out.append(
            replace(
                template,
                encounter_id=f"B{i:07d}",
                date_of_service=template.date_of_service + shift,
                coverage=replace(template.coverage, member_id=member),
            )
        )
        i += 1
    return out


CLEAN_CASES = ("CLEAN",)


def timed(label: str, count: int, fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    """Best of ``repeat`` runs (the machine is shared; the best run is the least disturbed)."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
        gc.enable()
    print(
        f"{label:<46} {best:7.3f} s  {count / best:>9,.0f} claims/s"
        f"  {1e6 * best / count:6.1f} us/claim"
    )
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="claims (default 10,000)")
    parser.add_argument(
        "--mix",
        choices=("practice", "demo"),
        default="practice",
        help="practice: mostly clean claims (default); demo: 2/3 built to be held",
    )
    args = parser.parse_args()
    configure("json")
    logging.getLogger().setLevel(logging.WARNING)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    maps = load_maps()
    practice = load_practice(None)
    receiver = practice.receivers[0]
    encs = encounters(args.n, maps, args.mix)
    rules = sum(len(r) for r in maps.payer_rules.values())
    print(f"{len(encs):,} encounters, {rules} rules over {len(maps.payer_rules)} payer maps\n")

    t_code, coded = timed("coding", len(encs), lambda: [code(e, maps) for e in encs])
    print(f"{sum(1 for c in coded if c.claim is None)} encounters not coded")
    claims: list[Claim] = [c.claim for c in coded if c.claim is not None]

    numbered: list[Claim] = []
    counter = 0
    for c in claims:
        lines = []
        for ln in c.lines:
            counter += 1
            lines.append(replace(ln, line_control_number=f"L{counter:09d}"))
        numbered.append(replace(c, lines=tuple(lines)))

    def build() -> int:
        out = build_interchange(
            numbered,
            practice,
            receiver,
            maps.payers,
            isa13=1,
            gs06=1,
            now=datetime(2025, 6, 30, 12, 0),
            check=True,
        )
        return len(out.text)

    t_build, _ = timed("build (837P text, no pyx12)", len(claims), build)

    def plain() -> list:
        ctx = ScrubContext.from_maps(maps, as_of=AS_OF)
        return [scrub(c, ctx) for c in claims]

    t_plain, verdicts = timed("scrub, no history", len(claims), plain)

    def batch() -> list:
        history = InMemoryHistory()
        ctx = ScrubContext.from_maps(maps, as_of=AS_OF, history=history)
        out = []
        for c in sorted(claims, key=lambda c: c.date_of_service):
            s = scrub(c, ctx)
            if s.clean:
                history.add_claim(c)
            out.append(s)
        return out

    t_batch, batch_verdicts = timed("scrub, batch history (scrub command)", len(claims), batch)

    from edi_pipeline.ledger import claims as core
    from edi_pipeline.ledger.scrub import LedgerHistory, record_scrub
    from edi_pipeline.ledger.sqlite import SqliteLedger
    from edi_pipeline.models import Scrubbed

    with tempfile.TemporaryDirectory() as tmp:
        ledger = SqliteLedger.open(Path(tmp) / "ledger.sqlite")
        now = datetime.now(UTC)
        with ledger.transaction():
            for c in claims:
                record_scrub(ledger, practice.key, Scrubbed(c), now)
                core.upsert_claim(
                    ledger,
                    core.ClaimKey(practice.key, c.encounter_id),
                    status="built",
                    payer_id=c.payer_id,
                    charge=c.total_charge,
                    at=now,
                    date_of_service=c.date_of_service,
                    source="bench",
                )

        def prefetch() -> LedgerHistory:
            history = LedgerHistory(ledger)
            history.prefetch(claims)  # what edi-pipeline scrub does: a few bulk queries
            return history

        t_prefetch, prefetched = timed(
            "ledger history prefetch (bulk queries)", len(claims), prefetch
        )

        def with_ledger() -> list:
            ctx = ScrubContext.from_maps(
                maps, as_of=AS_OF, history=LayeredHistory(InMemoryHistory(), prefetched)
            )
            return [scrub(c, ctx) for c in claims]

        def per_claim_queries() -> list:
            ctx = ScrubContext.from_maps(maps, as_of=AS_OF, history=LedgerHistory(ledger))
            return [scrub(c, ctx) for c in claims]

        t_ledger, _ = timed("scrub, SQLite ledger history (prefetched)", len(claims), with_ledger)
        t_ledger += t_prefetch
        timed("scrub, SQLite ledger, one query per claim", len(claims), per_claim_queries, 1)
        ledger.close()

    held = sum(1 for s in batch_verdicts if not s.clean)
    dollars = sum((s.claim.total_charge for s in batch_verdicts if not s.clean), Decimal(0))
    print(f"\nheld (batch history): {held:,} of {len(claims):,} claims, ${dollars:,.2f}")
    print(f"held (no history):    {sum(1 for s in verdicts if not s.clean):,}")
    base = t_code + t_build
    for label, t in (
        ("no history", t_plain),
        ("batch history", t_batch),
        ("ledger history incl. prefetch", t_ledger),
    ):
        print(f"scrub ({label}) adds {100 * t / base:5.1f}% to coding + build ({base:.3f} s)")


if __name__ == "__main__":
    main()
