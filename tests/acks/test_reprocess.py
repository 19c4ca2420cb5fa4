"""Reprocess round trips: reject → fix the encounter → reprocess → a new interchange pyx12
validates, with new control numbers and the ledger history intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_pipeline.acks.resubmit import plan
from edi_pipeline.app.ack import ingest_ack_file
from edi_pipeline.app.outbound import Stages
from edi_pipeline.app.reprocess import Selection, reprocess
from edi_pipeline.cli import cli
from edi_pipeline.errors import SettingsError
from edi_pipeline.ledger import claims as ledger_claims
from edi_pipeline.ledger import interchanges as ledger_ix
from edi_pipeline.x12.reader import read_segments
from tests.acks.ackgen import (
    Status277,
    Tx999,
    edit_segment,
    index_837,
    make_277ca,
    make_999,
    make_ta1,
    pyx12_999,
)
from tests.acks.conftest import ACKED_AT, FIXED_AT, IDS, World, encounter, validator, write_export


def run(world: World, selection: Selection):
    return reprocess(
        selection,
        practice=world.practice,
        maps=world.maps,
        ledger=world.ledger,
        out_dir=world.out_dir,
        now=FIXED_AT,
        stages=Stages(validator=validator()),
    )


def ingest(world: World, name: str, text: str) -> None:
    ingest_ack_file(world.write(name, text), world.ledger, world.maps, now=ACKED_AT)


def segs(path: str) -> list:
    return read_segments(Path(path))


def statuses(world: World) -> dict[str, str]:
    return {i: world.claim(i).status for i in IDS}


def test_payer_rejection_fix_the_encounter_reprocess(world: World) -> None:
    world.mark_sent()
    idx = index_837(world.text)
    ingest(world, "ok.999", make_999(idx, [Tx999(st) for st in idx.st02s], "A"))
    ingest(
        world,
        "rej.277",
        make_277ca(
            idx,
            [Status277("E2001", ("A2:20",), "ICN1"), Status277("E2002", ("A7:164:IL",), "ICN2")],
        ),
    )
    assert world.claim("E2002").status == "payer_rejected"
    old_lines = ledger_claims.claim_lines(world.ledger, world.claim("E2002").id)

    # the biller corrects the member id and sends the corrected encounter
    fixed = write_export(world.tmp / "fixed.json", [encounter("E2002", member_id="W1999999XX")])
    report = run(world, Selection(file=fixed))
    assert report.exit_code == 0, report.as_json()
    (item,) = report.items
    assert (item.encounter_id, item.action, item.previous_status, item.frequency) == (
        "E2002",
        "rebuilt",
        "payer_rejected",
        "1",  # a new original: the payer never adjudicated the rejected claim
    )
    assert item.payer_claim_number is None  # the rejected claim's REF*1K is not a REF*F8
    (made,) = report.interchanges
    assert made.isa13 != idx.isa13 and made.claims == 1

    # a new, valid interchange with new control numbers and the corrected member id
    valid, _, errors = pyx12_999(Path(made.file).read_text(encoding="ascii"))
    assert valid, errors
    new = segs(made.file)
    assert new[0].get(13) == made.isa13 and int(new[1].get(6)) == int(made.isa13)
    assert [s.get(9) for s in new if s.tag == "NM1" and s.get(1) == "IL"] == ["W1999999XX"]
    clm = next(s for s in new if s.tag == "CLM")
    assert clm.get(1) == "E2002" and clm.components(5)[2] == "1"
    assert not any(s.tag == "REF" and s.get(1) == "F8" for s in new)
    new_lines = ledger_claims.claim_lines(world.ledger, world.claim("E2002").id)
    assert {ln.line_control_number for ln in new_lines}.isdisjoint(
        ln.line_control_number for ln in old_lines
    )
    refs = [s.get(2) for s in new if s.tag == "REF" and s.get(1) == "6R"]
    assert refs == [ln.line_control_number for ln in new_lines]

    # the ledger keeps the whole story, and the other claims are untouched
    history = ledger_claims.status_history(world.ledger, world.claim("E2002").id)
    assert [(h.status, h.source) for h in history] == [
        ("built", "build"),
        ("sent", "deliver"),
        ("accepted", "999"),
        ("payer_rejected", "277CA"),
        ("built", "reprocess"),
    ]
    assert [
        i.isa13 for i in ledger_ix.claim_interchanges(world.ledger, world.claim("E2002").id)
    ] == [
        idx.isa13,
        made.isa13,
    ]
    assert statuses(world) == {"E2001": "payer_accepted", "E2002": "built", "E2003": "accepted"}

    # the new build's own acknowledgments reach it; the old build's do not
    new_idx = index_837(Path(made.file).read_text(encoding="ascii"))
    ingest(world, "new.999", make_999(new_idx, [Tx999("0001")], "A"))
    assert world.claim("E2002").status == "accepted"
    stale = make_999(idx, [Tx999(st, "R", ("5",)) for st in idx.st02s], "R")
    stale_report = ingest_ack_file(world.write("stale.999", stale), world.ledger, world.maps)
    e2 = next(o for o in stale_report.outcomes if o.verdict.claim.encounter_id == "E2002")
    assert not e2.applied and "rebuilt since" in (e2.note or "")
    assert world.claim("E2002").status == "accepted"


def test_999_rejection_reprocess_one_claim_from_the_original_export(world_per_claim: World) -> None:
    world = world_per_claim
    world.mark_sent()
    idx = index_837(world.text)
    target = idx.claim("E2003")
    broken = edit_segment(
        world.text, target.st02, target.lines[0].first + 1, lambda s: s.replace("*UN*", "*XX*")
    )
    _, ack, _ = pyx12_999(broken)
    ingest(world, "pyx12.999", ack)
    assert statuses(world) == {"E2001": "accepted", "E2002": "accepted", "E2003": "rejected"}

    refused = run(world, Selection(claim="E2001", inputs=(world.export,)))
    (item,) = refused.items
    assert item.action == "refused" and "second original" in item.message
    assert refused.exit_code == 1 and not refused.interchanges

    report = run(world, Selection(claim="E2003", inputs=(world.export,)))
    (item,) = report.items
    assert item.action == "rebuilt" and item.frequency == "1"
    (made,) = report.interchanges
    valid, _, errors = pyx12_999(Path(made.file).read_text(encoding="ascii"))
    assert valid, errors
    assert world.claim("E2003").status == "built"
    assert [
        h.status for h in ledger_claims.status_history(world.ledger, world.claim("E2003").id)
    ] == [
        "built",
        "sent",
        "rejected",
        "built",
    ]


def test_ta1_rejection_then_reprocess_every_rejected_claim(world: World) -> None:
    world.mark_sent()
    ingest(world, "r.ta1", make_ta1(index_837(world.text), "R", "006"))
    assert set(statuses(world).values()) == {"rejected"}
    report = run(world, Selection(rejected=True, inputs=(world.export,)))
    assert [(i.encounter_id, i.action) for i in report.items] == [(i, "rebuilt") for i in IDS]
    (made,) = report.interchanges
    assert made.claims == 3
    valid, _, errors = pyx12_999(Path(made.file).read_text(encoding="ascii"))
    assert valid, errors
    again = run(world, Selection(rejected=True, inputs=(world.export,)))
    assert not again.items and not again.interchanges  # nothing is rejected any more


def test_a_claim_the_payer_has_is_corrected_by_a_replacement(world: World) -> None:
    world.mark_sent()
    idx = index_837(world.text)
    ingest(world, "a.277", make_277ca(idx, [Status277("E2001", ("A2:20",), "ICN0001")]))
    assert world.claim("E2001").status == "payer_accepted"
    fixed = write_export(world.tmp / "fixed.json", [encounter("E2001", member_id="W1888888XX")])
    # --rejected never replaces a claim the payer has
    assert not run(world, Selection(rejected=True, inputs=(fixed,))).items
    report = run(world, Selection(file=fixed))
    (item,) = report.items
    assert (item.action, item.frequency, item.payer_claim_number) == ("replaced", "7", "ICN0001")
    (made,) = report.interchanges
    valid, _, errors = pyx12_999(Path(made.file).read_text(encoding="ascii"))
    assert valid, errors
    new = segs(made.file)
    clm = next(s for s in new if s.tag == "CLM")
    assert clm.components(5)[2] == "7"
    assert [s.get(2) for s in new if s.tag == "REF" and s.get(1) == "F8"] == ["ICN0001"]
    assert world.claim("E2001", "1").status == "replaced"
    assert world.claim("E2001", "7").status == "built"
    # the replacement is in flight: no second one
    again = run(world, Selection(file=fixed))
    assert again.items[0].action == "refused" and not again.interchanges


def test_without_the_payers_number_no_replacement_is_made(world: World) -> None:
    world.mark_sent()
    idx = index_837(world.text)
    ingest(world, "a.277", make_277ca(idx, [Status277("E2002", ("A2:20",))]))  # no REF*1K
    report = run(world, Selection(claim="E2002", inputs=(world.export,)))
    (item,) = report.items
    assert item.action == "refused" and "REF*F8" in item.message
    assert "second original would be a duplicate" in item.message


def test_a_correction_that_still_cannot_be_coded_is_reported(world: World) -> None:
    world.mark_sent()
    ingest(world, "r.ta1", make_ta1(index_837(world.text), "R", "006"))
    broken = encounter("E2001")
    del broken["procedures"][0]["drugs"][0]["vials"]
    fixed = write_export(world.tmp / "fixed.json", [broken])
    report = run(world, Selection(file=fixed))
    (item,) = report.items
    assert item.action == "rejected" and item.errors
    assert world.claim("E2001").status == "rejected"  # nothing was sent


def test_unknown_claims_and_missing_encounters() -> None:
    with pytest.raises(SettingsError, match="exactly one"):
        Selection(claim="X", rejected=True, inputs=(Path("x"),)).check()
    with pytest.raises(SettingsError, match="--input"):
        Selection(claim="X").check()


@pytest.mark.parametrize(
    ("status", "frequency", "number", "explicit", "action", "freq"),
    [
        ("rejected", "1", None, False, "rebuild", "1"),
        ("payer_rejected", "1", "ICN", True, "rebuild", "1"),
        ("rejected", "7", "ICN", False, "rebuild", "7"),
        ("payer_accepted", "1", "ICN", True, "replace", "7"),
        ("denied", "1", "ICN", True, "replace", "7"),
        ("paid", "1", None, True, "refuse", None),
        ("payer_accepted", "1", "ICN", False, "refuse", None),
        ("sent", "1", None, True, "refuse", None),
        ("accepted", "1", None, True, "refuse", None),
        ("replaced", "1", "ICN", True, "refuse", None),
    ],
)
def test_the_resubmission_plan(status, frequency, number, explicit, action, freq) -> None:
    decided = plan(status, frequency, number, built_before=True, explicit=explicit)
    assert (decided.action, decided.frequency) == (action, freq)


def test_cli_reprocess(world: World) -> None:
    world.mark_sent()
    ingest(world, "r.ta1", make_ta1(index_837(world.text), "R", "006"))
    runner = CliRunner()
    base = ["reprocess", "--ledger", str(world.ledger_path), "--out", str(world.out_dir)]
    usage = runner.invoke(cli, [*base, "--rejected"])
    assert usage.exit_code == 2 and "--input" in usage.output
    if validator().__name__ == "pyx12_validator":
        pytest.skip("edi_pipeline.validate (the x12 helper's pyx12 adapter) is not there yet")
    result = runner.invoke(cli, [*base, "--claim", "E2001", "--input", str(world.export), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["claims"][0]["action"] == "rebuilt"
