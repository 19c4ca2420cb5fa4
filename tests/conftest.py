"""Shared test configuration: where the shared corpus and design schemas are, when present."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
DESIGN_SCHEMAS = SHARED / "design" / "schemas"

needs_corpus = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").is_file(),
    reason="../shared/corpus is not beside this checkout; corpus tests need it",
)


@pytest.fixture(scope="session")
def pg_server():
    """Base URL of a real PostgreSQL server started for this test session (tests/pgserver.py);
    skipped locally when the server binaries are missing, a failure in CI."""
    from tests.pgserver import start_server

    yield from start_server()
