"""The EU AI Act decision procedure, rule by rule: each test cites the paragraph it checks."""

from __future__ import annotations

from typing import Any

import pytest

from services.risk.classification.procedure import (
    Answers,
    Classification,
    InventoryFacts,
    RbiCondition,
    Route,
    Tier,
    classify,
)


def run(facts: InventoryFacts | None = None, **values: Any) -> Classification:
    return classify(Answers.model_validate(values), facts)


def refs(result: Classification) -> set[str]:
    return {o.ref or "" for o in result.obligations}


# --- Art. 2: scope ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exclusion", "role", "ref"),
    [
        ("military_defence_national_security", "provider", "Art. 2(3)"),
        ("scientific_research", "provider", "Art. 2(6)"),
        ("pre_market_research", "provider", "Art. 2(8)"),
        ("personal_non_professional", "deployer", "Art. 2(10)"),
    ],
)
def test_art_2_exclusions_leave_no_duties(exclusion: str, role: str, ref: str) -> None:
    """Art. 2(3), 2(6), 2(8), 2(10): outside the Regulation, even for an Art. 5 practice or an
    Annex III use."""
    result = run(
        role=role,
        scope_exclusion=exclusion,
        prohibited_practices=["5(1)(c)"],
        annex_iii_points=["4(a)"],
        transparency=["interacts_with_people"],
    )
    assert (result.tier, result.route) == (Tier.MINIMAL, Route.ART2_EXCLUDED)
    assert result.obligations == []
    assert result.articles == [ref]
    assert result.scope_exclusion == exclusion


def test_art_2_8_does_not_cover_real_world_testing() -> None:
    """Art. 2(8), last sentence: testing in real-world conditions is not excluded."""
    result = run(
        role="provider",
        scope_exclusion="pre_market_research",
        real_world_testing=True,
        annex_iii_points=["4(a)"],
    )
    assert (result.tier, result.route) == (Tier.HIGH, Route.ANNEX_III)
    assert result.scope_exclusion is None
    assert "Art. 2(8)" in result.articles


def test_art_2_10_is_for_deployers_only() -> None:
    """Art. 2(10): only obligations of deployers who are natural persons in personal use."""
    with pytest.raises(ValueError, match=r"2\(10\)"):
        Answers.model_validate({"role": "provider", "scope_exclusion": "personal_non_professional"})


# --- Art. 5: prohibited practices and their exceptions ----------------------------------------


def test_art_5_1_f_emotion_recognition_at_work_is_prohibited() -> None:
    """Art. 5(1)(f): emotion recognition in the workplace or education is prohibited."""
    result = run(role="deployer", prohibited_practices=["5(1)(f)"])
    assert (result.tier, result.route) == (Tier.PROHIBITED, Route.ART5)
    assert result.prohibited_practices == ["5(1)(f)"]


def test_art_5_1_f_medical_or_safety_exception_routes_to_annex_iii_1_c() -> None:
    """Art. 5(1)(f) "except where … for medical or safety reasons": not prohibited; high risk
    under Annex III point 1(c), both cited."""
    result = run(
        role="provider",
        prohibited_practices=["5(1)(f)"],
        art5_exceptions=["emotion_recognition_medical_or_safety"],
    )
    assert (result.tier, result.route) == (Tier.HIGH, Route.ANNEX_III)
    assert result.prohibited_practices == []
    assert result.art5_exceptions == ["emotion_recognition_medical_or_safety"]
    assert result.annex_iii_points == ["1(c)"]
    assert {"Art. 5(1)(f)", "Annex III point 1(c)", "Art. 6(2)"} <= set(result.articles)
    assert {"Art. 9", "Art. 16", "Art. 49(1)"} <= refs(result)


