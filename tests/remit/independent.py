"""An independent 835 balance computation for the tests: plain splitting, no project code.

It follows 835.md §6 literally: per claim CLP03 − CLP04 − Σ(claim CAS + line CAS), per line
SVC02 − Σ line CAS − SVC03, per ST BPR02 − (Σ CLP04 − Σ PLB). Non-numeric amounts are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path


def _num(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@dataclass
class Tx:
    st02: str
    bpr02: Decimal = Decimal(0)
    clp04: Decimal = Decimal(0)
    plb: Decimal = Decimal(0)
    claims: int = 0
    charge: Decimal = Decimal(0)
    cas: Decimal = Decimal(0)
    claim_diffs: list[Decimal] = field(default_factory=list)
    line_diffs: list[Decimal] = field(default_factory=list)

    @property
    def diff(self) -> Decimal:
        return self.bpr02 - (self.clp04 - self.plb)

    @property
    def balanced(self) -> bool:
        return self.diff == 0 and not any(self.claim_diffs) and not any(self.line_diffs)


def compute(path: Path) -> list[Tx]:
    text = path.read_bytes().decode("latin-1").lstrip("\ufeff \r\n")
    if text.startswith("ISA"):
        el = text[3]
        head = text.split(el)
        # ISA16 is the 17th field; its first character is the component separator, the next the
        # segment terminator (works for the 72-character ISA too).
        term = head[16][1]
    else:  # no ISA (starts at ST): the element separator follows the two-letter tag
        el = text[2]
        term = "~"
    segs = [s.strip("\r\n ") for s in text.split(term)]
    txs: list[Tx] = []
    tx: Tx | None = None
    claim: list[Decimal] | None = None  # [charge, paid, cas]
    line: list[Decimal] | None = None

    def close_line() -> None:
        nonlocal line
        if line is not None and tx is not None:
            tx.line_diffs.append(line[0] - line[2] - line[1])
        line = None

    def close_claim() -> None:
        nonlocal claim
        close_line()
        if claim is not None and tx is not None:
            tx.claim_diffs.append(claim[0] - claim[1] - claim[2])
        claim = None

    for seg in segs:
        if not seg:
            continue
        f = seg.split(el)
        tag = f[0]
        if tag == "ST":
            tx = Tx(f[2])
            txs.append(tx)
        elif tx is None:
            continue
        elif tag == "BPR":
            tx.bpr02 = _num(f[2]) or Decimal(0)
        elif tag == "CLP":
            close_claim()
            charge, paid = _num(f[3]) or Decimal(0), _num(f[4]) or Decimal(0)
            claim = [charge, paid, Decimal(0)]
            tx.claims += 1
            tx.clp04 += paid
            tx.charge += charge
        elif tag == "SVC" and claim is not None:
            close_line()
            padded = [*f, "", "", ""]
            line = [_num(padded[2]) or Decimal(0), _num(padded[3]) or Decimal(0), Decimal(0)]
        elif tag == "CAS" and claim is not None:
            for i in range(3, min(len(f), 19), 3):
                amount = _num(f[i])
                if amount is None or f[1] not in ("CO", "OA", "PI", "PR", "CR"):
                    continue
                claim[2] += amount
                tx.cas += amount
                if line is not None:
                    line[2] += amount
        elif tag in ("LX", "PLB", "SE"):
            close_claim()
            if tag == "PLB":
                for i in range(4, min(len(f), 15), 2):
                    amount = _num(f[i]) if f[i] else None
                    if amount is not None:
                        tx.plb += amount
    return txs
