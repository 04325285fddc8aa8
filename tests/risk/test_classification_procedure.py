"""The EU AI Act decision procedure: pure, total, deterministic (Hypothesis + table cases)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.risk.classification.procedure import (
    SECTOR_AREA,
    AnnexIIICarveOut,
    Answers,
    Art5Exception,
    DeployerCategory,
    ExemptionCondition,
    InventoryFacts,
    OperatorRole,
    RbiCondition,
    Route,
    ScopeExclusion,
    Tier,
    TransparencyTrigger,
    ValueChainTrigger,
    annex_i_points,
    annex_iii_carve_outs,
    annex_iii_points,
    art5_exceptions,
    classify,
    prohibited_practices,
    stored_answers,
)


@st.composite
def answers(draw: st.DrawFn, /, **fixed: Any) -> Answers:
    """Any valid answer set (fields in ``fixed`` are forced)."""
    role = fixed.get("role") or draw(st.sampled_from(list(OperatorRole)))
    points = draw(st.lists(st.sampled_from(sorted(annex_iii_points())), max_size=3, unique=True))
    carve_outs = [
        c
        for c in draw(st.lists(st.sampled_from(list(AnnexIIICarveOut)), max_size=2))
        if annex_iii_carve_outs()[c]["point"] not in points
    ]
    practices = (
        fixed["prohibited_practices"]
        if "prohibited_practices" in fixed
        else draw(st.lists(st.sampled_from(sorted(prohibited_practices())), max_size=3))
    )
    exceptions = [
        e
        for e in draw(st.lists(st.sampled_from(list(Art5Exception)), max_size=3))
        if art5_exceptions()[e]["practice"] in practices
    ]
    rbi = any(art5_exceptions()[e]["practice"] == "5(1)(h)" for e in exceptions)
    # A point reached through an Art. 5 practice or exception cannot also be carved out.
    reached = {art5_exceptions()[e]["annex_iii_point"] for e in exceptions}
    reached |= {"1(a)"} if "5(1)(h)" in practices else set()
    carve_outs = [c for c in carve_outs if annex_iii_carve_outs()[c]["point"] not in reached]
    provider = role is OperatorRole.PROVIDER
    exemption = draw(st.none() | st.sampled_from(list(ExemptionCondition))) if points else None
    documented = bool(points) and not provider and draw(st.booleans())
    annex_i = draw(st.booleans())
    gpai = draw(st.booleans())
    exclusion = (
        fixed["scope_exclusion"]
        if "scope_exclusion" in fixed
        else draw(st.none() | st.sampled_from(list(ScopeExclusion)))
    )
    if exclusion is ScopeExclusion.PERSONAL_NON_PROFESSIONAL and role is not OperatorRole.DEPLOYER:
        exclusion = None
    values: dict[str, Any] = {
        "role": role,
        "established_in_union": draw(st.booleans()),
        "scope_exclusion": exclusion,
        "real_world_testing": exclusion is ScopeExclusion.PRE_MARKET_RESEARCH
        and draw(st.booleans()),
        "prohibited_practices": practices,
        "art5_exceptions": exceptions,
        "rbi_conditions": draw(st.lists(st.sampled_from(list(RbiCondition)), max_size=4))
        if rbi
        else [],
        "annex_i_product": annex_i,
        "annex_i_third_party_assessment": annex_i and draw(st.booleans()),
        "annex_i_legislation": draw(st.none() | st.sampled_from(sorted(annex_i_points())))
        if annex_i
        else None,
        "annex_iii_points": points,
        "annex_iii_carve_outs": carve_outs,
        "profiles_natural_persons": draw(st.booleans()),
        "exemption": exemption if (provider or documented) else None,
        "exemption_rationale": draw(st.text(min_size=1, max_size=40).filter(str.strip))
        if exemption and provider
        else None,
        "provider_documented_exemption": documented,
        "deployer_category": draw(st.none() | st.sampled_from(list(DeployerCategory)))
        if role is OperatorRole.DEPLOYER
        else None,
        "value_chain_trigger": None
        if provider
        else draw(st.none() | st.sampled_from(list(ValueChainTrigger))),
        "transparency": draw(st.lists(st.sampled_from(list(TransparencyTrigger)), max_size=4)),
        "gpai_model": gpai,
        "gpai_systemic_risk": gpai and draw(st.booleans()),
        "gpai_open_source": gpai and draw(st.booleans()),
    }
    values.update(fixed)
    return Answers.model_validate(values)


def refs(result: Any) -> set[str]:
    return {o.ref for o in result.obligations}


def articles(obligations: list[Any]) -> set[str]:
    return {o.article for o in obligations}


@given(answers())
def test_every_answer_set_gives_exactly_one_tier(a: Answers) -> None:
    """Exactly one tier and route for any answers, in the order Art. 2 > Art. 5 > Art. 6 >
    Art. 50 > minimal."""
    result = classify(a)
    assert result.tier in set(Tier)
    assert result.route in set(Route)
    assert result.reasons
    if result.route is Route.ART2_EXCLUDED:
        assert a.scope_exclusion is not None and result.tier is Tier.MINIMAL
        assert not result.obligations
    elif result.tier is Tier.PROHIBITED:
        assert result.route is Route.ART5 and result.prohibited_practices
    elif result.tier is Tier.HIGH:
        assert result.route in {Route.ART6_1, Route.ANNEX_III}
    elif a.transparency:
        assert result.tier is Tier.LIMITED and result.route is Route.ART50
    else:
        assert result.tier is Tier.MINIMAL
        assert result.route in {
            Route.ART6_3_EXEMPT,
            Route.ANNEX_III_CARVE_OUT,
            Route.GPAI,
            Route.NONE,
        }


@given(answers(scope_exclusion=None), st.sampled_from(["5(1)(a)", "5(1)(b)", "5(1)(c)", "5(1)(e)"]))
def test_a_practice_without_exception_always_prohibits(a: Answers, practice: str) -> None:
    """Art. 5(1)(a)-(c), (e) have no exception: any one prohibits, whatever else holds."""
    values = a.model_dump() | {"prohibited_practices": [*a.prohibited_practices, practice]}
    result = classify(Answers.model_validate(values))
    assert result.tier is Tier.PROHIBITED
    assert result.route is Route.ART5
    assert f"Art. {practice}" in result.articles


@given(answers())
def test_prohibited_systems_get_no_duties_and_no_transparency(a: Answers) -> None:
    """Art. 5: a prohibited practice may not be used at all, so no Art. 50 (or other) duties
    are listed."""
    result = classify(a)
    if result.tier is Tier.PROHIBITED:
        assert result.obligations == []
        assert result.transparency == []


@given(answers())
def test_gpai_duties_only_for_gpai_providers(a: Answers) -> None:
    """Arts. 51-55 bind providers of general-purpose AI models only."""
    result = classify(a)
    gpai = {o for o in result.obligations if o.article in {"51", "52", "53", "54", "55"}}
    if gpai:
        assert a.gpai_model and a.role is OperatorRole.PROVIDER
    if (
        a.gpai_model
        and a.role is OperatorRole.PROVIDER
        and result.route
        not in {
            Route.ART2_EXCLUDED,
            Route.ART5,
        }
    ):
        assert {"Art. 53(1)(c)", "Art. 53(1)(d)"} <= refs(result)


@given(answers())
def test_art_27_never_for_annex_iii_point_2_nor_for_non_deployers(a: Answers) -> None:
    """Art. 27(1): deployers only, and never for high-risk systems of Annex III point 2."""
    result = classify(a)
    if "Art. 27(1)" in refs(result):
        assert a.role is OperatorRole.DEPLOYER
        assert any(not p.startswith("2") for p in result.annex_iii_points)
    if result.annex_iii_points and all(p == "2" for p in result.annex_iii_points):
        assert "Art. 27(1)" not in refs(result)
        assert "Art. 86(1)" not in refs(result)
        assert "Art. 49(1)" not in refs(result)


@given(answers())
def test_transparency_duties_follow_the_role(a: Answers) -> None:
    """Art. 50(1)/(2) bind providers, 50(3)/(4) deployers."""
    result = classify(a)
    found = refs(result)
    if {"Art. 50(3)", "Art. 50(4)"} & found:
        assert a.role is OperatorRole.DEPLOYER
    if {"Art. 50(1)", "Art. 50(2)"} & found:
        assert a.role is OperatorRole.PROVIDER or a.value_chain_trigger is not None


@given(answers())
def test_art_22_only_for_providers_outside_the_union(a: Answers) -> None:
    """Art. 22(1) / 54(1): only providers established in a third country."""
    found = refs(classify(a))
    if {"Art. 22(1)", "Art. 54(1)"} & found:
        assert not a.established_in_union


@given(answers(profiles_natural_persons=False, role=OperatorRole.PROVIDER))
def test_a_valid_exemption_never_gives_high_via_annex_iii(a: Answers) -> None:
    """Art. 6(3): the provider's documented derogation lifts Annex III (not Art. 6(1))."""
    result = classify(a)
    if (
        a.exemption is not None
        and result.route not in {Route.ART2_EXCLUDED, Route.ART5}
        and not a.annex_i_third_party_assessment
    ):
        assert result.route is not Route.ANNEX_III
        assert result.exemption is a.exemption
        assert any(x.startswith("Art. 6(3)") for x in result.articles)
        assert result.tier in {Tier.LIMITED, Tier.MINIMAL}
        assert {"Art. 6(4)", "Art. 49(2)"} <= refs(result)


