"""A real scale-out workload: encounter exports dropped into a shared folder, then 835s paying
what was built. Used by the scale tests and ``scripts/bench_scale.py``.

Encounters are the bundled demo's, re-keyed so that each is its own claim: a unique encounter id,
a unique member id (same shape as the original, so the payer's id checks still pass; also keeps
the scrub's per-member frequency rules from holding them) and a recent date of service (timely
filing). Templates that the demo means to hold (missing NDC, …) are dropped, so every claim in the
workload is expected to build.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo" / "encounters.json"

#: demo encounters that build cleanly once their date is recent (the others are meant to hold)
TEMPLATES = (
    "DEMO-1001",
    "DEMO-1005",
    "DEMO-1007",
    "DEMO-1011",
    "DEMO-1012",
    "DEMO-1101",
    "DEMO-1103",
    "DEMO-1106",
)


def _member(template: str, i: int) -> str:
    """Member id ``i`` shaped like ``template``: all its digit positions but the first, from
    the right, carry ``i`` zero-padded (so a Medicare MBI stays an MBI, and two templates with
    one member never give the same id for two ``i``)."""
    chars = list(template)
    n = i
    for pos in range(len(chars) - 1, -1, -1):
        if chars[pos].isdigit() and pos > 0:
            chars[pos] = str(n % 10)
            n //= 10
    return "".join(chars)


def encounters(count: int, *, prefix: str = "SC", today: date | None = None) -> list[dict]:
    demo = {e["encounter_id"]: e for e in json.loads(DEMO.read_text())["encounters"]}
    templates = [demo[t] for t in TEMPLATES if t in demo]
    day = (today or datetime.now(UTC).date()) - timedelta(days=14)
    out = []
    for i in range(count):
        e = json.loads(json.dumps(templates[i % len(templates)]))
        e["encounter_id"] = f"{prefix}{i:05d}"
        e["date_of_service"] = (day - timedelta(days=i % 7)).isoformat()
        e["coverage"]["member_id"] = _member(e["coverage"]["member_id"], i + 1)
        e["patient"]["patient_id"] = f"MRN-{prefix}{i:05d}"
        out.append(e)
    return out


def write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def drop_encounters(inbound: Path, count: int, per_file: int = 1, **kw: Any) -> list[str]:
    """``count`` encounters in files of ``per_file``; returns the encounter ids."""
    inbound.mkdir(parents=True, exist_ok=True)
    all_ = encounters(count, **kw)
    for start in range(0, count, per_file):
        chunk = all_[start : start + per_file]
        write_private(
            inbound / f"enc-{start // per_file:05d}.json", json.dumps({"encounters": chunk})
        )
    return [e["encounter_id"] for e in all_]


# ------------------------------------------------------------------ 835s for what was built


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def remit_835(claims: list[dict], number: int, today: date) -> str:
    """One balanced 835 paying ``claims`` (each: encounter_id, charge, lines of procedure,
    modifiers, units, charge, line_control_number): every line paid at 80 %, the rest CO-45."""
    ymd = today.strftime("%Y%m%d")
    body: list[str] = []
    total = Decimal(0)
    for n, c in enumerate(claims, start=1):
        lines = []
        paid_claim = Decimal(0)
        for line in c["lines"]:
            charge = Decimal(line["charge"])
            paid = (charge * Decimal("0.8")).quantize(Decimal("0.01"))
            paid_claim += paid
            code = ":".join(["HC", line["procedure"], *filter(None, line["modifiers"].split(":"))])
            units = Decimal(line["units"])
            lines += [
                f"SVC*{code}*{_amount(charge)}*{_amount(paid)}**{units.normalize():f}",
                f"DTM*472*{c['date_of_service'].replace('-', '')}",
                f"CAS*CO*45*{_amount(charge - paid)}",
                f"REF*6R*{line['line_control_number']}",
            ]
        total += paid_claim
        body += [
            f"CLP*{c['encounter_id']}*1*{c['charge']}*{_amount(paid_claim)}*0*12*"
            f"ICN{number:04d}{n:03d}*11*1",
            f"NM1*QC*1*PATIENT*{n}****MI*M{number:04d}{n:03d}",
            *lines,
        ]
    st = [
        f"ST*835*{number:04d}",
        f"BPR*I*{_amount(total)}*C*ACH*CCP*01*999999999*DA*123456*1066033492**01*999988880*DA*"
        f"98765*{ymd}",
        f"TRN*1*SCALE{number:06d}*1066033492",
        f"DTM*405*{ymd}",
        "N1*PR*MEDICARE",
        "N3*PO BOX 1",
        "N4*MADISON*WI*53704",
        "PER*BL*EDI*TE*8005551212",
        "N1*PE*DEMO RHEUMATOLOGY*XX*1234567893",
        "LX*1",
        *body,
    ]
    st.append(f"SE*{len(st) + 1}*{number:04d}")
    isa = (
        f"ISA*00*          *00*          *ZZ*{'MEDICARE':<15}*ZZ*{'DEMORHEUM01':<15}*"
        f"{today.strftime('%y%m%d')}*0900*^*00501*{number:09d}*0*T*:"
    )
    seg = [
        isa,
        f"GS*HP*MEDICARE*DEMORHEUM01*{ymd}*0900*{number}*X*005010X221A1",
        *st,
        f"GE*1*{number}",
        f"IEA*1*{number:09d}",
    ]
    return "~\n".join(seg) + "~\n"


def built_claims(ledger: Any) -> list[dict]:
    """Every built/sent claim of the ledger with its lines, for ``remit_835``."""
    rows = ledger.query(
        "SELECT c.id, c.encounter_id, c.charge, c.date_of_service, l.procedure, l.modifiers, "
        "l.units, l.charge AS line_charge, l.line_control_number FROM claims c "
        "JOIN lines l ON l.claim_id = c.id WHERE c.status IN ('built', 'sent') "
        "ORDER BY c.id, l.line_number"
    )
    by_claim: dict[int, dict] = {}
    grouped: defaultdict[int, list[dict]] = defaultdict(list)
    for r in rows:
        by_claim.setdefault(
            r["id"],
            {
                "encounter_id": r["encounter_id"],
                "charge": r["charge"],
                "date_of_service": r["date_of_service"],
            },
        )
        grouped[r["id"]].append(
            {
                "procedure": r["procedure"],
                "modifiers": r["modifiers"],
                "units": r["units"],
                "charge": r["line_charge"],
                "line_control_number": r["line_control_number"],
            }
        )
    return [{**c, "lines": grouped[k]} for k, c in by_claim.items()]


def drop_remits(inbound: Path, claims: list[dict], files: int, today: date | None = None) -> int:
    """Spread ``claims`` over ``files`` 835 files in ``inbound``; returns the lines paid."""
    today = today or datetime.now(UTC).date()
    inbound.mkdir(parents=True, exist_ok=True)
    per = max(1, -(-len(claims) // files))
    lines = 0
    for k in range(files):
        chunk = claims[k * per : (k + 1) * per]
        if not chunk:
            break
        lines += sum(len(c["lines"]) for c in chunk)
        write_private(inbound / f"remit-{k:04d}.835", remit_835(chunk, k + 1, today))
    return lines
