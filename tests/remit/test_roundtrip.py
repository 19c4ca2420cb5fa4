"""Round trip with our own claims: claims recorded as sent in a real SQLite ledger, a hand-written
835 for them (fixtures/835/roundtrip.835), and for each line: match, status and root cause; the
ledger's claim statuses advance, and posting the same 835 twice posts it once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from edi_pipeline.app.remit import run
from edi_pipeline.ledger.claims import ClaimKey, claim, record_line, status_history, upsert_claim
from edi_pipeline.ledger.remit import adjustment_rows, remit_claims_for
from edi_pipeline.ledger.sqlite import SqliteLedger
from edi_pipeline.maps import load_maps
from tests.conftest import FIXTURES

RT = FIXTURES / "835" / "roundtrip.835"
DOS = date(2025, 1, 6)
SENT_AT = datetime(2025, 1, 7, 9, 0, tzinfo=UTC)
NDC = "57894003001"

# encounter: [(procedure, modifiers, units, charge, ndc, line control number)]
SENT = {
    "RT-PAID": [("99214", (), 1, "200.00", None, "RT1-1")],
    "RT-PARTIAL": [
        ("J1745", (), 40, "4000.00", NDC, "RT2-1"),
        ("J1745", ("JW",), 2, "200.00", NDC, "RT2-2"),
        ("96413", (), 1, "300.00", None, "RT2-3"),
    ],
    "RT-NDC": [
        ("J1745", (), 40, "4000.00", None, "RT3-1"),
        ("96365", (), 1, "250.00", None, "RT3-2"),
    ],
    "RT-AUTH": [("J0129", (), 75, "3000.00", "00003218711", "RT4-1")],
    "RT-MOD": [("20610", (), 1, "180.00", None, "RT5-1")],
    "RT-FREQ": [("J3262", (), 600, "2400.00", "50242013601", "RT6-1")],
    "RT-BUNDLE": [
        ("99214", (), 1, "200.00", None, "RT7-1"),
        ("20610", ("RT",), 1, "180.00", None, "RT7-2"),
    ],
    "RT-MEDNEC": [("J9312", (), 100, "9000.00", "50242005121", "RT8-1")],
    "RT-PR204": [("J1602", (), 200, "2600.00", "57894035001", "RT9-1")],
    "RT-REV": [("96372", (), 1, "50.00", None, "RT10-1")],
}

# encounter: (claim status, [(matched line, line status, root causes of its adjustments)])
EXPECTED = {
    "RT-PAID": ("paid", [(1, "paid", ["contractual"])]),
    "RT-PARTIAL": (
        "partially_paid",
        [
            (1, "partially_paid", ["contractual", "patient_responsibility"]),
            (3, "partially_paid", ["patient_responsibility"]),
        ],
    ),
    "RT-NDC": ("partially_paid", [(1, "denied", ["coding_ndc"]), (2, "paid", ["contractual"])]),
    "RT-AUTH": ("denied", [(1, "denied", ["authorization"])]),
    "RT-MOD": ("denied", [(1, "denied", ["coding_modifier"])]),
    "RT-FREQ": ("denied", [(1, "denied", ["frequency_limit"])]),
    "RT-BUNDLE": ("partially_paid", [(1, "denied", ["bundling"]), (2, "paid", ["contractual"])]),
    "RT-MEDNEC": ("denied", [(1, "denied", ["medical_necessity"])]),
    "RT-PR204": ("denied", [(1, "denied", ["non_covered"])]),
    "RT-REV": ("reversed", [(1, "reversed", ["contractual"])]),
}
RULES = {  # the maps/denials.toml rule that decided the denial, where context matters
    "RT-NDC": "ndc-missing-on-drug-line",
    "RT-AUTH": "auth-absent-drug",
    "RT-MOD": "modifier-laterality-joint",
    "RT-FREQ": "frequency-drug",
    "RT-BUNDLE": "bundled-em-no-25",
    "RT-MEDNEC": "medical-necessity-drug",
    "RT-PR204": "not-covered-drug-benefit",
}


@pytest.fixture
def ledger(tmp_path):
    led = SqliteLedger.open(tmp_path / "ledger.sqlite")
    for encounter, lines in SENT.items():
        charge = sum((Decimal(c) for *_, c, _n, _l in lines), Decimal(0))
        cid = upsert_claim(
            led,
            ClaimKey("demo", encounter),
            status="sent",
            payer_id="aetna",
            charge=charge,
            at=SENT_AT,
            date_of_service=DOS,
            source="test",
        )
        with led.transaction():
            for n, (proc, mods, units, ch, ndc, lcn) in enumerate(lines, start=1):
                record_line(
                    led,
                    cid,
                    line_number=n,
                    line_control_number=lcn,
                    procedure=proc,
                    modifiers=mods,
                    units=Decimal(units),
                    charge=Decimal(ch),
                    ndc=ndc,
                    date_of_service=DOS,
                )
    yield led
    led.close()


def test_roundtrip_match_status_root_cause(ledger) -> None:
    results = {}
    remit_run = run(
        [RT],
        maps=load_maps(),
        ledger=ledger,
        now=datetime(2025, 1, 11, tzinfo=UTC),
        on_claim=lambda r: results.__setitem__(r.claim.patient_control_number, r),
    )
    assert remit_run.files[0].balanced
    for encounter, (status, lines) in EXPECTED.items():
        r = results[encounter]
        assert r.match.matched and r.match.sent.encounter_id == encounter
        assert r.classified.status == status, encounter
        got = [
            (
                m.number if m else None,
                cl.status,
                [a.classification.root_cause for a in cl.adjustments],
            )
            for m, cl in zip(r.match.lines, r.classified.lines, strict=True)
        ]
        assert got == lines, encounter
        if encounter in RULES:
            denials = [a for a in r.classified.all_adjustments() if a.classification.denial]
            assert [a.classification.rule for a in denials] == [RULES[encounter]]
        # the ledger moved the claim to the same status, with an 835 history entry
        record = claim(ledger, ClaimKey("demo", encounter))
        assert record.status == status
        last = status_history(ledger, ClaimKey("demo", encounter))[-1]
        assert (last.source, last.status) == ("835", status)
    # matched by REF*6R except RT-PAID, whose line has none (procedure + date + charge + units)
    assert results["RT-PAID"].match.line_how == ("procedure",)
    assert results["RT-NDC"].match.line_how == ("control_number", "control_number")
    # the NDC context: we sent no NDC on RT-NDC's drug line
    assert results["RT-NDC"].classified.lines[0].context.ndc_present is False
    # unmatched claims are listed, never dropped; unreported sent lines too
    assert not results["ZZ-NOT-OURS"].match.matched
    assert [u["patient_control_number"] for u in remit_run.unmatched_claims] == ["ZZ-NOT-OURS"]
    assert [(c.encounter_id, line.number) for c, line in remit_run.unreported_lines] == [
        ("RT-PARTIAL", 2)
    ]
    assert remit_run.denied_dollars == Decimal("21380.00")
    assert remit_run.by_root_cause["coding_ndc"] == Decimal("4000.00")
    # the payer claim number is kept for a later replacement (REF*F8)
    assert claim(ledger, ClaimKey("demo", "RT-NDC")).payer_claim_number == "ICN003"
    rows = list(adjustment_rows(ledger))
    assert sum(r.amount for r in rows) == remit_run.cas_total
    assert {r.root_cause for r in rows if r.denial} == set(remit_run.by_root_cause)


def test_same_835_posted_once(ledger) -> None:
    maps = load_maps()
    now = datetime(2025, 1, 11, tzinfo=UTC)
    run([RT], maps=maps, ledger=ledger, now=now)
    second = run([RT], maps=maps, ledger=ledger, now=now)
    assert second.files[0].duplicates == 1
    assert any(p.code == "remit_duplicate" for p in second.files[0].problems)
    record = claim(ledger, ClaimKey("demo", "RT-AUTH"))
    assert len(remit_claims_for(ledger, record.id)) == 1
    assert [h.source for h in status_history(ledger, record.key)].count("835") == 1


def test_without_ledger_claims_are_still_classified() -> None:
    results = []
    remit_run = run([RT], maps=load_maps(), on_claim=results.append)
    assert remit_run.matched == 0 and remit_run.claims == 11
    ndc = next(r for r in results if r.claim.patient_control_number == "RT-NDC")
    # kind inferred from the code (J1745 is a drug); NDC presence unknown, so the general rule
    assert ndc.classified.lines[0].adjustments[0].classification.rule == "ndc-on-drug-line"
    assert remit_run.denied_dollars == Decimal("21380.00")
