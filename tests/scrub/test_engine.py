"""The engine itself: code sets, the kind registry, which rules run on which claim, history
fetched once per claim, and no patient data in holds or logs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from structlog.testing import capture_logs

from edi_pipeline.models import Claim, Hold
from edi_pipeline.scrub import (
    KINDS,
    CodeSet,
    DiagnosisSet,
    InMemoryHistory,
    LayeredHistory,
    PastClaim,
    Rule,
    ScrubContext,
    rule_kind,
    scrub,
)
from tests.scrub.helpers import DOS, claim, context, earlier, line, rule

D = timedelta(days=1)


# --------------------------------------------------------------------------- code sets


@pytest.mark.parametrize(
    ("written", "inside", "outside"),
    [
        (["J1745"], ["J1745"], ["J1746", "Q5103"]),
        (["J*", "Q5*"], ["J1745", "Q5103"], ["Q4100", "96365"]),
        (["20600-20611"], ["20600", "20605", "20611"], ["20599", "20612", "2060", "206000"]),
        (["99211-99215", "G2211"], ["99213", "G2211"], ["99210", "99205"]),
        (["j7318", " J7320-J7329 "], ["J7318", "J7325"], ["J7330", "J7319"]),
    ],
)
def test_code_sets(written: list[str], inside: list[str], outside: list[str]) -> None:
    codes = CodeSet.parse(written)
    assert all(c in codes for c in inside)
    assert not any(c in codes for c in outside)


@pytest.mark.parametrize("bad", ["J17-45", "20611-20600", "J7318-Q5103", "*", "J1745,J1746", 7])
def test_code_set_refuses_what_it_cannot_read(bad: object) -> None:
    with pytest.raises(ValueError):
        CodeSet.parse([bad])  # type: ignore[list-item]


def test_diagnosis_families() -> None:
    families = DiagnosisSet.parse(["M05", "L40.5", "M31.3*"])
    assert families.matches("M0579") and families.matches("M05.79")
    assert families.matches("L405") and families.matches("M313")
    assert not families.matches("L400") and not families.matches("M06")
    with pytest.raises(ValueError):
        DiagnosisSet.parse(["U07.1x"])


# --------------------------------------------------------------------------- registry


def test_a_kind_must_define_check_and_register_once() -> None:
    with pytest.raises(TypeError, match="must define check"):

        @rule_kind("no_check_kind")
        @dataclass(frozen=True, kw_only=True, slots=True)
        class NoCheck(Rule):
            pass

    assert "no_check_kind" not in KINDS
    with pytest.raises(ValueError, match="registered twice"):

        @rule_kind("unit_limit")
        @dataclass(frozen=True, kw_only=True, slots=True)
        class Another(Rule):
            def check(self, claim, ctx):  # type: ignore[no-untyped-def]
                return iter(())


def test_kind_categories_are_in_the_closed_set() -> None:
    from edi_pipeline.models import HOLD_CATEGORIES

    assert {k.default_category for k in KINDS.values()} <= HOLD_CATEGORIES


# --------------------------------------------------------------------------- which rules run


class CountingHistory(InMemoryHistory):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.calls = 0

    def claims(self, payer_id, member_id, since, until):  # type: ignore[no-untyped-def]
        self.calls += 1
        return super().claims(payer_id, member_id, since, until)


def test_history_is_read_once_per_claim_however_many_rules_ask() -> None:
    rules = [
        rule("frequency", procedures=["Q5103"], cycle_interval_days=56),
        rule("unit_limit", procedures=["Q5103"], max_units=100, per="window", window_days=28),
        rule("duplicate"),
        rule("site_of_care", procedures=["Q5103"], allowed_pos=["11"], after_doses=1),
    ]
    history = CountingHistory()
    ctx = ScrubContext(as_of=DOS, rules={"aetna": rules}, history=history)
    c = claim(line("Q5103", 40, drug="infliximab-dyyb"), pos="22")
    scrub(c, ctx)
    assert history.calls == 1
    scrub(claim(line("Q5103", 40, drug="infliximab-dyyb"), encounter_id="C2"), ctx)
    assert history.calls == 2


def test_rules_run_only_on_claims_with_their_codes() -> None:
    calls: list[str] = []

    @dataclass(frozen=True, kw_only=True, slots=True)
    class Spy(Rule):
        kind = "spy"
        default_category = "coding"

        @property
        def claim_level(self) -> bool:
            return False

        def triggered_by(self, ln) -> bool:  # type: ignore[no-untyped-def]
            return ln.procedure == "J3262"

        def check(self, c: Claim, ctx):  # type: ignore[no-untyped-def]
            calls.append(c.encounter_id)
            return iter(())

    spy = Spy(id="spy", message="m", source="s", effective_from=date(2020, 1, 1), payer="aetna")
    ctx = ScrubContext(as_of=DOS, rules={"aetna": [spy]})
    scrub(claim(line("Q5103", 40), encounter_id="A"), ctx)
    scrub(claim(line("J3262", 400), encounter_id="B"), ctx)
    scrub(claim(line("J3262", 400), payer="uhc", encounter_id="C"), ctx)
    assert calls == ["B"]


def test_holds_come_in_the_order_of_the_payer_file() -> None:
    first = rule("bundling", column1=["20610"], column2=["76942"])
    second = rule("unit_limit", procedures=["20610"], max_units=1, per="line")
    second = replace(second, id="second")
    c = claim(line("76942"), line("20610", 2))
    ctx = ScrubContext(as_of=DOS, rules={"aetna": [first, second]})
    assert [h.rule for h in scrub(c, ctx).holds] == ["test-bundling", "second"]


def test_rules_of_another_payer_do_not_apply() -> None:
    r = rule("bundling", payer="uhc", column1=["20610"], column2=["76942"])
    assert scrub(claim(line("20610"), line("76942"), payer="aetna"), context(r)).clean
    assert scrub(claim(line("20610"), line("76942"), payer="uhc"), context(r)).holds


def test_verify_rules_say_so_in_the_hold() -> None:
    r = rule("bundling", column1=["20610"], column2=["76942"], verify=True)
    [hold] = scrub(claim(line("20610"), line("76942")), context(r)).holds
    assert hold.source.endswith("[VERIFY: unconfirmed default]")


# --------------------------------------------------------------------------- history layers


def test_layers_hide_lower_copies_of_the_same_claim_and_sort_by_date() -> None:
    old = claim(line("20610"), dos=DOS - 10 * D, encounter_id="X")
    corrected = claim(line("20611"), dos=DOS - 10 * D, encounter_id="X")
    other = claim(line("20610"), dos=DOS - 20 * D, encounter_id="Y")
    upper = earlier(corrected)
    lower = earlier(old, other)
    found = LayeredHistory(upper, lower).claims("aetna", "MEMBER1", DOS - 30 * D, DOS)
    assert [(p.claim_id, p.lines[0].procedure) for p in found] == [("Y", "20610"), ("X", "20611")]


def test_in_memory_history_replaces_a_re_added_claim() -> None:
    history = InMemoryHistory()
    history.add("aetna", "M", PastClaim("X", DOS, ()))
    history.add("aetna", "M", PastClaim("X", DOS + D, ()))
    assert [p.date_of_service for p in history.claims("aetna", "M", DOS, DOS + D)] == [DOS + D]


def test_the_claim_itself_is_not_its_own_history() -> None:
    r = rule("duplicate")
    c = claim(line("20610", modifiers=("RT",)), encounter_id="SAME")
    assert scrub(c, context(r, history=earlier(c))).clean


# --------------------------------------------------------------------------- no PHI


def test_holds_and_logs_carry_no_patient_data() -> None:
    rules = [
        rule("auth_required", procedures=["Q5103"]),
        rule("frequency", procedures=["Q5103"], cycle_interval_days=56),
        rule("duplicate"),
    ]
    c = claim(line("Q5103", 40, drug="infliximab-dyyb"), line("20610"))
    past = earlier(
        claim(line("Q5103", 40, drug="infliximab-dyyb"), line("20610"), dos=DOS, encounter_id="E0")
    )
    with capture_logs() as logs:
        result = scrub(c, context(*rules, history=past))
    assert {h.rule for h in result.holds} == {r.id for r in rules}
    enc = c.encounter
    secrets = [
        enc.patient.last_name,
        enc.patient.first_name,
        enc.coverage.member_id,
        enc.patient.birth_date.isoformat(),
        enc.patient.address.line1,
    ]
    text = repr([(h.message, h.source) for h in result.holds]) + repr(logs)
    for secret in secrets:
        assert secret not in text
    assert [e["event"] for e in logs] == ["scrub.claim_held"]
    assert logs[0]["claim_id"] == "C1"


def test_hold_is_a_plain_value() -> None:
    r = rule("bundling", column1=["20610"], column2=["76942"])
    [hold] = scrub(claim(line("20610"), line("76942")), context(r)).holds
    assert hold == Hold(
        rule="test-bundling",
        category="bundling",
        message="test bundling rule (line 2 76942 with line 1 20610 (no modifier allows the pair))",
        source="test source",
    )
