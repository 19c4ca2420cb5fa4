"""``maps.payer_rules``: the shipped rules load; a broken rule names file, rule id and field; and
a rule edited in a copy of ``maps/`` changes a claim's outcome with no code change."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from edi_pipeline.coding import code
from edi_pipeline.errors import MapError
from edi_pipeline.maps import load_maps
from edi_pipeline.models import HOLD_CATEGORIES
from edi_pipeline.scrub import KINDS, ScrubContext, schema_of, scrub
from tests.factories import make_authorization, make_coverage, make_drug, make_encounter

MAPS = Path(__file__).resolve().parents[2] / "maps"
PAYERS = ("medicare", "aetna", "uhc", "cigna", "bcbs", "medicaid")


@pytest.fixture(scope="module")
def maps():
    return load_maps(MAPS)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "maps"
    shutil.copytree(MAPS, target)
    return target


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("\n" + text)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(root: Path) -> tuple[str, ...]:
    with pytest.raises(MapError) as caught:
        load_maps(root)
    return caught.value.problems


def test_every_payer_has_rules_with_source_dates_and_a_category(maps) -> None:
    assert set(PAYERS) <= set(maps.payer_rules)
    ids = []
    for payer in PAYERS:
        rules = maps.payer_rules[payer]
        assert len(rules) >= 10, payer
        for r in rules:
            assert r.payer == payer
            assert r.source.strip() and r.message.strip()
            assert (r.category or r.default_category) in HOLD_CATEGORIES
            assert r.effective_to is None or r.effective_to >= r.effective_from
            ids.append(r.id)
    assert len(ids) == len(set(ids)), "rule ids are unique across payers"


def test_unconfirmed_rules_say_so_in_their_source(maps) -> None:
    """A rule flagged verify says VERIFY (or 'documented default') in its source."""
    for rules in maps.payer_rules.values():
        for r in rules:
            if r.verify:
                assert "VERIFY" in r.source or "documented default" in r.source, r.id


@pytest.mark.parametrize(
    ("payer", "kinds"),
    [
        ("aetna", {"biosimilar_first", "auth_required", "step_therapy", "frequency"}),
        ("uhc", {"biosimilar_first", "auth_required", "step_therapy", "frequency"}),
        ("cigna", {"biosimilar_first", "auth_required", "step_therapy", "frequency"}),
        ("bcbs", {"biosimilar_first", "auth_required", "step_therapy", "unit_limit"}),
        ("medicaid", {"ndc_required", "auth_required", "bundling", "documentation"}),
        ("medicare", {"bundling", "documentation", "diagnosis_coverage", "timely_filing"}),
    ],
)
def test_payers_carry_the_policies_of_the_reference(maps, payer: str, kinds: set[str]) -> None:
    assert kinds <= {r.kind for r in maps.payer_rules[payer]}


def test_shipped_schema_lists_every_kind_with_documented_parameters() -> None:
    for name, kind in KINDS.items():
        params = schema_of(kind)
        assert {"id", "message", "source", "effective_from", "category"} <= {p.name for p in params}
        assert all(p.doc for p in params), name


# --------------------------------------------------------------------------- bad rules

BAD_UNIT_LIMIT = """
[[rule]]
id = "aetna-test-limit"
kind = "unit_limit"
message = "test"
source = "test"
effective_from = 2025-01-01
procedures = ["J3262"]
max_units = "4 vials"
"""


def test_a_wrong_type_names_file_rule_and_field(copy: Path) -> None:
    append(copy / "payers" / "aetna.toml", BAD_UNIT_LIMIT)
    [problem] = problems_of(copy)
    assert problem.startswith("payers/aetna.toml: rule aetna-test-limit: field max_units: ")
    assert "must be a number" in problem and "4 vials" in problem


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (("max_units", "max_unit"), "max_unit", "unknown field"),
        (('kind = "unit_limit"', 'kind = "unit_limits"'), "kind", "must be one of"),
        (
            ("effective_from = 2025-01-01", 'effective_from = "2025-13-01"'),
            "effective_from",
            "must be a date",
        ),
        (('source = "test"\n', ""), "source", "is required"),
        (
            ('message = "test"', 'message = "test"\ncategory = "denial"'),
            "category",
            "must be one of",
        ),
        (
            ('procedures = ["J3262"]', 'procedures = ["J3262", "20600-2061"]'),
            "procedures",
            "is not a code",
        ),
        (
            ("max_units = 800", 'max_units = 800\nper = "window"'),
            "window_days",
            "is required when per = window",
        ),
        (
            ("max_units = 800", "max_units = 800\neffective_to = 2024-12-31"),
            "effective_to",
            "is before effective_from",
        ),
        (('procedures = ["J3262"]\n', ""), "procedures", "name procedures or drugs"),
    ],
)
def test_each_problem_is_scoped(copy: Path, change: tuple[str, str], field: str, says: str) -> None:
    text = BAD_UNIT_LIMIT.replace('max_units = "4 vials"', "max_units = 800")
    old, new = change
    text = text.replace(old, new, 1)
    append(copy / "payers" / "aetna.toml", text)
    problems = problems_of(copy)
    assert any(
        p.startswith(f"payers/aetna.toml: rule aetna-test-limit: field {field}: ") and says in p
        for p in problems
    ), problems


def test_duplicate_id_and_missing_id_are_reported(copy: Path) -> None:
    rule = BAD_UNIT_LIMIT.replace('max_units = "4 vials"', "max_units = 800")
    append(
        copy / "payers" / "cigna.toml", rule.replace("aetna-test-limit", "uhc-infliximab-preferred")
    )
    append(copy / "payers" / "bcbs.toml", rule.replace('id = "aetna-test-limit"\n', ""))
    problems = problems_of(copy)
    # files are read in name order: the second use (uhc.toml) is the one reported, naming the first
    assert (
        "payers/uhc.toml: rule uhc-infliximab-preferred: field id: is already used in "
        "payers/cigna.toml" in problems
    ), problems
    assert any(
        p.startswith("payers/bcbs.toml: rule #") and "field id: is required" in p for p in problems
    ), problems


def test_every_problem_in_every_file_is_listed_at_once(copy: Path) -> None:
    append(copy / "payers" / "aetna.toml", BAD_UNIT_LIMIT)
    edit(copy / "payers" / "medicaid.toml", 'require = "discarded_amount"', 'require = "discarded"')
    problems = problems_of(copy)
    assert len(problems) == 2
    assert any(
        "payers/medicaid.toml: rule medicaid-jw-discarded-amount: field require:" in p
        for p in problems
    )


def test_a_stray_key_after_the_last_rule_is_not_ignored(copy: Path) -> None:
    """TOML puts a key written after the last [[rule]] into that rule: it is an unknown field."""
    append(copy / "payers" / "uhc.toml", "max_unit = 3\n")
    [problem] = problems_of(copy)
    assert problem.startswith("payers/uhc.toml: rule uhc-injection-with-infusion: field max_unit: ")
    assert "unknown field" in problem


# --------------------------------------------------------------------------- edit a rule


def _remicade_for_aetna():
    return make_encounter(
        coverage=make_coverage("aetna"),
        date_of_service=date(2025, 6, 2),
        diagnoses=("M0579",),
        prior_authorizations=(make_authorization(("Remicade",)),),
        therapy_history=(),
        drugs=(
            make_drug(
                "Remicade",
                dose_mg="400",
                vials=((100, 4),),
                ndc="57894-0030-01",
                start_time="09:00",
                stop_time="11:10",
            ),
        ),
    )


def _held_rules(maps_root: Path | None, encounter) -> set[str]:
    maps = load_maps(maps_root) if maps_root else load_maps(MAPS)
    coded = code(encounter, maps)
    assert coded.claim is not None, coded.problems
    ctx = ScrubContext.from_maps(maps, as_of=date(2025, 6, 30))
    return {h.rule for h in scrub(coded.claim, ctx).holds}


def edit_rule(path: Path, rule_id: str, old: str, new: str) -> None:
    """Change one line of one rule's table, as a billing lead would in an editor."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f'id = "{rule_id}"')
    end = text.find("[[rule]]", start)
    end = len(text) if end < 0 else end
    block = text[start:end]
    assert old in block, f"{old!r} not in rule {rule_id}"
    path.write_text(text[:start] + block.replace(old, new, 1) + text[end:], encoding="utf-8")