@given(answers(profiles_natural_persons=True, prohibited_practices=[], scope_exclusion=None))
def test_profiling_defeats_the_exemption(a: Answers) -> None:
    """Art. 6(3), last subparagraph: profiling of natural persons is always high-risk."""
    result = classify(a)
    if a.annex_iii_points:
        assert result.tier is Tier.HIGH
        assert result.exemption is None


@settings(max_examples=50)
@given(answers())
def test_deterministic(a: Answers) -> None:
    again = Answers.model_validate_json(a.model_dump_json())
    assert classify(a) == classify(again)
    assert classify(a).model_dump_json() == classify(a).model_dump_json()


@pytest.mark.parametrize(
    ("case", "values", "tier", "route", "must_have", "must_not_have"),
    [
        (
            "CV screening for hiring, provider (legacy single point)",
            {"role": "provider", "annex_iii_area": "4", "annex_iii_point": "4(a)"},
            Tier.HIGH,
            Route.ANNEX_III,
            {"9", "10", "11", "14", "16", "17", "43", "49", "72"},
            {"26", "23", "24", "22", "27"},
        ),
        (
            "CV screening for hiring, private deployer: no Art. 27",
            {"role": "deployer", "annex_iii_points": ["4(a)"], "profiles_natural_persons": True},
            Tier.HIGH,
            Route.ANNEX_III,
            {"26", "86", "4"},
            {"9", "16", "43", "27", "49"},
        ),
        (
            "customer chatbot, deployer: 50(1) is the provider's",
            {"role": "deployer", "transparency": ["interacts_with_people"]},
            Tier.LIMITED,
            Route.ART50,
            {"4"},
            {"9", "26", "50"},
        ),
        (
            "exempt preparatory task",
            {
                "role": "provider",
                "annex_iii_points": ["4(a)"],
                "exemption": "preparatory_task",
                "exemption_rationale": "Only de-duplicates applications before human review",
            },
            Tier.MINIMAL,
            Route.ART6_3_EXEMPT,
            {"6", "49", "4"},
            {"9", "16"},
        ),
        (
            "exempt but generates text",
            {
                "role": "provider",
                "annex_iii_points": ["3(b)"],
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
            {"role": "provider", "prohibited_practices": ["5(1)(c)"], "annex_iii_points": ["5(b)"]},
            Tier.PROHIBITED,
            Route.ART5,
            set(),
            {"9", "4", "50"},
        ),
        (
            "medical device component, importer",
            {"role": "importer", "annex_i_product": True, "annex_i_third_party_assessment": True},
            Tier.HIGH,
            Route.ART6_1,
            {"23"},
            {"9", "26", "4", "49"},
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


def test_annex_iii_area_is_derived_from_the_point() -> None:
    a = Answers.model_validate({"role": "provider", "annex_iii_point": "4(a)"})
    assert a.annex_iii_points == ["4(a)"]
    assert a.annex_iii_area == "4"
    result = classify(a)
    assert (result.annex_iii_area, result.annex_iii_point) == ("4", "4(a)")


@pytest.mark.parametrize(
    "values",
    [
        {"role": "provider", "prohibited_practices": ["5(1)(z)"]},
        {"role": "provider", "annex_iii_point": "9(a)"},
        {"role": "provider", "annex_iii_points": ["9(a)"]},
        {"role": "provider", "annex_iii_area": "3", "annex_iii_point": "4(a)"},
        {"role": "provider", "annex_iii_area": "4"},
        {"role": "provider", "annex_iii_points": ["4(a)"], "exemption": "preparatory_task"},
        {
            "role": "provider",
            "annex_iii_points": ["4(a)"],
            "exemption": "preparatory_task",
            "exemption_rationale": "   ",
        },
        {"role": "provider", "exemption": "preparatory_task", "exemption_rationale": "x"},
        {"role": "provider", "gpai_systemic_risk": True},
        {"role": "provider", "gpai_open_source": True},
        {"role": "provider", "annex_i_third_party_assessment": True},
        {"role": "provider", "annex_i_legislation": "11"},
        {"role": "provider", "annex_i_product": True, "annex_i_legislation": "21"},
        {"role": "operator"},
        {"role": "provider", "surprise": True},
        {},
        # Art. 6(4): the derogation is the provider's assessment.
        {"role": "deployer", "annex_iii_points": ["4(a)"], "exemption": "preparatory_task"},
        {"role": "provider", "annex_iii_points": ["4(a)"], "provider_documented_exemption": True},
        # Art. 2(10): deployers who are natural persons only.
        {"role": "provider", "scope_exclusion": "personal_non_professional"},
        {"role": "provider", "real_world_testing": True},
        # An exception qualifies a practice that is listed.
        {"role": "deployer", "art5_exceptions": ["emotion_recognition_medical_or_safety"]},
        {
            "role": "deployer",
            "prohibited_practices": ["5(1)(f)"],
            "art5_exceptions": ["emotion_recognition_medical_or_safety"],
            "rbi_conditions": ["prior_authorisation"],
        },
        # A point cannot both apply and be carved out.
        {
            "role": "provider",
            "annex_iii_points": ["5(b)"],
            "annex_iii_carve_outs": ["financial_fraud_detection"],
        },
        {"role": "provider", "deployer_category": "public_authority"},
        {"role": "provider", "value_chain_trigger": "own_name_or_trademark"},
    ],
)
def test_bad_answers_are_refused(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Answers.model_validate(values)


def test_stored_answers_of_the_former_rules_stay_readable() -> None:
    """A deployer's exemption stored before Art. 6(4) was enforced still reads back."""
    old = {
        "role": "deployer",
        "annex_iii_area": "4",
        "annex_iii_point": "4(a)",
        "exemption": "preparatory_task",
        "exemption_rationale": "x",
        "prohibited_practices": [],
        "transparency": [],
        "annex_i_product": False,
        "annex_i_third_party_assessment": False,
        "profiles_natural_persons": False,
        "gpai_model": False,
        "gpai_systemic_risk": False,
    }
    assert stored_answers(old).annex_iii_points == ["4(a)"]
    with pytest.raises(ValidationError):
        Answers.model_validate(old)


@given(answers(scope_exclusion=None, role=OperatorRole.DEPLOYER))
def test_a_system_under_an_art_5_exception_is_routed_to_its_annex_iii_point(a: Answers) -> None:
    """Art. 5(1)(d), (f), (g): a practice under its exception is not prohibited; the Annex III
    point that then applies is recorded and both articles are cited."""
    result = classify(a)
    for exception in result.art5_exceptions:
        item = art5_exceptions()[exception]
        assert item["practice"] not in result.prohibited_practices
        if result.tier is not Tier.PROHIBITED:
            assert item["annex_iii_point"] in result.annex_iii_points
            assert f"Art. {item['ref']}" in result.articles
            assert f"Annex III point {item['annex_iii_point']}" in result.articles


@given(
    answers(),
    st.builds(
        InventoryFacts,
        sector=st.none() | st.sampled_from([*sorted(SECTOR_AREA), "general"]),
        intended_purpose=st.none() | st.sampled_from(["Rank job applications", "Spam filter"]),
    ),
)
def test_inventory_facts_only_add_warnings(a: Answers, facts: InventoryFacts) -> None:
    """Warnings never change the tier, the route or the duties the answers lead to."""
    plain, informed = classify(a), classify(a, facts)
    assert informed.model_copy(update={"warnings": []}) == plain
    areas = {annex_iii_points()[p][0] for p in informed.annex_iii_points}
    assert not {w.annex_iii_area for w in informed.warnings} & areas
