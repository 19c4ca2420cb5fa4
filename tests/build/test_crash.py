"""Control numbers across crashes: a real ``edi-pipeline build`` killed with SIGKILL at each
step of releasing an interchange, then run again. Afterwards no ISA13 is used twice, every
number taken is either in a released interchange or in a recorded gap, and no claim is built
twice. The clock is frozen in the subprocess (freezegun), so files compare byte for byte."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path

import pytest

from edi_pipeline.ledger import interchanges as ledger_ix
from edi_pipeline.ledger.sqlite import SqliteLedger
from tests.build.conftest import run_frozen
from tests.conftest import FIXTURES

BUILD = FIXTURES / "build" / "encounters.json"
SENDER, RECEIVER = "DEMORHEUM01", "DEMOCLEARING"
NAME = "demo-rheumatology-clearinghouse-{:09d}.837"
FAULT = "EDI_PIPELINE_FAULT"

pytestmark = pytest.mark.slow


def build(tmp: Path, source: Path = BUILD, fault: str | None = None):
    env = {FAULT: fault} if fault else {}
    return run_frozen("build", str(source), "--out", "out", cwd=tmp, env=env)


def ledger(tmp: Path) -> SqliteLedger:
    return SqliteLedger.open(tmp / "edi-out" / "ledger.sqlite")


def second_batch(tmp: Path) -> Path:
    """The same visits for other members under new ids: new claims for the next interchange
    (the same members again would be held as duplicates by scrub, as they should be)."""
    data = json.loads(BUILD.read_text())
    for enc in data["encounters"]:
        enc["encounter_id"] = enc["encounter_id"].replace("BLD-", "NXT-")
        member = enc["coverage"]["member_id"]
        enc["coverage"]["member_id"] = member[:-1] + ("7" if member[-1] != "7" else "8")
    path = tmp / "next.json"
    path.write_text(json.dumps(data))
    return path


def assert_accounted(tmp: Path) -> None:
    """Every ISA13 taken is in exactly one place: a released interchange or a recorded gap;
    no claim appears in two live interchanges; every live interchange's file is in place."""
    with ledger(tmp) as led:
        last = ledger_ix.last_control_number(led, SENDER, RECEIVER, ledger_ix.INTERCHANGE)
        live = [i for i in ledger_ix.interchanges(led) if i.status != "lost"]
        lost = [i for i in ledger_ix.interchanges(led) if i.status == "lost"]
        gaps = [g["value"] for g in ledger_ix.gaps(led, SENDER, RECEIVER)]
        used = sorted(int(i.isa13) for i in live)
        assert len(used) == len(set(used))
        assert sorted(used + gaps) == list(range(1, last + 1))
        assert sorted(int(i.isa13) for i in lost) == sorted(gaps)
        for ix in live:
            path = Path(ix.file)
            assert path.is_file(), path
            assert hashlib.sha256(path.read_bytes()).hexdigest() == ix.sha256
        rows = led.query(
            "SELECT ic.claim_id, COUNT(*) AS n FROM interchange_claims ic "
            "JOIN interchanges i ON i.id = ic.interchange_id WHERE i.status <> 'lost' "
            "GROUP BY ic.claim_id"
        )
        assert rows and all(r["n"] == 1 for r in rows)
    staged = list((tmp / "out").glob(".*.tmp"))
    assert staged == [], staged


def test_killed_after_commit_before_rename_is_finished_by_the_next_run(tmp_path: Path):
    killed = build(tmp_path, fault="build.after_commit")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    final = tmp_path / "out" / NAME.format(1)
    staged = final.with_name(f".{final.name}.tmp")
    assert not final.exists() and staged.is_file()
    staged_bytes = staged.read_bytes()

    again = build(tmp_path)
    assert again.returncode == 1, again.stderr  # the fixture's held claim and bad record
    assert "recovered" in again.stdout
    assert "already built" in again.stdout
    assert final.read_bytes() == staged_bytes
    assert sorted(p.name for p in (tmp_path / "out").glob("*.837")) == [final.name]
    assert_accounted(tmp_path)

    nxt = build(tmp_path, second_batch(tmp_path))
    assert nxt.returncode == 1, nxt.stderr
    assert (tmp_path / "out" / NAME.format(2)).is_file()
    assert_accounted(tmp_path)


def test_killed_after_rename_leaves_nothing_to_redo(tmp_path: Path):
    killed = build(tmp_path, fault="build.after_rename")
    assert killed.returncode == -signal.SIGKILL
    final = tmp_path / "out" / NAME.format(1)
    first_bytes = final.read_bytes()
    again = build(tmp_path)
    assert again.returncode == 1
    assert "already built" in again.stdout
    assert final.read_bytes() == first_bytes
    assert_accounted(tmp_path)
    assert build(tmp_path, second_batch(tmp_path)).returncode == 1
    assert (tmp_path / "out" / NAME.format(2)).is_file()
    assert_accounted(tmp_path)


def test_killed_before_commit_gives_the_number_back(tmp_path: Path):
    killed = build(tmp_path, fault="build.before_commit")
    assert killed.returncode == -signal.SIGKILL
    with ledger(tmp_path) as led:  # the transaction never committed
        assert ledger_ix.interchanges(led) == []
        assert ledger_ix.last_control_number(led, SENDER, RECEIVER, "interchange") == 0
    again = build(tmp_path)
    assert again.returncode == 1
    assert (tmp_path / "out" / NAME.format(1)).is_file()  # number 1, never released before
    assert_accounted(tmp_path)


def test_a_staged_file_lost_after_commit_is_a_recorded_gap_and_its_claims_are_rebuilt(
    tmp_path: Path,
):
    assert build(tmp_path, fault="build.after_commit").returncode == -signal.SIGKILL
    final = tmp_path / "out" / NAME.format(1)
    final.with_name(f".{final.name}.tmp").unlink()  # the disk lost it
    again = build(tmp_path)
    assert again.returncode == 1
    assert "missing" in again.stdout
    assert not final.exists()
    assert (tmp_path / "out" / NAME.format(2)).is_file()  # the same claims, a new number
    with ledger(tmp_path) as led:
        [gap] = ledger_ix.gaps(led, SENDER, RECEIVER)
        assert gap["value"] == 1 and "never released" in gap["reason"]
    assert_accounted(tmp_path)
