"""Fixtures for the build tests: a private working folder, the CLI in-process and in a
subprocess under a frozen clock, and the published report schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DESIGN_SCHEMAS, FIXTURES, ROOT

FROZEN = "2025-03-05 09:30:00"

# The subprocess entry point: the real CLI with the clock frozen, so the dates in the files
# (ISA09/GS04/BHT04) are the same in every run and files can be compared byte for byte.
_FROZEN_MAIN = (
    "import sys, freezegun\n"
    "from edi_pipeline.cli import main\n"
    "with freezegun.freeze_time(sys.argv.pop(1)):\n"
    "    main()\n"
)


def run_frozen(
    *args: str, cwd: Path, env: dict[str, str] | None = None, frozen: str = FROZEN
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_PIPELINE_")}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run(
        [sys.executable, "-c", _FROZEN_MAIN, frozen, "--log-format", "json", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working folder as CWD, with no ledger named by the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_PIPELINE_LEDGER", raising=False)
    monkeypatch.delenv("EDI_PIPELINE_FAULT", raising=False)
    return tmp_path


def report_schema() -> dict:
    """The published report schema (the shared copy when present, else the fixture copy)."""
    shared = DESIGN_SCHEMAS / "report.schema.json"
    path = shared if shared.is_file() else FIXTURES / "schemas" / "report.schema.json"
    return json.loads(path.read_text())