def test_art_5_1_d_solely_profiling_is_prohibited_but_supporting_human_assessment_is_6_d() -> None:
    """Art. 5(1)(d): prohibited only when "based solely on profiling"; supporting a human
    assessment on objective, verifiable facts is high risk under Annex III point 6(d)."""
    assert run(role="deployer", prohibited_practices=["5(1)(d)"]).tier is Tier.PROHIBITED
    result = run(
        role="deployer",
        prohibited_practices=["5(1)(d)"],
        art5_exceptions=["crime_risk_supports_human_assessment"],
        deployer_category="public_authority",
    )
    assert (result.tier, result.route) == (Tier.HIGH, Route.ANNEX_III)
    assert result.annex_iii_points == ["6(d)"]
    assert {"Art. 5(1)(d)", "Annex III point 6(d)"} <= set(result.articles)
    assert {"Art. 26", "Art. 27(1)", "Art. 49(3)", "Art. 86(1)"} <= refs(result)
    assert "Art. 49(4)" in result.articles  # law enforcement: non-public section


def test_art_5_1_g_dataset_labelling_routes_to_annex_iii_1_b() -> None:
    """Art. 5(1)(g), second sentence: labelling or filtering lawfully acquired biometric
    datasets is not prohibited; biometric categorisation is Annex III point 1(b)."""
    result = run(
        role="provider",
        prohibited_practices=["5(1)(g)"],
        art5_exceptions=["biometric_dataset_labelling_or_law_enforcement"],
    )
    assert result.tier is Tier.HIGH
    assert result.annex_iii_points == ["1(b)"]


def test_art_5_1_h_exception_needs_every_condition() -> None:
    """Art. 5(1)(h)(ii) with Art. 5(2), 5(3), 5(5): an objective alone does not lift the
    prohibition; the missing conditions are cited."""
    partial = run(
        role="deployer",
        prohibited_practices=["5(1)(h)"],
        art5_exceptions=["rbi_imminent_threat"],
        rbi_conditions=["prior_authorisation", "national_law_authorises"],
    )
    assert partial.tier is Tier.PROHIBITED
    assert {"Art. 5(1)(h)", "Art. 5(2)"} <= set(partial.articles)
    assert "Art. 5(3)" not in partial.articles
    assert any("Art. 5(2)" in r and "missing" in r for r in partial.reasons)

    full = run(
        role="deployer",
        prohibited_practices=["5(1)(h)"],
        art5_exceptions=["rbi_targeted_victim_search"],
        rbi_conditions=[c.value for c in RbiCondition],
    )
    assert (full.tier, full.route) == (Tier.HIGH, Route.ANNEX_III)
    assert full.annex_iii_points == ["1(a)"]
    assert {"Art. 5(1)(h)(i)", "Annex III point 1(a)"} <= set(full.articles)


def test_art_5_1_h_prohibits_the_use_not_placing_on_the_market() -> None:
    """Art. 5(1)(h) prohibits "the use": a provider of such a system is not prohibited; its
    system is Annex III point 1(a)."""
    result = run(role="provider", prohibited_practices=["5(1)(h)"])
    assert (result.tier, result.route) == (Tier.HIGH, Route.ANNEX_III)
    assert result.annex_iii_points == ["1(a)"]


def test_art_5_exceptions_do_not_lift_other_practices() -> None:
    """Art. 5(1): an exception to one practice leaves another listed practice prohibited."""
    result = run(
        role="provider",
        prohibited_practices=["5(1)(c)", "5(1)(f)"],
        art5_exceptions=["emotion_recognition_medical_or_safety"],
        transparency=["interacts_with_people"],
    )
    assert result.tier is Tier.PROHIBITED
    assert result.prohibited_practices == ["5(1)(c)"]
    assert result.obligations == [] and result.transparency == []


# --- Art. 6: high risk, Annex I and III, the Art. 6(3) derogation ----------------------------


def test_art_6_1_cites_the_annex_i_section_and_legislation() -> None:
    """Art. 6(1) with Annex I Section A point 11 (Regulation (EU) 2017/745)."""
    result = run(
        role="provider",
        annex_i_product=True,
        annex_i_third_party_assessment=True,
        annex_i_legislation="11",
    )
    assert (result.tier, result.route) == (Tier.HIGH, Route.ART6_1)
    assert (result.annex_i_section, result.annex_i_legislation) == ("A", "Regulation (EU) 2017/745")
    assert any(
        a.startswith("Annex I Section A point 11 (Regulation (EU) 2017/745")
        for a in result.articles
    )
    assert "Art. 49(1)" not in refs(result)  # Art. 49(1) registers Annex III systems only


