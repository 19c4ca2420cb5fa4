"""The scrub stage's ledger: held claims with their holds, history from claims that went out,
overrides with reasons, and the ledger-backed history driving a real rule."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from edi_pipeline.errors import LedgerError
from edi_pipeline.ledger import claims as core
from edi_pipeline.ledger.scrub import (
    LedgerHistory,
    member_key,
    overrides,
    record_override,
    record_scrub,
)
from edi_pipeline.ledger.sqlite import SqliteLedger
from edi_pipeline.models import Hold, Scrubbed
from edi_pipeline.scrub import LayeredHistory, ScrubContext, scrub
from tests.scrub.helpers import claim, context, line, rule

NOW = datetime(2025, 6, 30, 12, 0, 0)
PRACTICE = "demo-rheumatology"
DOS = date(2025, 6, 2)
D = timedelta(days=1)
HOLD = Hold("aetna-x", "authorization", "needs an authorization", "test source")


@pytest.fixture
def ledger(tmp_path: Path):
    opened = SqliteLedger.open(tmp_path / "ledger.sqlite")
    try:
        yield opened
    finally:
        opened.close()


def dose(dos: date, encounter_id: str, member: str = "M1", units: int = 40):
    return claim(
        line("96365"),
        line(
            "Q5103", units, drug="infliximab-dyyb", ndc="00069080901", ndc_quantity=4, ndc_unit="UN"
        ),
        dos=dos,
        encounter_id=encounter_id,
        member=member,
    )


def built(ledger, c, status: str = "built") -> None:
    """What build does after a clean scrub: the claim goes out."""
    record_scrub(ledger, PRACTICE, Scrubbed(c), NOW)
    core.upsert_claim(
        ledger,
        core.ClaimKey(PRACTICE, c.encounter_id, c.frequency),
        status=status,
        payer_id=c.payer_id,
        charge=c.total_charge,
        at=NOW,
        date_of_service=c.date_of_service,
        source="build",
    )


def test_migration_is_recorded(ledger) -> None:
    ids = [r["id"] for r in ledger.query("SELECT id FROM migrations")]
    assert "0040_scrub" in ids


def test_held_claim_is_stored_with_its_holds_and_not_counted_as_history(ledger) -> None:
    c = dose(DOS, "E1")
    assert record_scrub(ledger, PRACTICE, Scrubbed(c, (HOLD,)), NOW) is True
    stored = core.claim(ledger, core.ClaimKey(PRACTICE, "E1"))
    assert stored is not None and stored.status == "held"
    assert stored.charge == c.total_charge
    assert core.holds(ledger, stored.id) == [HOLD]
    history = core.status_history(ledger, stored.id)
    assert history[-1].source == "scrub" and history[-1].message == "aetna-x"
    assert LedgerHistory(ledger).claims("aetna", "M1", DOS - 30 * D, DOS) == []


def test_corrected_claim_that_passes_has_its_holds_cleared(ledger) -> None:
    c = dose(DOS, "E1")
    record_scrub(ledger, PRACTICE, Scrubbed(c, (HOLD,)), NOW)
    assert record_scrub(ledger, PRACTICE, Scrubbed(c), NOW) is False
    assert core.holds(ledger, core.ClaimKey(PRACTICE, "E1")) == []


def test_clean_claim_alone_leaves_no_claim_row(ledger) -> None:
    """Scrub records the coded facts; the claim row is the build's to create."""
    record_scrub(ledger, PRACTICE, Scrubbed(dose(DOS, "E1")), NOW)
    assert core.claim(ledger, core.ClaimKey(PRACTICE, "E1")) is None


def test_a_claim_already_built_cannot_become_held(ledger) -> None:
    c = dose(DOS, "E1")
    built(ledger, c)
    with pytest.raises(LedgerError, match="already built"):
        record_scrub(ledger, PRACTICE, Scrubbed(c, (HOLD,)), NOW)


def test_history_returns_claims_that_went_out_with_kinds_and_drugs(ledger) -> None:
    built(ledger, dose(DOS - 56 * D, "E1"))
    built(ledger, dose(DOS - 42 * D, "E2"), status="paid")
    built(ledger, dose(DOS - 28 * D, "E3"), status="denied")  # not counted
    built(ledger, dose(DOS - 14 * D, "E4", member="OTHER"))  # another member
    built(ledger, dose(DOS - 400 * D, "E0"))  # before the window
    found = LedgerHistory(ledger).claims("aetna", "M1", DOS - 365 * D, DOS)
    assert [p.claim_id for p in found] == ["E1", "E2"]
    first = found[0]
    assert first.date_of_service == DOS - 56 * D
    assert [(pl.procedure, pl.kind, pl.drug, pl.units) for pl in first.lines] == [
        ("96365", "administration", None, Decimal("1")),
        ("Q5103", "drug", "infliximab-dyyb", Decimal("40")),
    ]
    assert found[1].status == "paid"


