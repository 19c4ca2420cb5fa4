"""pyx12 (with the project's semantic checks, ``edi_pipeline.validate``) accepts every
interchange we build: the demo claims and a property-based generator of claims covering every
kind of line, every relationship, priority and frequency, and hostile free text."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_pipeline.claim837 import build_interchange
from edi_pipeline.maps import load_maps
from edi_pipeline.models import LineKind
from edi_pipeline.practice import load_practice
from edi_pipeline.validate import validate_x12
from tests.build.builders import LINE_KINDS, claims_strategy, make_claim

MAPS = load_maps()
PRACTICE = load_practice()
NOW = datetime(2026, 1, 15, 9, 30)
TODAY = date(2026, 1, 15)


def check_valid(text: str) -> None:
    result = validate_x12(text.encode("ascii"), name="built.837", today=TODAY)
    assert result.pyx12_ran
    assert result.errors == (), [e.as_dict() for e in result.errors]


def test_hand_built_claims_validate():
    claims = [make_claim("E1"), make_claim("E2", frequency="7", payer_claim_number="ICN9")]
    check_valid(
        build_interchange(
            claims, PRACTICE, PRACTICE.receivers[0], MAPS.payers, isa13=1, gs06=1, now=NOW
        ).text
    )


def test_the_generator_covers_every_line_kind():
    assert set(LINE_KINDS) == set(LineKind.__args__)  # type: ignore[attr-defined]


@pytest.mark.slow
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    claims=st.lists(claims_strategy(), min_size=1, max_size=5, unique_by=lambda c: c.encounter_id),
    per=st.integers(1, 3),
    crlf=st.booleans(),
)
def test_generated_claims_validate(claims, per, crlf):
    from dataclasses import replace

    practice = replace(PRACTICE, claims_per_transaction=per, line_ending="\r\n" if crlf else "")
    built = build_interchange(
        claims, practice, practice.receivers[0], MAPS.payers, isa13=42, gs06=42, now=NOW
    )
    check_valid(built.text)
