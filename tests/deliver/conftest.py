"""Fixtures for delivery and watcher tests: a real loopback SFTP server, a ledger with built
interchanges on disk, and a helper that runs the CLI in a subprocess (for SIGKILL tests)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from edi_pipeline.ledger import claims, interchanges
from edi_pipeline.ledger.sqlite import SqliteLedger

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NOW = "2026-11-23T10:00:00Z"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_deliver_{name}", HERE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


loopback_sftp = _load("loopback_sftp")


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[object]:
    server = loopback_sftp.LoopbackSftp(root=tmp_path / "remote", keys=tmp_path / "keys").start()
    try:
        yield server
    finally:
        server.shutdown()


def interchange_bytes(isa13: int, claims_count: int = 1, padding: int = 0) -> bytes:
    """A small X12 envelope (content does not matter to delivery, size and name do)."""
    body = "".join(
        f"ST*837*{n:04d}*005010X222A1~CLM*E{isa13:05d}{n}*100***11:B:1*Y*A*Y*Y~SE*3*{n:04d}~"
        for n in range(1, claims_count + 1)
    )
    text = (
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261123*1000*^*"
        "00501*"
        f"{isa13:09d}*0*T*:~GS*HC*SENDER*RECEIVER*20261123*1000*{isa13}*X*005010X222A1~"
        f"{body}GE*{claims_count}*{isa13}~IEA*1*{isa13:09d}~" + "\n" * padding
    )
    return text.encode()


def add_built(
    ledger: SqliteLedger, out_dir: Path, count: int, *, start: int = 1, padding: int = 0
) -> list[int]:
    """Record ``count`` built interchanges (one claim each), their files written to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = []
    with ledger.transaction():
        for isa13 in range(start, start + count):
            data = interchange_bytes(isa13, padding=padding)
            path = out_dir / f"{isa13:09d}.837"
            path.write_bytes(data)
            key = claims.ClaimKey("demo", f"E{isa13:05d}", "1")
            claim_id = claims.upsert_claim(
                ledger,
                key,
                status="built",
                payer_id="aetna",
                charge=Decimal("100.00"),
                at=NOW,
                source="build",
            )
            iid = interchanges.record_interchange(
                ledger,
                practice="demo",
                file=str(path),
                sender="SENDER",
                receiver="RECEIVER",
                isa13=f"{isa13:09d}",
                gs06=str(isa13),
                usage="T",
                claims=1,
                at=NOW,
                sha256=hashlib.sha256(data).hexdigest(),
            )
            interchanges.record_interchange_claim(ledger, iid, "0001", claim_id, 1, 3)
            ids.append(iid)
    return ids


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SqliteLedger]:
    led = SqliteLedger.open(tmp_path / "ledger.sqlite")
    try:
        yield led
    finally:
        led.close()


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m edi_pipeline ARGS`` in a subprocess, with the checkout on the path."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_PIPELINE_")}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "edi_pipeline", "--log-format", "json", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.fixture
def built():
    """``built(ledger, out_dir, count, start=1, padding=0) -> [interchange ids]``."""
    return add_built


@pytest.fixture
def cli():
    """``cli(*args, env=None, timeout=60, cwd=None) -> CompletedProcess`` (a subprocess)."""
    return run_cli
