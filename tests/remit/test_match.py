"""Matching against an in-memory ``SentClaims``: CLP01 forms, REF*6R, the procedure fallback with
identical lines, payer-added and unreported lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from edi_pipeline.remit.match import InMemorySentClaims, Matcher, SentClaim, SentLine
from edi_pipeline.remit.parse import read_remit

DOS = date(2025, 1, 6)


def sent(pcn, lines, **kw):
    return SentClaim(
        key=pcn,
        patient_control_number=pcn,
        encounter_id=pcn,
        charge=sum((ln.charge for ln in lines), Decimal(0)),
        lines=tuple(lines),
        **kw,
    )


def line(n, proc, charge, units, mods=(), lcn=None):
    return SentLine(n, proc, Decimal(charge), Decimal(units), tuple(mods), DOS, lcn)


def remit(*claims: str):
    body = "".join(claims)
    text = f"ST*835*1~BPR*I*0*C*NON************20250110~TRN*1*T*1~LX*1~{body}SE*99*1~"
    return read_remit(text.encode(), name="m.835")[0]


def test_truncated_and_prefixed_patient_control_numbers() -> None:
    table = InMemorySentClaims([sent("ENC-2025-000123", [line(1, "99214", "200.00", 1)])])
    m = Matcher(table)
    (truncated, prefixed, lower) = remit(
        "CLP*ENC-2025-0001*1*200*150**12*I1~",
        "CLP*CHX9ENC-2025-000123*1*200*150**12*I2~",
        "CLP*enc-2025-000123 *1*200*150**12*I3~",
    )
    assert m.match(truncated).how == "patient_control_number_fuzzy"
    assert m.match(prefixed).sent.encounter_id == "ENC-2025-000123"
    assert m.match(lower).how == "patient_control_number"


def test_line_control_number_finds_a_claim_whose_clp01_was_mangled() -> None:
    table = InMemorySentClaims([sent("E1", [line(1, "J1745", "4000.00", 40, lcn="L77")])])
    (claim,) = remit("CLP*XX*1*4000*0**12*I~SVC*HC:J1745*4000*0**40~REF*6R*L77~")
    match = Matcher(table).match(claim)
    assert match.how == "line_control_number" and match.line_how == ("control_number",)


def test_identical_drug_and_waste_lines_are_told_apart_by_modifier() -> None:
    lines = [
        line(1, "J1745", "300.00", 30),
        line(2, "J1745", "300.00", 30, ["JW"]),
        line(3, "96413", "250.00", 1),
    ]
    table = InMemorySentClaims([sent("E2", lines)])
    (claim,) = remit(
        "CLP*E2*1*850*500**12*I~"
        "SVC*HC:J1745:JW*300*0**30~DTM*472*20250106~CAS*CO*4*300~"
        "SVC*HC:J1745*300*300**30~DTM*472*20250106~"
        "SVC*HC:96413*250*200**1~DTM*472*20250106~CAS*CO*45*50~"
        "SVC*HC:99999*0*0**1~DTM*472*20250106~"
    )
    m = Matcher(table)
    match = m.match(claim)
    assert [s.number if s else None for s in match.lines] == [2, 1, 3, None]
    assert match.payer_added() == [4]
    assert m.unreported() == []


def test_recoded_line_matches_through_svc06_and_missing_lines_are_unreported() -> None:
    table = InMemorySentClaims(
        [sent("E3", [line(1, "20611", "250.00", 1, ["RT"]), line(2, "76942", "90.00", 1)])]
    )
    (claim,) = remit(
        "CLP*E3*1*250*200**12*I~SVC*HC:20610:RT*250*200**1*HC:20611:RT~DTM*472*20250106~"
        "CAS*CO*45*50~"
    )
    m = Matcher(table)
    match = m.match(claim)
    assert match.lines[0].number == 1 and match.line_how == ("procedure",)
    assert [(c.encounter_id, ln.number) for c, ln in m.unreported()] == [("E3", 2)]


def test_resubmission_picked_by_payer_claim_number_and_charge() -> None:
    first = sent("E4", [line(1, "99214", "200.00", 1)], frequency="1")
    second = SentClaim(
        key="E4-7",
        patient_control_number="E4",
        encounter_id="E4",
        charge=Decimal("180.00"),
        lines=(line(1, "99214", "180.00", 1),),
        frequency="7",
        payer_claim_number="ICN9",
    )
    m = Matcher(InMemorySentClaims([first, second]))
    (a, b) = remit("CLP*E4*1*200*150**12*ICN1*11*1~", "CLP*E4*1*180*150**12*ICN9*11*7~")
    assert m.match(a).sent.key == "E4" and m.match(b).sent.key == "E4-7"
