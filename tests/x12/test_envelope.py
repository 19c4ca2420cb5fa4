"""Envelope checks: counts, control numbers, missing trailers, stray segments; the summary tree."""

from __future__ import annotations

import pytest

from edi_pipeline.x12.envelope import EnvelopeReader, check, transactions
from edi_pipeline.x12.reader import X12Reader

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*250115*0930*^*00501*{isa13}*0*T*:~"
)


def interchange(
    isa13: str = "000000001",
    groups: list[list[list[str]]] | None = None,
    *,
    iea: str | None = None,
    gs08: str = "005010X222A1",
) -> list[str]:
    """Segments of one interchange; each transaction is its body (between ST and SE)."""
    groups = groups if groups is not None else [[["BHT*0019", "CLM*A*10"]]]
    out = [ISA.format(isa13=isa13)]
    for g, txs in enumerate(groups, start=1):
        out.append(f"GS*HC*S*R*20250115*0930*{g}*X*{gs08}~")
        for t, body in enumerate(txs, start=1):
            out.append(f"ST*837*{t:04d}*{gs08}~")
            out += [s + "~" for s in body]
            out.append(f"SE*{len(body) + 2}*{t:04d}~")
        out.append(f"GE*{len(txs)}*{g}~")
    out.append(iea if iea is not None else f"IEA*{len(groups)}*{isa13}~")
    return out


def run(lines: list[str]) -> tuple[list[tuple[str, int | None, str | None]], object]:
    report = check(X12Reader("\n".join(lines).encode(), name="t.x12"), file="t.x12")
    return [(p.code, p.where.segment_index, p.where.segment_id) for p in report.problems], report


def test_a_correct_file_has_no_problems_and_a_full_summary() -> None:
    problems, report = run(interchange(groups=[[["BHT*1", "CLM*A*1", "CLM*B*2"], ["BHT*2"]]]))
    assert problems == []
    (ix,) = report.interchanges  # type: ignore[attr-defined]
    assert ix.isa13 == "000000001"
    (g,) = ix.groups
    assert (g.gs06, g.gs01, g.gs08) == ("1", "HC", "005010X222A1")
    assert [(t.st02, t.segments, t.claims, t.guide) for t in g.transactions] == [
        ("0001", 5, 2, "005010X222A1"),
        ("0002", 3, 0, "005010X222A1"),
    ]


def _replace(lines: list[str], prefix: str, new: str) -> list[str]:
    i = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    return [*lines[:i], new, *lines[i + 1 :]]


@pytest.mark.parametrize(
    ("prefix", "new", "expected"),
    [
        ("SE*", "SE*9*0001~", ("se01_mismatch", 6, "SE")),
        ("SE*", "SE*4*0002~", ("se02_mismatch", 6, "SE")),
        ("SE*", "SE*x*0001~", ("se01_invalid", 6, "SE")),
        ("GE*", "GE*2*1~", ("ge01_mismatch", 7, "GE")),
        ("GE*", "GE*1*7~", ("ge02_mismatch", 7, "GE")),
        ("IEA*", "IEA*3*000000001~", ("iea01_mismatch", 8, "IEA")),
        ("IEA*", "IEA*1*000000009~", ("iea02_mismatch", 8, "IEA")),
    ],
)
def test_each_mismatch_is_reported_at_its_trailer(
    prefix: str, new: str, expected: tuple[str, int, str]
) -> None:
    problems, _ = run(_replace(interchange(), prefix, new))
    assert problems == [expected]


def test_se01_message_says_declared_and_counted() -> None:
    report = check(X12Reader("\n".join(_replace(interchange(), "SE*", "SE*40*0001~")).encode()))
    assert report.problems[0].message == "SE01 says 40 segments, counted 4 (ST through SE)"


def test_missing_trailers() -> None:
    lines = [line for line in interchange() if not line.startswith(("SE*", "GE*", "IEA*"))]
    problems, report = run(lines)
    assert [p[0] for p in problems] == ["missing_se", "missing_ge", "missing_iea"]
    tx = report.interchanges[0].groups[0].transactions[0]  # type: ignore[attr-defined]
    assert tx.segments == 3 and tx.se01 is None


def test_new_isa_before_iea_closes_the_open_interchange() -> None:
    first = interchange()[:-1]  # no IEA
    problems, report = run(first + interchange("000000002"))
    assert problems == [("missing_iea", 8, "ISA")]
    assert [ix.isa13 for ix in report.interchanges] == ["000000001", "000000002"]  # type: ignore[attr-defined]


def test_segments_outside_transactions_and_stray_trailers() -> None:
    lines = interchange()
    lines.insert(2, "NM1*41*2*X~")  # between GS and ST
    lines.append("SE*2*0001~")
    lines.append("GE*1*1~")
    problems, _ = run(lines)
    assert problems == [
        ("outside_transaction", 3, "NM1"),
        ("se_without_st", 10, "SE"),
        ("ge_without_gs", 11, "GE"),
    ]


def test_file_without_isa_or_gs() -> None:
    lines = ["ST*835*1234~", "BPR*I*1~", "CLP*A*1*10*10~", "SE*5*1234~"]
    problems, report = run(lines)
    assert ("st_outside_group", 1, "ST") in problems
    assert ("se01_mismatch", 4, "SE") in problems
    (ix,) = report.interchanges  # type: ignore[attr-defined]
    assert ix.isa13 is None and ix.groups[0].gs06 is None
    assert ix.groups[0].transactions[0].claims == 1
    assert ix.groups[0].transactions[0].guide is None


def test_ta1_interchange_counts_groups_itself() -> None:
    lines = [ISA.format(isa13="000000001"), "TA1*000000050*200229*1200*A*000~", "IEA*1*000000001~"]
    problems, report = run(lines)
    assert problems == [("iea01_mismatch", 3, "IEA")]
    assert report.interchanges[0].ta1 == 1  # type: ignore[attr-defined]


def test_guide_is_st03_else_gs08() -> None:
    lines = interchange(gs08="005010X221A1")
    lines = [line.replace("ST*837*0001*005010X221A1", "ST*835*0001") for line in lines]
    env = EnvelopeReader(X12Reader("\n".join(lines).encode()))
    contexts = {seg.tag: ctx for ctx, seg in env}
    assert contexts["CLM"].guide == "005010X221A1" and contexts["CLM"].st03 is None
    assert contexts["CLM"].st01 == "835" and contexts["CLM"].isa13 == "000000001"


def test_transactions_groups_one_set_at_a_time() -> None:
    lines = interchange(groups=[[["BHT*1"], ["BHT*2", "CLM*A*1"]], [["BHT*3"]]])
    txs = list(transactions(X12Reader("\n".join(lines).encode())))
    assert [[s.tag for s in tx.segments] for tx in txs] == [
        ["ST", "BHT", "SE"],
        ["ST", "BHT", "CLM", "SE"],
        ["ST", "BHT", "SE"],
    ]
    assert [tx.context.gs06 for tx in txs] == ["1", "1", "2"]
    assert txs[1].guide == "005010X222A1"