def test_art_2_2_section_b_products_get_only_art_6_1() -> None:
    """Art. 2(2): for Annex I Section B products only Art. 6(1), Arts. 102-109 and 112 apply."""
    result = run(
        role="provider",
        annex_i_product=True,
        annex_i_third_party_assessment=True,
        annex_i_legislation="18",
    )
    assert result.tier is Tier.HIGH and result.annex_i_section == "B"
    assert result.obligations == []
    assert "Art. 2(2)" in result.articles


def test_art_6_3_is_irrelevant_for_an_art_6_1_product() -> None:
    """Art. 6(3) derogates "from paragraph 2" only: for an Art. 6(1) product it is irrelevant
    and no exemption is recorded."""
    result = run(
        role="provider",
        annex_i_product=True,
        annex_i_third_party_assessment=True,
        annex_i_legislation="11",
        annex_iii_points=["5(d)"],
        exemption="preparatory_task",
        exemption_rationale="Sorts calls before a human dispatcher reads them",
    )
    assert (result.tier, result.route) == (Tier.HIGH, Route.ART6_1)
    assert result.exemption is None
    assert not any(a.startswith("Art. 6(3)") for a in result.articles)
    assert any("irrelevant" in r for r in result.reasons)


def test_art_6_3_provider_derogation_cites_the_letter_and_registers_under_49_2() -> None:
    """Art. 6(3)(d), 6(4) and 49(2): the provider documents and registers its assessment."""
    result = run(
        role="provider",
        annex_iii_points=["4(a)"],
        exemption="preparatory_task",
        exemption_rationale="De-duplicates applications before human review",
    )
    assert (result.tier, result.route) == (Tier.MINIMAL, Route.ART6_3_EXEMPT)
    assert {"Art. 6(3)(d)", "Art. 6(4)", "Art. 49(2)"} <= set(result.articles)
    assert {"Art. 6(4)", "Art. 49(2)"} <= refs(result)
    assert not result.exemption_documented_by_provider


def test_art_6_4_deployer_relies_on_the_providers_documented_assessment() -> None:
    """Art. 6(4): the derogation is the provider's; a deployer answers whether the provider
    documented one and owes no Art. 49(2) registration itself."""
    with pytest.raises(ValueError, match=r"provider's assessment"):
        Answers.model_validate(
            {"role": "deployer", "annex_iii_points": ["4(a)"], "exemption": "preparatory_task"}
        )
    result = run(
        role="deployer",
        annex_iii_points=["4(a)"],
        provider_documented_exemption=True,
        exemption="preparatory_task",
    )
    assert result.route is Route.ART6_3_EXEMPT
    assert result.exemption_documented_by_provider
    assert "Art. 49(2)" not in refs(result)
    without = run(role="deployer", annex_iii_points=["4(a)"])
    assert without.tier is Tier.HIGH


def test_several_annex_iii_points_are_each_recorded_and_cited() -> None:
    """Art. 6(2) with Annex III: every point the system falls under is recorded and cited."""
    result = run(role="provider", annex_iii_points=["5(b)", "4(a)"])
    assert result.annex_iii_points == ["4(a)", "5(b)"]
    assert {"Annex III point 4(a)", "Annex III point 5(b)"} <= set(result.articles)
    assert result.annex_iii_point == "4(a)"


@pytest.mark.parametrize(
    ("carve_out", "point"),
    [
        ("biometric_verification_only", "1(a)"),
        ("financial_fraud_detection", "5(b)"),
        ("travel_document_verification", "7(d)"),
        ("campaign_administration_tools", "8(b)"),
    ],
)
def test_annex_iii_carve_outs_have_their_own_route(carve_out: str, point: str) -> None:
    """Annex III points 1(a), 5(b), 7(d), 8(b) exclude these uses: own route, point cited."""
    result = run(role="provider", annex_iii_carve_outs=[carve_out])
    assert (result.tier, result.route) == (Tier.MINIMAL, Route.ANNEX_III_CARVE_OUT)
    assert f"Annex III point {point}" in result.articles
    assert result.annex_iii_carve_outs == [carve_out]


