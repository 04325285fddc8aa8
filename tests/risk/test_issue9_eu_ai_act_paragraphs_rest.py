"""Issue 9, one rule per test, through the public REST API: each case names the paragraph of
Regulation (EU) 2024/1689 it checks, sends the questionnaire answers to
``POST /v1/systems/{id}/classifications`` and reads what a user reads (tier, route, the duties'
paragraph refs, the citations, the Annex III points, the warnings).

The wording each case checks against (Official Journal text):

* Art. 2(3) "exclusively for military, defence or national security purposes"; 2(6) "for the
  sole purpose of scientific research and development"; 2(8) "research, testing or development
  activity ... prior to their being placed on the market ... Testing in real world conditions
  shall not be covered by that exclusion"; 2(10) "deployers who are natural persons using AI
  systems in the course of a purely personal non-professional activity".
* Art. 5(1)(d) "based solely on the profiling of a natural person ... this prohibition shall not
  apply to AI systems used to support the human assessment ... already based on objective and
  verifiable facts" (Annex III point 6(d) then: "not solely on the basis of profiling").
* Art. 5(1)(f) emotion recognition at work or in education "except where ... for medical or
  safety reasons" (Annex III point 1(c)); 5(1)(g) "does not cover any labelling or filtering of
  lawfully acquired biometric datasets ... or categorizing of biometric data in the area of law
  enforcement" (Annex III point 1(b)).
* Art. 5(1)(h)(i)-(iii), with 5(2) (FRIA under Art. 27 and registration under Art. 49 first),
  5(3) (prior authorisation) and 5(5) (national law); 5(1)(h) prohibits "the use" only.
* Art. 6(1) (Annex I product with third-party conformity assessment), 6(2) (Annex III), 6(3)
  "By derogation from paragraph 2" with its letters (a)-(d) and "shall always be considered to
  be high-risk where the AI system performs profiling", 6(4) "A provider who considers ...
  shall document its assessment"; Art. 2(2) for Annex I Section B.
* Art. 22(1) "providers established in third countries"; Art. 25(1)(a) own name or trademark.
* Art. 27(1) "with the exception of ... point 2 of Annex III, deployers that are bodies governed
  by public law, or are private entities providing public services, and deployers of ... points
  5 (b) and (c) of Annex III"; Art. 49(1) providers, 49(2) the 6(3) provider, 49(3) "deployers
  that are public authorities ..." (point 2 excepted), 49(4) points 1, 6, 7 in law enforcement
  and migration, 49(5) point 2 nationally; Art. 86(1) "listed in Annex III, with the exception
  of systems listed under point 2".
* Art. 50(1)/(2) providers, 50(3)/(4) deployers; Art. 5 practices get none.
* Arts. 51-55: providers of general-purpose AI models; 53(2) and 54(6) for free and open-source
  models "unless ... systemic risks".
* Annex III carve-outs: 1(a) "biometric verification ... sole purpose", 5(b) "detecting
  financial fraud", 7(d) "verification of travel documents", 8(b) administrative campaign tools.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.db import uuid7
from tests.risk.test_eu_ai_act_impact_api import put_system

pytestmark = pytest.mark.engines

ALL_RBI_CONDITIONS = [
    "targeted_and_limited",
    "fria_and_registration",
    "prior_authorisation",
    "national_law_authorises",
]
PROVIDER_HIGH_RISK = {"Art. 9", "Art. 16", "Art. 17", "Art. 43", "Art. 72"}
CHAPTER_V = ("Art. 51", "Art. 52", "Art. 53", "Art. 54", "Art. 55")


@dataclass(frozen=True)
class Case:
    """Answers and what the paragraph says follows."""

    answers: dict[str, Any]
    tier: str | None = None
    route: str | None = None
    duties: set[str] = field(default_factory=set)  # refs that must be listed
    no_duties: set[str] = field(default_factory=set)  # refs that must not be
    cites: set[str] = field(default_factory=set)  # citations (``articles``)
    points: list[str] | None = None
    check: Callable[[dict[str, Any]], None] | None = None
    facts: str = "plain"  # which system: "plain" or "hiring" (sector points to area 4)


def _no_duties_at_all(result: dict[str, Any]) -> None:
    assert result["obligations"] == [], result["obligations"]


def _no_chapter_v(result: dict[str, Any]) -> None:
    assert not [o for o in result["obligations"] if o["ref"].startswith(CHAPTER_V)]


def _warns_area_4(result: dict[str, Any]) -> None:
    assert [(w["code"], w["annex_iii_area"], w["fact"]) for w in result["warnings"]] == [
        ("annex_iii_area_indicated", "4", "sector")
    ]


def _quiet(result: dict[str, Any]) -> None:
    assert result["warnings"] == []


def _medical_devices_regulation(result: dict[str, Any]) -> None:
    assert (result["annex_i_section"], result["annex_i_legislation"]) == (
        "A",
        "Regulation (EU) 2017/745",
    )
    assert any(a.startswith("Annex I Section A point 11") for a in result["articles"])


def _documented_by_provider(result: dict[str, Any]) -> None:
    assert result["exemption_documented_by_provider"] is True
    assert result["exemption"] == "preparatory_task"


def _irrelevant_6_3(result: dict[str, Any]) -> None:
    assert result["exemption"] is None
    assert any("irrelevant" in reason for reason in result["reasons"])
    assert not {a for a in result["articles"] if a.startswith("Art. 6(3)")}


CASES: dict[str, Case] = {
    # --- Art. 2 ----------------------------------------------------------------------------------
    "Art. 2(3) military": Case(
        {
            "role": "provider",
            "scope_exclusion": "military_defence_national_security",
            "annex_iii_points": ["6(a)"],
        },
        "minimal",
        "art2_excluded",
        cites={"Art. 2(3)"},
        check=_no_duties_at_all,
    ),
    "Art. 2(6) research": Case(
        {
            "role": "provider",
            "scope_exclusion": "scientific_research",
            "transparency": ["interacts_with_people"],
        },
        "minimal",
        "art2_excluded",
        cites={"Art. 2(6)"},
        check=_no_duties_at_all,
    ),
    "Art. 2(8) pre-market research": Case(
        {"role": "provider", "scope_exclusion": "pre_market_research"},
        "minimal",
        "art2_excluded",
        cites={"Art. 2(8)"},
        check=_no_duties_at_all,
    ),
    "Art. 2(8) real-world testing is not excluded": Case(
        {
            "role": "provider",
            "scope_exclusion": "pre_market_research",
            "real_world_testing": True,
            "annex_iii_points": ["4(a)"],
        },
        "high",
        "annex_iii",
        duties={"Art. 49(1)"},
        cites={"Art. 2(8)", "Art. 6(2)"},
    ),
    "Art. 2(10) personal use": Case(
        {"role": "deployer", "scope_exclusion": "personal_non_professional"},
        "minimal",
        "art2_excluded",
        cites={"Art. 2(10)"},
        check=_no_duties_at_all,
    ),
    # --- Art. 5 and its exceptions ---------------------------------------------------------------
    "Art. 5(1)(d) solely profiling is prohibited": Case(
        {
            "role": "provider",
            "prohibited_practices": ["5(1)(d)"],
            "transparency": ["interacts_with_people"],
        },
        "prohibited",
        "art5",
        cites={"Art. 5(1)(d)"},
        check=_no_duties_at_all,
    ),
    "Art. 5(1)(d) not solely profiling -> Annex III 6(d)": Case(
        {
            "role": "provider",
            "prohibited_practices": ["5(1)(d)"],
            "art5_exceptions": ["crime_risk_not_solely_profiling"],
        },
        "high",
        "annex_iii",
        duties={"Art. 49(1)"},
        points=["6(d)"],
        cites={"Art. 5(1)(d)", "Annex III point 6(d)", "Art. 6(2)", "Art. 49(4)"},
    ),
    "Art. 5(1)(d) supports a human assessment -> Annex III 6(d)": Case(
        {
            "role": "deployer",
            "prohibited_practices": ["5(1)(d)"],
            "art5_exceptions": ["crime_risk_supports_human_assessment"],
            "deployer_category": "public_authority",
        },
        "high",
        "annex_iii",
        duties={"Art. 26", "Art. 27(1)", "Art. 49(3)", "Art. 86(1)"},
        points=["6(d)"],
        cites={"Art. 5(1)(d)", "Annex III point 6(d)"},
    ),
    "Art. 5(1)(f) emotion recognition at work is prohibited": Case(
        {"role": "deployer", "prohibited_practices": ["5(1)(f)"]},
        "prohibited",
        "art5",
        cites={"Art. 5(1)(f)"},
        check=_no_duties_at_all,
    ),
    "Art. 5(1)(f) medical or safety reasons -> Annex III 1(c)": Case(
        {
            "role": "provider",
            "prohibited_practices": ["5(1)(f)"],
            "art5_exceptions": ["emotion_recognition_medical_or_safety"],
        },
        "high",
        "annex_iii",
        duties=PROVIDER_HIGH_RISK | {"Art. 49(1)"},
        points=["1(c)"],
        cites={"Art. 5(1)(f)", "Annex III point 1(c)", "Art. 6(2)"},
    ),
    "Art. 5(1)(g) dataset labelling -> Annex III 1(b)": Case(
        {
            "role": "provider",
            "prohibited_practices": ["5(1)(g)"],
            "art5_exceptions": ["biometric_dataset_labelling_or_law_enforcement"],
        },
        "high",
        "annex_iii",
        points=["1(b)"],
        cites={"Art. 5(1)(g)", "Annex III point 1(b)"},
    ),
    "Art. 5(1)(h)(i) with 5(2), 5(3), 5(5) -> Annex III 1(a)": Case(
        {
            "role": "deployer",
            "prohibited_practices": ["5(1)(h)"],
            "art5_exceptions": ["rbi_targeted_victim_search"],
            "rbi_conditions": ALL_RBI_CONDITIONS,
            "deployer_category": "other",
        },
        "high",
        "annex_iii",
        duties={"Art. 26", "Art. 27(1)", "Art. 49(3)", "Art. 86(1)"},
        points=["1(a)"],
        cites={"Art. 5(1)(h)(i)", "Art. 5(2)", "Art. 49(4)"},
    ),
    "Art. 5(1)(h)(ii) without 5(3) authorisation stays prohibited": Case(
        {
            "role": "deployer",
            "prohibited_practices": ["5(1)(h)"],
            "art5_exceptions": ["rbi_imminent_threat"],
            "rbi_conditions": ["targeted_and_limited", "fria_and_registration"],
        },
        "prohibited",
        "art5",
        cites={"Art. 5(3)", "Art. 5(5)"},
        check=_no_duties_at_all,
    ),
    "Art. 5(1)(h)(iii) suspect of an Annex II offence": Case(
        {
            "role": "deployer",
            "prohibited_practices": ["5(1)(h)"],
            "art5_exceptions": ["rbi_suspect_of_annex_ii_offence"],
            "rbi_conditions": ALL_RBI_CONDITIONS,
            "deployer_category": "public_authority",
        },
        "high",
        "annex_iii",
        duties={"Art. 27(1)", "Art. 49(3)"},
        points=["1(a)"],
        cites={"Art. 5(1)(h)(iii)"},
    ),
    "Art. 5(1)(h) binds the use: a provider is routed to Annex III 1(a)": Case(
        {"role": "provider", "prohibited_practices": ["5(1)(h)"]},
        "high",
        "annex_iii",
        duties={"Art. 49(1)"},
        no_duties={"Art. 27(1)", "Art. 26"},
        points=["1(a)"],
        cites={"Art. 5(1)(h)", "Annex III point 1(a)"},
    ),
    "Art. 5 exception does not lift another practice": Case(
        {
            "role": "provider",
            "prohibited_practices": ["5(1)(a)", "5(1)(f)"],
            "art5_exceptions": ["emotion_recognition_medical_or_safety"],
        },
        "prohibited",
        "art5",
        cites={"Art. 5(1)(a)"},
        check=_no_duties_at_all,
    ),
    # --- Art. 6 ----------------------------------------------------------------------------------
    "Art. 6(1) cites the Annex I section and legislation": Case(
        {
            "role": "provider",
            "annex_i_product": True,
            "annex_i_third_party_assessment": True,
            "annex_i_legislation": "11",
        },
        "high",
        "art6_1",
        duties=PROVIDER_HIGH_RISK,
        no_duties={"Art. 49(1)"},
        cites={"Art. 6(1)"},
        check=_medical_devices_regulation,
    ),
    "Art. 6(1)(b) not met without third-party assessment": Case(
        {"role": "provider", "annex_i_product": True},
        "minimal",
        "none",
        no_duties=PROVIDER_HIGH_RISK,
    ),
    "Art. 2(2) Annex I Section B product gets only Art. 6(1)": Case(
        {
            "role": "provider",
            "annex_i_product": True,
            "annex_i_third_party_assessment": True,
            "annex_i_legislation": "15",
            "transparency": ["interacts_with_people"],
        },
        "high",
        "art6_1",
        cites={"Art. 6(1)", "Art. 2(2)"},
        check=_no_duties_at_all,
    ),
    "Art. 6(3) irrelevant for an Art. 6(1) product": Case(
        {
            "role": "provider",
            "annex_i_product": True,
            "annex_i_third_party_assessment": True,
            "annex_iii_points": ["5(d)"],
            "exemption": "preparatory_task",
            "exemption_rationale": "Sorts calls before a dispatcher reads them",
        },
        "high",
        "art6_1",
        no_duties={"Art. 49(2)", "Art. 6(4)"},
        check=_irrelevant_6_3,
    ),
    "Art. 6(3)(a) provider derogation, 6(4) and 49(2)": Case(
        {
            "role": "provider",
            "annex_iii_points": ["4(a)"],
            "exemption": "narrow_procedural_task",
            "exemption_rationale": "Converts CVs to text only",
        },
        "minimal",
        "art6_3_exempt",
        duties={"Art. 6(4)", "Art. 49(2)"},
        no_duties={"Art. 49(1)"} | PROVIDER_HIGH_RISK,
        cites={"Art. 6(3)(a)", "Art. 6(4)"},
    ),
    "Art. 6(3) last subparagraph: profiling defeats the derogation": Case(
        {
            "role": "provider",
            "annex_iii_points": ["4(a)"],
            "exemption": "narrow_procedural_task",
            "exemption_rationale": "x",
            "profiles_natural_persons": True,
        },
        "high",
        "annex_iii",
        duties={"Art. 49(1)"},
        no_duties={"Art. 49(2)"},
    ),
    "Art. 6(4) a deployer relies on the provider's documented assessment": Case(
        {
            "role": "deployer",
            "annex_iii_points": ["4(a)"],
            "exemption": "preparatory_task",
            "provider_documented_exemption": True,
        },
        "minimal",
        "art6_3_exempt",
        no_duties={"Art. 49(2)", "Art. 6(4)", "Art. 26"},
        cites={"Art. 6(3)(d)", "Art. 6(4)"},
        check=_documented_by_provider,
    ),
    # --- Annex III points and carve-outs ---------------------------------------------------------
    "Annex III several points each recorded and cited": Case(
        {"role": "provider", "annex_iii_points": ["8(a)", "4(a)", "5(b)"]},
        "high",
        "annex_iii",
        points=["4(a)", "5(b)", "8(a)"],
        cites={"Annex III point 4(a)", "Annex III point 5(b)", "Annex III point 8(a)"},
    ),
    "Annex III 1(a) carve-out: biometric verification only": Case(
        {"role": "provider", "annex_iii_carve_outs": ["biometric_verification_only"]},
        "minimal",
        "annex_iii_carve_out",
        cites={"Annex III point 1(a)"},
    ),
    "Annex III 5(b) carve-out: financial fraud detection": Case(
        {"role": "deployer", "annex_iii_carve_outs": ["financial_fraud_detection"]},
        "minimal",
        "annex_iii_carve_out",
        cites={"Annex III point 5(b)"},
        no_duties={"Art. 26", "Art. 27(1)"},
    ),
    "Annex III 7(d) carve-out: travel document verification": Case(
        {"role": "provider", "annex_iii_carve_outs": ["travel_document_verification"]},
        "minimal",
        "annex_iii_carve_out",
        cites={"Annex III point 7(d)"},
    ),
    "Annex III 8(b) carve-out: campaign administration tools": Case(
        {"role": "provider", "annex_iii_carve_outs": ["campaign_administration_tools"]},
        "minimal",
        "annex_iii_carve_out",
        cites={"Annex III point 8(b)"},
    ),
    # --- Arts. 22, 25 ----------------------------------------------------------------------------
    "Art. 22(1) provider established outside the Union": Case(
        {"role": "provider", "established_in_union": False, "annex_iii_points": ["4(a)"]},
        "high",
        "annex_iii",
        duties={"Art. 22(1)"},
    ),
    "Art. 22(1) not for a provider established in the Union": Case(
        {"role": "provider", "annex_iii_points": ["4(a)"]},
        "high",
        "annex_iii",
        no_duties={"Art. 22(1)"},
    ),
    "Art. 22(1) not for a deployer": Case(
        {"role": "deployer", "established_in_union": False, "annex_iii_points": ["4(a)"]},
        "high",
        "annex_iii",
        no_duties={"Art. 22(1)"},
    ),
    "Art. 25(1)(a) a deployer putting its name on the system becomes the provider": Case(
        {
            "role": "deployer",
            "annex_iii_points": ["4(a)"],
            "value_chain_trigger": "own_name_or_trademark",
        },
        "high",
        "annex_iii",
        duties={"Art. 25(1)", "Art. 49(1)", "Art. 26"} | PROVIDER_HIGH_RISK,
        cites={"Art. 25(1)(a)"},
    ),
    # --- Arts. 27, 49, 86 ------------------------------------------------------------------------
    "Art. 27(1) body governed by public law": Case(
        {
            "role": "deployer",
            "deployer_category": "body_governed_by_public_law",
            "annex_iii_points": ["4(a)"],
        },
        "high",
        "annex_iii",
        duties={"Art. 27(1)", "Art. 86(1)"},
        no_duties={"Art. 49(3)"},
    ),
    "Art. 27(1) private entity providing public services": Case(
        {
            "role": "deployer",
            "deployer_category": "private_entity_providing_public_services",
            "annex_iii_points": ["3(a)"],
        },
        "high",
        "annex_iii",
        duties={"Art. 27(1)"},
        no_duties={"Art. 49(3)"},
    ),
    "Art. 27(1) any deployer of Annex III 5(b)": Case(
        {"role": "deployer", "deployer_category": "other", "annex_iii_points": ["5(b)"]},
        "high",
        "annex_iii",
        duties={"Art. 27(1)"},
    ),
    "Art. 27(1) any deployer of Annex III 5(c)": Case(
        {"role": "deployer", "annex_iii_points": ["5(c)"]},
        "high",
        "annex_iii",
        duties={"Art. 27(1)"},
    ),
    "Art. 27(1) not a private deployer of Annex III 4(a)": Case(
        {"role": "deployer", "deployer_category": "other", "annex_iii_points": ["4(a)"]},
        "high",
        "annex_iii",
        duties={"Art. 26", "Art. 86(1)"},
        no_duties={"Art. 27(1)"},
    ),
    "Art. 27(1) not the provider": Case(
        {"role": "provider", "annex_iii_points": ["5(b)"]},
        "high",
        "annex_iii",
        no_duties={"Art. 27(1)", "Art. 86(1)"},
    ),
    "Art. 27(1), 49(3), 86(1) never Annex III point 2": Case(
        {"role": "deployer", "deployer_category": "public_authority", "annex_iii_points": ["2"]},
        "high",
        "annex_iii",
        duties={"Art. 26"},
        no_duties={"Art. 27(1)", "Art. 49(3)", "Art. 86(1)"},
    ),
    "Art. 49(1) provider registers; 49(5) point 2 nationally": Case(
        {"role": "provider", "annex_iii_points": ["2", "4(a)"]},
        "high",
        "annex_iii",
        duties={"Art. 49(1)", "Art. 49(5)"},
    ),
    "Art. 49(1) not for point 2 alone": Case(
        {"role": "provider", "annex_iii_points": ["2"]},
        "high",
        "annex_iii",
        duties={"Art. 49(5)"},
        no_duties={"Art. 49(1)"},
    ),
    "Art. 49(3) public-authority deployer": Case(
        {"role": "deployer", "deployer_category": "public_authority", "annex_iii_points": ["7(b)"]},
        "high",
        "annex_iii",
        duties={"Art. 49(3)", "Art. 27(1)", "Art. 86(1)"},
        cites={"Art. 49(4)"},
    ),
    "Art. 49(3) not a body governed by public law that is no public authority": Case(
        {
            "role": "deployer",
            "deployer_category": "body_governed_by_public_law",
            "annex_iii_points": ["3(b)"],
        },
        "high",
        "annex_iii",
        no_duties={"Art. 49(3)"},
    ),
    "Art. 86(1) Annex III deployers, not Art. 6(1) products": Case(
        {"role": "deployer", "annex_i_product": True, "annex_i_third_party_assessment": True},
        "high",
        "art6_1",
        duties={"Art. 26"},
        no_duties={"Art. 86(1)", "Art. 27(1)"},
    ),
    # --- Art. 50 ---------------------------------------------------------------------------------
    "Art. 50(1) provider: interaction": Case(
        {"role": "provider", "transparency": ["interacts_with_people"]},
        "limited",
        "art50",
        duties={"Art. 50(1)"},
        cites={"Art. 50(1)", "Art. 50(5)"},
    ),
    "Art. 50(1) not the deployer": Case(
        {"role": "deployer", "transparency": ["interacts_with_people"]},
        "limited",
        "art50",
        no_duties={"Art. 50(1)"},
        cites={"Art. 50(1)"},
    ),
    "Art. 50(2) provider: synthetic content": Case(
        {"role": "provider", "transparency": ["generates_synthetic_content"]},
        "limited",
        "art50",
        duties={"Art. 50(2)"},
    ),
    "Art. 50(3) deployer: emotion recognition or biometric categorisation": Case(
        {"role": "deployer", "transparency": ["emotion_recognition_or_biometric_categorisation"]},
        "limited",
        "art50",
        duties={"Art. 50(3)"},
    ),
    "Art. 50(3) not the provider": Case(
        {"role": "provider", "transparency": ["emotion_recognition_or_biometric_categorisation"]},
        "limited",
        "art50",
        no_duties={"Art. 50(3)"},
    ),
    "Art. 50(4) deployer: deep fakes": Case(
        {"role": "deployer", "transparency": ["deep_fakes"]},
        "limited",
        "art50",
        duties={"Art. 50(4)"},
    ),
    "Art. 50 none for a prohibited practice": Case(
        {
            "role": "deployer",
            "prohibited_practices": ["5(1)(b)"],
            "transparency": ["deep_fakes", "interacts_with_people"],
        },
        "prohibited",
        "art5",
        check=_no_duties_at_all,
    ),
    # --- Arts. 51-55 -----------------------------------------------------------------------------
    "Art. 53(1) GPAI provider: own route and duties": Case(
        {"role": "provider", "gpai_model": True},
        "minimal",
        "gpai",
        duties={"Art. 53(1)(a)", "Art. 53(1)(b)", "Art. 53(1)(c)", "Art. 53(1)(d)"},
        no_duties={"Art. 52(1)", "Art. 55(1)", "Art. 54(1)"},
    ),
    "Art. 53(2) open-source model: 53(1)(a)/(b) lifted": Case(
        {"role": "provider", "gpai_model": True, "gpai_open_source": True},
        "minimal",
        "gpai",
        duties={"Art. 53(1)(c)", "Art. 53(1)(d)"},
        no_duties={"Art. 53(1)(a)", "Art. 53(1)(b)"},
        cites={"Art. 53(2)"},
    ),
    "Art. 54(1) GPAI provider outside the Union": Case(
        {"role": "provider", "gpai_model": True, "established_in_union": False},
        "minimal",
        "gpai",
        duties={"Art. 54(1)"},
    ),
    "Art. 54(6) open-source model: no authorised representative": Case(
        {
            "role": "provider",
            "gpai_model": True,
            "gpai_open_source": True,
            "established_in_union": False,
        },
        "minimal",
        "gpai",
        no_duties={"Art. 54(1)"},
        cites={"Art. 54(6)"},
    ),
    "Art. 52(1), 55(1) systemic risk; 53(2) not for it": Case(
        {
            "role": "provider",
            "gpai_model": True,
            "gpai_systemic_risk": True,
            "gpai_open_source": True,
            "established_in_union": False,
        },
        "minimal",
        "gpai",
        duties={"Art. 52(1)", "Art. 55(1)", "Art. 53(1)(a)", "Art. 53(1)(b)", "Art. 54(1)"},
    ),
    "Arts. 51-55 not for a deployer of a GPAI model": Case(
        {"role": "deployer", "gpai_model": True, "gpai_systemic_risk": True},
        "minimal",
        "gpai",
        check=_no_chapter_v,
    ),
    # --- Warnings from inventory facts -----------------------------------------------------------
    "Annex III area 4 indicated by the inventory's sector, none answered": Case(
        {"role": "deployer", "transparency": ["interacts_with_people"]},
        "limited",
        "art50",
        check=_warns_area_4,
        facts="hiring",
    ),
    "Annex III area 4 answered: no warning": Case(
        {"role": "deployer", "annex_iii_points": ["4(a)"]},
        "high",
        "annex_iii",
        check=_quiet,
        facts="hiring",
    ),
}


@pytest.fixture(scope="module")
async def systems(stack: Any) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    """One organisation with two systems the risk service knows: a plain one, and one whose
    inventory facts (sector, intended purpose) point to Annex III area 4."""
    org = uuid7()
    plain = await put_system(stack, org, name="Plain", intended_purpose="Internal tooling")
    hiring = await put_system(
        stack,
        org,
        name="Hiring",
        sector="hiring_employment",
        intended_purpose="Rank job applications",
    )
    return org, {"plain": plain, "hiring": hiring}


def _refs(result: dict[str, Any]) -> set[str]:
    return {o["ref"] for o in result["obligations"]}


@pytest.mark.parametrize("paragraph", list(CASES))
async def test_each_paragraph_through_rest(
    stack: Any, systems: tuple[uuid.UUID, dict[str, uuid.UUID]], paragraph: str
) -> None:
    case = CASES[paragraph]
    org, ids = systems
    response = await stack.risk.post(
        f"/v1/systems/{ids[case.facts]}/classifications",
        json=case.answers,
        headers=stack.headers(org, "risk_owner"),
    )
    assert response.status_code == 201, response.text
    result = response.json()
    if case.tier is not None:
        assert result["tier"] == case.tier, (paragraph, result["reasons"])
    if case.route is not None:
        assert result["route"] == case.route, (paragraph, result["reasons"])
    refs = _refs(result)
    assert case.duties <= refs, (paragraph, sorted(refs))
    assert not case.no_duties & refs, (paragraph, sorted(case.no_duties & refs))
    assert case.cites <= set(result["articles"]), (paragraph, result["articles"])
    if case.points is not None:
        assert result["annex_iii_points"] == case.points, paragraph
    # Every duty names its paragraph and binds a party.
    assert all(o["ref"] and o["role"] for o in result["obligations"]), result["obligations"]
    if case.check is not None:
        case.check(result)
    # Read back as stored: the current classification says the same.
    current = await stack.risk.get(
        f"/v1/systems/{ids[case.facts]}/classification", headers=stack.headers(org, "viewer")
    )
    assert current.status_code == 200, current.text
    assert _refs(current.json()) == refs
    assert current.json()["articles"] == result["articles"]


REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "Art. 6(4): a deployer cannot claim the derogation itself": (
        {"role": "deployer", "annex_iii_points": ["4(a)"], "exemption": "narrow_procedural_task"},
        "provider_documented_exemption",
    ),
    "Art. 6(3): the provider's claim needs a rationale": (
        {"role": "provider", "annex_iii_points": ["4(a)"], "exemption": "narrow_procedural_task"},
        "rationale",
    ),
    "Art. 6(3): Annex III systems only": (
        {"role": "provider", "exemption": "narrow_procedural_task", "exemption_rationale": "x"},
        "Annex III",
    ),
    "Art. 2(10): deployers only": (
        {"role": "provider", "scope_exclusion": "personal_non_professional"},
        "Art. 2(10)",
    ),
    "Art. 5: an exception needs its practice": (
        {"role": "provider", "art5_exceptions": ["emotion_recognition_medical_or_safety"]},
        "5(1)(f)",
    ),
    "Art. 5(1)(h) with Annex III 1(a)'s verification-only carve-out": (
        {
            "role": "deployer",
            "prohibited_practices": ["5(1)(h)"],
            "art5_exceptions": ["rbi_imminent_threat"],
            "rbi_conditions": ALL_RBI_CONDITIONS,
            "annex_iii_carve_outs": ["biometric_verification_only"],
        },
        "cannot also be carved out",
    ),
    "Annex III: a point and its own carve-out": (
        {
            "role": "provider",
            "annex_iii_points": ["5(b)"],
            "annex_iii_carve_outs": ["financial_fraud_detection"],
        },
        "carved out",
    ),
    "Art. 51: systemic risk is for GPAI models": (
        {"role": "provider", "gpai_systemic_risk": True},
        "general-purpose",
    ),
}


@pytest.mark.parametrize("rule", list(REFUSED))
async def test_contradictory_answers_are_a_422_and_keep_the_classification(
    stack: Any, systems: tuple[uuid.UUID, dict[str, uuid.UUID]], rule: str
) -> None:
    """Answers the Regulation rules out are refused with a message naming the rule, and the
    current classification stays as it was."""
    answers, says = REFUSED[rule]
    org, ids = systems
    url = f"/v1/systems/{ids['plain']}/classification"
    before = await stack.risk.get(url, headers=stack.headers(org, "viewer"))
    response = await stack.risk.post(
        f"/v1/systems/{ids['plain']}/classifications",
        json=answers,
        headers=stack.headers(org, "risk_owner"),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert says in response.text, response.text
    after = await stack.risk.get(url, headers=stack.headers(org, "viewer"))
    assert after.status_code == before.status_code
    if before.status_code == 200:
        assert after.json()["version"] == before.json()["version"]
