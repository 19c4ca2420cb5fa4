"""A real world for the ack and reprocess tests: encounters built by the real outbound pipeline
(intake → coding → scrub → build, validated by pyx12) into a real SQLite ledger."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from edi_pipeline.app.outbound import Outcome, Settings, Stages, outbound
from edi_pipeline.ledger import claims as ledger_claims
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.ledger.sqlite import SqliteLedger
from edi_pipeline.maps import Maps, load_maps
from edi_pipeline.practice import Practice, load_practice
from tests.acks.ackgen import pyx12_999

BUILT_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SENT_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ACKED_AT = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
FIXED_AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

ENCOUNTER: dict[str, Any] = {
    "encounter_id": "E2001",
    "date_of_service": "2026-10-06",
    "place_of_service": "11",
    "rendering_provider": {"npi": "1234567893", "last_name": "Okafor", "first_name": "Amara"},
    "patient": {
        "patient_id": "MRN-1",
        "last_name": "Testpatient",
        "first_name": "Alpha",
        "birth_date": "1960-01-01",
        "sex": "F",
        "address": {"line1": "1 Test St", "city": "Madison", "state": "WI", "zip": "53704"},
    },
    "coverage": {"payer_id": "aetna", "member_id": "W100000001"},
    "diagnoses": ["M05.79", "Z79.899"],
    "procedures": [
        {
            "kind": "injection",
            "joint": "knee",
            "side": "right",
            "drugs": [
                {
                    "drug": "triamcinolone",
                    "route": "INTRA_ARTICULAR",
                    "dose_mg": 40,
                    "ndc": "0003-0293-05",
                    "vials": [{"size_mg": 40, "count": 1}],
                }
            ],
        }
    ],
    "labs": [{"cpt": "86140"}],
}
IDS = ("E2001", "E2002", "E2003")


def encounter(encounter_id: str, member_id: str | None = None) -> dict[str, Any]:
    data = copy.deepcopy(ENCOUNTER)
    data["encounter_id"] = encounter_id
    data["coverage"]["member_id"] = member_id or f"W1000000{encounter_id[-2:]}"
    data["patient"]["patient_id"] = f"MRN-{encounter_id}"
    return data


def write_export(path: Path, encounters: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"encounters": encounters}, indent=1), encoding="utf-8")
    return path


def pyx12_validator(paths: list[Path], processes: int) -> list[Any]:
    """The build stage's validator contract, over pyx12 (used until edi_pipeline.validate is
    there; our test claims are valid, so a failure here is a real bug)."""
    out = []
    for path in paths:
        valid, _, errors = pyx12_999(path.read_text(encoding="latin-1"))
        assert valid, errors
        out.append(SimpleNamespace(valid=True, errors=()))
    return out


def validator() -> Any:
    try:
        from edi_pipeline.app.build import default_validator
        from edi_pipeline.validate import validate_many  # noqa: F401
    except ImportError:
        return pyx12_validator
    return default_validator


@dataclass
class World:
    ledger: Ledger
    ledger_path: Path
    practice: Practice
    maps: Maps
    out_dir: Path
    export: Path
    outcome: Outcome
    tmp: Path

    @property
    def file(self) -> Path:
        (ix,) = self.outcome.interchanges
        return Path(ix.file)

    @property
    def text(self) -> str:
        return self.file.read_text(encoding="ascii")

    def claim(self, encounter_id: str, frequency: str = "1") -> ledger_claims.ClaimRecord:
        found = ledger_claims.claim(
            self.ledger, ledger_claims.ClaimKey(self.practice.key, encounter_id, frequency)
        )
        assert found is not None
        return found

    def mark_sent(self, at: datetime = SENT_AT) -> None:
        for c in ledger_claims.all_claims(self.ledger, status="built"):
            ledger_claims.record_status(self.ledger, c.id, "sent", at, source="deliver")

    def write(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.write_text(text, encoding="latin-1")
        return path


def make_world(tmp_path: Path, per_transaction: int = 5000) -> World:
    maps = load_maps()
    practice = replace(load_practice(), claims_per_transaction=per_transaction)
    out_dir = tmp_path / "out"
    ledger_path = out_dir / "ledger.sqlite"
    export = write_export(tmp_path / "export.json", [encounter(i) for i in IDS])
    settings = Settings(
        inputs=(export,), practice=practice, out_dir=out_dir, ledger=str(ledger_path), now=BUILT_AT
    )
    outcome = outbound(settings, stages=Stages(validator=validator()), maps=maps)
    assert outcome.built == len(IDS), outcome.report()
    ledger = SqliteLedger.open(ledger_path)
    return World(ledger, ledger_path, practice, maps, out_dir, export, outcome, tmp_path)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    try:
        yield w
    finally:
        w.ledger.close()


@pytest.fixture
def world_per_claim(tmp_path: Path) -> Iterator[World]:
    """One claim per transaction set: a 999 rejection touches one claim only."""
    w = make_world(tmp_path, per_transaction=1)
    try:
        yield w
    finally:
        w.ledger.close()
