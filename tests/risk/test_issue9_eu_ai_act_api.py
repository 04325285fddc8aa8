"""Issue 9 (EU AI Act duties to the right party), through the public REST and GraphQL interfaces.

Each test names the paragraph of Regulation (EU) 2024/1689 it checks.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.db import tenant_transaction
from tests.risk.test_eu_ai_act_impact_api import put_system, required

pytestmark = pytest.mark.engines


def _legacy_deployer_record(
    org: uuid.UUID, system_id: uuid.UUID, point: str, tier: str = "high"
) -> Any:
    """A classification stored by the first procedure (before paragraph-level refs): it listed
    every obligation whose role mentioned deployers, Art. 27 included, for any high-risk
    deployer."""
    from services.risk.classification.models import ClassificationRecord

    def obligation(article: str, title: str, role: str) -> dict[str, str]:
        return {
            "article": article,
            "title": title,
            "role": role,
            "kind": "obligation",
            "summary": "-",
        }

    answers = {
        "role": "deployer",
        "prohibited_practices": [],
        "annex_i_product": False,
        "annex_i_third_party_assessment": False,
        "annex_iii_area": point[0],
        "annex_iii_point": point,
        "profiles_natural_persons": False,
        "exemption": None,
        "exemption_rationale": None,
        "transparency": [],
        "gpai_model": False,
        "gpai_systemic_risk": False,
    }
    result = {
        "tier": tier,
        "route": "annex_iii",
        "articles": ["Art. 6(2)", f"Annex III point {point}", "Art. 4"],
        "obligations": [
            obligation("4", "AI literacy", "provider and deployer (all AI systems)"),
            obligation("26", "Obligations of deployers of high-risk AI systems", "deployer"),
            obligation("27", "Fundamental rights impact assessment", "deployer (public bodies…)"),
            obligation("86", "Right to explanation of individual decision-making", "deployer"),
        ],
        "reasons": ["High risk."],
        "prohibited_practices": [],
        "annex_iii_area": point[0],
        "annex_iii_point": point,
        "exemption": None,
        "transparency": [],
        "gpai_model": False,
        "gpai_systemic_risk": False,
    }
    return ClassificationRecord(
        org_id=org,
        system_id=system_id,
        version=1,
        is_current=True,
        role="deployer",
        tier=tier,
        route="annex_iii",
        answers=answers,
        result=result,
        classified_by="before-v2",
        reclassification_requested_at=None,
        reclassification_facts=[],
    )


async def test_art_27_1_is_not_read_from_classifications_stored_before_paragraph_refs(
    stack: Any, org: uuid.UUID
) -> None:
    """Art. 27(1): a classification stored by the former procedure lists "Art. 27" for every
    high-risk deployer. The impact-assessment requirement must not take that as the law: a
    private deployer of an Annex III 4(a) system owes no fundamental rights impact assessment,
    a deployer of an Annex III 5(b) system does (decided again from the stored answers)."""
    private, credit = await put_system(stack, org), await put_system(stack, org)
    db = stack.apps["risk"].state.ctx.db
    async with tenant_transaction(db, org) as session:
        session.add(_legacy_deployer_record(org, private, "4(a)"))
        session.add(_legacy_deployer_record(org, credit, "5(b)"))

    listed = await required(stack, org)
    assert str(private) not in listed, listed.get(str(private))
    assert listed[str(credit)]["reasons"] == ["eu_ai_act_art_27"]
    assert listed[str(credit)]["fundamental_rights_fields_required"] is True


CLASSIFY = """
mutation Classify($input: ClassifyAISystemInput!) {
  classifyAISystem(input: $input) {
    classification {
      tier route articles reasons prohibitedPractices annexIiiPoints annexIiiCarveOuts
      art5Exceptions scopeExclusion annexISection annexILegislation exemption
      exemptionDocumentedByProvider transparency
      obligations { article ref role }
      warnings { code annexIiiArea fact }
    }
    errors { __typename message }
  }
}
"""


async def system_with(stack: Any, org: uuid.UUID, **facts: Any) -> uuid.UUID:
    """A system the risk service knows, with these inventory facts (sector, intended
    purpose)."""
    defaults = {
        "name": "Issue 9 system",
        "intended_purpose": "Internal tooling",
        "ai_roles": ["provider"],
    }
    return await put_system(stack, org, **{**defaults, **facts})


async def test_graphql_duties_exceptions_and_citations_per_paragraph(
    stack: Any, org: uuid.UUID
) -> None:
    """Through GraphQL: Art. 5(1)(d) "based solely on profiling" asked and routed to Annex III
    6(d); Art. 5(1)(h)(ii) with Art. 5(2), 5(3), 5(5) routed to 1(a) with Arts. 27(1), 49(3),
    49(4), 86(1) for a public-authority deployer; several Annex III points recorded, Art. 27(1)
    not for a private deployer; Art. 6(4) (the provider's documented assessment); Art. 6(1)
    with Annex I Section A point 11 where Art. 6(3) is irrelevant; an Annex III 5(b) carve-out
    with its own route; Art. 50(4) per role; Arts. 53(2), 54(1), 54(6) for GPAI providers;
    Art. 2(10); the warning when the inventory points to Annex III area 4."""
    headers = stack.headers(org, "risk_owner")
    system = await system_with(stack, org)
    hiring = await system_with(
        stack, org, sector="hiring_employment", intended_purpose="Rank job applications"
    )

    async def classify(system_id: uuid.UUID, **answers: Any) -> dict[str, Any]:
        response = await stack.gateway.post(
            "/graphql",
            json={
                "query": CLASSIFY,
                "variables": {"input": {"systemId": str(system_id), **answers}},
            },
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        payload = body["data"]["classifyAISystem"]
        assert payload["errors"] == [], payload["errors"]
        return dict(payload["classification"])

    def refs(result: dict[str, Any]) -> set[str]:
        return {o["ref"] for o in result["obligations"]}

    crime = await classify(
        system,
        role="PROVIDER",
        prohibitedPractices=["5(1)(d)"],
        art5Exceptions=["CRIME_RISK_NOT_SOLELY_PROFILING"],
    )
    assert (crime["tier"], crime["route"]) == ("HIGH", "ANNEX_III")
    assert crime["prohibitedPractices"] == [] and crime["annexIiiPoints"] == ["6(d)"]
    assert crime["art5Exceptions"] == ["CRIME_RISK_NOT_SOLELY_PROFILING"]
    assert {"Art. 5(1)(d)", "Annex III point 6(d)", "Art. 6(2)"} <= set(crime["articles"])
    solely = await classify(system, role="PROVIDER", prohibitedPractices=["5(1)(d)"])
    assert (solely["tier"], solely["obligations"]) == ("PROHIBITED", [])

    rbi = await classify(
        system,
        role="DEPLOYER",
        deployerCategory="PUBLIC_AUTHORITY",
        prohibitedPractices=["5(1)(h)"],
        art5Exceptions=["RBI_IMMINENT_THREAT"],
        rbiConditions=[
            "TARGETED_AND_LIMITED",
            "FRIA_AND_REGISTRATION",
            "PRIOR_AUTHORISATION",
            "NATIONAL_LAW_AUTHORISES",
        ],
    )
    assert (rbi["tier"], rbi["annexIiiPoints"]) == ("HIGH", ["1(a)"])
    assert {"Art. 26", "Art. 27(1)", "Art. 49(3)", "Art. 86(1)"} <= refs(rbi)
    assert {"Art. 5(1)(h)(ii)", "Annex III point 1(a)", "Art. 49(4)"} <= set(rbi["articles"])
    unauthorised = await classify(
        system,
        role="DEPLOYER",
        prohibitedPractices=["5(1)(h)"],
        art5Exceptions=["RBI_IMMINENT_THREAT"],
        rbiConditions=["TARGETED_AND_LIMITED", "FRIA_AND_REGISTRATION"],
    )
    assert unauthorised["tier"] == "PROHIBITED"
    assert {"Art. 5(3)", "Art. 5(5)"} <= set(unauthorised["articles"])

    private = await classify(system, role="DEPLOYER", annexIiiPoints=["2", "4(a)"])
    assert private["annexIiiPoints"] == ["2", "4(a)"]
    assert {"Annex III point 2", "Annex III point 4(a)"} <= set(private["articles"])
    assert "Art. 86(1)" in refs(private)
    assert not {"Art. 27(1)", "Art. 49(1)", "Art. 49(3)"} & refs(private)

    relied = await classify(
        system,
        role="DEPLOYER",
        annexIiiPoints=["4(a)"],
        providerDocumentedExemption=True,
        exemption="PREPARATORY_TASK",
    )
    assert (relied["tier"], relied["route"]) == ("MINIMAL", "ART6_3_EXEMPT")
    assert relied["exemptionDocumentedByProvider"] is True
    assert {"Art. 6(3)(d)", "Art. 6(4)"} <= set(relied["articles"])
    assert "Art. 49(2)" not in refs(relied)

    product = await classify(
        system,
        role="PROVIDER",
        annexIProduct=True,
        annexIThirdPartyAssessment=True,
        annexILegislation="11",
        annexIiiPoints=["5(d)"],
        exemption="PREPARATORY_TASK",
        exemptionRationale="Sorts calls before a dispatcher reads them",
    )
    assert (product["tier"], product["route"], product["exemption"]) == ("HIGH", "ART6_1", None)
    assert (product["annexISection"], product["annexILegislation"]) == (
        "A",
        "Regulation (EU) 2017/745",
    )
    assert any("irrelevant" in r for r in product["reasons"])

    fraud = await classify(system, role="PROVIDER", annexIiiCarveOuts=["FINANCIAL_FRAUD_DETECTION"])
    assert (fraud["tier"], fraud["route"]) == ("MINIMAL", "ANNEX_III_CARVE_OUT")
    assert "Annex III point 5(b)" in fraud["articles"]

    for role, owed in (("DEPLOYER", True), ("PROVIDER", False)):
        fake = await classify(system, role=role, transparency=["DEEP_FAKES"])
        assert (fake["tier"], fake["route"]) == ("LIMITED", "ART50")
        assert ("Art. 50(4)" in refs(fake)) is owed

    open_model = await classify(
        system, role="PROVIDER", gpaiModel=True, gpaiOpenSource=True, establishedInUnion=False
    )
    assert open_model["route"] == "GPAI"
    assert {"Art. 53(1)(c)", "Art. 53(1)(d)"} <= refs(open_model)
    assert not {"Art. 53(1)(a)", "Art. 54(1)"} & refs(open_model)
    assert {"Art. 53(2)", "Art. 54(6)"} <= set(open_model["articles"])
    systemic = await classify(
        system,
        role="PROVIDER",
        gpaiModel=True,
        gpaiOpenSource=True,
        gpaiSystemicRisk=True,
        establishedInUnion=False,
    )
    assert {"Art. 53(1)(a)", "Art. 54(1)", "Art. 52(1)", "Art. 55(1)"} <= refs(systemic)
    deployer_model = await classify(system, role="DEPLOYER", gpaiModel=True)
    chapter_v = ("Art. 51", "Art. 52", "Art. 53", "Art. 54", "Art. 55")
    assert not {r for r in refs(deployer_model) if r.startswith(chapter_v)}

    personal = await classify(system, role="DEPLOYER", scopeExclusion="PERSONAL_NON_PROFESSIONAL")
    assert (personal["route"], personal["articles"], personal["obligations"]) == (
        "ART2_EXCLUDED",
        ["Art. 2(10)"],
        [],
    )

    warned = await classify(hiring, role="DEPLOYER", transparency=["INTERACTS_WITH_PEOPLE"])
    assert [(w["code"], w["annexIiiArea"], w["fact"]) for w in warned["warnings"]] == [
        ("annex_iii_area_indicated", "4", "sector")
    ]
    quiet = await classify(hiring, role="DEPLOYER", annexIiiPoints=["4(a)"])
    assert quiet["warnings"] == []
