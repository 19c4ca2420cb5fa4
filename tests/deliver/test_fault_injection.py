"""Kill a real ``edi-pipeline deliver`` with SIGKILL at each step, restart it, and check that the
destination ends with exactly one copy of each interchange and that the ledger agrees."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from edi_pipeline.deliver import deliver as deliver_built
from edi_pipeline.ledger import claims
from edi_pipeline.ledger.sqlite import SqliteLedger
from edi_pipeline.transports import open_transport

STEPS = [
    "deliver.after_intent",  # ledger says sending, nothing uploaded
    "deliver.mid_upload",  # half of the bytes under the temporary name
    "deliver.after_upload",  # whole temporary file, not renamed
    "deliver.after_rename",  # final name in place, ledger not updated
]
COUNT = 3


def _destination(kind: str, tmp_path: Path, server) -> tuple[list[str], dict[str, bytes]]:
    if kind == "sftp":
        args = [
            "--to",
            server.url("/"),
            "--identity",
            str(server.client_key_path),
            "--known-hosts",
            str(server.known_hosts),
            "--timeout",
            "10",
        ]
        return args, server.root
    dest = tmp_path / "dest"
    return ["--to", f"folder:{dest}"], dest


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "step"),
    [pytest.param("sftp", step, marks=pytest.mark.sftp) for step in STEPS]
    + [("folder", "deliver.mid_upload"), ("folder", "deliver.after_rename")],
)
def test_killed_at_each_step_then_restarted_delivers_exactly_once(
    kind: str,
    step: str,
    tmp_path: Path,
    built,
    cli,
    sftp_server,
) -> None:
    ledger_path = tmp_path / "ledger.sqlite"
    with SqliteLedger.open(ledger_path) as ledger:
        built(ledger, tmp_path / "out", COUNT, padding=2000)
    args, folder = _destination(kind, tmp_path, sftp_server)
    deliver = ["deliver", "--ledger", str(ledger_path), "--json", *args]

    # kill at this step while sending the second interchange: the first one is already sent
    killed = cli(*deliver, env={"EDI_PIPELINE_FAULT": f"{step}@2"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with SqliteLedger.open(ledger_path) as ledger:
        rows = {r["isa13"]: dict(r) for r in ledger.query("SELECT * FROM interchanges")}
    assert rows["000000001"]["status"] == "sent"
    assert rows["000000002"]["status"] == "sending"  # intent recorded before any byte left
    assert rows["000000002"]["remote_name"] == "000000002.837"
    assert rows["000000003"]["status"] == "built"
    after_kill = _files(folder)
    if step == "deliver.after_intent":
        assert sorted(after_kill) == ["000000001.837"]
    elif step in ("deliver.mid_upload", "deliver.after_upload"):
        assert sorted(after_kill) == [".000000002.837.part", "000000001.837"]
    else:
        assert sorted(after_kill) == ["000000001.837", "000000002.837"]

    restarted = cli(*deliver)
    assert restarted.returncode == 0, restarted.stderr
    report = json.loads(restarted.stdout)
    assert [s["remote_name"] for s in report["sent"]] == ["000000002.837", "000000003.837"]
    assert report["sent"][0]["reconciled"] is (step == "deliver.after_rename")

    final = _files(folder)
    with SqliteLedger.open(ledger_path) as ledger:
        rows = ledger.query("SELECT file, remote_name, status, size FROM interchanges ORDER BY id")
        claim_states = [c.status for c in claims.all_claims(ledger)]
    assert sorted(final) == [f"{n:09d}.837" for n in range(1, COUNT + 1)]  # one copy, no litter
    for row in rows:
        assert row["status"] == "sent"
        assert final[row["remote_name"]] == Path(row["file"]).read_bytes()
        assert row["size"] == len(final[row["remote_name"]])
    assert claim_states == ["sent"] * COUNT

    # and a third run (in this process) finds nothing left to send
    with SqliteLedger.open(ledger_path) as ledger:
        transport = open_transport(
            args[1],
            identity=sftp_server.client_key_path,
            known_hosts=sftp_server.known_hosts,
        )
        assert deliver_built(ledger, transport).sent == ()
    assert _files(folder) == final
