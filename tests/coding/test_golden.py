"""The demo practice's coded lines, reviewed by hand once and kept (issue 5 Show).

A change to ``golden/demo_lines.json`` must be deliberate: after reviewing the new lines, run
``EDI_UPDATE_GOLDENS=1 python -m pytest tests/coding/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os

import pytest

from edi_pipeline.app.code import code_files, run_json
from tests.conftest import FIXTURES

DEMO = FIXTURES / "demo" / "encounters.json"
GOLDEN = FIXTURES.parent / "tests" / "coding" / "golden" / "demo_lines.json"


def _without_paths(value):
    """The document without file paths (they depend on where the checkout is)."""
    if isinstance(value, dict):
        return {k: _without_paths(v) for k, v in value.items() if k != "file"}
    if isinstance(value, list):
        return [_without_paths(v) for v in value]
    return value


@pytest.mark.skipif(not DEMO.is_file(), reason="fixtures/demo/encounters.json is not there")
def test_demo_lines_match_the_reviewed_golden_file(maps):
    doc = _without_paths(run_json(code_files([DEMO], maps=maps)))
    if os.environ.get("EDI_UPDATE_GOLDENS") == "1":
        GOLDEN.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert doc == expected


@pytest.mark.skipif(not DEMO.is_file(), reason="fixtures/demo/encounters.json is not there")
def test_demo_codes_every_accepted_encounter(maps):
    run = code_files([DEMO], maps=maps)
    assert run.coded, "the demo has encounters"
    assert run.not_coded == [], [p.message for c in run.not_coded for p in c.problems]
