"""The exactly-once delivery state machine over a real ledger and real destinations."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs

from edi_pipeline.cli import cli
from edi_pipeline.deliver import Action, decide, deliver
from edi_pipeline.ledger import claims
from edi_pipeline.ledger import delivery as q
from edi_pipeline.transports import FolderTransport, Retry
from edi_pipeline.transports.sftp import SftpTransport

FAST = Retry(attempts=3, first_delay=0.01, factor=2)


def statuses(ledger) -> dict[str, str]:
    return {
        r["isa13"]: r["status"]
        for r in ledger.query("SELECT isa13, status FROM interchanges ORDER BY id")
    }


def claim_statuses(ledger) -> list[str]:
    return [c.status for c in claims.all_claims(ledger)]


def sftp(server, **kwargs) -> SftpTransport:
    return SftpTransport(
        server.url("/"),
        identity=server.client_key_path,
        known_hosts=server.known_hosts,
        timeout=5,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("remote", "action"),
    [(None, Action.SEND), (120, Action.MARK_SENT), (60, Action.CONFLICT), (0, Action.CONFLICT)],
)
def test_decide(remote: int | None, action: Action) -> None:
    assert decide(120, remote) is action


def test_folder_delivery_sends_each_built_interchange_once(ledger, built, tmp_path: Path) -> None:
    built(ledger, tmp_path / "out", 3)
    dest = tmp_path / "clearinghouse"
    with capture_logs() as logs:
        result = deliver(ledger, FolderTransport(dest), retry=FAST)
    assert result.exit_code == 0 and len(result.sent) == 3
    assert sorted(p.name for p in dest.iterdir()) == [
        "000000001.837",
        "000000002.837",
        "000000003.837",
    ]
    for sent in result.sent:
        assert (dest / sent.remote_name).read_bytes() == Path(sent.file).read_bytes()
        assert not sent.reconciled
    assert set(statuses(ledger).values()) == {"sent"}
    assert claim_statuses(ledger) == ["sent"] * 3
    history = claims.status_history(ledger, claims.ClaimKey("demo", "E00001", "1"))
    assert [h.status for h in history] == ["built", "sent"]
    assert history[-1].source == "deliver"
    events = q.delivery_events(ledger, result.sent[0].interchange_id)
    assert [e["status"] for e in events] == ["sending", "sent"]
    assert events[0]["remote_name"] == "000000001.837"
    assert events[0]["destination"] == f"folder:{dest}"
    names = [e["event"] for e in logs]
    assert names.count("deliver.file_sent") == 3 and names[-1] == "deliver.finished"
    # a second run finds nothing to do
    again = deliver(ledger, FolderTransport(dest), retry=FAST)
    assert again.sent == () and again.exit_code == 0
    assert len(list(dest.iterdir())) == 3


@pytest.mark.sftp
def test_sftp_delivery_and_the_ledger_agree(ledger, built, tmp_path: Path, sftp_server) -> None:
    built(ledger, tmp_path / "out", 5)
    with capture_logs() as logs:
        result = deliver(ledger, sftp(sftp_server), retry=FAST)
    assert result.exit_code == 0 and len(result.sent) == 5
    files = sftp_server.files()
    assert sorted(files) == [f"{n:09d}.837" for n in range(1, 6)]
    rows = ledger.query("SELECT file, remote_name, size, destination, status FROM interchanges")
    for row in rows:
        assert row["status"] == "sent"
        assert files[row["remote_name"]] == Path(row["file"]).read_bytes()
        assert row["size"] == len(files[row["remote_name"]])
        assert row["destination"] == f"sftp://127.0.0.1:{sftp_server.port}/"
    rendered = json.dumps(logs, default=str)
    assert "edi@" not in rendered and "client_ed25519" not in rendered
    assert sftp_server.connections == 1


@pytest.mark.sftp
def test_server_down_retries_then_a_clear_error_and_nothing_lost(
    ledger,
    built,
    tmp_path: Path,
    sftp_server,
) -> None:
    built(ledger, tmp_path / "out", 4)
    sftp_server.stop()
    waits: list[float] = []
    with capture_logs() as logs:
        result = deliver(ledger, sftp(sftp_server), retry=FAST, sleep=waits.append)
    assert result.exit_code == 1
    assert len(result.failed) == 1 and result.failed[0].retryable
    failure = result.failed[0]
    assert failure.code == "unreachable"
    assert f"127.0.0.1:{sftp_server.port}" in failure.message
    assert "000000001.837" in failure.message and "gave up after 3 attempts" in failure.message
    assert waits == [0.01, 0.02]  # backoff between the three attempts
    assert [e["event"] for e in logs].count("deliver.attempt_failed") == 2
    assert len(result.not_attempted) == 3  # the batch stopped instead of waiting on each file
    assert statuses(ledger) == {
        "000000001": "sending",
        "000000002": "built",
        "000000003": "built",
        "000000004": "built",
    }
    row = ledger.query_one("SELECT * FROM interchanges WHERE isa13 = '000000001'")
    assert row["remote_name"] == "000000001.837" and row["delivery_owner"] is None
    assert row["delivery_error"].startswith("unreachable")
    # the server comes back: the next run sends everything, once
    sftp_server.start()
    result = deliver(ledger, sftp(sftp_server), retry=FAST)
    assert result.exit_code == 0 and len(result.sent) == 4
    assert sorted(sftp_server.files()) == [f"{n:09d}.837" for n in range(1, 5)]
    assert set(statuses(ledger).values()) == {"sent"}


def _dead_owner() -> str:
    """The lease owner id of a process on this host that no longer exists."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:deadbeef"


