"""Every rule kind: a claim that passes, one that is held, and the rule's effective-date edges.

``CASES`` gives, per kind, the rule's map parameters and builders of a passing and a held claim
on a date of service (with the history they need, dated relative to that day), so the same
edges are checked for every kind: the day before ``effective_from`` and the day after
``effective_to`` are not held, the days themselves are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pytest

from edi_pipeline.models import HOLD_CATEGORIES, Claim
from edi_pipeline.scrub import KINDS, InMemoryHistory, scrub
from tests.factories import make_authorization, make_drug, make_visit
from tests.scrub.helpers import AS_OF, DOS, claim, context, earlier, line, rule

D = timedelta(days=1)
RA = ("M0579",)


def infliximab_claim(dos: date, *, encounter_id: str = "C1", **enc: Any) -> Claim:
    return claim(
        line("96365"),
        line("Q5103", 40, drug="infliximab-dyyb", ndc="00069080901", ndc_quantity=4, ndc_unit="UN"),
        dos=dos,
        encounter_id=encounter_id,
        **enc,
    )


def remicade_claim(dos: date, **enc: Any) -> Claim:
    return claim(
        line("96365"),
        line("J1745", 38, drug="infliximab", ndc="57894003001", ndc_quantity="3.75", ndc_unit="UN"),
        line(
            "J1745",
            2,
            modifiers=("JW",),
            drug="infliximab",
            ndc="57894003001",
            ndc_quantity="0.25",
            ndc_unit="UN",
        ),
        dos=dos,
        **enc,
    )


def ra_history(dos: date, days: int) -> list:
    return [make_therapy("methotrexate", dos - timedelta(days=days + 10), dos - D * 10)]


def make_therapy(drug: str, start: date, end: date | None, outcome: str = "inadequate_response"):
    from edi_pipeline.models import TherapyHistory

    return TherapyHistory(drug=drug, start=start, end=end, outcome=outcome)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    params: dict[str, Any]
    passes: Callable[[date], Claim]
    held: Callable[[date], Claim]
    history: Callable[[date], InMemoryHistory] = field(default=lambda dos: InMemoryHistory())
    passes_as_of: Callable[[date], date] = field(default=lambda dos: AS_OF)
    held_as_of: Callable[[date], date] = field(default=lambda dos: AS_OF)


def _auth(dos: date, **kw: Any):
    values = {"valid_from": dos - 30 * D, "valid_to": dos + 30 * D, "number": "PA77"}
    values.update(kw)
    return make_authorization(**values)


CASES: dict[str, Case] = {
    "auth_required": Case(
        params={"procedures": ["Q5103"]},
        passes=lambda dos: infliximab_claim(
            dos, prior_authorizations=(_auth(dos, drugs=("infliximab-dyyb",)),)
        ),
        held=lambda dos: infliximab_claim(dos),
    ),
    "biosimilar_first": Case(
        params={"nonpreferred": ["J1745"], "preferred": ["infliximab-dyyb"], "trial_days": 98},
        passes=lambda dos: infliximab_claim(dos),
        held=lambda dos: remicade_claim(dos),
    ),
    "step_therapy": Case(
        params={
            "procedures": ["Q5103", "J1745"],
            "diagnoses": ["M05", "M06"],
            "required_drugs": ["methotrexate", "leflunomide"],
            "min_days": 90,
        },
        passes=lambda dos: infliximab_claim(dos, therapy_history=tuple(ra_history(dos, 100))),
        held=lambda dos: infliximab_claim(dos, therapy_history=tuple(ra_history(dos, 60))),
    ),
    "frequency": Case(
        params={
            "procedures": ["Q5103"],
            "loading_intervals_days": [14, 28],
            "cycle_interval_days": 56,
        },
        # loading doses at weeks 0, 2, 6: the 4th dose is due 56 days after week 6. Member
        # MEMBER1's last dose was 56 days ago, member HELD's only 55.
        history=lambda dos: earlier(
            *(infliximab_claim(dos - d * D, encounter_id=f"P{d}") for d in (98, 84, 56)),
            *(
                infliximab_claim(dos - d * D, encounter_id=f"H{d}", member="HELD")
                for d in (97, 83, 55)
            ),
        ),
        passes=lambda dos: infliximab_claim(dos),
        held=lambda dos: infliximab_claim(dos, member="HELD"),
    ),
    "unit_limit": Case(
        params={"procedures": ["J3262"], "max_units": 800, "per": "day", "include_waste": False},
        passes=lambda dos: claim(
            line("J3262", 800, drug="tocilizumab"),
            line("J3262", 60, modifiers=("JW",), drug="tocilizumab"),
            dos=dos,
        ),
        held=lambda dos: claim(line("J3262", 801, drug="tocilizumab"), dos=dos),
    ),
    "bundling": Case(
        params={"column1": ["20600-20611"], "column2": ["76942"]},
        passes=lambda dos: claim(line("20611", modifiers=("RT",)), dos=dos),
        held=lambda dos: claim(line("20610", modifiers=("RT",)), line("76942"), dos=dos),
    ),
    "ndc_required": Case(
        params={"procedures": ["J*", "Q*"]},
        passes=lambda dos: infliximab_claim(dos),
        held=lambda dos: claim(line("96365"), line("Q5103", 40, drug="infliximab-dyyb"), dos=dos),
    ),
    "site_of_care": Case(
        params={"procedures": ["Q5103"], "allowed_pos": ["11", "12"]},
        passes=lambda dos: infliximab_claim(dos, pos="11"),
        held=lambda dos: infliximab_claim(dos, pos="22"),
    ),
    "documentation": Case(
        params={"require": "discarded_amount"},
        passes=lambda dos: remicade_claim(
            dos,
            drugs=(
                make_drug(
                    "Remicade",
                    dose_mg="375",
                    vials=((100, 4),),
                    ndc="57894-0030-01",
                    discarded_mg="25",
                ),
            ),
        ),
        held=lambda dos: remicade_claim(
            dos,
            drugs=(make_drug("Remicade", dose_mg="375", vials=((100, 4),), ndc="57894-0030-01"),),
        ),
    ),
    "diagnosis_coverage": Case(
        params={"procedures": ["Q5103"], "diagnoses": ["M05", "M06", "L40.5"]},
        passes=lambda dos: infliximab_claim(dos),
        held=lambda dos: infliximab_claim(dos, diagnoses=("M1990",)),
    ),
    "timely_filing": Case(
        params={"days": 90},
        passes=lambda dos: infliximab_claim(dos),
        held=lambda dos: infliximab_claim(dos),
        passes_as_of=lambda dos: dos + 90 * D,
        held_as_of=lambda dos: dos + 91 * D,
    ),
    "duplicate": Case(
        params={},
        history=lambda dos: earlier(
            claim(line("20610", modifiers=("RT",)), dos=dos, encounter_id="FIRST")
        ),
        passes=lambda dos: claim(line("20610", modifiers=("LT",)), dos=dos),
        held=lambda dos: claim(line("20610", modifiers=("RT",)), dos=dos),
    ),
}


def _verdict(kind: str, which: str, dos: date, **params: Any):
    """Scrub the case's passing or held claim on ``dos`` under its rule (params overridden)."""
    case = CASES[kind]
    r = rule(kind, **{**case.params, **params})
    c = case.passes(dos) if which == "passes" else case.held(dos)
    as_of = (case.passes_as_of if which == "passes" else case.held_as_of)(dos)
    return scrub(c, context(r, as_of=as_of, history=case.history(dos)))


