"""Issue 9: who owes what under Regulation (EU) 2024/1689, checked against an oracle written from
the paragraphs themselves (Hypothesis over every valid answer set) and rule by rule.

The oracle restates, paragraph by paragraph, the party each duty addresses:

* Art. 27(1): "deployers that are bodies governed by public law, or are private entities providing
  public services, and deployers of high-risk AI systems referred to in points 5 (b) and (c) of
  Annex III", for high-risk systems "referred to in Article 6(2), with the exception of high-risk
  AI systems intended to be used in the area listed in point 2 of Annex III";
* Art. 49(1) the provider, 49(2) the provider that concluded "not high-risk" under Art. 6(3),
  49(3) "deployers that are public authorities, Union institutions, bodies, offices or agencies
  or persons acting on their behalf" (Annex III, point 2 excepted), 49(5) point 2 nationally;
* Art. 86(1): decisions by the deployer on the output of "a high-risk AI system listed in
  Annex III, with the exception of systems listed under point 2";
* Art. 22(1): "providers established in third countries" of high-risk systems;
* Art. 50(1)/(2) providers, 50(3)/(4) deployers;
* Arts. 52-55: providers of general-purpose AI models; Art. 53(2) and 54(6) lift 53(1)(a)/(b)
  and 54 for free and open-source models, "This exception shall not apply to general-purpose AI
  models with systemic risks";
* Art. 2(2): an Art. 6(1) product under Annex I Section B gets only Art. 6(1), Arts. 102-109, 112.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.risk.classification.procedure import (
    ART_27_REF,
    AnnexIIICarveOut,
    Answers,
    Art5Exception,
    Classification,
    DeployerCategory,
    OperatorRole,
    RbiCondition,
    Route,
    ScopeExclusion,
    Tier,
    annex_i_points,
    art5_exceptions,
    classify,
    owes_art_27,
)
from services.risk.classification.questionnaire import questionnaire
from tests.risk.test_classification_procedure import answers

#: The duties the oracle decides (every other ref is left to the other tests).
DECIDED = frozenset(
    {
        "Art. 4",
        "Art. 16",
        "Art. 22(1)",
        "Art. 23",
        "Art. 24",
        "Art. 26",
        "Art. 27(1)",
        "Art. 49(1)",
        "Art. 49(2)",
        "Art. 49(3)",
        "Art. 49(5)",
        "Art. 50(1)",
        "Art. 50(2)",
        "Art. 50(3)",
        "Art. 50(4)",
        "Art. 52(1)",
        "Art. 53(1)(a)",
        "Art. 53(1)(b)",
        "Art. 53(1)(c)",
        "Art. 53(1)(d)",
        "Art. 54(1)",
        "Art. 55(1)",
        "Art. 86(1)",
    }
)
ART_27_BODIES = {
    DeployerCategory.PUBLIC_AUTHORITY,
    DeployerCategory.BODY_GOVERNED_BY_PUBLIC_LAW,
    DeployerCategory.PRIVATE_ENTITY_PROVIDING_PUBLIC_SERVICES,
}
TRANSPARENCY = {
    "interacts_with_people": ("Art. 50(1)", OperatorRole.PROVIDER),
    "generates_synthetic_content": ("Art. 50(2)", OperatorRole.PROVIDER),
    "emotion_recognition_or_biometric_categorisation": ("Art. 50(3)", OperatorRole.DEPLOYER),
    "deep_fakes": ("Art. 50(4)", OperatorRole.DEPLOYER),
}


def run(**values: Any) -> Classification:
    return classify(Answers.model_validate(values))


def refs(result: Classification) -> set[str]:
    return {o.ref or "" for o in result.obligations}


def expected_duties(a: Answers, points: list[str], rbi_use: bool) -> set[str]:
    """The duties the paragraphs put on the organisation, for a system neither outside the
    Regulation (Art. 2) nor prohibited (Art. 5); ``points`` are its Annex III points;
    ``rbi_use``: a use under an Art. 5(1)(h) exception."""
    role = a.role
    product = a.annex_i_product and a.annex_i_third_party_assessment
    claimed = a.exemption is not None or a.provider_documented_exemption
    # Art. 6(3): derogates from 6(2) only, never with profiling.
    derogated = bool(points) and claimed and not product and not a.profiles_natural_persons
    annex_high = bool(points) and not derogated
    high = product or annex_high
    legislation = annex_i_points().get(a.annex_i_legislation or "")
    if product and legislation is not None and legislation["section"] == "B" and not annex_high:
        found: set[str] = set()  # Art. 2(2)
    else:
        not_point_2 = [p for p in points if p != "2"]
        deployer = role is OperatorRole.DEPLOYER
        # Art. 25(1): another party becomes the provider of a high-risk system.
        provider = role is OperatorRole.PROVIDER or (high and a.value_chain_trigger is not None)
        found = set()
        if role in {OperatorRole.PROVIDER, OperatorRole.DEPLOYER}:
            found.add("Art. 4")
        if high and provider:
            found.add("Art. 16")
            if not a.established_in_union:
                found.add("Art. 22(1)")
            if annex_high and not_point_2:
                found.add("Art. 49(1)")
            if annex_high and "2" in points:
                found.add("Art. 49(5)")
        if high and deployer:
            found.add("Art. 26")
        if high and role is OperatorRole.IMPORTER:
            found.add("Art. 23")
        if high and role is OperatorRole.DISTRIBUTOR:
            found.add("Art. 24")
        if deployer and annex_high and not_point_2:
            found.add("Art. 86(1)")
            if a.deployer_category in ART_27_BODIES or {"5(b)", "5(c)"} & set(not_point_2):
                found.add("Art. 27(1)")
            if a.deployer_category is DeployerCategory.PUBLIC_AUTHORITY:
                found.add("Art. 49(3)")
            if rbi_use:  # Art. 5(2): FRIA (Art. 27) and registration (Art. 49) first
                found |= {"Art. 27(1)", "Art. 49(3)"}
        if derogated and role is OperatorRole.PROVIDER:
            found.add("Art. 49(2)")
        for trigger in a.transparency:
            ref, bound = TRANSPARENCY[trigger.value]
            if role is bound or (bound is OperatorRole.PROVIDER and provider):
                found.add(ref)
    if a.gpai_model and role is OperatorRole.PROVIDER:
        found |= {"Art. 53(1)(c)", "Art. 53(1)(d)"}
        lifted = a.gpai_open_source and not a.gpai_systemic_risk  # Art. 53(2), 54(6)
        if not lifted:
            found |= {"Art. 53(1)(a)", "Art. 53(1)(b)"}
            if not a.established_in_union:
                found.add("Art. 54(1)")
        if a.gpai_systemic_risk:
            found |= {"Art. 52(1)", "Art. 55(1)"}
    return found


@given(answers())
def test_every_duty_binds_exactly_the_party_its_paragraph_names(a: Answers) -> None:
    """Arts. 4, 16, 22(1), 23, 24, 26, 27(1), 49(1)-(3) and (5), 50(1)-(4), 52(1), 53(1)(a)-(d),
    53(2), 54(1), 54(6), 55(1), 86(1) and 2(2): the duties listed are exactly those the
    paragraphs put on the organisation in its role."""
    result = classify(a)
    if result.route in {Route.ART2_EXCLUDED, Route.ART5}:
        assert result.obligations == []  # Art. 2 exits; prohibited (Art. 5): nothing else
        return
    rbi_use = any(art5_exceptions()[e]["practice"] == "5(1)(h)" for e in result.art5_exceptions)
    assert refs(result) & DECIDED == expected_duties(a, result.annex_iii_points, rbi_use)


@given(
    answers(role=OperatorRole.DEPLOYER, scope_exclusion=None),
    st.sampled_from([e for e in Art5Exception if art5_exceptions()[e]["practice"] == "5(1)(h)"]),
    st.booleans(),
)
def test_a_deployers_rbi_use_under_an_exception_binds_the_paragraphs_parties(
    a: Answers, objective: Art5Exception, authorised: bool
) -> None:
    """Art. 5(1)(h)(i)-(iii) with Art. 5(2), 5(3), 5(5): with every condition the use is not
    prohibited (Annex III point 1(a), Arts. 26, 27(1), 49(3), 86(1) by Art. 5(2)); without the
    prior authorisation (Art. 5(3)) it stays prohibited, whatever else was answered."""
    conditions = list(RbiCondition) if authorised else [RbiCondition.TARGETED_AND_LIMITED]
    values = a.model_dump() | {
        "prohibited_practices": ["5(1)(h)"],
        "art5_exceptions": [objective],
        "rbi_conditions": conditions,
        "exemption": None,
        "exemption_rationale": None,
        "provider_documented_exemption": False,
        # Real-time remote identification is not "verification only" (refused together).
        "annex_iii_carve_outs": [
            c
            for c in a.annex_iii_carve_outs
            if c is not AnnexIIICarveOut.BIOMETRIC_VERIFICATION_ONLY
        ],
    }
    b = Answers.model_validate(values)
    result = classify(b)
    if not authorised:
        assert (result.tier, result.obligations) == (Tier.PROHIBITED, [])
        assert "Art. 5(3)" in result.articles
        return
    assert result.tier is Tier.HIGH and "1(a)" in result.annex_iii_points
    assert {"Art. 26", "Art. 27(1)", "Art. 49(3)", "Art. 86(1)"} <= refs(result)
    assert refs(result) & DECIDED == expected_duties(b, result.annex_iii_points, rbi_use=True)


@given(answers())
def test_art_27_1_read_from_a_stored_classification_follows_the_paragraph(a: Answers) -> None:
    """Art. 27(1): the impact-assessment requirement reads the duty from the stored result; a
    result stored without paragraph refs (first procedure) is decided again from its answers."""
    result = classify(a)
    owed = ART_27_REF in refs(result)
    stored_answers = a.model_dump(mode="json")
    assert owes_art_27(result.model_dump(mode="json"), stored_answers) is owed
    legacy = result.model_dump(mode="json")
    legacy["obligations"] = [
        {k: v for k, v in o.items() if k != "ref"} | {"article": "27"}
        for o in legacy["obligations"] or [{"title": "Art. 27 listed for every deployer"}]
    ]
    assert owes_art_27(legacy, stored_answers) is owed


# --- Art. 5: the exceptions written into the practices are asked ------------------------------


def test_art_5_exceptions_are_asked_with_their_practice_and_the_5_2_5_3_conditions() -> None:
    """Art. 5(1)(d), (f), (g), (h)(i)-(iii) and Art. 5(2), 5(3), 5(5): the questionnaire asks
    every exception written into a practice (grouped by it) and the conditions of an
    Art. 5(1)(h) use; a deployer is asked whether the provider documented an Art. 6(3)
    assessment (Art. 6(4))."""
    questions = {q.id: q for q in questionnaire().questions}
    options = {o.value: o for o in questions["art5_exceptions"].options}
    assert set(options) == {e.value for e in Art5Exception}
    assert {o.group for o in options.values()} == {"5(1)(d)", "5(1)(f)", "5(1)(g)", "5(1)(h)"}
    assert {options[e.value].ref for e in Art5Exception if "rbi" in e.value} == {
        "Art. 5(1)(h)(i)",
        "Art. 5(1)(h)(ii)",
        "Art. 5(1)(h)(iii)",
    }
    assert {o.ref for o in questions["rbi_conditions"].options} == {
        "Art. 5(2)",
        "Art. 5(3)",
        "Art. 5(5)",
    }
    documented = questions["provider_documented_exemption"]
    assert documented.shown_when is not None and "role!=provider" in documented.shown_when


def test_art_5_1_d_not_based_solely_on_profiling_is_not_prohibited_but_annex_iii_6_d() -> None:
    """Art. 5(1)(d) prohibits crime-risk assessment "based solely on the profiling of a natural
    person or on assessing their personality traits and characteristics". A risk assessment not
    based solely on profiling is asked for, is not prohibited and is routed to Annex III point
    6(d) ("not solely on the basis of the profiling"), both cited."""
    solely = run(role="provider", prohibited_practices=["5(1)(d)"])
    assert (solely.tier, solely.route) == (Tier.PROHIBITED, Route.ART5)
    result = run(
        role="provider",
        prohibited_practices=["5(1)(d)"],
        art5_exceptions=["crime_risk_not_solely_profiling"],
    )
    assert (result.tier, result.route) == (Tier.HIGH, Route.ANNEX_III)
    assert result.prohibited_practices == []
    assert result.art5_exceptions == [Art5Exception.CRIME_RISK_NOT_SOLELY_PROFILING]
    assert result.annex_iii_points == ["6(d)"]
    assert {"Art. 5(1)(d)", "Annex III point 6(d)", "Art. 6(2)"} <= set(result.articles)
    assert any("law enforcement" in r for r in result.reasons)


@given(
    answers(scope_exclusion=None),
    st.sampled_from([e for e in Art5Exception if art5_exceptions()[e]["practice"] != "5(1)(h)"]),
)
def test_an_exception_that_holds_lifts_its_practice_and_routes_to_annex_iii(
    a: Answers, exception: Art5Exception
) -> None:
    """Art. 5(1)(d), (f), (g): a system whose practice falls under the exception is not
    prohibited for it; it is high risk under the Annex III point that then applies (unless an
    Annex I product or another practice decides), with the Art. 5 paragraph and the point
    cited."""
    item = art5_exceptions()[exception]
    values = a.model_dump() | {
        "prohibited_practices": [item["practice"]],
        "art5_exceptions": [exception],
        "rbi_conditions": [],
        "exemption": None,
        "exemption_rationale": None,
        "provider_documented_exemption": False,
    }
    result = classify(Answers.model_validate(values))
    assert result.tier is Tier.HIGH
    assert result.prohibited_practices == []
    assert item["annex_iii_point"] in result.annex_iii_points
    assert {f"Art. {item['ref']}", f"Annex III point {item['annex_iii_point']}"} <= set(
        result.articles
    )


def test_art_5_2_rbi_use_under_an_exception_needs_the_fria_and_registration() -> None:
    """Art. 5(2): a use under Art. 5(1)(h)(i)-(iii) "shall be authorised only if the law
    enforcement authority has completed a fundamental rights impact assessment as provided for
    in Article 27 and has registered the system in the EU database according to Article 49":
    Arts. 27(1) and 49(3) are listed for that deployer whatever kind of body it answered."""
    for category in (None, "other"):
        result = run(
            role="deployer",
            deployer_category=category,
            prohibited_practices=["5(1)(h)"],
            art5_exceptions=["rbi_targeted_victim_search"],
            rbi_conditions=[
                "targeted_and_limited",
                "fria_and_registration",
                "prior_authorisation",
                "national_law_authorises",
            ],
        )
        assert result.tier is Tier.HIGH
        assert {"Art. 27(1)", "Art. 49(3)", "Art. 86(1)"} <= refs(result), category
        assert "Art. 5(2)" in result.articles
        assert any("Art. 5(2)" in r and "Art. 27" in r for r in result.reasons)


# --- Art. 49(4): the secure section -------------------------------------------------------------


def test_art_49_4_secure_section_for_law_enforcement_and_migration() -> None:
    """Art. 49(4): "For high-risk AI systems referred to in points 1, 6 and 7 of Annex III, in
    the areas of law enforcement, migration, asylum and border control management" the
    registration is in the secure non-public section. Areas 6 and 7 always; area 1 only when
    used in those areas, which the result says rather than asserting it."""
    police = run(role="provider", annex_iii_points=["6(a)"])
    assert "Art. 49(4)" in police.articles
    assert any("secure non-public section" in r and "area(s) 6" in r for r in police.reasons)
    workplace = run(
        role="provider",
        prohibited_practices=["5(1)(f)"],
        art5_exceptions=["emotion_recognition_medical_or_safety"],
    )
    assert "Art. 49(1)" in refs(workplace)
    (reason,) = [r for r in workplace.reasons if "Art. 49(4)" in r]
    assert "only when" in reason and "law enforcement" in reason
    assert "Art. 49(4)" not in run(role="provider", annex_iii_points=["4(a)"]).articles
    rbi = run(
        role="deployer",
        deployer_category="public_authority",
        prohibited_practices=["5(1)(h)"],
        art5_exceptions=["rbi_imminent_threat"],
        rbi_conditions=[
            "targeted_and_limited",
            "fria_and_registration",
            "prior_authorisation",
            "national_law_authorises",
        ],
    )
    assert "Art. 49(3)" in refs(rbi)  # Art. 5(1)(h) is law enforcement: area 1 is certain
    assert any("area(s) 1:" in r and "secure non-public section" in r for r in rbi.reasons)


# --- Art. 2 and Art. 22 ------------------------------------------------------------------------


@given(answers(role=OperatorRole.PROVIDER, established_in_union=False))
def test_art_22_1_binds_providers_of_high_risk_systems_established_outside_the_union(
    a: Answers,
) -> None:
    """Art. 22(1): "providers established in third countries" appoint an authorised
    representative for high-risk systems; established in the Union, never."""
    result = classify(a)
    inside = classify(Answers.model_validate(a.model_dump() | {"established_in_union": True}))
    assert "Art. 22(1)" not in refs(inside)
    section_b_only = result.annex_i_section == "B" and not result.annex_iii_points
    if result.tier is Tier.HIGH and not section_b_only:
        assert "Art. 22(1)" in refs(result)
    else:
        assert "Art. 22(1)" not in refs(result)


@given(answers(), st.sampled_from(list(ScopeExclusion)))
def test_art_2_exits_leave_nothing_to_do(a: Answers, exclusion: ScopeExclusion) -> None:
    """Art. 2(3), 2(6), 2(8) (not for testing in real-world conditions) and 2(10) (deployers
    only): outside the Regulation, whatever else was answered."""
    if (
        exclusion is ScopeExclusion.PERSONAL_NON_PROFESSIONAL
        and a.role is not OperatorRole.DEPLOYER
    ):
        return
    values = a.model_dump() | {"scope_exclusion": exclusion, "real_world_testing": False}
    result = classify(Answers.model_validate(values))
    assert (result.tier, result.route) == (Tier.MINIMAL, Route.ART2_EXCLUDED)
    assert result.obligations == [] and result.transparency == []
