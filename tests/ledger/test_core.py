"""The core ledger: migrations, transactions, claims, statuses, holds, lines and lookups."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from edi_pipeline.errors import LedgerError
from edi_pipeline.ledger import claims, interchanges, migrations
from edi_pipeline.ledger.base import Ledger, iter_statements
from edi_pipeline.ledger.claims import ClaimKey
from edi_pipeline.models import Hold

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def make_claim(ledger: Ledger, encounter_id: str = "E1001", **kw) -> int:
    key = ClaimKey(kw.pop("practice", "P1"), encounter_id, kw.pop("frequency", "1"))
    return claims.upsert_claim(
        ledger,
        key,
        status=kw.pop("status", "built"),
        payer_id=kw.pop("payer_id", "aetna"),
        charge=kw.pop("charge", Decimal("230")),
        at=kw.pop("at", AT),
        source="build",
        **kw,
    )


def test_is_a_ledger(ledger):
    assert isinstance(ledger, Ledger)
    assert ledger.dialect in {"sqlite", "postgresql"}


def test_migrations_recorded_once_in_order(ledger, reopen):
    ids = migrations.applied(ledger)
    assert ids[0] == "0001_core"
    assert ids == sorted(ids)
    assert ids == [m.id for m in migrations.discover()]
    again = reopen()
    assert migrations.migrate(again) == []
    assert migrations.applied(again) == ids


def test_a_failing_migration_leaves_nothing(ledger, monkeypatch):
    import types

    bad = types.ModuleType("9999_broken")
    bad.NAME = "broken"
    bad.SQL = "CREATE TABLE half_done (id INTEGER); INSERT INTO no_such_table VALUES (1)"
    real = migrations.discover()
    monkeypatch.setattr(
        migrations,
        "discover",
        lambda: [*real, migrations.Migration("9999_broken", 9999, "broken", bad)],
    )
    with pytest.raises(LedgerError):
        migrations.migrate(ledger)
    assert "9999_broken" not in migrations.applied(ledger)
    with pytest.raises(LedgerError):
        ledger.query("SELECT * FROM half_done")


def test_statement_splitter_respects_quotes_and_comments():
    sql = "CREATE TABLE a (x TEXT DEFAULT ';'); -- a comment; with a semicolon\nSELECT 1;"
    assert list(iter_statements(sql)) == ["CREATE TABLE a (x TEXT DEFAULT ';')", "SELECT 1"]


def test_transaction_rolls_back_on_error(ledger):
    with pytest.raises(RuntimeError), ledger.transaction():
        make_claim(ledger)
        raise RuntimeError("boom")
    assert claims.claim_by_encounter(ledger, "E1001") is None
    assert not ledger.in_transaction


def test_nested_transaction_joins_the_outer_one(ledger):
    with pytest.raises(RuntimeError), ledger.transaction():
        with ledger.transaction():
            make_claim(ledger)
        assert ledger.in_transaction
        raise RuntimeError("outer fails")
    assert claims.claim_by_encounter(ledger, "E1001") is None


def test_claim_upsert_is_keyed_by_practice_encounter_frequency(ledger):
    first = make_claim(ledger)
    again = make_claim(ledger, charge=Decimal("250.5"))
    replacement = make_claim(ledger, frequency="7", payer_claim_number="PCN1")
    other_practice = make_claim(ledger, practice="P2")
    assert first == again
    assert len({first, replacement, other_practice}) == 3
    record = claims.claim(ledger, first)
    assert record.charge == Decimal("250.50")
    assert record.key == ClaimKey("P1", "E1001", "1")
    assert [c.frequency for c in claims.claims_by_encounter(ledger, "E1001", "P1")] == ["1", "7"]
    assert claims.claim(ledger, ClaimKey("P1", "E1001", "7")).payer_claim_number == "PCN1"


def test_record_status_keeps_history(ledger):
    cid = make_claim(ledger)
    later = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    ledger.record_status(ClaimKey("P1", "E1001"), "sent", later, source="deliver")
    ledger.record_status(cid, "rejected", later, source="999", code="IK3:8", message="segment")
    assert claims.claim(ledger, cid).status == "rejected"
    history = claims.status_history(ledger, cid)
    assert [h.status for h in history] == ["built", "sent", "rejected"]
    assert history[1].at == "2026-11-24T08:30:00Z"
    assert (history[2].source, history[2].code) == ("999", "IK3:8")


def test_status_outside_the_closed_set_is_refused(ledger):
    cid = make_claim(ledger)
    with pytest.raises(LedgerError, match="claim status must be one of"):
        ledger.record_status(cid, "lost_in_the_mail", AT)
    # and the database refuses it too, whoever writes
    with pytest.raises(LedgerError):
        ledger.execute("UPDATE claims SET status = 'nonsense' WHERE id = ?", (cid,))


def test_status_of_an_unknown_claim_names_it(ledger):
    with pytest.raises(LedgerError, match="E404"):
        ledger.record_status(ClaimKey("P1", "E404"), "sent", AT)


def test_holds_are_replaced_by_a_rescrub(ledger):
    cid = make_claim(ledger, status="held")
    h1 = Hold("aetna-infliximab-biosimilar-first", "biosimilar", "use a biosimilar", "Aetna CPB")
    h2 = Hold("aetna-auth", "authorization", "no authorization", "Aetna CPB")
    claims.replace_holds(ledger, cid, [h1, h2], AT)
    assert claims.holds(ledger, cid) == [h1, h2]
    claims.replace_holds(ledger, cid, [h2], AT)
    assert claims.holds(ledger, cid) == [h2]
    with pytest.raises(LedgerError, match="category"):
        claims.replace_holds(ledger, cid, [Hold("x", "vibes", "m", "s")], AT)
    assert claims.holds(ledger, cid) == [h2]


def test_encounters_remember_the_latest_hash(ledger):
    claims.record_encounter(ledger, "P1", "E1", "aaa", AT)
    claims.record_encounter(ledger, "P1", "E1", "bbb", AT)
    assert claims.encounter_hash(ledger, "P1", "E1") == "bbb"
    assert claims.encounter_hash(ledger, "P1", "E2") is None


def _record_built_claim(ledger, encounter_id: str, isa13_pair=("SUB1", "RCV1")):
    """Record one claim in one interchange the way build does, returning ids."""
    with ledger.transaction():
        cid = make_claim(ledger, encounter_id)
        n = interchanges.next_control_number(ledger, *isa13_pair, interchanges.INTERCHANGE)
        iid = interchanges.record_interchange(
            ledger,
            practice="P1",
            file=f"/out/{n}.837",
            sender=isa13_pair[0],
            receiver=isa13_pair[1],
            isa13=f"{n:09d}",
            gs06=str(n),
            usage="T",
            claims=1,
            at=AT,
        )
        icid = interchanges.record_interchange_claim(ledger, iid, "0001", cid, 14, 40)
        lcns = interchanges.next_line_control_numbers(ledger, 2)
        for number, (lcn, first, last) in enumerate(
            zip(lcns, (25, 33), (32, 40), strict=True), start=1
        ):
            claims.record_line(
                ledger,
                cid,
                line_number=number,
                line_control_number=lcn,
                procedure="J1745" if number == 1 else "96413",
                modifiers=("JW",) if number == 1 else (),
                units=Decimal(2),
                charge=Decimal("115"),
                ndc="57894003001" if number == 1 else None,
                ndc_quantity=Decimal("20") if number == 1 else None,
                ndc_unit="ME" if number == 1 else None,
                date_of_service="2026-11-20",
                interchange_claim_id=icid,
                first_segment=first,
                last_segment=last,
            )
    return cid, iid, n, lcns


def test_lookups_by_encounter_line_control_number_and_control_numbers(ledger):
    cid, iid, n, lcns = _record_built_claim(ledger, "E1001")
    assert ledger.claim_by_encounter("E1001").id == cid
    line = ledger.line_by_control_number(lcns[0])
    assert (line.claim_id, line.encounter_id, line.line_number) == (cid, "E1001", 1)
    assert line.modifiers == ("JW",)
    assert (line.units, line.charge, line.ndc_quantity) == (2, Decimal("115.00"), 20)
    assert ledger.line_by_control_number("nope") is None
    [tx] = ledger.claims_by_control(f"{n:09d}", "0001")
    assert (tx.claim_id, tx.encounter_id, tx.interchange_id) == (cid, "E1001", iid)
    # a 999 names the group (AK102) rather than the ISA13, and may drop the zeros
    [by_group] = interchanges.claims_by_control(ledger, None, "0001", gs06=str(n))
    assert by_group == tx
    assert interchanges.claims_by_control(ledger, str(n), "0001", sender="SUB1") == [tx]
    assert interchanges.claims_by_control(ledger, str(n), "0001", sender="OTHER") == []
    assert [ln.line_control_number for ln in claims.claim_lines(ledger, cid)] == lcns


def test_a_segment_position_leads_to_claim_and_line(ledger):
    cid, _, n, lcns = _record_built_claim(ledger, "E1001")
    tx, line_id = interchanges.locate_segment(ledger, f"{n:09d}", "0001", 35)
    assert tx.claim_id == cid
    assert line_id == ledger.line_by_control_number(lcns[1]).id
    tx, line_id = interchanges.locate_segment(ledger, f"{n:09d}", "0001", 20)
    assert (tx.claim_id, line_id) == (cid, None)  # in the claim, before its first line
    assert interchanges.locate_segment(ledger, f"{n:09d}", "0001", 3) == (None, None)


def test_interchange_status_and_claim_history(ledger):
    cid, iid, _, _ = _record_built_claim(ledger, "E1001")
    with ledger.transaction():
        interchanges.set_status(ledger, iid, "sent", AT, remote_name="remote/1.837")
    record = interchanges.interchange(ledger, iid)
    assert (record.status, record.remote_name, record.claims) == ("sent", "remote/1.837", 1)
    assert [i.id for i in interchanges.interchanges(ledger, status="sent")] == [iid]
    assert [i.id for i in interchanges.claim_interchanges(ledger, cid)] == [iid]


def test_line_control_numbers_are_unique_across_claims(ledger):
    _, _, _, first = _record_built_claim(ledger, "E1")
    _, _, _, second = _record_built_claim(ledger, "E2", ("SUB2", "RCV9"))
    assert len(set(first + second)) == 4
    with pytest.raises(LedgerError), ledger.transaction():
        claims.record_line(
            ledger,
            claims.claim_by_encounter(ledger, "E2").id,
            line_number=9,
            line_control_number=first[0],
            procedure="J1745",
            modifiers=(),
            units=Decimal(1),
            charge=Decimal(1),
        )


def test_a_practice_id_cached_in_a_rolled_back_transaction_is_forgotten(ledger, reopen):
    with pytest.raises(RuntimeError), ledger.transaction():
        claims.ensure_practice(ledger, "GONE", "2026-11-23T10:00:00Z")
        raise RuntimeError("the rest of the transaction failed")
    assert claims.practice_id(ledger, "GONE") is None
    kept = claims.ensure_practice(ledger, "KEPT", "2026-11-23T10:00:00Z")
    assert claims.practice_id(reopen(), "KEPT") == kept == ledger.lookups[("practice", "KEPT")]