def test_editing_a_rule_in_a_copy_of_maps_changes_the_outcome(copy: Path) -> None:
    """A billing lead's edit (TOML only) moves a claim from held to clean and back."""
    rule_id = "aetna-infliximab-biosimilar-first"
    june = _remicade_for_aetna()
    assert rule_id in _held_rules(None, june)

    payer_file = copy / "payers" / "aetna.toml"
    # the payer drops Remicade from its non-preferred list
    edit_rule(payer_file, rule_id, 'nonpreferred = ["J1745", "Q5104"]', 'nonpreferred = ["Q5104"]')
    assert rule_id not in _held_rules(copy, june)

    # the list is restored, but the policy now starts on 2025-07-01
    edit_rule(payer_file, rule_id, 'nonpreferred = ["Q5104"]', 'nonpreferred = ["J1745", "Q5104"]')
    edit_rule(payer_file, rule_id, "effective_from = 2021-01-01", "effective_from = 2025-07-01")
    assert rule_id not in _held_rules(copy, june)
    assert rule_id in _held_rules(copy, replace(june, date_of_service=date(2025, 7, 1)))


def test_a_new_rule_added_as_data_holds_claims(copy: Path) -> None:
    encounter = _remicade_for_aetna()
    before = _held_rules(copy, encounter)
    append(
        copy / "payers" / "aetna.toml",
        """
[[rule]]
id = "aetna-infliximab-limit-test"
kind = "unit_limit"
category = "unit_limit"
message = "Infliximab: at most 30 units per date of service"
source = "test: a billing lead's new quantity limit"
effective_from = 2025-01-01
drugs = ["infliximab"]
max_units = 30
""",
    )
    after = _held_rules(copy, encounter)
    assert after - before == {"aetna-infliximab-limit-test"}