def test_every_registered_kind_has_a_case() -> None:
    assert set(CASES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_passing_claim_is_clean(kind: str) -> None:
    result = _verdict(kind, "passes", DOS)
    assert result.clean, result.holds


@pytest.mark.parametrize("kind", sorted(CASES))
def test_held_claim_names_rule_category_and_source(kind: str) -> None:
    result = _verdict(kind, "held", DOS)
    assert [h.rule for h in result.holds] == [f"test-{kind}"]
    hold = result.holds[0]
    assert hold.category == KINDS[kind].default_category
    assert hold.category in HOLD_CATEGORIES
    assert hold.source == "test source"
    assert hold.message.startswith(f"test {kind} rule (")


@pytest.mark.parametrize("kind", sorted(CASES))
def test_effective_from_edge(kind: str) -> None:
    """Held on the first day the rule is in effect, not on the day before."""
    start = DOS
    held = _verdict(kind, "held", DOS, effective_from=start)
    assert not held.clean
    day_before = _verdict(kind, "held", DOS, effective_from=start + D)
    assert day_before.clean


@pytest.mark.parametrize("kind", sorted(CASES))
def test_effective_to_edge(kind: str) -> None:
    """Held on the rule's last day, not on the day after it ended."""
    last = _verdict(kind, "held", DOS, effective_to=DOS)
    assert not last.clean
    ended = _verdict(kind, "held", DOS, effective_to=DOS - D)
    assert ended.clean


def test_submission_basis_compares_with_as_of_not_the_date_of_service() -> None:
    """Rules about claims received on/after a date follow the scrub day (``as_of``)."""
    r = rule(
        "timely_filing", days=90, effective_basis="submission", effective_from=date(2025, 10, 1)
    )
    old = infliximab_claim(date(2025, 6, 2))
    assert scrub(old, context(r, as_of=date(2025, 10, 1))).holds
    assert scrub(old, context(r, as_of=date(2025, 9, 30))).clean


# --------------------------------------------------------------------------- auth_required


def test_auth_for_another_product_does_not_cover_the_biosimilar_given() -> None:
    r = rule("auth_required", procedures=["Q5103", "J1745"])
    c = infliximab_claim(DOS, prior_authorizations=(_auth(DOS, drugs=("Remicade",)),))
    [message] = [h.message for h in scrub(c, context(r)).holds]
    assert "no prior authorization on file names this product" in message


def test_auth_by_brand_or_hcpcs_covers_the_line() -> None:
    r = rule("auth_required", procedures=["Q5103"])
    for name in ("Q5103", "infliximab-dyyb"):
        c = infliximab_claim(DOS, prior_authorizations=(_auth(DOS, drugs=(name,)),))
        assert scrub(c, context(r)).clean, name


def test_auth_outside_its_dates_holds() -> None:
    r = rule("auth_required", procedures=["Q5103"])
    auth = _auth(DOS, drugs=("Q5103",), valid_from=DOS + D, valid_to=DOS + 90 * D)
    [message] = [
        h.message
        for h in scrub(infliximab_claim(DOS, prior_authorizations=(auth,)), context(r)).holds
    ]
    assert f"not valid on {DOS}" in message


def test_auth_units_used_by_earlier_claims_are_counted() -> None:
    r = rule("auth_required", procedures=["Q5103"])
    auth = _auth(DOS, drugs=("Q5103",), units_approved=100)
    past = earlier(infliximab_claim(DOS - 14 * D, encounter_id="P1", prior_authorizations=(auth,)))
    within = infliximab_claim(DOS, prior_authorizations=(auth,))  # 40 + 40 <= 100
    assert scrub(within, context(r, history=past)).clean
    tight = replace(auth, units_approved=79)
    over = infliximab_claim(DOS, prior_authorizations=(tight,))
    [message] = [h.message for h in scrub(over, context(r, history=past)).holds]
    assert "40 units billed + 40 used of 79 approved" in message


def test_auth_visits_left() -> None:
    r = rule("auth_required", procedures=["Q5103"])
    auth = _auth(DOS, drugs=("Q5103",), visits_approved=2)
    one = earlier(infliximab_claim(DOS - 14 * D, encounter_id="P1"))
    two = earlier(
        infliximab_claim(DOS - 28 * D, encounter_id="P1"),
        infliximab_claim(DOS - 14 * D, encounter_id="P2"),
    )
    c = infliximab_claim(DOS, prior_authorizations=(auth,))
    assert scrub(c, context(r, history=one)).clean
    [message] = [h.message for h in scrub(c, context(r, history=two)).holds]
    assert "visit 3 of 2 approved" in message


def test_auth_ignores_claims_that_did_not_go_out() -> None:
    """Only history that counts is handed to rules; a held earlier claim is not history."""
    r = rule("auth_required", procedures=["Q5103"])
    auth = _auth(DOS, drugs=("Q5103",), units_approved=40)
    c = infliximab_claim(DOS, prior_authorizations=(auth,))
    assert scrub(c, context(r, history=InMemoryHistory())).clean


# --------------------------------------------------------------------------- biosimilar_first


def test_documented_exception_for_the_reference_product_passes() -> None:
    from edi_pipeline.models import MedicalException

    r = rule("biosimilar_first", nonpreferred=["J1745"], preferred=["infliximab-dyyb"])
    documented = MedicalException(drug="Remicade", reason="intolerance", documented=True)
    undocumented = replace(documented, documented=False)
    ctx = context(r)
    ctx = replace(ctx, generic=lambda n: {"remicade": "infliximab"}.get(n.lower(), n.lower()))
    assert scrub(remicade_claim(DOS, medical_exception=documented), ctx).clean
    assert scrub(remicade_claim(DOS, medical_exception=undocumented), ctx).holds


def test_failed_trial_of_a_preferred_product_passes_only_when_long_enough() -> None:
    r = rule(
        "biosimilar_first", nonpreferred=["J1745"], preferred=["infliximab-dyyb"], trial_days=98
    )
    long_enough = make_therapy("infliximab-dyyb", DOS - 200 * D, DOS - 102 * D)
    too_short = make_therapy("infliximab-dyyb", DOS - 200 * D, DOS - 103 * D - 1 * D)
    intolerant = make_therapy("infliximab-dyyb", DOS - 20 * D, DOS - 15 * D, "intolerance")
    assert scrub(remicade_claim(DOS, therapy_history=(long_enough,)), context(r)).clean
    assert scrub(remicade_claim(DOS, therapy_history=(too_short,)), context(r)).holds
    assert scrub(remicade_claim(DOS, therapy_history=(intolerant,)), context(r)).clean


def test_biosimilar_rule_without_trial_needs_the_exception() -> None:
    r = rule("biosimilar_first", nonpreferred=["J1745"], preferred=["infliximab-dyyb"])
    intolerant = make_therapy("infliximab-dyyb", DOS - 20 * D, DOS - 15 * D, "intolerance")
    [message] = [
        h.message
        for h in scrub(remicade_claim(DOS, therapy_history=(intolerant,)), context(r)).holds
    ]
    assert "needs a documented medical exception" in message
    assert "trial" not in message


def test_waste_line_of_the_reference_product_is_not_a_second_hold() -> None:
    r = rule("biosimilar_first", nonpreferred=["J1745"], preferred=["infliximab-dyyb"])
    assert len(scrub(remicade_claim(DOS), context(r)).holds) == 1


# --------------------------------------------------------------------------- step_therapy


def test_step_applies_only_to_its_diagnosis_family() -> None:
    r = rule("step_therapy", **CASES["step_therapy"].params)
    crohns = infliximab_claim(DOS, diagnoses=("K5090",))
    assert scrub(crohns, context(r)).clean
    assert scrub(infliximab_claim(DOS), context(r)).holds


def test_intolerance_counts_whatever_its_length_and_ongoing_trials_do_not() -> None:
    r = rule("step_therapy", **CASES["step_therapy"].params)
    brief = make_therapy("leflunomide", DOS - 20 * D, DOS - 10 * D, "intolerance")
    ongoing = make_therapy("methotrexate", DOS - 400 * D, None, "ongoing")
    assert scrub(infliximab_claim(DOS, therapy_history=(brief,)), context(r)).clean
    assert scrub(infliximab_claim(DOS, therapy_history=(ongoing,)), context(r)).holds


def test_open_ended_trial_is_measured_to_the_date_of_service() -> None:
    r = rule("step_therapy", **CASES["step_therapy"].params)
    running = make_therapy("methotrexate", DOS - 90 * D, None)
    assert scrub(infliximab_claim(DOS, therapy_history=(running,)), context(r)).clean


def test_two_trials_totalling_the_minimum() -> None:
    r = rule(
        "step_therapy",
        procedures=["J3247"],
        required_drugs=["ibuprofen", "naproxen"],
        min_trials=2,
        min_days=28,
        duration="total",
    )
    c = claim(line("J3247", 300, drug="secukinumab"), diagnoses=("M459",))
    a = make_therapy("ibuprofen", DOS - 60 * D, DOS - 46 * D)
    b = make_therapy("naproxen", DOS - 40 * D, DOS - 26 * D)
    short = make_therapy("naproxen", DOS - 40 * D, DOS - 27 * D)
    assert scrub(
        replace(c, encounter=replace(c.encounter, therapy_history=(a, b))), context(r)
    ).clean
    assert scrub(
        replace(c, encounter=replace(c.encounter, therapy_history=(a, short))), context(r)
    ).holds


def test_new_starts_only_skips_members_already_on_the_drug() -> None:
    r = rule("step_therapy", **CASES["step_therapy"].params, new_starts_only=True)
    past = earlier(infliximab_claim(DOS - 56 * D, encounter_id="P1"))
    assert scrub(infliximab_claim(DOS), context(r, history=past)).clean
    assert scrub(infliximab_claim(DOS), context(r)).holds


# --------------------------------------------------------------------------- frequency

INFLIXIMAB = {
    "procedures": ["Q5103"],
    "loading_intervals_days": [14, 28],
    "cycle_interval_days": 56,
    "restart_after_days": 365,
}
RITUXIMAB = {
    "procedures": ["J9312"],
    "cycle_doses": 2,
    "within_cycle_days": 14,
    "cycle_interval_days": 112,
}


def _doses(params: dict[str, Any], days_before: list[int], dos: date = DOS) -> list[str]:
    r = rule("frequency", **params)
    code = params["procedures"][0]
    past = earlier(
        *(claim(line(code, 40), dos=dos - d * D, encounter_id=f"P{d}") for d in days_before)
    )
    return [
        h.message for h in scrub(claim(line(code, 40), dos=dos), context(r, history=past)).holds
    ]


@pytest.mark.parametrize(
    ("days_before", "held"),
    [
        ([], False),  # first dose
        ([14], False),  # week 2 loading dose
        ([13], True),
        ([42, 28], False),  # week 6: 28 days after week 2
        ([41, 27], True),
        ([98, 84, 56], False),  # first maintenance dose: 56 days after week 6
        ([97, 83, 55], True),
        ([154, 140, 112, 56], False),  # maintenance every 8 weeks
        ([153, 139, 111, 55], True),
        ([800, 786, 758, 702, 400], False),  # 400 days since the last: a new course
        ([414, 400, 13], True),  # new course's 2nd dose 13 days after its first
    ],
)
def test_infliximab_loading_then_every_8_weeks(days_before: list[int], held: bool) -> None:
    assert bool(_doses(INFLIXIMAB, days_before)) is held


@pytest.mark.parametrize(
    ("days_before", "held"),
    [
        ([14], False),  # second infusion of the course
        ([10], True),
        ([112, 98], False),  # next course 112 days after the last course began
        ([111, 97], True),
        ([140, 126, 14], False),  # second infusion of the second course
        ([140, 126, 10], True),
    ],
)
def test_rituximab_courses_of_two(days_before: list[int], held: bool) -> None:
    assert bool(_doses(RITUXIMAB, days_before)) is held


def test_frequency_message_says_phase_interval_and_dates() -> None:
    [message] = _doses(INFLIXIMAB, [97, 83, 55])
    assert f"dose 4 of the course on {DOS} is 55 days after the previous dose" in message
    assert "maintenance doses need at least 56 days" in message


def test_grace_days_and_documented_escalation() -> None:
    from edi_pipeline.models import MedicalException

    assert not _doses({**INFLIXIMAB, "grace_days": 3}, [95, 81, 53])
    r = rule("frequency", **INFLIXIMAB, exception_allowed=True)
    past = earlier(*(infliximab_claim(DOS - d * D, encounter_id=f"P{d}") for d in (90, 76, 48)))
    escalated = MedicalException(drug="Q5103", reason="dose escalation approved", documented=True)
    assert scrub(infliximab_claim(DOS, medical_exception=escalated), context(r, history=past)).clean
    assert scrub(infliximab_claim(DOS), context(r, history=past)).holds


def test_frequency_counts_only_drug_lines_of_its_products() -> None:
    r = rule("frequency", **INFLIXIMAB)
    other = earlier(
        claim(line("J3262", 400, drug="tocilizumab"), dos=DOS - 7 * D, encounter_id="T1"),
        claim(line("96365"), dos=DOS - 6 * D, encounter_id="A1"),
    )
    assert scrub(infliximab_claim(DOS), context(r, history=other)).clean


# --------------------------------------------------------------------------- unit_limit


def test_unit_limit_per_line() -> None:
    r = rule("unit_limit", procedures=["20610"], max_units=1, per="line")
    two_lines = claim(line("20610", modifiers=("RT",)), line("20610", modifiers=("LT",)))
    assert scrub(two_lines, context(r)).clean
    [message] = [h.message for h in scrub(claim(line("20610", 2)), context(r)).holds]
    assert "line 1 20610: 2 units, limit 1 per line" in message


def test_unit_limit_per_day_counts_waste_unless_told_not_to() -> None:
    c = claim(
        line("J3262", 780, drug="tocilizumab"),
        line("J3262", 40, modifiers=("JW",), drug="tocilizumab"),
    )
    counting = rule("unit_limit", procedures=["J3262"], max_units=800)
    not_counting = rule("unit_limit", procedures=["J3262"], max_units=800, include_waste=False)
    assert scrub(c, context(counting)).holds
    assert scrub(c, context(not_counting)).clean


def test_unit_limit_per_window_counts_earlier_claims() -> None:
    r = rule("unit_limit", procedures=["J1745"], max_units=120, per="window", window_days=28)
    c = claim(line("J1745", 60, drug="infliximab"))
    inside = earlier(
        claim(line("J1745", 61, drug="infliximab"), dos=DOS - 27 * D, encounter_id="P1")
    )
    outside = earlier(
        claim(line("J1745", 61, drug="infliximab"), dos=DOS - 28 * D, encounter_id="P1")
    )
    [message] = [h.message for h in scrub(c, context(r, history=inside)).holds]
    assert "60 units + 61 on earlier claims, limit 120 per 28 days" in message
    assert scrub(c, context(r, history=outside)).clean


def test_unit_limit_for_a_diagnosis_family_only() -> None:
    r = rule("unit_limit", procedures=["J1745"], max_units=120, diagnoses=["M05", "M06"])
    big = line("J1745", 130, drug="infliximab")
    assert scrub(claim(big), context(r)).holds
    assert scrub(claim(big, diagnoses=("K5090",)), context(r)).clean


# --------------------------------------------------------------------------- bundling


def test_modifier_on_the_component_line_allows_the_pair() -> None:
    r = rule(
        "bundling",
        column1=["20600-20611", "96365"],
        column2=["99202-99215"],
        bypass_modifiers=["25"],
    )
    assert scrub(claim(line("96365"), line("99214", modifiers=("25",))), context(r)).clean
    [message] = [h.message for h in scrub(claim(line("96365"), line("99214")), context(r)).holds]
    assert "line 2 99214 with line 1 96365 without modifier 25" in message
    assert scrub(claim(line("99214")), context(r)).clean  # visit alone


def test_a_code_in_both_columns_is_not_paired_with_itself() -> None:
    r = rule("bundling", column1=["96360", "96365"], column2=["96360"])
    assert scrub(claim(line("96360")), context(r)).clean
    assert scrub(claim(line("96365"), line("96360")), context(r)).holds


# --------------------------------------------------------------------------- ndc_required


def test_ndc_quantity_and_shape() -> None:
    r = rule("ndc_required", procedures=["J*", "Q*"])
    no_qty = claim(line("Q5103", 40, drug="infliximab-dyyb", ndc="00069080901"))
    short = claim(
        line("Q5103", 40, drug="infliximab-dyyb", ndc="0069080901", ndc_quantity=4, ndc_unit="UN")
    )
    assert "NDC quantity or unit missing" in scrub(no_qty, context(r)).holds[0].message
    assert "NDC is not 11 digits" in scrub(short, context(r)).holds[0].message
    lenient = rule("ndc_required", procedures=["Q*"], require_quantity=False)
    assert scrub(no_qty, context(lenient)).clean


def test_ndc_rule_ignores_administration_lines() -> None:
    r = rule("ndc_required")
    assert scrub(claim(line("96365"), line("99214", modifiers=("25",))), context(r)).clean


# --------------------------------------------------------------------------- site_of_care


def test_site_of_care_after_the_first_doses() -> None:
    r = rule("site_of_care", procedures=["Q5103"], allowed_pos=["11"], after_doses=1)
    first = infliximab_claim(DOS, pos="22")
    assert scrub(first, context(r)).clean
    past = earlier(infliximab_claim(DOS - 14 * D, encounter_id="P1", pos="22"))
    [message] = [h.message for h in scrub(first, context(r, history=past)).holds]
    assert "Q5103 in POS 22 after 1 dose(s); allowed: 11" in message


# --------------------------------------------------------------------------- documentation


def test_infusion_times_documented() -> None:
    r = rule("documentation", require="infusion_times", procedures=["96360-96379"])
    timed = make_drug("Inflectra", start_time="09:00", stop_time="10:30")
    untimed = make_drug("Inflectra")
    backwards = make_drug("Inflectra", start_time="10:30", stop_time="09:00")
    assert scrub(infliximab_claim(DOS, drugs=(timed,)), context(r)).clean
    assert (
        "no start or stop time"
        in scrub(infliximab_claim(DOS, drugs=(untimed,)), context(r)).holds[0].message
    )
    assert (
        "stop time is not after start time"
        in scrub(infliximab_claim(DOS, drugs=(backwards,)), context(r)).holds[0].message
    )
    sc_only = make_drug("Prolia", route="SC")
    assert scrub(infliximab_claim(DOS, drugs=(timed, sc_only)), context(r)).clean


def test_separately_identifiable_visit_documented() -> None:
    r = rule("documentation", require="separately_identifiable_visit")
    c = claim(line("20610", modifiers=("RT",)), line("99213", modifiers=("25",)))
    yes = replace(
        c, encounter=replace(c.encounter, visit=make_visit("99213", separately_identifiable=True))
    )
    no = replace(c, encounter=replace(c.encounter, visit=make_visit("99213")))
    assert scrub(yes, context(r)).clean
    assert scrub(no, context(r)).holds
    assert scrub(claim(line("99213")), context(r)).clean  # no 25: nothing to support


def test_weight_for_a_per_kg_dose() -> None:
    r = rule("documentation", require="weight_for_dose")
    per_kg = make_drug("Inflectra", dose_mg_per_kg="5")
    assert scrub(infliximab_claim(DOS, drugs=(per_kg,)), context(r)).clean
    assert scrub(infliximab_claim(DOS, drugs=(per_kg,), weight_kg=None), context(r)).holds


# --------------------------------------------------------------------------- diagnosis_coverage


def test_coverage_follows_the_lines_diagnosis_pointers() -> None:
    r = rule("diagnosis_coverage", procedures=["Q5103"], diagnoses=["M05", "M06"])
    pointed_to_ra = claim(
        line("Q5103", 40, drug="infliximab-dyyb", pointers=(2,)), diagnoses=("M1990", "M0579")
    )
    pointed_to_oa = claim(
        line("Q5103", 40, drug="infliximab-dyyb", pointers=(1,)), diagnoses=("M1990", "M0579")
    )
    assert scrub(pointed_to_ra, context(r)).clean
    [message] = [h.message for h in scrub(pointed_to_oa, context(r)).holds]
    assert "line 1 Q5103 points to M1990; covered: M05, M06" in message


def test_diagnosis_families_with_dots() -> None:
    r = rule("diagnosis_coverage", procedures=["J3262"], diagnoses=["M31.5", "J84.1"])
    assert scrub(claim(line("J3262", 400), diagnoses=("M315",)), context(r)).clean
    assert scrub(claim(line("J3262", 400), diagnoses=("J8410",)), context(r)).clean
    assert scrub(claim(line("J3262", 400), diagnoses=("M316",)), context(r)).holds


# --------------------------------------------------------------------------- timely_filing


def test_timely_filing_takes_the_payers_limit_when_the_rule_has_none() -> None:
    from types import SimpleNamespace

    r = rule("timely_filing")
    payers = {"aetna": SimpleNamespace(timely_filing_days=90)}
    c = infliximab_claim(DOS)
    assert scrub(c, context(r, as_of=DOS + 90 * D, payers=payers)).clean
    assert scrub(c, context(r, as_of=DOS + 91 * D, payers=payers)).holds
    assert scrub(c, context(r, as_of=DOS + 400 * D)).clean  # no limit known: nothing to hold


# --------------------------------------------------------------------------- duplicate


def test_replacement_claims_are_not_duplicates() -> None:
    r = rule("duplicate")
    past = CASES["duplicate"].history(DOS)
    again = claim(line("20610", modifiers=("RT",)), frequency="7")
    assert scrub(again, context(r, history=past)).clean
