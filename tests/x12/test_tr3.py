"""TR3 loop structure read from pyx12's maps, and the walker that names each segment's loop."""

from __future__ import annotations

import pytest

from edi_pipeline.errors import X12Error
from edi_pipeline.x12.reader import X12Reader
from edi_pipeline.x12.tr3 import (
    MAPS,
    LoopSpec,
    SegmentRule,
    Walker,
    data_type,
    loop_id,
    resolve_guide,
    spec,
    walk,
    walk_file,
)
from tests.x12.support import fixture

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*250115*0930*^*00501*000000001*0*T*:~"
)


def segments(body: str, gs08: str = "005010X222A1", st01: str = "837") -> X12Reader:
    lines = [line.strip() for line in body.strip().splitlines()]
    text = "\n".join(
        [
            ISA,
            f"GS*HC*S*R*20250115*0930*1*X*{gs08}~",
            f"ST*{st01}*0001*{gs08}~",
            *lines,
            f"SE*{len(lines) + 2}*0001~",
            "GE*1*1~",
            "IEA*1*000000001~",
        ]
    )
    return X12Reader(text.encode())


def loops(reader: X12Reader, guide: str = "005010X222A1") -> list[tuple[str, str]]:
    return [(seg.tag, loop_id(path)) for path, seg in walk(reader, guide)]


@pytest.mark.parametrize("guide", sorted(MAPS))
def test_every_map_loads_into_a_tree(guide: str) -> None:
    root = spec(guide)
    assert root.id == "ST_LOOP"
    assert isinstance(root.children[0], SegmentRule) and root.children[0].id == "ST"
    assert root.find("DETAIL") is not None or guide == "005010X231A1"
    assert spec(guide) is root  # cached


def test_837p_structure_comes_from_the_map() -> None:
    root = spec("005010X222A1")
    claim = root.find("2300")
    assert isinstance(claim, LoopSpec) and claim.first is not None and claim.first.id == "CLM"
    line = claim.find("2400")
    assert line is not None and [s.id for s in line.segments][:2] == ["LX", "SV1"]
    assert line.repeat == "50"
    billing = root.find("2010AA")
    assert billing is not None and billing.first is not None
    assert billing.first.key == (1, None) and billing.first.codes == frozenset({"85"})
    hl = root.find("2000B")
    assert hl is not None and hl.first is not None
    assert hl.first.key == (3, None) and "22" in hl.first.codes
    assert data_type("1270") == "ID" and data_type("1035") == "AN"


def test_837p_claim_loops() -> None:
    body = """
        BHT*0019*00*B1*20250115*0930*CH~
        NM1*41*2*SUBMITTER*****46*S1~
        PER*IC*CONTACT*TE*5555550100~
        NM1*40*2*RECEIVER*****46*R1~
        HL*1**20*1~
        PRV*BI*PXC*207RR0500X~
        NM1*85*2*GROUP*****XX*1234567893~
        N3*1 MAIN ST~
        N4*TOWN*PA*171010001~
        REF*EI*123456789~
        HL*2*1*22*0~
        SBR*P*18*G1******CI~
        NM1*IL*1*DOE*JANE****MI*M1~
        NM1*PR*2*PAYER*****PI*P1~
        CLM*C1*230***11:B:1*Y*A*Y*Y~
        HI*ABK:M0579~
        LX*1~
        SV1*HC:J1745:JW*230*UN*2***1~
        DTP*472*D8*20250110~
        REF*6R*L1~
        LIN**N4*57894003001~
        CTP****20*ME~
        LX*2~
        SV1*HC:96413*10*UN*1***1~
        DTP*472*D8*20250110~
    """
    got = loops(segments(body))
    assert got == [
        ("ISA", ""),
        ("GS", ""),
        ("ST", ""),
        ("BHT", "HEADER"),
        ("NM1", "1000A"),
        ("PER", "1000A"),
        ("NM1", "1000B"),
        ("HL", "2000A"),
        ("PRV", "2000A"),
        ("NM1", "2010AA"),
        ("N3", "2010AA"),
        ("N4", "2010AA"),
        ("REF", "2010AA"),
        ("HL", "2000B"),
        ("SBR", "2000B"),
        ("NM1", "2010BA"),
        ("NM1", "2010BB"),
        ("CLM", "2300"),
        ("HI", "2300"),
        ("LX", "2400"),
        ("SV1", "2400"),
        ("DTP", "2400"),
        ("REF", "2400"),
        ("LIN", "2410"),
        ("CTP", "2410"),
        ("LX", "2400"),
        ("SV1", "2400"),
        ("DTP", "2400"),
        ("SE", ""),
        ("GE", ""),
        ("IEA", ""),
    ]
    paths = [path for path, seg in walk(segments(body), "005010X222A1") if seg.tag == "LIN"]
    assert paths == [("DETAIL", "2000A", "2000B", "2300", "2400", "2410")]


