"""Tie-back on acknowledgments made from our own 837 output (pure: no ledger here).

The 837s are built by ``claim837.build_interchange``; the 999s come from pyx12 itself (run on a
copy of our file with one chosen segment broken) or are written by the test with chosen IK3
positions; the 277CAs echo our CLM01s and REF*6Rs. Each test checks that the verdict lands on
the chosen claim and line, and that the others are treated as the acknowledgment says.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi_pipeline.acks import read_ack
from edi_pipeline.acks.model import SegmentError
from edi_pipeline.acks.tieback import TieBack, applies, place, tie_file
from edi_pipeline.claim837 import build_interchange
from edi_pipeline.maps import load_maps
from edi_pipeline.practice import load_practice
from edi_pipeline.x12.writer import seg
from tests.acks.ackgen import (
    ListLookup,
    Status277,
    Tx999,
    edit_segment,
    index_837,
    make_277ca,
    make_999,
    make_ta1,
    pyx12_999,
    sent_claims,
)
from tests.build.builders import make_claim

MAPS = load_maps()
CODES = MAPS.ack_codes
PRACTICE = load_practice()
NOW = datetime(2025, 1, 15, 9, 30)


def build(ids=("E1", "E2", "E3"), per_transaction: int = 5000, isa13: int = 7) -> str:
    practice = replace(PRACTICE, claims_per_transaction=per_transaction)
    built = build_interchange(
        [make_claim(i) for i in ids],
        practice,
        practice.receivers[0],
        MAPS.payers,
        isa13=isa13,
        gs06=isa13,
        now=NOW,
    )
    return built.text


def tie(ack_text: str, lookup: ListLookup) -> TieBack:
    ack = read_ack(ack_text.encode("latin-1"), codes=CODES, name="ack")
    assert not ack.errors, ack.errors
    return tie_file(ack, lookup, CODES)


def by_claim(result: TieBack) -> dict[str, object]:
    return {v.claim.encounter_id: v for v in result.verdicts}


TEXT = build()
IDX = index_837(TEXT)
LOOKUP = ListLookup(sent_claims(TEXT))


def test_the_independent_index_agrees_with_the_builders_spans() -> None:
    practice = PRACTICE
    built = build_interchange(
        [make_claim(i) for i in ("E1", "E2", "E3")],
        practice,
        practice.receivers[0],
        MAPS.payers,
        isa13=7,
        gs06=7,
        now=NOW,
    )
    ours = [
        (c.encounter_id, c.first, c.last, [(ln.first, ln.last) for ln in c.lines])
        for c in IDX.claims
    ]
    theirs = [
        (c.encounter_id, c.first_segment, c.last_segment,
         [(ln.first_segment, ln.last_segment) for ln in c.lines])
        for c in built.claims
    ]  # fmt: skip
    assert ours == theirs


# ------------------------------------------------------------------ 999 from pyx12


def test_pyx12_999_for_a_bad_code_in_one_line_finds_that_claim_and_line() -> None:
    line = IDX.claim("E2").lines[1]
    sv1 = line.first + 1
    broken = edit_segment(TEXT, "0001", sv1, lambda s: s.replace("*UN*", "*XX*"))
    valid, ack_text, errors = pyx12_999(broken)
    assert not valid and any("SV103" in e for e in errors)
    assert f"IK3*SV1*{sv1}**8" in ack_text  # pyx12's own position, not ours
    verdicts = by_claim(tie(ack_text, LOOKUP))
    e2 = verdicts["E2"]
    assert e2.status == "rejected"
    (reason,) = e2.reasons
    assert (reason.code, reason.line, reason.segment_id, reason.position, reason.element) == (
        "IK403:7",
        2,
        "SV1",
        sv1,
        "SV103",
    )
    assert reason.line_control_number == line.control
    assert "Invalid code value in SV103" in reason.message
    assert "got 'XX'" in reason.message and "service line 2 (J1745:JW)" in reason.message
    for other in ("E1", "E3"):
        v = verdicts[other]
        assert v.status == "rejected"
        assert v.reasons[0].scope == "other_claims" and "E2" in v.reasons[0].message
        assert "no error of its own" in v.reasons[0].message


def test_pyx12_999_for_a_missing_service_date_at_the_very_end() -> None:
    """DTP*472 (required) removed from the last line of the last claim: pyx12 reports it at
    the position of the next segment; tie-back puts it on that line, not on the SE."""
    last = IDX.claim("E3").lines[-1]
    dtp = last.first + 2
    broken = edit_segment(TEXT, "0001", dtp, lambda s: None if s.startswith("DTP*472") else s)
    sent = ListLookup(sent_claims(broken))
    valid, ack_text, _ = pyx12_999(broken)
    assert not valid
    verdicts = by_claim(tie(ack_text, sent))
    (reason,) = verdicts["E3"].reasons
    assert reason.code == "IK304:3" and reason.segment_id == "DTP"
    assert reason.line == 3
    assert "Required segment missing" in reason.message


def test_pyx12_999_for_a_missing_date_in_a_middle_line() -> None:
    line = IDX.claim("E1").lines[0]
    broken = edit_segment(TEXT, "0001", line.first + 2, lambda s: None)
    sent = ListLookup(sent_claims(broken))
    _, ack_text, _ = pyx12_999(broken)
    verdicts = by_claim(tie(ack_text, sent))
    assert [r.line for r in verdicts["E1"].reasons] == [1]
    assert verdicts["E2"].reasons[0].scope == "other_claims"


def test_pyx12_999_for_our_clean_file_accepts_every_claim() -> None:
    valid, ack_text, errors = pyx12_999(TEXT)
    assert valid, errors
    result = tie(ack_text, LOOKUP)
    assert {v.claim.encounter_id: (v.status, v.reasons) for v in result.verdicts} == {
        "E1": ("accepted", ()),
        "E2": ("accepted", ()),
        "E3": ("accepted", ()),
    }
    assert not result.unmatched  # pyx12's TA1 accepted the envelope: no verdict from it


# ------------------------------------------------------------------ hand-written 999s


def test_one_transaction_set_per_claim_limits_the_blast_radius() -> None:
    text = build(per_transaction=1)
    idx = index_837(text)
    assert idx.st02s == ("0001", "0002", "0003")
    clm = idx.claim("E2").clm
    ack = make_999(
        idx,
        [
            Tx999("0001"),
            Tx999(
                "0002",
                "R",
                ("5",),
                (
                    seg("IK3", "CLM", str(clm), "2300", "8"),
                    seg("IK4", ("5", "3"), "1325", "7", "9"),
                ),
            ),
            Tx999("0003"),
        ],
        "P",
    )
    verdicts = by_claim(tie(ack, ListLookup(sent_claims(text))))
    assert {k: v.status for k, v in verdicts.items()} == {
        "E1": "accepted",
        "E2": "rejected",
        "E3": "accepted",
    }
    (reason,) = verdicts["E2"].reasons
    assert reason.element == "CLM05-3" and reason.line is None and reason.scope == "claim"
    assert "got '9'" in reason.message and "(loop 2300)" not in reason.message


def test_a_header_error_rejects_every_claim_of_the_set_with_that_reason() -> None:
    ack = make_999(
        IDX,
        [
            Tx999(
                "0001",
                "R",
                ("5",),
                (seg("IK3", "NM1", "8", "2010AA", "8"), seg("IK4", "9", "67", "1")),
            )
        ],
        "R",
    )
    result = tie(ack, LOOKUP)
    assert len(result.verdicts) == 3
    for v in result.verdicts:
        (reason,) = v.reasons
        assert reason.scope == "transaction" and reason.code == "IK403:1"
        assert "outside every claim" in reason.message


def test_ctx_clm01_names_the_claim_directly() -> None:
    target = IDX.claim("E3")
    ack = make_999(
        IDX,
        [
            Tx999(
                "0001",
                "R",
                ("5",),
                (
                    seg("IK3", "REF", "3", None, "3"),  # a position that is not E3's
                    seg("CTX", ("CLM01", "E3")),
                ),
            )
        ],
        "R",
    )
    verdicts = by_claim(tie(ack, LOOKUP))
    assert verdicts["E3"].reasons[0].code == "IK304:3"
    assert verdicts["E1"].reasons[0].scope == "other_claims"
    assert target.encounter_id == "E3"


def test_phi_bearing_bad_values_are_not_repeated() -> None:
    member = IDX.claim("E1").first + 2  # 2010BA NM1: the subscriber's name and member id
    ack = make_999(
        IDX,
        [
            Tx999(
                "0001",
                "R",
                ("5",),
                (
                    seg("IK3", "NM1", str(member), None, "8"),
                    seg("IK4", "9", "67", "6", "TESTMEMBER01"),
                ),
            )
        ],
        "R",
    )
    verdicts = by_claim(tie(ack, LOOKUP))
    (reason,) = verdicts["E1"].reasons
    assert "TESTMEMBER01" not in reason.message
    assert reason.element == "NM109" and "Invalid character" in reason.message


def test_a_group_rejected_without_ak2_rejects_every_set_with_the_ak9_reason() -> None:
    body = make_999(IDX, [], "R").replace("AK9*R*0*0*0~", "AK9*R*1*0*0*5~")
    result = tie(body, LOOKUP)
    assert {v.status for v in result.verdicts} == {"rejected"}
    (reason,) = result.verdicts[0].reasons
    assert reason.code == "AK901:R; AK905:5"
    assert "GE01 does not equal the number of ST segments" in reason.message


def test_a_999_for_something_we_never_sent_is_reported() -> None:
    ack = make_999(IDX, [Tx999("0001", "R", ("5",))], "R", gs06="424242")
    result = tie(ack, LOOKUP)
    assert not result.verdicts
    (item,) = result.unmatched
    assert item.reference == "GS06 424242 ST02 0001" and item.status == "rejected"
    assert "never sent" in item.message


def test_corpus_999s_for_other_transactions_are_reported_not_dropped() -> None:
    from tests.acks.test_reader_corpus import FILES

    for path in FILES:
        ack = read_ack(path, codes=CODES)
        result = tie_file(ack, LOOKUP, CODES)
        assert not result.verdicts, path.name
        answered = sum(1 for a in ack.acks999 for g in a.groups for t in g.transactions if t.status)
        claims = sum(len(a.claims) for a in ack.acks277) + len(ack.ta1s)
        expected = (
            claims
            + (
                answered
                if any(g.functional_id == "HC" for a in ack.acks999 for g in a.groups)
                else 0
            )
            + sum(1 for a in ack.acks999 for g in a.groups if g.functional_id != "HC")
        )
        assert len(result.unmatched) == expected, path.name


# ------------------------------------------------------------------ TA1


def test_ta1_rejection_rejects_every_claim_in_the_interchange() -> None:
    result = tie(make_ta1(IDX, "R", "025"), LOOKUP)
    assert {v.claim.encounter_id for v in result.verdicts} == {"E1", "E2", "E3"}
    for v in result.verdicts:
        assert v.status == "rejected" and v.source == "TA1"
        assert v.reasons[0].code == "TA1:R:025"
        assert "Duplicate interchange control number" in v.reasons[0].message


def test_ta1_accepted_changes_nothing_and_unknown_isa13_is_reported() -> None:
    assert tie(make_ta1(IDX, "A", "000"), LOOKUP) == TieBack()
    result = tie(make_ta1(IDX, "R", "006", isa13="000000777"), LOOKUP)
    (item,) = result.unmatched
    assert item.reference == "ISA13 000000777" and item.status == "rejected"


# ------------------------------------------------------------------ 277CA


def test_277ca_rejection_of_one_claim_and_one_line() -> None:
    e2_line = IDX.claim("E2").lines[1]
    ack = make_277ca(
        IDX,
        [
            Status277("E1", ("A2:20",), payer_claim_number="PAYER0001"),
            Status277(
                "E2",
                ("A7:21", "A7:562:85", "A7:453"),
                payer_claim_number="PAYER0002",
                lines=((e2_line.control, "A7:453"),),
                text="MODIFIER JW NOT ALLOWED",
            ),
            Status277("E9", ("A7:33",)),
        ],
    )
    result = tie(ack, LOOKUP)
    verdicts = by_claim(result)
    e1, e2 = verdicts["E1"], verdicts["E2"]
    assert (e1.status, e1.payer_claim_number, e1.reasons) == ("payer_accepted", "PAYER0001", ())
    assert e2.status == "payer_rejected"
    assert e2.payer_claim_number is None  # a rejected claim's number is never used for REF*F8
    assert e2.reported_payer_claim_number == "PAYER0002"
    codes = [r.code for r in e2.reasons]
    assert codes == ["A7:21", "A7:562:85", "A7:453", "A7:453"]
    npi = e2.reasons[1].message
    assert "information is invalid" in npi and "NPI of the billing provider" in npi
    assert "Payer's note: MODIFIER JW NOT ALLOWED" in npi
    line_reason = e2.reasons[3]
    assert (line_reason.line, line_reason.line_control_number, line_reason.scope) == (
        2,
        e2_line.control,
        "line",
    )
    assert line_reason.message.startswith("Service line 2 (J1745:JW)")
    (item,) = result.unmatched
    assert item.reference == "CLM01 E9" and item.status == "payer_rejected"


def test_277ca_pending_only_notes_the_claim() -> None:
    result = tie(make_277ca(IDX, [Status277("E3", ("A1:19:PR",))]), LOOKUP)
    (v,) = result.verdicts
    assert v.status is None and "does not decide" in (v.note or "")
    assert "payer acknowledges receiving" in v.reasons[0].message


def test_277ca_line_control_number_picks_the_exact_build() -> None:
    """The same CLM01 built twice (a rejected build and its rebuild): REF*FJ says which."""
    old = sent_claims(TEXT, status="rejected", latest=False)
    new_text = build(isa13=8)
    new = sent_claims(new_text, first_id=10)
    lookup = ListLookup(old + new)
    old_line = IDX.claim("E1").lines[0].control
    ack = make_277ca(IDX, [Status277("E1", ("A2:20",), lines=((old_line, "A2:20"),))])
    (v,) = tie(ack, lookup).verdicts
    assert v.claim.interchange_claim_id == 1 and not v.claim.latest
    assert applies(v.claim.status, v.status, latest=v.claim.latest)[0] is False


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("current", "implied", "latest", "ok"),
    [
        ("sent", "accepted", True, True),
        ("built", "rejected", True, True),
        ("sent", "payer_accepted", True, True),  # the 999 never came: the 277CA still counts
        ("accepted", "payer_rejected", True, True),
        ("accepted", "accepted", True, False),
        ("payer_accepted", "accepted", True, False),  # a late 999 never moves a claim back
        ("rejected", "payer_accepted", True, False),  # only a rebuild moves a rejected claim
        ("paid", "payer_accepted", True, False),
        ("sent", "accepted", False, False),  # an older build's acknowledgment
        ("sent", None, True, False),
    ],
)
def test_status_only_moves_forward(current, implied, latest, ok) -> None:
    assert applies(current, implied, latest=latest)[0] is ok


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=200))
def test_every_position_lands_on_the_claim_and_line_that_hold_it(position: int) -> None:
    claims = LOOKUP.claims
    error = SegmentError("SV1", position, None, "8")
    placed = place(error, claims)
    holders = [c for c in claims if c.first <= position <= c.last]
    if holders:
        assert placed.claims == (holders[0],)
        line = holders[0].line_at(position)
        assert placed.line == line
        assert placed.scope == ("line" if line else "claim")
    else:
        assert placed.scope == "transaction" and placed.claims == tuple(claims)


def test_277ca_batch_rejection_without_claims_is_reported() -> None:
    text = make_277ca(IDX, []).replace("STC*A1:20*20250117*WQ*100~", "STC*A3:21*20250117*U*100~")
    result = tie(text, LOOKUP)
    (item,) = result.unmatched
    assert item.reference.startswith("batch TRN02") and "A3:21" in item.message
    assert "returned the claim without processing it" in item.message


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 60), st.integers(0, 25)), min_size=1, max_size=12
    ),  # (first, length): ranges may overlap, as when claims share a 2000B HL
    st.integers(0, 100),
)
def test_the_placer_finds_exactly_the_ranges_holding_a_position(ranges, position) -> None:
    from edi_pipeline.acks.tieback import Placer, SentClaim

    claims = [
        SentClaim(n, f"C{n}", "1", "sent", n, "1", "1", "0001", first, first + length)
        for n, (first, length) in enumerate(ranges)
    ]
    found = Placer(claims).holding(position)
    assert sorted(c.claim_id for c in found) == sorted(
        c.claim_id for c in claims if c.first <= position <= c.last
    )