def test_member_id_is_not_stored(ledger) -> None:
    built(ledger, dose(DOS, "E1", member="SECRETMEMBER9"))
    dump = "\n".join(ledger.connection.iterdump())
    assert "SECRETMEMBER9" not in dump
    assert member_key("aetna", "SECRETMEMBER9") in dump


def test_frequency_rule_reads_the_ledger(ledger) -> None:
    r = rule(
        "frequency", procedures=["Q5103"], loading_intervals_days=[14, 28], cycle_interval_days=56
    )
    for days, eid in ((92, "E1"), (78, "E2"), (50, "E3")):  # weeks 0, 2, 6
        built(ledger, dose(DOS - days * D, eid))
    ctx = context(r)
    ctx = ScrubContext(as_of=ctx.as_of, rules=ctx.rules, history=LedgerHistory(ledger))
    [hold] = scrub(dose(DOS, "E4"), ctx).holds
    assert "dose 4 of the course on 2025-06-02 is 50 days after the previous dose" in hold.message
    assert "maintenance doses need at least 56 days" in hold.message
    assert scrub(dose(DOS + 6 * D, "E4"), ctx).clean  # 56 days after week 6


def test_batch_layer_sees_claims_not_yet_in_the_ledger(ledger) -> None:
    from edi_pipeline.scrub import InMemoryHistory

    batch = InMemoryHistory()
    batch.add_claim(dose(DOS - 7 * D, "B1"))
    layered = LayeredHistory(batch, LedgerHistory(ledger))
    built(ledger, dose(DOS - 21 * D, "E1"))
    assert [p.claim_id for p in layered.claims("aetna", "M1", DOS - 30 * D, DOS)] == ["E1", "B1"]


def test_overrides_are_recorded_with_reasons_and_replace_earlier_ones(ledger) -> None:
    record_override(ledger, PRACTICE, "E1", "aetna-x", "retro-auth obtained", NOW)
    record_override(ledger, PRACTICE, "E1", "aetna-x", "retro-auth PA123 obtained", NOW)
    record_override(ledger, PRACTICE, "E2", "aetna-y", "peer-to-peer won", NOW)
    record_override(ledger, "other-practice", "E1", "aetna-z", "not ours", NOW)
    assert overrides(ledger, PRACTICE) == {
        "E1": {"aetna-x": "retro-auth PA123 obtained"},
        "E2": {"aetna-y": "peer-to-peer won"},
    }
    with pytest.raises(LedgerError, match="reason"):
        record_override(ledger, PRACTICE, "E3", "aetna-x", "  ", NOW)


def test_an_override_lets_the_claim_through_and_keeps_the_hold_visible() -> None:
    r = rule("auth_required", procedures=["Q5103"])
    c = dose(DOS, "E1")
    held = scrub(c, context(r))
    assert not held.clean
    passed = scrub(c, context(r, overrides={"E1": {r.id: "retro-auth obtained"}}))
    assert passed.clean
    assert [h.rule for h in passed.overridden] == [r.id]
    other = scrub(c, context(r, overrides={"E2": {r.id: "another claim"}}))
    assert not other.clean


def test_prefetch_answers_a_batch_from_memory_with_the_same_result(ledger) -> None:
    built(ledger, dose(DOS - 56 * D, "E1"))
    built(ledger, dose(DOS - 42 * D, "E2", member="M2"))
    built(ledger, dose(DOS - 28 * D, "E3"), status="held")
    one_by_one = LedgerHistory(ledger)
    bulk = LedgerHistory(ledger)
    batch = [dose(DOS, "N1"), dose(DOS, "N2", member="M2"), dose(DOS, "N3", member="M3")]
    bulk.prefetch(batch)
    statements: list[str] = []
    ledger.connection.set_trace_callback(statements.append)
    try:
        for member in ("M1", "M2", "M3"):
            got = bulk.claims("aetna", member, DOS - 365 * D, DOS)
            assert got == one_by_one.claims("aetna", member, DOS - 365 * D, DOS)
        assert [p.claim_id for p in bulk.claims("aetna", "M1", DOS - 365 * D, DOS)] == ["E1"]
        statements.clear()
        bulk.claims("aetna", "M2", DOS - 365 * D, DOS)
        assert statements == []  # answered from memory
        bulk.claims("aetna", "M9", DOS - 365 * D, DOS)  # not prefetched: asks the ledger
        assert statements
    finally:
        ledger.connection.set_trace_callback(None)
