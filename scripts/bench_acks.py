"""Benchmark the ack stage: reading, tying back and ingesting 999s and 277CAs of our own files.

Builds N claims (3 lines each) into one interchange with the real build release (pyx12 is not
run: the claims are valid by construction), records them in a temporary SQLite ledger, then
times, for acknowledgments written for that interchange:

1. ``read_ack`` alone (pure parsing) of a 277CA with a status for every claim;
2. ``ingest_ack_file`` (read, tie back through the ledger, record every verdict and reason)
   of an accepted 999, of a 999 rejecting the set with an IK3/IK4 on every 5th claim, and of
   that 277CA (every 10th claim rejected on a line).

Usage: python scripts/bench_acks.py [-n 5000]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from edi_pipeline.acks.reader import read_ack
from edi_pipeline.app.ack import ingest_ack_file
from edi_pipeline.app.build import ToBuild, release
from edi_pipeline.ledger import claims as ledger_claims
from edi_pipeline.ledger.sqlite import SqliteLedger
from edi_pipeline.logs import configure
from edi_pipeline.maps import load_maps
from edi_pipeline.models import (
    Address,
    Claim,
    Coverage,
    Encounter,
    Person,
    Provider,
    ServiceLine,
)
from edi_pipeline.practice import load_practice
from edi_pipeline.x12.reader import Delimiters, read_segments
from edi_pipeline.x12.writer import X12Writer, envelope, seg

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
WRITER = X12Writer(Delimiters("*", ":", "^", "~"), "\n")


def claims(n: int) -> list[Claim]:
    out = []
    for i in range(n):
        person = Person(
            "TESTPATIENT",
            "ALPHA",
            date(1960, 1, 1),
            "F",
            Address("1 TEST ST", "MADISON", "WI", "53704"),
        )
        enc = Encounter(
            encounter_id=f"B{i:07d}",
            date_of_service=date(2026, 10, 6),
            place_of_service="11",
            rendering_provider=Provider("1234567893", "OKAFOR", "AMARA"),
            patient=person,
            coverage=Coverage("aetna", f"W{i:09d}"),
            diagnoses=("M0579", "Z79899"),
        )
        lines = (
            ServiceLine("20610", Decimal(1), Decimal("150.00"), "procedure", ("RT",)),
            ServiceLine("J3301", Decimal(4), Decimal("12.00"), "drug", ndc="00003029305",
                        ndc_quantity=Decimal(1), ndc_unit="ML", drug="triamcinolone"),
            ServiceLine("86140", Decimal(1), Decimal("20.00"), "lab"),
        )  # fmt: skip
        out.append(
            Claim(enc.encounter_id, "aetna", enc.date_of_service, "11", enc.diagnoses, lines, enc)
        )
    return out


def isa(sender: str, receiver: str, control: str):
    return seg("ISA", "00", "", "00", "", "ZZ", sender, "ZZ", receiver, "261121", "0800", None,
               "00501", control, "0", "T", None)  # fmt: skip


def ack_999(text: str, reject_every: int) -> str:
    segs = read_segments(text.encode("ascii"))
    sender, receiver, gs06 = segs[0].get(6).strip(), segs[0].get(8).strip(), segs[1].get(6)
    body = [seg("AK1", "HC", gs06, "005010X222A1")]
    st02, pos, claim_no = "", 0, 0
    errors = []
    for s in segs:
        if s.tag == "ST":
            st02, pos = s.get(2), 0
        pos += 1
        if s.tag == "CLM":
            claim_no += 1
        if reject_every and s.tag == "SV1" and claim_no % reject_every == 0:
            errors += [seg("IK3", "SV1", str(pos), "2400", "8"), seg("IK4", "3", "355", "7", "XX")]
    body.append(seg("AK2", "837", st02, "005010X222A1"))
    body += errors
    body.append(seg("IK5", "R", "5") if errors else seg("IK5", "A"))
    body.append(seg("AK9", "R" if errors else "A", "1", "1", "0" if errors else "1"))
    gs = seg("GS", "FA", receiver, sender, "20261121", "0800", "77", "X", "005010X231A1")
    specs = envelope([body], isa=isa(receiver, sender, "000000077"), gs=gs, st_controls=["0001"],
                     st01="999")  # fmt: skip
    return WRITER.render_all(specs)


def ack_277(text: str, reject_every: int) -> str:
    segs = read_segments(text.encode("ascii"))
    sender, receiver = segs[0].get(6).strip(), segs[0].get(8).strip()
    body = [
        seg("BHT", "0085", "08", "CA1", "20261121", "0800", "TH"),
        seg("HL", "1", None, "20", "1"),
        seg("NM1", "PR", "2", "PAYER", None, None, None, None, "PI", "60054"),
        seg("TRN", "1", "T1"),
        seg("HL", "2", "1", "21", "1"),
        seg("NM1", "41", "2", "US", None, None, None, None, "46", sender),
        seg("TRN", "2", "B1"),
        seg("STC", ("A1", "20"), "20261121", "WQ", "1"),
        seg("HL", "3", "2", "19", "1"),
        seg("NM1", "85", "2", "US", None, None, None, None, "XX", "1234567893"),
    ]
    hl, n, current, lcns = 3, 0, None, []

    def flush() -> None:
        nonlocal hl
        if current is None:
            return
        hl += 1
        rejected = reject_every and n % reject_every == 0
        body.extend([seg("HL", str(hl), "3", "PT"), seg("TRN", "2", current)])
        body.append(seg("STC", ("A7", "21") if rejected else ("A2", "20"), "20261121",
                        "U" if rejected else "WQ", "182"))  # fmt: skip
        body.append(seg("REF", "1K", f"ICN{current}"))
        if rejected:
            body.extend([seg("SVC", ("HC", "J3301"), "12", None, None, None, None, "4"),
                         seg("STC", ("A7", "218"), "20261121", "U", "12"),
                         seg("REF", "FJ", lcns[1])])  # fmt: skip

    for s in segs:
        if s.tag == "CLM":
            flush()
            n += 1
            current, lcns = s.get(1), []
        elif s.tag == "REF" and s.get(1) == "6R":
            lcns.append(s.get(2))
    flush()
    gs = seg("GS", "HN", receiver, sender, "20261121", "0800", "78", "X", "005010X214")
    specs = envelope([body], isa=isa(receiver, sender, "000000078"), gs=gs, st_controls=["0001"],
                     st01="277")  # fmt: skip
    return WRITER.render_all(specs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="claims (default 5000)")
    args = parser.parse_args()
    configure("json", level=logging.WARNING)
    maps = load_maps()
    practice = replace(load_practice(), claims_per_transaction=max(args.n, 1))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def fresh(name: str) -> tuple[SqliteLedger, str]:
            ledger = SqliteLedger.open(root / name / "ledger.sqlite")
            t0 = time.perf_counter()
            ix, _ = release(ledger, [ToBuild(c) for c in claims(args.n)], practice,
                            practice.receivers[0], maps.payers, out_dir=root / name / "out",
                            now=NOW, x12_now=NOW)  # fmt: skip
            assert ix is not None
            for c in ledger_claims.all_claims(ledger):
                ledger_claims.record_status(ledger, c.id, "sent", NOW, source="bench")
            print(f"setup: built and recorded {args.n} claims in {time.perf_counter() - t0:.2f}s")
            return ledger, Path(ix.file).read_text(encoding="ascii")

        ledger, text = fresh("a")
        ca = root / "a.277"
        ca.write_text(ack_277(text, 10))
        t0 = time.perf_counter()
        parsed = read_ack(ca, codes=maps.ack_codes)
        took = time.perf_counter() - t0
        assert len(parsed.acks277[0].claims) == args.n
        print(f"read_ack 277CA:          {args.n / took:>9,.0f} claim statuses/s ({took:.2f}s)")
        for name, content in (
            ("999 accepted", ack_999(text, 0)),
            ("999 rejected 1 in 5", ack_999(text, 5)),
        ):
            ledger.close()
            ledger, text = fresh(name.replace(" ", "_"))
            path = root / f"{name.replace(' ', '_')}.999"
            path.write_text(content)
            t0 = time.perf_counter()
            report = ingest_ack_file(path, ledger, maps, now=NOW)
            took = time.perf_counter() - t0
            assert len(report.outcomes) == args.n
            print(f"ingest {name:<18} {args.n / took:>9,.0f} claims/s ({took:.2f}s)")
        ledger.close()
        ledger, text = fresh("c")
        path = root / "c.277"
        path.write_text(ack_277(text, 10))
        t0 = time.perf_counter()
        report = ingest_ack_file(path, ledger, maps, now=NOW)
        took = time.perf_counter() - t0
        assert len(report.outcomes) == args.n
        print(f"ingest 277CA 1 in 10 rej {args.n / took:>9,.0f} claims/s ({took:.2f}s)")
        ledger.close()


if __name__ == "__main__":
    main()
