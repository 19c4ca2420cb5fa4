"""Reading back what the writer wrote, with the project's own reader (for round-trip tests)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from edi_pipeline.x12.reader import Segment, read_segments


@dataclass(frozen=True)
class ReadLine:
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    pointers: tuple[int, ...]
    line_control_number: str | None = None
    ndc: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ReadClaim:
    encounter_id: str
    charge: Decimal
    place_of_service: str
    frequency: str
    diagnoses: tuple[str, ...]
    prior_authorization: str | None
    payer_claim_number: str | None
    filing_indicator: str
    has_patient_loop: bool
    lines: tuple[ReadLine, ...]


def segments(text: str) -> list[Segment]:
    return list(read_segments(text.encode("latin-1")))


def read_claims(text: str) -> list[ReadClaim]:
    """Claims as the 837 says them: enough to compare with the claims that were written."""
    out: list[ReadClaim] = []
    cur: dict | None = None
    line: dict | None = None
    sbr09 = ""
    patient_loop = False

    def close_line() -> None:
        nonlocal line
        if line is not None and cur is not None:
            cur["lines"].append(ReadLine(**line))
        line = None

    def close_claim() -> None:
        nonlocal cur
        close_line()
        if cur is not None:
            cur["lines"] = tuple(cur["lines"])
            out.append(ReadClaim(**cur))
        cur = None

    for s in segments(text):
        if s.tag == "HL" and s.get(3) == "22":
            close_claim()
            patient_loop = s.get(4) == "1"
        elif s.tag == "SBR":
            sbr09 = s.get(9)
        elif s.tag == "CLM":
            pos, _, freq = s.components(5)
            cur = dict(
                encounter_id=s.get(1),
                charge=Decimal(s.get(2)),
                place_of_service=pos,
                frequency=freq,
                diagnoses=(),
                prior_authorization=None,
                payer_claim_number=None,
                filing_indicator=sbr09,
                has_patient_loop=patient_loop,
                lines=[],
            )
        elif cur is not None and s.tag == "REF" and line is None and s.get(1) in ("G1", "F8"):
            key = "prior_authorization" if s.get(1) == "G1" else "payer_claim_number"
            cur[key] = s.get(2)
        elif cur is not None and s.tag == "HI":
            cur["diagnoses"] = tuple(s.get(n).split(":")[1] for n in range(1, 13) if s.get(n))
        elif s.tag == "LX":
            close_line()
            line = {}
        elif s.tag == "SV1" and line is not None:
            comps = s.components(1)
            line.update(
                procedure=comps[1],
                modifiers=tuple(comps[2:]),
                charge=Decimal(s.get(2)),
                units=Decimal(s.get(4)),
                pointers=tuple(int(p) for p in s.components(7)),
            )
        elif s.tag == "REF" and line is not None and s.get(1) == "6R":
            line["line_control_number"] = s.get(2)
        elif s.tag == "NTE" and line is not None:
            line["note"] = s.get(2)
        elif s.tag == "LIN" and line is not None:
            line["ndc"] = s.get(3)
        elif s.tag == "CTP" and line is not None:
            line["ndc_quantity"] = Decimal(s.get(4))
            line["ndc_unit"] = s.components(5)[0]
        elif s.tag == "SE":
            close_claim()
    return out