def _interrupted(ledger, item_id: int, transport) -> q.OutgoingInterchange:
    """Put an interchange in the state a killed delivery leaves: ``sending``, leased to a dead
    process, its remote name recorded."""
    from datetime import UTC, datetime

    item = q.interchange(ledger, item_id)
    size = len(Path(item.file).read_bytes())
    claimed = q.start_sending(
        ledger,
        item,
        owner=_dead_owner(),
        destination=transport.description,
        remote_name=Path(item.file).name,
        size=size,
        now=datetime.now(UTC),
        lease_seconds=600,
    )
    assert claimed is not None and claimed.status == "sending"
    return claimed


@pytest.mark.sftp
def test_sending_interchange_found_remotely_is_marked_sent_not_resent(
    ledger,
    built,
    tmp_path: Path,
    sftp_server,
) -> None:
    first, second = built(ledger, tmp_path / "out", 2)
    transport = sftp(sftp_server)
    crashed = _interrupted(ledger, first, transport)
    transport.put(crashed.remote_name, Path(crashed.file).read_bytes())  # it did arrive
    _interrupted(ledger, second, transport)  # this one never arrived
    (sftp_server.root / ".000000002.837.part").write_bytes(b"ISA*partial")
    result = deliver(ledger, sftp(sftp_server), retry=FAST)
    assert result.exit_code == 0
    by_id = {s.interchange_id: s for s in result.sent}
    assert by_id[first].reconciled and not by_id[second].reconciled
    assert sorted(sftp_server.files()) == ["000000001.837", "000000002.837"]
    assert set(statuses(ledger).values()) == {"sent"}
    assert [e["status"] for e in q.delivery_events(ledger, first)] == ["sending", "sending", "sent"]
    assert "interrupted" in q.delivery_events(ledger, first)[-1]["note"]


def test_a_different_file_under_our_name_is_never_overwritten(
    ledger, built, tmp_path: Path
) -> None:
    built(ledger, tmp_path / "out", 2)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "000000001.837").write_bytes(b"someone else's file")
    result = deliver(ledger, FolderTransport(dest), retry=FAST)
    assert result.exit_code == 1
    assert [f.code for f in result.failed] == ["remote_conflict"]
    assert not result.failed[0].retryable
    assert [s.remote_name for s in result.sent] == ["000000002.837"]  # the batch went on
    assert (dest / "000000001.837").read_bytes() == b"someone else's file"
    assert statuses(ledger) == {"000000001": "sending", "000000002": "sent"}


