"""Every 835 of the shared corpus (and the copies in fixtures/835/corpus) is read, balanced and
classified; the verdicts and totals equal an independent computation (tests/remit/independent)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from edi_pipeline.app.remit import process
from edi_pipeline.maps import load_maps
from edi_pipeline.remit.balance import transaction_imbalance
from edi_pipeline.remit.parse import read_remit
from tests.conftest import CORPUS, FIXTURES, needs_corpus
from tests.remit.independent import compute

CORPUS_835 = sorted((CORPUS / "835").iterdir()) if (CORPUS / "835").is_dir() else []
FIXTURE_835 = sorted(p for p in (FIXTURES / "835" / "corpus").iterdir() if p.name != "README.md")
PLACEHOLDER = "affect-therapeutics__edi-835-parser__tests__test_edi_835_files__sample_835.txt"


def check_against_independent(path: Path) -> None:
    expected = compute(path)
    claims, txs, _ = read_remit(path)
    assert [t.payment.st02 for t in txs] == [e.st02 for e in expected]
    for tx, exp in zip(txs, expected, strict=True):
        assert tx.payment.amount == exp.bpr02
        assert tx.claims_paid == exp.clp04
        assert tx.claims == exp.claims
        assert tx.provider_adjustment_total == exp.plb
        imb = transaction_imbalance(tx)
        assert (imb is None) == (exp.diff == 0)
        if imb is not None:
            assert imb.difference == exp.diff
    assert len(claims) == sum(e.claims for e in expected)
    assert sum((c.charge for c in claims), Decimal(0)) == sum(
        (e.charge for e in expected), Decimal(0)
    )
    cas = sum((a.amount for c in claims for a in c.all_adjustments()), Decimal(0))
    assert cas == sum((e.cas for e in expected), Decimal(0))
    run = process([path], maps=load_maps())
    (result,) = run.files
    assert result.readable
    assert result.balanced == all(e.balanced for e in expected)
    assert run.claims == len(claims)
    assert run.cas_total == cas  # every CAS amount is in exactly one classified adjustment


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_835, ids=lambda p: p.name[:60])
def test_corpus_835(path: Path) -> None:
    check_against_independent(path)


@pytest.mark.parametrize("path", FIXTURE_835, ids=lambda p: p.name[:60])
def test_fixture_copies(path: Path) -> None:
    check_against_independent(path)


def test_verdicts_as_corpus_notes_say() -> None:
    """corpus_notes.md: every file balances except the redacted sample's ST 1002 (+5.00)."""
    for path in FIXTURE_835:
        run = process([path], maps=load_maps())
        assert run.files[0].balanced == (path.name != PLACEHOLDER), path.name
    run = process([FIXTURES / "835" / "corpus" / PLACEHOLDER], maps=load_maps())
    (imb,) = run.files[0].imbalances
    assert imb.level == "transaction" and imb.difference == Decimal("5.00")


def test_placeholder_file_errors_are_clear_and_the_rest_is_read() -> None:
    path = FIXTURES / "835" / "corpus" / PLACEHOLDER
    claims, txs, _ = read_remit(path)
    assert len(claims) == 6 and len(txs) == 2  # all six claims still read
    problems = [p for c in claims for p in c.problems] + [p for t in txs for p in t.problems]
    by_code = {p.code for p in problems}
    assert {"cas_group_invalid", "amount_not_numeric", "rarc_malformed"} <= by_code
    assert {"plb_reason_invalid", "plb_amount_missing", "se_count_mismatch"} <= by_code
    cas = next(p for p in problems if p.code == "amount_not_numeric")
    assert cas.where.segment_id == "CAS" and cas.where.segment_index == 23
    assert cas.where.file == str(path) and cas.where.element == "CAS03"
    assert "'amount' is not a number" in cas.message
    plb = next(p for p in problems if p.code == "plb_amount_missing")
    assert plb.where.segment_id == "PLB" and "inside the composite" in plb.message
    lq = next(p for p in problems if p.code == "rarc_malformed" and p.where.segment_id == "LQ")
    assert "'code1'" in lq.message
    # The good CAS of the same claims are still there and classified.
    assert [(a.group, a.carc, a.amount) for a in claims[1].lines[0].adjustments] == [
        ("PR", "2", Decimal("21")),
        ("PR", "23", Decimal("-13.65")),
        ("OA", "23", Decimal("97.65")),
    ]


def test_reversal_and_correction_balance_with_negated_amounts() -> None:
    path = (
        FIXTURES
        / "835"
        / "corpus"
        / (
            "Project-Herophilus__Project-Herophilus-Assets__Testing__TestData__samples-edi__"
            "835Sample_OutpatientRetro_.txt"
        )
    )
    run = process([path], maps=load_maps())
    assert run.files[0].balanced
    assert run.by_status == {"reversed": 1, "paid": 1}
    assert run.paid == Decimal("-20.16")
    assert run.provider_adjustments == Decimal("-20.16")


def test_no_isa_and_short_isa_files_are_read() -> None:
    bcbs = (
        FIXTURES
        / "835"
        / "corpus"
        / ("keironstoddart__edi-835-parser__tests__test_edi_835_files__blue_cross_nc_sample.txt")
    )
    claims, _, problems = read_remit(bcbs)
    assert [p.code for p in problems] == ["no_isa"]
    assert [line.billed.code for line in claims[0].lines] == ["59410", "59410", "59426"]
    assert [line.control_number for line in claims[0].lines] == ["0001", "0002", "0003"]
    nevada = (
        FIXTURES
        / "835"
        / "corpus"
        / ("affect-therapeutics__edi-835-parser__tests__test_edi_835_files__nevada_medicaid.txt")
    )
    claims, txs, problems = read_remit(nevada)
    assert [p.code for p in problems] == ["isa_not_fixed_width"]
    assert len(txs) == 3 and txs[2].claims == 0 and len(txs[2].provider_adjustments) == 6
