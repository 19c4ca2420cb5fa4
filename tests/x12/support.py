"""Test helpers for the X12 layer: an independent counter, manifests, and problem expectations.

``independent_count`` deliberately shares no code with ``edi_pipeline.x12``: it finds the
delimiters by splitting the ISA on its own element separator, splits the whole text with
``str.split`` and counts ST..SE segments and CLM/CLP per transaction set. The corpus tests compare
the reader's and envelope checker's counts with it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import CORPUS, FIXTURES

X12_FIXTURES = FIXTURES / "x12"


@dataclass(frozen=True)
class Counted:
    segments: int  # non-blank segments in the file
    transactions: tuple[tuple[str, str, int, int], ...]  # (ST01, ST02, ST..SE segments, claims)


def independent_count(data: bytes) -> Counted:
    text = data.decode("latin-1")
    if text.startswith("\xef\xbb\xbf"):
        text = text[3:]
    text = text.lstrip(" \t\r\n")
    if text.startswith("ISA"):
        element = text[3]
        pieces = text.split(element, 16)  # 17 pieces: the last starts with ISA16, terminator
        terminator = pieces[16][1]
    else:  # no ISA: the tag ends at the first non-alphanumeric; "~" is the only terminator seen
        element = next(c for c in text if not c.isalnum())
        terminator = "~"
    segments = [s.strip(" \t\r\n") for s in text.split(terminator)]
    segments = [s for s in segments if s]
    transactions: list[tuple[str, str, int, int]] = []
    current: list[str] | None = None
    for segment in segments:
        fields = segment.split(element)
        tag = fields[0]
        if tag == "ST":
            current = [fields[1], fields[2] if len(fields) > 2 else "", 0, 0]
        if current is not None:
            current[2] += 1  # type: ignore[operator]
            claim_tag = {"837": "CLM", "835": "CLP"}.get(current[0])  # type: ignore[arg-type]
            if tag == claim_tag:
                current[3] += 1  # type: ignore[operator]
            if tag == "SE":
                transactions.append(tuple(current))  # type: ignore[arg-type]
                current = None
    return Counted(len(segments), tuple(transactions))


def manifest(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def corpus_rows() -> list[dict[str, str]]:
    index = CORPUS / "MANIFEST.tsv"
    return manifest(index) if index.is_file() else []


def fixture_rows() -> list[dict[str, str]]:
    return manifest(X12_FIXTURES / "SOURCES.tsv")


def is_malformed(row: dict[str, str]) -> bool:
    return "MALFORMED" in row["notes"]


# The specific problem each malformed-on-purpose corpus file must yield, with its position:
# (where it is found, code, segment ordinal, segment id). "reader" problems come from the
# tokenizer (inspect), "envelope" from the envelope checks (inspect), "validate" from pyx12 and
# the semantic checks.
MALFORMED: dict[str, tuple[tuple[str, str, int, str], ...]] = {
    "x12_bad_first_line.txt": (("reader", "isa_not_fixed_width", 1, "ISA"),),
    "x12_bad_segment_identifier.txt": (
        ("reader", "invalid_segment_id", 6, ""),
        ("reader", "invalid_segment_id", 11, "Nd4"),
        ("reader", "invalid_segment_id", 20, "NM31"),
    ),
    "x12_bad_valid_code.txt": (("validate", "IK304-1", 9, "NM1"),),  # NM1*117: no such NM101
    "x12_loop_errors1_exceeds_max_1_parent.txt": (("validate", "IK304-4", 15, "NM1"),),
    "x12_loop_errors3_missing_loops.txt": (("validate", "IK304-3", 9, "NM1"),),
    "x12_missing_elements.txt": (
        ("validate", "IK403-1", 7, "NM1"),  # NM102 missing
        ("validate", "IK304-8", 31, "CLM"),  # CLM05 missing
    ),
    "x12_missing_required_loop_in_one_repeat.txt": (("validate", "IK304-3", 20, "NM1"),),
    "x12_missing_required_loops_mult_repeats.txt": (("validate", "IK304-3", 35, "LX"),),
    "x12_no_isa_line.txt": (("reader", "no_isa", 1, "GS"),),
    "x12_segment_errors.txt": (
        ("validate", "IK304-3", 10, "N3"),  # mandatory N3 missing
        ("validate", "IK304-5", 12, "REF"),  # REF over its max use
    ),
    "invalid999.edi": (
        ("envelope", "se01_mismatch", 20, "SE"),
        ("validate", "IK304-1", 4, "IK5"),  # IK5 before AK1
    ),
}


def expected_problems(local_file: str) -> tuple[tuple[str, str, int, str], ...]:
    for suffix, expected in MALFORMED.items():
        if local_file.endswith(suffix):
            return expected
    return ()


def fixture(suffix: str) -> Path:
    """The fixture file whose name ends with ``suffix``."""
    (found,) = [p for p in X12_FIXTURES.iterdir() if p.name.endswith(suffix)]
    return found