def test_a_sending_interchange_is_finished_where_it_started(ledger, built, tmp_path: Path) -> None:
    (only,) = built(ledger, tmp_path / "out", 1)
    _interrupted(ledger, only, FolderTransport(tmp_path / "first"))
    result = deliver(ledger, FolderTransport(tmp_path / "second"), retry=FAST)
    assert result.exit_code == 1 and "was being sent to folder:" in result.failed[0].message
    assert list((tmp_path / "second").iterdir()) == []
    result = deliver(ledger, FolderTransport(tmp_path / "first"), retry=FAST)
    assert result.exit_code == 0 and statuses(ledger) == {"000000001": "sent"}


def test_a_changed_or_missing_built_file_is_not_sent(ledger, built, tmp_path: Path) -> None:
    built(ledger, tmp_path / "out", 2)
    (tmp_path / "out" / "000000001.837").write_bytes(b"tampered")
    (tmp_path / "out" / "000000002.837").unlink()
    result = deliver(ledger, FolderTransport(tmp_path / "dest"), retry=FAST)
    assert result.exit_code == 1 and len(result.failed) == 2
    assert "changed since it was built" in result.failed[0].message
    assert "cannot be read" in result.failed[1].message
    assert statuses(ledger) == {"000000001": "built", "000000002": "built"}
    assert list((tmp_path / "dest").iterdir()) == []


def test_an_interchange_leased_by_a_live_process_is_left_alone(
    ledger, built, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    (only,) = built(ledger, tmp_path / "out", 1)
    item = q.interchange(ledger, only)
    live_owner = f"{socket.gethostname()}:{os.getppid()}:cafe"
    q.start_sending(
        ledger,
        item,
        owner=live_owner,
        destination=f"folder:{tmp_path / 'dest'}",
        remote_name="000000001.837",
        size=10,
        now=datetime.now(UTC),
        lease_seconds=600,
    )
    result = deliver(ledger, FolderTransport(tmp_path / "dest"), retry=FAST)
    assert result.busy == (only,) and result.sent == ()
    assert not (tmp_path / "dest" / "000000001.837").exists()
    assert q.interchange(ledger, only).owner == live_owner


def test_deliver_command_json_and_exit_codes(ledger, built, tmp_path: Path) -> None:
    built(ledger, tmp_path / "out", 2)
    runner = CliRunner()
    dest = tmp_path / "dest"
    args = ["deliver", "--ledger", str(ledger.path), "--to", f"folder:{dest}", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["sent"] == 2 and doc["destination"] == f"folder:{dest}"
    assert {s["remote_name"] for s in doc["sent"]} == {"000000001.837", "000000002.837"}

    result = runner.invoke(
        cli, ["deliver", "--ledger", str(ledger.path)], env={"EDI_PIPELINE_DELIVER_TO": ""}
    )
    assert result.exit_code == 2 and "no destination" in result.stderr
    result = runner.invoke(cli, ["deliver", "--ledger", str(ledger.path), "--to", "ftp://x"])
    assert result.exit_code == 2
    result = runner.invoke(
        cli, ["deliver", "--ledger", str(ledger.path), "--to", "sftp://edi@127.0.0.1:1/in"]
    )
    assert result.exit_code == 2 and "--identity" in result.stderr


def test_deliver_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["deliver", "--help"])
    assert result.exit_code == 0 and "Example: edi-pipeline deliver" in result.output


def test_run_can_deliver_when_a_destination_is_configured(
    ledger, built, tmp_path: Path, monkeypatch
) -> None:
    from edi_pipeline.app.deliver import deliver_if_configured

    built(ledger, tmp_path / "out", 2)
    monkeypatch.delenv("EDI_PIPELINE_DELIVER_TO", raising=False)
    assert deliver_if_configured(ledger) is None
    assert set(statuses(ledger).values()) == {"built"}
    monkeypatch.setenv("EDI_PIPELINE_DELIVER_TO", f"folder:{tmp_path / 'dest'}")
    result = deliver_if_configured(ledger)
    assert result is not None and len(result.sent) == 2
    assert set(statuses(ledger).values()) == {"sent"}
