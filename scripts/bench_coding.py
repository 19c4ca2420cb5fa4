"""Benchmark: coding alone (Encounter → Coded), one core.

Builds N demo-like encounters in memory (infusions with pre-medications, SC injections, joint
injections with steroid or hyaluronan, bilateral knees, visits and labs, across all six payers),
then times ``edi_pipeline.coding.code`` over them. Intake, scrub and X12 are not included.

    python scripts/bench_coding.py            # 100,000 encounters
    python scripts/bench_coding.py -n 20000
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from edi_pipeline.coding import code
from edi_pipeline.logs import configure
from edi_pipeline.maps import load_maps
from edi_pipeline.models import (
    Address,
    Coverage,
    DrugGiven,
    Encounter,
    Lab,
    Person,
    ProcedureGiven,
    Provider,
    Vials,
    Visit,
    Where,
)

PAYERS = ("medicare", "aetna", "uhc", "cigna", "bcbs", "medicaid")
D = Decimal


def t(text: str):
    from datetime import time as clock

    return clock.fromisoformat(text)


def v(size: int, count: int) -> tuple[Vials, ...]:
    return (Vials(D(size), count),)


def scenarios() -> list[tuple]:
    """(drugs, procedures, visit, labs, diagnoses) templates like the demo practice's."""
    premed = DrugGiven(
        "methylprednisolone", "IV", D(100), v(125, 1), start_time=t("09:00"), stop_time=t("09:30")
    )
    push = DrugGiven(
        "diphenhydramine", "IV_PUSH", D(50), v(50, 1), multi_dose_vial=False, start_time=t("09:40")
    )
    return [
        (
            (
                premed,
                DrugGiven(
                    "infliximab",
                    "IV",
                    D(375),
                    v(100, 4),
                    ndc="57894-0030-01",
                    start_time=t("09:30"),
                    stop_time=t("12:30"),
                ),
            ),
            (),
            Visit("99214", True),
            (Lab("80230"),),
            ("M0579",),
        ),
        (
            (
                DrugGiven(
                    "Inflectra",
                    "IV",
                    D(500),
                    v(100, 5),
                    ndc="0069-0809-01",
                    start_time=t("10:00"),
                    stop_time=t("12:05"),
                ),
            ),
            (),
            None,
            (),
            ("M0579", "L4050"),
        ),
        (
            (
                DrugGiven(
                    "Actemra",
                    "IV",
                    D(700),
                    (Vials(D(400), 1), Vials(D(80), 4)),
                    ndc="50242-137-01",
                    start_time=t("13:00"),
                    stop_time=t("14:00"),
                ),
            ),
            (),
            Visit("99213", False),
            (Lab("86140"),),
            ("M0579",),
        ),
        (
            (
                DrugGiven(
                    "Riabni",
                    "IV",
                    D(1000),
                    v(500, 2),
                    ndc="55513-326-01",
                    start_time=t("10:00"),
                    stop_time=t("14:15"),
                ),
                push,
            ),
            (),
            None,
            (),
            ("M0579",),
        ),
        (
            (DrugGiven("Prolia", "SC", D(60), v(60, 1), ndc="55513-710-01"),),
            (),
            Visit("99213", True),
            (),
            ("M810",),
        ),
        (
            (),
            (
                ProcedureGiven(
                    "injection",
                    "knee",
                    "right",
                    "ultrasound",
                    (
                        DrugGiven(
                            "Kenalog-40", "INTRA_ARTICULAR", D(40), v(40, 1), ndc="0003-0293-05"
                        ),
                    ),
                ),
            ),
            Visit("99214", True),
            (),
            ("M1711",),
        ),
        (
            (),
            (
                ProcedureGiven(
                    "injection",
                    "knee",
                    "bilateral",
                    "none",
                    (DrugGiven("Kenalog-40", "INTRA_ARTICULAR", D(80), ndc="0003-0293-20"),),
                ),
                ProcedureGiven("aspiration", "wrist", "left", "fluoroscopy"),
            ),
            Visit("99213", False),
            (Lab("85652"),),
            ("M170", "M0579"),
        ),
    ]


def build(n: int, seed: int = 20251123) -> list[Encounter]:
    rng = random.Random(seed)
    templates = scenarios()
    provider = Provider("1234567893", "DOCTOR", "TEST")
    person = Person(
        "TESTPATIENT",
        "ALPHA",
        date(1960, 1, 1),
        "F",
        Address("1 Example St", "Testville", "PA", "19000"),
    )
    start = date(2025, 1, 2)
    out = []
    for i in range(n):
        drugs, procedures, visit, labs, diagnoses = templates[i % len(templates)]
        out.append(
            Encounter(
                encounter_id=f"B{i:07d}",
                date_of_service=start + timedelta(days=rng.randrange(300)),
                place_of_service="11",
                rendering_provider=provider,
                patient=person,
                coverage=Coverage(PAYERS[rng.randrange(len(PAYERS))], f"M{i:08d}"),
                diagnoses=diagnoses,
                drugs=drugs,
                procedures=procedures,
                visit=visit,
                labs=labs,
                source=Where(file="bench", record=i),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="encounters (default 100,000)")
    args = parser.parse_args()
    configure("json")  # as the CLI runs: INFO and up to stderr (coding logs at debug)
    maps = load_maps()
    encounters = build(args.n)
    for encounter in encounters[:1000]:  # warm caches the way a long run would
        code(encounter, maps)
    gc.collect()
    gc.disable()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    coded = [code(encounter, maps) for encounter in encounters]
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    gc.enable()
    claims = sum(c.claim is not None for c in coded)
    lines = sum(len(c.claim.lines) for c in coded if c.claim is not None)
    held = len(coded) - claims
    print(f"encounters       {len(coded):>10,}")
    print(f"claims           {claims:>10,}  (held {held:,})")
    print(f"service lines    {lines:>10,}")
    print(f"wall seconds     {wall:>10.2f}")
    print(f"cpu seconds      {cpu:>10.2f}")
    print(
        f"encounters/s     {len(coded) / cpu:>10,.0f}  per CPU second (one core; target ≥ 10,000)"
    )
    print(
        f"encounters/s     {len(coded) / wall:>10,.0f}  wall clock (less when the core is shared)"
    )
    print(f"lines/s          {lines / cpu:>10,.0f}  per CPU second")


if __name__ == "__main__":
    main()