# --- Arts. 22, 25, 26, 27, 49, 86: who owes what ---------------------------------------------


def test_art_22_only_for_providers_established_outside_the_union() -> None:
    """Art. 22(1): providers established in third countries appoint an authorised
    representative."""
    assert "Art. 22(1)" not in refs(run(role="provider", annex_iii_points=["4(a)"]))
    outside = run(role="provider", annex_iii_points=["4(a)"], established_in_union=False)
    assert "Art. 22(1)" in refs(outside)


@pytest.mark.parametrize(
    ("category", "points", "art_27", "art_49_3"),
    [
        (None, ["4(a)"], False, False),
        ("other", ["4(a)"], False, False),
        ("public_authority", ["4(a)"], True, True),
        ("body_governed_by_public_law", ["3(a)"], True, False),
        ("private_entity_providing_public_services", ["5(d)"], True, False),
        ("other", ["5(b)"], True, False),
        (None, ["5(c)"], True, False),
        ("public_authority", ["2"], False, False),
    ],
)
def test_art_27_and_49_3_bind_only_the_deployers_they_name(
    category: str | None, points: list[str], art_27: bool, art_49_3: bool
) -> None:
    """Art. 27(1): bodies governed by public law, private entities providing public services,
    deployers of Annex III 5(b)/5(c); never Annex III point 2. Art. 49(3): public-authority
    deployers, not point 2."""
    result = run(role="deployer", annex_iii_points=points, deployer_category=category)
    assert result.tier is Tier.HIGH
    assert ("Art. 27(1)" in refs(result)) is art_27
    assert ("Art. 49(3)" in refs(result)) is art_49_3
    assert "Art. 26" in refs(result)


@pytest.mark.parametrize("role", ["provider", "importer", "distributor"])
def test_art_27_and_86_never_bind_other_roles(role: str) -> None:
    """Art. 27(1) and Art. 86(1) address the deployer only."""
    result = run(role=role, annex_iii_points=["5(b)"])
    assert not {"Art. 27(1)", "Art. 86(1)", "Art. 26", "Art. 49(3)"} & refs(result)


def test_art_49_1_and_86_cover_annex_iii_except_point_2() -> None:
    """Art. 49(1) (provider) and Art. 86(1) (deployer) exclude Annex III point 2, which is
    registered at national level (Art. 49(5)); neither applies to Art. 6(1)-only products."""
    provider = run(role="provider", annex_iii_points=["2"])
    assert "Art. 49(1)" not in refs(provider) and "Art. 49(5)" in refs(provider)
    deployer = run(role="deployer", annex_iii_points=["2"], deployer_category="public_authority")
    assert "Art. 86(1)" not in refs(deployer)
    product = run(role="deployer", annex_i_product=True, annex_i_third_party_assessment=True)
    assert "Art. 86(1)" not in refs(product) and "Art. 26" in refs(product)
    assert "Art. 86(1)" in refs(run(role="deployer", annex_iii_points=["4(b)"]))
    assert "Art. 49(4)" not in run(role="provider", annex_iii_points=["4(b)"]).articles


def test_art_25_makes_a_deployer_the_provider() -> None:
    """Art. 25(1)(a): a deployer that puts its name on a high-risk system takes on the provider
    obligations (Art. 16) and keeps its own (Art. 26)."""
    result = run(
        role="deployer", annex_iii_points=["4(a)"], value_chain_trigger="own_name_or_trademark"
    )
    assert {"Art. 25(1)", "Art. 16", "Art. 49(1)", "Art. 26"} <= refs(result)
    assert "Art. 25(1)(a)" in result.articles
    assert "Art. 16" not in refs(run(role="deployer", annex_iii_points=["4(a)"]))


