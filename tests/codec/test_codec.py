"""Claims survive the hand-over between workers exactly: every demo claim, field for field."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from edi_pipeline import codec
from edi_pipeline.app.outbound import default_code, default_read
from edi_pipeline.maps import load_maps
from edi_pipeline.models import Claim, Encounter, Scrubbed

ROOT = Path(__file__).resolve().parents[2]
DEMO = [ROOT / "fixtures" / "demo" / n for n in ("encounters.json", "scrub_encounters.json")]


@pytest.fixture(scope="module")
def claims() -> list[Claim]:
    maps = load_maps()
    out = []
    for path in DEMO:
        for item in default_read(path, maps):
            if isinstance(item, Encounter):
                coded = default_code(item, maps)
                if coded.claim is not None:
                    out.append(coded.claim)
    assert len(out) > 100
    return out


def test_every_demo_claim_comes_back_equal(claims: list[Claim]) -> None:
    for claim in claims:
        back = codec.loads(Claim, codec.dumps(claim))
        assert back == claim, claim.encounter_id
        # equal is not enough for money: 1.50 must stay 1.50, not become 1.5
        assert [str(ln.charge) for ln in back.lines] == [str(ln.charge) for ln in claim.lines]


def test_money_and_dates_travel_as_strings_never_floats(claims: list[Claim]) -> None:
    data = json.loads(codec.dumps(claims[0]))
    assert isinstance(data["lines"][0]["charge"], str)
    assert isinstance(data["lines"][0]["units"], str)
    assert data["date_of_service"] == claims[0].date_of_service.isoformat()


def test_a_scrubbed_verdict_with_holds_round_trips(claims: list[Claim]) -> None:
    from edi_pipeline.models import Hold

    hold = Hold("aetna-x", "biosimilar", "use the preferred product", "policy p. 3")
    verdict = Scrubbed(claims[0], holds=(hold,))
    assert codec.loads(Scrubbed, codec.dumps(verdict)) == verdict


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["lines"][0].update(charge=12.5), "Claim.lines[0].charge"),
        (lambda d: d["lines"][0].update(charge="twelve"), "Claim.lines[0].charge"),
        (lambda d: d.update(frequency="9"), "Claim.frequency"),
        (lambda d: d["encounter"].update(colour="red"), "Claim.encounter: unknown field"),
        (lambda d: d.pop("payer_id"), "Claim.payer_id: missing"),
        (lambda d: d.update(date_of_service="2025-02-30"), "Claim.date_of_service"),
        (lambda d: d.update(lines={}), "Claim.lines: expected an array"),
    ],
)
def test_a_payload_that_does_not_fit_names_the_field(claims, mutate, path) -> None:
    data = json.loads(codec.dumps(claims[0]))
    mutate(data)
    with pytest.raises(codec.CodecError) as info:
        codec.loads(Claim, json.dumps(data))
    assert path in str(info.value)
    assert "DOE" not in str(info.value)  # values are never quoted


def test_an_unknown_type_is_refused_when_encoding() -> None:
    with pytest.raises(TypeError):
        codec.dumps({"a": 1.5})
    with pytest.raises(TypeError):
        codec.dumps(1.5)
    assert codec.dumps(Decimal("1.10")) == '"1.10"'


def test_text_that_is_not_json_is_a_codec_error() -> None:
    with pytest.raises(codec.CodecError, match="not JSON"):
        codec.loads(Claim, "{")
