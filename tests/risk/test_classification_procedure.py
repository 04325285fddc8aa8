"""The EU AI Act decision procedure: pure, total, deterministic (Hypothesis + table cases)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.risk.classification.procedure import (
    Answers,
    ExemptionCondition,
    OperatorRole,
    Route,
    Tier,
    TransparencyTrigger,
    annex_iii_points,
    classify,
    prohibited_practices,
)


@st.composite
def answers(draw: st.DrawFn, /, **fixed: Any) -> Answers:
    """Any valid answer set (fields in ``fixed`` are forced)."""
    point = draw(st.none() | st.sampled_from(sorted(annex_iii_points())))
    exemption = draw(st.none() | st.sampled_from(list(ExemptionCondition))) if point else None
    annex_i = draw(st.booleans())
    gpai = draw(st.booleans())
    values: dict[str, Any] = {
        "role": draw(st.sampled_from(list(OperatorRole))),
        "prohibited_practices": draw(
            st.lists(st.sampled_from(sorted(prohibited_practices())), max_size=3)
        ),
        "annex_i_product": annex_i,
        "annex_i_third_party_assessment": annex_i and draw(st.booleans()),
        "annex_iii_point": point,
        "annex_iii_area": draw(st.sampled_from([None, annex_iii_points()[point][0]]))
        if point
        else None,
        "profiles_natural_persons": draw(st.booleans()),
        "exemption": exemption,
        "exemption_rationale": draw(st.text(min_size=1, max_size=40).filter(str.strip))
        if exemption
        else None,
        "transparency": draw(st.lists(st.sampled_from(list(TransparencyTrigger)), max_size=4)),
        "gpai_model": gpai,
        "gpai_systemic_risk": gpai and draw(st.booleans()),
    }
    values.update(fixed)
    return Answers.model_validate(values)


@given(answers())
def test_every_answer_set_gives_exactly_one_tier(a: Answers) -> None:
    result = classify(a)
    assert result.tier in set(Tier)
    assert result.route in set(Route)
    assert result.reasons
    # The tier follows the order prohibited > high > limited > minimal.
    if a.prohibited_practices:
        assert result.tier is Tier.PROHIBITED
    elif result.tier is Tier.HIGH:
        assert result.route in {Route.ART6_1, Route.ANNEX_III}
    elif a.transparency:
        assert result.tier is Tier.LIMITED and result.route is Route.ART50
    else:
        assert result.tier is Tier.MINIMAL


@given(answers(), st.sampled_from(sorted(prohibited_practices())))
def test_a_prohibited_practice_always_prohibits(a: Answers, practice: str) -> None:
    values = a.model_dump() | {"prohibited_practices": [*a.prohibited_practices, practice]}
    result = classify(Answers.model_validate(values))
    assert result.tier is Tier.PROHIBITED
    assert result.route is Route.ART5
    assert f"Art. {practice}" in result.articles


@given(answers(profiles_natural_persons=False))
def test_a_valid_exemption_never_gives_high_via_annex_iii(a: Answers) -> None:
    result = classify(a)
    if a.exemption is not None and not a.prohibited_practices:
        assert result.route is not Route.ANNEX_III
        assert result.exemption is a.exemption
        assert "Art. 6(3)" in result.articles
        if not a.annex_i_third_party_assessment:
            assert result.tier in {Tier.LIMITED, Tier.MINIMAL}


@given(answers(profiles_natural_persons=True, prohibited_practices=[]))
def test_profiling_defeats_the_exemption(a: Answers) -> None:
    result = classify(a)
    if a.annex_iii_point is not None:
        assert result.tier is Tier.HIGH
        assert result.exemption is None


@settings(max_examples=50)
@given(answers())
def test_deterministic(a: Answers) -> None:
    again = Answers.model_validate_json(a.model_dump_json())
    assert classify(a) == classify(again)
    assert classify(a).model_dump_json() == classify(a).model_dump_json()


def articles(obligations: list[Any]) -> set[str]:
    return {o.article for o in obligations}


@pytest.mark.parametrize(
    ("case", "values", "tier", "route", "must_have", "must_not_have"),
    [
        (
            "CV screening for hiring, provider",
            {"role": "provider", "annex_iii_area": "4", "annex_iii_point": "4(a)"},
            Tier.HIGH,
            Route.ANNEX_III,
            {"9", "10", "11", "14", "16", "17", "43", "49", "72"},
            {"26", "23", "24"},
        ),
        (
            "CV screening for hiring, deployer",
            {"role": "deployer", "annex_iii_point": "4(a)", "profiles_natural_persons": True},
            Tier.HIGH,
            Route.ANNEX_III,
            {"26", "27", "86", "4"},
            {"9", "16", "43"},
        ),
        (
            "customer chatbot",
            {"role": "deployer", "transparency": ["interacts_with_people"]},
            Tier.LIMITED,
            Route.ART50,
            {"50", "4"},
            {"9", "26"},
        ),
        (
            "exempt preparatory task",
            {
                "role": "provider",
                "annex_iii_point": "4(a)",
                "exemption": "preparatory_task",
                "exemption_rationale": "Only de-duplicates applications before human review",
            },
            Tier.MINIMAL,
            Route.ART6_3_EXEMPT,
            {"49", "4"},
            {"9", "16"},
        ),
        (
            "exempt but generates text",
            {
                "role": "provider",
                "annex_iii_point": "3(b)",
                "exemption": "narrow_procedural_task",
                "exemption_rationale": "Formats exam papers",
                "transparency": ["generates_synthetic_content"],
            },
            Tier.LIMITED,
            Route.ART50,
            {"50", "49"},
            {"9"},
        ),
        (
            "social scoring",
            {"role": "provider", "prohibited_practices": ["5(1)(c)"], "annex_iii_point": "5(b)"},
            Tier.PROHIBITED,
            Route.ART5,
            set(),
            {"9", "4"},
        ),
        (
            "medical device component",
            {"role": "importer", "annex_i_product": True, "annex_i_third_party_assessment": True},
            Tier.HIGH,
            Route.ART6_1,
            {"23", "25"},
            {"9", "26"},
        ),
        (
            "annex I product without third-party assessment",
            {"role": "provider", "annex_i_product": True},
            Tier.MINIMAL,
            Route.NONE,
            {"4"},
            {"9"},
        ),
        ("spam filter", {"role": "distributor"}, Tier.MINIMAL, Route.NONE, set(), {"4", "24"}),
    ],
)
def test_cases(
    case: str,
    values: dict[str, Any],
    tier: Tier,
    route: Route,
    must_have: set[str],
    must_not_have: set[str],
) -> None:
    result = classify(Answers.model_validate(values))
    assert (result.tier, result.route) == (tier, route), case
    found = articles(result.obligations)
    assert must_have <= found, (case, found)
    assert not (must_not_have & found), (case, found)


def test_gpai_is_flagged_whatever_the_tier() -> None:
    result = classify(Answers(role=OperatorRole.PROVIDER, gpai_model=True, gpai_systemic_risk=True))
    assert result.tier is Tier.MINIMAL
    assert result.gpai_model and result.gpai_systemic_risk
    assert {"Art. 51", "Art. 53", "Art. 55"} <= set(result.articles)


def test_annex_iii_area_is_derived_from_the_point() -> None:
    a = Answers.model_validate({"role": "provider", "annex_iii_point": "4(a)"})
    assert a.annex_iii_area == "4"
    assert classify(a).annex_iii_area == "4"


@pytest.mark.parametrize(
    "values",
    [
        {"role": "provider", "prohibited_practices": ["5(1)(z)"]},
        {"role": "provider", "annex_iii_point": "9(a)"},
        {"role": "provider", "annex_iii_area": "3", "annex_iii_point": "4(a)"},
        {"role": "provider", "annex_iii_area": "4"},
        {"role": "provider", "annex_iii_point": "4(a)", "exemption": "preparatory_task"},
        {
            "role": "provider",
            "annex_iii_point": "4(a)",
            "exemption": "preparatory_task",
            "exemption_rationale": "   ",
        },
        {"role": "provider", "exemption": "preparatory_task", "exemption_rationale": "x"},
        {"role": "provider", "gpai_systemic_risk": True},
        {"role": "provider", "annex_i_third_party_assessment": True},
        {"role": "operator"},
        {"role": "provider", "surprise": True},
        {},
    ],
)
def test_bad_answers_are_refused(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Answers.model_validate(values)
