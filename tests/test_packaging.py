"""The wheel carries what the installed tool needs, and works installed, away from the checkout.

pyx12 once shipped a wheel without one of its own sub-packages; this test builds ours, checks that
``maps/`` went in as ``edi_pipeline/_data/maps/``, installs it into a fresh virtual environment
(no access to this checkout or its venv) and runs ``edi-pipeline inspect`` and ``validate`` on a
fixture from another directory.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.slow


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    args = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out)]
    if importlib.util.find_spec("hatchling") is not None:
        args.append("--no-isolation")  # the build backend is already here: no download
    done = _run([*args, str(ROOT)], cwd=out)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("edi_pipeline-*.whl")
    return built


def test_wheel_holds_the_maps_and_the_x12_layer(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    maps_in_wheel = {n for n in names if n.startswith("edi_pipeline/_data/maps/")}
    maps_in_checkout = {
        "edi_pipeline/_data/maps/" + p.relative_to(ROOT / "maps").as_posix()
        for p in (ROOT / "maps").rglob("*")
        if p.is_file()
    }
    assert maps_in_checkout and maps_in_checkout <= maps_in_wheel
    for module in ("reader", "writer", "envelope", "tr3"):
        assert f"edi_pipeline/x12/{module}.py" in names
    assert "edi_pipeline/validate.py" in names
    assert "edi_pipeline/commands/inspect.py" in names


def test_installed_wheel_inspects_and_validates_from_another_directory(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, clear=True)  # a fresh venv: nothing from ours
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = _run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], tmp_path, clean
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fixture = FIXTURES / "x12" / "example_837p.x12"
    tool = str(bin_dir / "edi-pipeline")
    inspected = _run([tool, "inspect", "--json", str(fixture)], elsewhere, clean)
    assert inspected.returncode == 0, inspected.stdout + inspected.stderr
    (found,) = json.loads(inspected.stdout)["files"]
    assert found["readable"] and found["segments"] == 45
    validated = _run([tool, "validate", str(fixture)], elsewhere, clean)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "valid (0 error(s)" in validated.stdout
    where = _run(
        [str(bin_dir / "python"), "-c", "import edi_pipeline; print(edi_pipeline.__file__)"],
        elsewhere,
        clean,
    )
    assert str(env_dir) in where.stdout and str(ROOT) not in where.stdout
