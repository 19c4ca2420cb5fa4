"""Every TA1, 999 and 277CA of the shared corpus is read; the malformed 999 gets clear errors.

The files are copied under ``fixtures/acks/corpus`` (with their MANIFEST rows and licences) so
these tests run without ``../shared``; one test checks the copies still match the corpus.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from edi_pipeline.acks import read_ack
from edi_pipeline.acks.model import AckFile
from edi_pipeline.maps import load_maps
from tests.conftest import CORPUS, FIXTURES, needs_corpus

HERE = FIXTURES / "acks" / "corpus"
CODES = load_maps().ack_codes
KINDS = ("999", "277ca", "ta1")
FILES = sorted(p for kind in KINDS for p in (HERE / kind).iterdir())


def read(name: str) -> AckFile:
    (path,) = [p for p in FILES if p.name.startswith(name)]
    return read_ack(path, codes=CODES)


def errors(ack: AckFile) -> list[str]:
    return [f"{p.where.segment_index} {p.code}" for p in ack.errors]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:60])
def test_every_corpus_ack_is_read(path: Path) -> None:
    ack = read_ack(path, codes=CODES)
    assert ack.kinds, ack.problems
    assert ack.segments > 0
    for problem in ack.problems:
        assert problem.where.file == str(path)
        assert problem.where.segment_index is not None
    if "invalid999" not in path.name:
        assert not ack.errors, ack.errors


@needs_corpus
def test_fixture_copies_match_the_shared_corpus() -> None:
    shared = sorted(p for kind in KINDS for p in (CORPUS / kind).iterdir())
    assert [p.name for p in shared] == [p.name for p in FILES]
    for ours, theirs in zip(FILES, shared, strict=True):
        assert ours.read_bytes() == theirs.read_bytes(), ours.name


def test_ta1_alone_in_its_interchange() -> None:
    ack = read("xlate__staedi__src__test__resources__wiki__x12_interchange_ack")
    (ta1,) = ack.ta1s
    assert (ta1.interchange_control, ta1.ack_code, ta1.note_code) == ("000000050", "A", "000")
    assert ta1.interchange_date == date(2020, 2, 29)
    assert ta1.envelope.sender == "Receiver" and ta1.envelope.receiver == "Sender"
    # IEA01 = 1 with no functional group: tolerated, reported as a warning
    (warning,) = ack.problems
    assert warning.severity == "warning" and warning.where.segment_id == "IEA"
    assert "counted 0" in warning.message


def test_999_rejected_reads_the_segment_error() -> None:
    ack = read("imsweb__x12-parser__src__test__resources__837_5010__x12_999_rejected")
    (a999,) = ack.acks999
    (group,) = a999.groups
    assert (group.functional_id, group.group_control, group.status) == ("HC", "28", "R")
    assert (group.sets_included, group.sets_received, group.sets_accepted) == (1, 1, 0)
    (tx,) = group.transactions
    assert (tx.transaction_set, tx.control, tx.version, tx.status) == ("837", "0028", None, "R")
    assert tx.errors == ("5",)
    (error,) = tx.segment_errors
    assert (error.segment_id, error.position, error.loop, error.code) == ("NM", 17, None, "1")
    assert not ack.problems


def test_999_accepted_with_mismatched_trailer() -> None:
    ack = read("imsweb__x12-parser__src__test__resources__837_5010__x12_999_accepted")
    (group,) = ack.acks999[0].groups
    assert group.transactions[0].status == "A" and group.version == "005010X223A2"
    (problem,) = ack.problems
    assert problem.code == "ack_control_mismatch" and problem.where.element == "IEA02"


def test_999_with_two_groups_of_two_sets_and_a_bang_repetition_separator() -> None:
    ack = read("azoner__pyx12__pyx12__tests__834_lui_id_5010.999")
    assert len(ack.acks999) == 4
    assert {g.functional_id for a in ack.acks999 for g in a.groups} == {"BE"}
    ack = read("azoner__pyx12__pyx12__tests__834_ls_le_ls_5010.999")
    assert ack.acks999[0].groups[0].transactions[0].control == "146001"
    assert not ack.problems


def test_999_single_line_with_pipe_component_separator() -> None:
    ack = read("Project-Herophilus")
    (group,) = ack.acks999[0].groups
    assert group.transactions[0].control == "0028" and group.status == "A"
    assert ack.acks999[0].envelope.version == "005010X231A1"


def test_the_malformed_999_gets_clear_errors_with_positions() -> None:
    ack = read("xlate__staedi__src__test__resources__x12__invalid999")
    assert errors(ack) == [
        "4 ack_segment_out_of_place",  # IK5 before any AK1/AK2
        "7 ack_invalid_code",  # IK5*Q
        "8 ack_segment_out_of_place",  # a second IK5 for the same AK2
    ]
    first, invalid, _second = ack.errors
    assert first.where.segment_id == "IK5" and "no open AK2" in first.message
    assert invalid.where.element == "IK501" and "'Q'" in invalid.message
    assert "A, E, M, R, W, X" in invalid.message
    assert str(first.where.file).endswith("invalid999.edi")
    warnings = {p.code: p for p in ack.problems if p.severity == "warning"}
    assert warnings["ack_padded_value"].where.element == "AK101"
    assert warnings["ack_extra_elements"].where.segment_index == 6
    assert any(
        p.where.segment_id == "SE" and "SE01 says '16' segments, counted 18" in p.message
        for p in ack.problems
    )
    # What could be read is kept: the verdict on 0001 is unknown, 0002 and 0003 are rejected.
    (group,) = ack.acks999[0].groups
    assert group.functional_id == "HC" and group.status == "P"
    assert [(t.control, t.status) for t in group.transactions] == [
        ("0001", None),
        ("0002", "R"),
        ("0003", "R"),
    ]
    clm_error = group.transactions[1].segment_errors[0]
    assert (clm_error.segment_id, clm_error.position, clm_error.business_unit) == (
        "CLM",
        22,
        "123456789",
    )
    (element,) = clm_error.elements
    assert (element.position, element.data_element, element.code) == (2, "782", "1")
    ref_error = group.transactions[2].segment_errors[0]
    trigger, business = ref_error.contexts
    assert trigger.name == "SITUATIONAL TRIGGER"
    assert (trigger.segment_id, trigger.position, trigger.element, trigger.reference) == (
        "CLM",
        43,
        "5:3",
        "C023:1325",
    )
    assert business.value == "987654321" and ref_error.business_unit == "987654321"


def test_277ca_accepted() -> None:
    ack = read("imsweb__x12-parser__src__test__resources__277_5010__x12_277CA_accepted")
    (a277,) = ack.acks277
    assert a277.source_name == "NYSDOH" and a277.reference == "000000674"
    receiver, provider = a277.batches
    assert receiver.level == "receiver" and receiver.trace == "000000674"
    assert [c.code for s in receiver.statuses for c in s.codes] == ["A1:20"]
    assert (receiver.accepted_count, receiver.accepted_amount) == (1, Decimal("125.0"))
    assert provider.level == "provider" and provider.trace == "1107000000000135FF"
    (claim,) = a277.claims
    assert claim.claim_id == "5781"
    assert [c.code for c in claim.codes] == ["A2:20"]
    assert claim.statuses[0].action == "WQ" and claim.statuses[0].charge == Decimal("125")
    assert claim.payer_claim_number == "1107000000014420"
    assert not ack.problems


def test_277ca_rejected_single_line_pipe_components() -> None:
    ack = read("imsweb__x12-parser__src__test__resources__277_5010__x12_277CA_rejected")
    (claim,) = ack.acks277[0].claims
    assert claim.claim_id == "3920394930203"
    (code,) = claim.codes
    assert (code.category, code.status, code.entity, code.code) == ("A7", "562", "85", "A7:562:85")
    assert claim.payer_claim_number == "1107000000001120"
    assert claim.service_date == date(2009, 3, 11)
    assert not ack.problems


def test_patient_names_are_not_kept() -> None:
    ack = read("imsweb__x12-parser__src__test__resources__277_5010__x12_277CA_rejected")
    assert "CLILNAME" not in repr(ack) and "XX99999X" not in repr(ack)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:60])
@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_chunked_reading_gives_the_same_result(path: Path, chunk: int) -> None:
    """The reader streams: any chunk size gives the same values."""
    assert read_ack(path, codes=CODES, chunk_size=chunk) == read_ack(path, codes=CODES)


def test_garbage_is_a_clear_error_not_an_exception(tmp_path: Path) -> None:
    bad = tmp_path / "bad.999"
    bad.write_bytes(b"ISA*00*short~")
    ack = read_ack(bad, codes=CODES)
    assert ack.errors and not ack.kinds
    assert ack.errors[0].where.file == str(bad)
    empty = tmp_path / "empty.999"
    empty.write_bytes(b"  \n")
    assert [p.code for p in read_ack(empty, codes=CODES).errors] == ["ack_empty"]
