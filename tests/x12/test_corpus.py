"""Every file of the shared corpus (MANIFEST.tsv), and the copies under fixtures/x12/.

Well-formed files are read completely, and their per-transaction segment and claim counts equal
an independent count; each malformed-on-purpose file yields its specific problem at its
position, and nothing crashes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from edi_pipeline.app.inspect import inspect_file
from edi_pipeline.validate import validate_x12
from edi_pipeline.x12.envelope import check
from edi_pipeline.x12.reader import X12Reader
from tests.conftest import CORPUS, needs_corpus
from tests.x12.support import (
    MALFORMED,
    X12_FIXTURES,
    corpus_rows,
    expected_problems,
    fixture_rows,
    independent_count,
    is_malformed,
)

TODAY = date(2026, 1, 15)

CORPUS_ROWS = corpus_rows()


def _check_counts(path: Path) -> None:
    expected = independent_count(path.read_bytes())
    reader = X12Reader(path)
    report = check(reader, file=str(path))
    assert report.segments == expected.segments
    seen = tuple(
        (t.st01, t.st02, t.segments, t.claims)
        for ix in report.interchanges
        for g in ix.groups
        for t in g.transactions
    )
    assert seen == expected.transactions


def _check_problems(path: Path, expected: tuple[tuple[str, str, int, str], ...]) -> None:
    inspected = inspect_file(path)
    assert inspected.readable
    found = {(p.code, p.where.segment_index, p.where.segment_id) for p in inspected.problems}
    for p in inspected.problems:  # every problem is positioned
        assert p.where.file == str(path)
        assert p.where.segment_index is not None and p.where.offset is not None
    validated = None
    for source, code, index, segment_id in expected:
        if source in ("reader", "envelope"):
            assert (code, index, segment_id) in found, (code, index, segment_id, found)
        else:
            validated = validated or validate_x12(path, today=TODAY)
            got = {(i.code, i.segment_index, i.segment_id) for i in validated.errors}
            assert (code, index, segment_id) in got, (code, index, segment_id, got)
            assert not validated.valid


@needs_corpus
@pytest.mark.parametrize(
    "row", CORPUS_ROWS, ids=[Path(r["local_file"]).name[-60:] for r in CORPUS_ROWS]
)
def test_corpus_file(row: dict[str, str]) -> None:
    path = CORPUS / row["local_file"]
    _check_counts(path)  # malformed files too: nothing is dropped, nothing crashes
    expected = expected_problems(row["local_file"])
    if is_malformed(row):
        assert expected, f"no expected problem written down for {row['local_file']}"
        _check_problems(path, expected)


@needs_corpus
def test_every_malformed_expectation_names_a_corpus_file() -> None:
    names = [r["local_file"] for r in CORPUS_ROWS if is_malformed(r)]
    for suffix in MALFORMED:
        assert any(n.endswith(suffix) for n in names), suffix


FIXTURE_ROWS = fixture_rows()


@pytest.mark.parametrize("row", FIXTURE_ROWS, ids=[r["local_file"][-50:] for r in FIXTURE_ROWS])
def test_fixture_file(row: dict[str, str]) -> None:
    """The copies in fixtures/x12 get the same checks where ../shared is absent."""
    path = X12_FIXTURES / row["local_file"]
    _check_counts(path)
    expected = expected_problems(row["local_file"])
    if is_malformed(row):
        _check_problems(path, expected)


def test_fixture_copies_are_listed() -> None:
    listed = {r["local_file"] for r in FIXTURE_ROWS}
    present = {p.name for p in X12_FIXTURES.iterdir() if p.name != "SOURCES.tsv"}
    assert listed == present
