"""The bundled demo (practice, encounters, as-of day) is inside the wheel, where ``run`` with no
arguments looks for it once installed (``practice.demo_root``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from edi_pipeline.practice import parse_practice
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_the_wheel_carries_the_demo(tmp_path: Path):
    args = [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path)]
    if importlib.util.find_spec("hatchling") is not None:
        args.append("--no-isolation")
    done = subprocess.run(
        [*args, str(ROOT)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = tmp_path.glob("edi_pipeline-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in ("practice.toml", "demo.toml", "encounters.json"):
            assert f"edi_pipeline/_data/demo/{name}" in names
        practice = parse_practice(
            tomllib.loads(zf.read("edi_pipeline/_data/demo/practice.toml").decode()),
            "wheel practice.toml",
        )
    assert practice.usage == "T"