def test_hl_hierarchy_follows_parent_ids() -> None:
    """A patient HL whose HL02 names the first subscriber goes back under it."""
    body = """
        BHT*0019*00*B1*20250115*0930*CH~
        HL*1**20*1~
        NM1*85*2*GROUP*****XX*1234567893~
        HL*2*1*22*1~
        SBR*P**G1******CI~
        HL*3*1*22*1~
        SBR*P**G2******CI~
        HL*4*2*23*0~
        PAT*19~
        NM1*QC*1*DOE*JOHN~
        CLM*C2*10***11:B:1*Y*A*Y*Y~
        HL*5*9*23*0~
    """
    walker = Walker("005010X222A1")
    got = [(seg.tag, walker.step(seg)) for seg in segments(body)]
    patient = next(path for tag, path in got if tag == "PAT")
    assert patient == ("DETAIL", "2000A", "2000B", "2000C")
    claim = next(path for tag, path in got if tag == "CLM")
    assert claim[-2:] == ("2000C", "2300")
    assert [p.code for p in walker.problems] == ["hl_parent_unresolved"]
    assert walker.problems[0].where.segment_id == "HL"


def test_unexpected_segment_keeps_its_loop_and_is_reported() -> None:
    walker = Walker("005010X222A1", file="f.837")
    got = [(seg.tag, loop_id(walker.step(seg))) for seg in segments("BHT*0019~\nZZZ*1~")]
    assert ("ZZZ", "HEADER") in got
    (problem,) = walker.problems
    assert problem.code == "unexpected_segment" and problem.where.file == "f.837"


def test_out_of_order_segment_stays_in_its_loop() -> None:
    body = """
        BHT*0019*00*B1*20250115*0930*CH~
        HL*1**20*1~
        NM1*85*2*GROUP*****XX*1234567893~
        HL*2*1*22*0~
        SBR*P*18*G1******CI~
        CLM*C1*230***11:B:1*Y*A*Y*Y~
        REF*D9*CLEARINGHOUSE~
        DTP*431*D8*20250101~
        REF*G1*AUTH~
    """
    got = loops(segments(body))
    assert got[-4:] == [("REF", "2300"), ("SE", ""), ("GE", ""), ("IEA", "")]


def test_835_999_277ca_loops() -> None:
    remit = """
        BPR*I*10*C*ACH************20250110~
        TRN*1*T1*1~
        N1*PR*PAYER~
        N1*PE*PRACTICE*XX*1234567893~
        LX*1~
        CLP*C1*1*230*10**MC*ICN1~
        CAS*CO*45*220~
        SVC*HC:J1745*230*10**2~
        DTM*472*20250110~
        CAS*CO*45*220~
        REF*6R*L1~
        PLB*1234567893*20251231*WO:X*5~
    """
    got = loops(segments(remit, "005010X221A1", "835"), "005010X221A1")
    assert ("CLP", "2100") in got and ("SVC", "2110") in got and ("PLB", "FOOTER") in got
    assert got[got.index(("SVC", "2110")) + 2] == ("CAS", "2110")

    ack = """
        AK1*HC*1*005010X222A1~
        AK2*837*0001*005010X222A1~
        IK3*SV1*29**8~
        IK4*3*355*7*XX~
        IK5*R*5~
        AK9*R*1*1*0~
    """
    got = loops(segments(ack, "005010X231A1", "999"), "005010X231A1")
    assert got[3:9] == [
        ("AK1", "HEADER"),
        ("AK2", "2000"),
        ("IK3", "2100"),
        ("IK4", "2110"),
        ("IK5", "2000"),
        ("AK9", "HEADER"),
    ]


def test_walk_file_reads_each_transaction_with_its_guide() -> None:
    path = fixture("x12_277CA_rejected.txt")
    problems: list = []
    got = [(seg.tag, loop_id(p)) for _, p, seg in walk_file(X12Reader(path), problems=problems)]
    assert ("STC", "2200D") in got and ("HL", "2000D") in got
    assert problems == []


def test_guides_resolve_with_aliases_and_st01() -> None:
    assert resolve_guide("005010X222A2") == "005010X222A1"
    assert resolve_guide("005010X231") == "005010X231A1"
    assert resolve_guide(None, "835") == "005010X221A1"
    assert resolve_guide(None, "837") is None
    assert resolve_guide("005010X223A3") is None
    with pytest.raises(X12Error) as info:
        spec("005010X212")
    assert info.value.code == "no_tr3_map"
