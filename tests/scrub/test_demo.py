"""The scrub demo fixtures: every payer holds a claim for each category it has rules for, each
held for exactly that category, and the clean claims beside them go through.

``fixtures/demo/scrub_encounters.json`` names its encounters ``S-<payer>-<case>``; the case says
what the encounter shows (``AUTH``: no prior authorization …). Scrubbed as of 2026-11-23.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from edi_pipeline.app.scrub import run_json, scrub_files
from edi_pipeline.maps import load_maps
from tests.conftest import DESIGN_SCHEMAS, FIXTURES

DEMO = FIXTURES / "demo" / "scrub_encounters.json"
AS_OF = date(2026, 11, 23)
PAYERS = {
    "MCR": "medicare",
    "AET": "aetna",
    "UHC": "uhc",
    "CIG": "cigna",
    "BCB": "bcbs",
    "MCD": "medicaid",
}
CASES = {
    "CLEAN": None,
    "CLEAN-KNEE": None,
    "AUTH": "authorization",
    "BIOSIM": "biosimilar",
    "STEP": "step_therapy",
    "FREQ-1": None,  # the first dose, which the second is measured from
    "FREQ-2": "frequency",
    "UNITS": "unit_limit",
    "BUNDLE": "bundling",
    "DOC": "documentation",
    "SITE": "site_of_care",
    "SITE-1": None,
    "SITE-2": "site_of_care",
    "DX": "diagnosis_coverage",
    "LATE": "timely_filing",
    "DUP-1": None,
    "DUP-2": "duplicate",
}
# what each payer's rules can hold (payer_policy.md: Medicare Part B has no authorization,
# biosimilar-first or step therapy for these drugs; no Medicaid preferred-product policy)
EXPECTED_CATEGORIES = {
    "medicare": {
        "frequency",
        "unit_limit",
        "bundling",
        "documentation",
        "site_of_care",
        "diagnosis_coverage",
        "timely_filing",
        "duplicate",
    },
    "medicaid": {
        "authorization",
        "step_therapy",
        "frequency",
        "unit_limit",
        "bundling",
        "documentation",
        "site_of_care",
        "diagnosis_coverage",
        "timely_filing",
        "duplicate",
    },
}
COMMERCIAL = {
    "authorization",
    "biosimilar",
    "step_therapy",
    "frequency",
    "unit_limit",
    "bundling",
    "documentation",
    "site_of_care",
    "diagnosis_coverage",
    "timely_filing",
    "duplicate",
}


@pytest.fixture(scope="module")
def report():
    run = scrub_files([DEMO], maps=load_maps(), as_of=AS_OF)
    return run, run_json(run)


def _expected(encounter_id: str) -> tuple[str, str | None]:
    _, tag, case = encounter_id.split("-", 2)
    return PAYERS[tag], CASES[case]


def test_every_encounter_is_coded(report) -> None:
    run, doc = report
    assert not run.rejected and not doc["not_coded"]
    assert doc["summary"]["claims"] == len(json.loads(DEMO.read_text())["encounters"])


def test_each_claim_is_held_for_exactly_its_case(report) -> None:
    _, doc = report
    for c in doc["claims"]:
        payer, category = _expected(c["encounter_id"])
        assert c["payer"] == payer
        got = sorted({h["category"] for h in c["holds"]})
        assert got == ([category] if category else []), (c["encounter_id"], c["holds"])
        for h in c["holds"]:
            assert h["rule"].startswith(f"{payer}-") and h["source"]


def test_each_payer_holds_a_claim_in_every_category_it_has_rules_for(report) -> None:
    _, doc = report
    seen: dict[str, set[str]] = defaultdict(set)
    for c in doc["claims"]:
        seen[c["payer"]].update(h["category"] for h in c["holds"])
    maps = load_maps()
    for payer in PAYERS.values():
        assert seen[payer] == EXPECTED_CATEGORIES.get(payer, COMMERCIAL), payer
        # and every category a payer's rules can hold (but ndc, see below) is shown
        rule_categories = {r.category or r.default_category for r in maps.payer_rules[payer]}
        assert rule_categories - {"ndc"} == seen[payer], payer


def test_ndc_rules_are_backed_up_by_coding(report) -> None:
    """Payers whose map says ndc_required stop a drug line without an NDC at coding (a
    ``coding`` problem), so the scrub's ndc rules for them are a second, dated line of defence
    that the demo cannot reach through coding."""
    maps = load_maps()
    for payer in PAYERS.values():
        has_ndc_rule = any(r.kind == "ndc_required" for r in maps.payer_rules[payer])
        assert has_ndc_rule == maps.payers[payer].ndc_required, payer


def test_held_claims_match_the_report_claim_schema(report) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_file = DESIGN_SCHEMAS / "report.schema.json"
    if not schema_file.is_file():
        pytest.skip("../shared/design/schemas is not beside this checkout")
    schema = json.loads(schema_file.read_text())
    claim_schema = {**schema["properties"]["claims"]["items"], "$defs": schema.get("$defs", {})}
    _, doc = report
    held = [c for c in doc["claims"] if c["status"] == "held"]
    assert held
    for c in held:
        jsonschema.validate(c, claim_schema)


def test_held_dollars_add_up(report) -> None:
    run, doc = report
    total = sum(
        (o.scrubbed.claim.total_charge for o in run.outcomes if o.status == "held"),
        start=0,
    )
    assert doc["summary"]["held_dollars"] == f"{total:.2f}"
    # each demo claim is held for one category only, so the per-category counts add up too
    assert doc["summary"]["held"] == sum(doc["summary"]["held_by_category"].values())
    assert doc["summary"]["held"] == len([c for c in doc["claims"] if c["status"] == "held"])


def test_demo_file_is_the_documented_shape() -> None:
    data = json.loads(Path(DEMO).read_text())
    for e in data["encounters"]:
        assert e["patient"]["last_name"] == "Scrubdemo"  # obviously fake people
        _expected(e["encounter_id"])