# --- Art. 50: per paragraph and per role -----------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "ref", "bound"),
    [
        ("interacts_with_people", "Art. 50(1)", "provider"),
        ("generates_synthetic_content", "Art. 50(2)", "provider"),
        ("emotion_recognition_or_biometric_categorisation", "Art. 50(3)", "deployer"),
        ("deep_fakes", "Art. 50(4)", "deployer"),
    ],
)
def test_art_50_paragraphs_bind_their_role(trigger: str, ref: str, bound: str) -> None:
    """Art. 50(1)/(2) bind providers, 50(3)/(4) deployers; the system is limited risk either
    way."""
    for role in ("provider", "deployer", "importer"):
        result = run(role=role, transparency=[trigger])
        assert (result.tier, result.route) == (Tier.LIMITED, Route.ART50)
        assert ref in result.articles
        assert (ref in refs(result)) is (role == bound), (role, ref)


# --- Arts. 51-55: general-purpose AI models ---------------------------------------------------


def test_gpai_model_provider_has_its_own_route_and_duties() -> None:
    """Art. 53(1)(a)-(d) bind the provider of a general-purpose AI model; own route."""
    result = run(role="provider", gpai_model=True)
    assert (result.tier, result.route) == (Tier.MINIMAL, Route.GPAI)
    assert {"Art. 53(1)(a)", "Art. 53(1)(b)", "Art. 53(1)(c)", "Art. 53(1)(d)"} <= refs(result)
    assert not {"Art. 55(1)", "Art. 54(1)"} & refs(result)


def test_gpai_duties_do_not_bind_deployers() -> None:
    """Arts. 53-55 address providers of general-purpose AI models, not deployers."""
    result = run(role="deployer", gpai_model=True, gpai_systemic_risk=True)
    assert not {o for o in result.obligations if o.article in {"52", "53", "54", "55"}}


def test_art_53_2_open_source_carve_out_and_not_for_systemic_risk() -> None:
    """Art. 53(2): open-source models are exempt from 53(1)(a)/(b), except with systemic risk;
    Art. 54(6) likewise for the authorised representative (Art. 54(1))."""
    open_model = run(
        role="provider", gpai_model=True, gpai_open_source=True, established_in_union=False
    )
    assert {"Art. 53(1)(c)", "Art. 53(1)(d)"} <= refs(open_model)
    assert not {"Art. 53(1)(a)", "Art. 53(1)(b)", "Art. 54(1)"} & refs(open_model)
    assert "Art. 53(2)" in open_model.articles

    systemic = run(
        role="provider",
        gpai_model=True,
        gpai_open_source=True,
        gpai_systemic_risk=True,
        established_in_union=False,
    )
    assert {"Art. 53(1)(a)", "Art. 53(1)(b)", "Art. 54(1)", "Art. 52(1)", "Art. 55(1)"} <= refs(
        systemic
    )


# --- Warnings from inventory facts ------------------------------------------------------------


def test_inventory_sector_pointing_to_annex_iii_warns_when_no_point_is_answered() -> None:
    """Annex III area 4: the inventory says employment, the answers name no area-4 point."""
    facts = InventoryFacts(sector="hiring_employment", intended_purpose="Rank job applications")
    result = run(facts, role="deployer", transparency=["interacts_with_people"])
    assert [(w.code, w.annex_iii_area, w.fact) for w in result.warnings] == [
        ("annex_iii_area_indicated", "4", "sector")
    ]
    answered = run(facts, role="deployer", annex_iii_points=["4(a)"])
    assert answered.warnings == []


def test_intended_purpose_alone_can_point_to_an_area() -> None:
    """Annex III point 5(b): a credit-scoring purpose with no Annex III answer warns."""
    result = run(
        InventoryFacts(intended_purpose="Credit scoring of loan applicants"), role="provider"
    )
    assert {(w.annex_iii_area, w.fact) for w in result.warnings} == {("5", "intended_purpose")}
    general = run(InventoryFacts(sector="general", intended_purpose="Spam filter"), role="provider")
    assert general.warnings == []
