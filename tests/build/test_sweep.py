"""The orphan sweep on an outbound folder that workers on several hosts share: a validation
scratch file is removed only when this host can tell its process is gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from edi_pipeline.app.build import HOST, sweep_orphans
from edi_pipeline.ledger.sqlite import SqliteLedger
from edi_pipeline.practice import load_practice


def test_scratch_files_of_dead_local_processes_go_other_hosts_and_live_ones_stay(
    tmp_path: Path,
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "outbound"
    out.mkdir()
    names = {
        "dead_here": f".validate-{dead.pid}-0-{HOST}.837",
        "alive_here": f".validate-{os.getppid()}-0-{HOST}.837",
        "other_host": f".validate-{dead.pid}-0-build-host-7.example.837",
    }
    for name in names.values():
        (out / name).write_text("ISA")
    with SqliteLedger.open(tmp_path / "ledger.sqlite") as ledger:
        sweep_orphans(out, ledger, load_practice(None))
    left = {p.name for p in out.iterdir()}
    assert left == {names["alive_here"], names["other_host"]}
