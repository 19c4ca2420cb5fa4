"""The compact id table: exact for the keys it holds, small per key, never a false miss."""

from __future__ import annotations

from edi_pipeline.intake import IntakeCounts, Tally, summarize
from edi_pipeline.intake.seen import HashTable
from edi_pipeline.models import Rejection


def test_table_remembers_every_key_and_its_value():
    table = HashTable(capacity=4)
    for i in range(50_000):
        assert table.add(f"E{i}") is False
    assert len(table) == 50_000
    assert all(table.add(f"E{i}") for i in range(0, 50_000, 7))
    assert "E49999" in table and "E50000" not in table and 5 not in table
    table.set("E3", 42)
    assert table.get("E3") == 42 and table.get("nope") is None
    assert table.nbytes <= 50_000 * 3 * 8 * 2  # two 8-byte arrays at load above one third
    keys = HashTable(values=False)
    assert [keys.add(k) for k in ("a", "b", "a")] == [False, False, True]
    assert keys.get("a") == 0 and keys.get("c") is None and keys.nbytes * 2 == HashTable().nbytes


def test_counts_add_up_and_sum():
    tally = Tally()
    items = [
        Rejection(file="f", record=i, encounter_id=None, problems=(), raw="") for i in range(3)
    ]
    assert list(tally.track(items)) == items
    assert tally.counts == IntakeCounts(records=3, accepted=0, rejected=3)
    assert tally.counts.adds_up
    total = summarize(items) + IntakeCounts(records=2, accepted=2)
    assert total.as_dict() == {"records": 5, "accepted": 2, "rejected": 3, "warnings": 0}
    assert not IntakeCounts(records=2, accepted=1).adds_up
