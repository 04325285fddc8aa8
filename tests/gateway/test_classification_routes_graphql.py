"""EU AI Act classifications of every route read through GraphQL, and the new questionnaire
answers sent through `classifyAISystem` (issue 9).

Systems are classified through the risk service's REST API (as a GRC platform would) and read
back through the gateway: each route the procedure can reach, and each field it now records
(Art. 2 exclusion, Art. 5 exceptions, several Annex III points, carve-outs, Annex I section and
legislation, paragraph-level obligation refs, warnings), must reach a frontend unchanged.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

import pytest

from gateway.schema import classification as gql_types
from services.risk.classification import procedure
from shared.testing import eventually

CLASSIFICATION = """
  tier route articles reasons prohibitedPractices annexIiiArea annexIiiPoint annexIiiPoints
  annexIiiCarveOuts art5Exceptions scopeExclusion annexISection annexILegislation exemption
  exemptionDocumentedByProvider transparency gpaiModel gpaiSystemicRisk gpaiOpenSource
  obligations { article title role kind summary ref }
  warnings { code message annexIiiArea fact }
"""
SYSTEMS = (
    "query { aiSystems(first: 50) { edges { node { name classification {"
    + CLASSIFICATION
    + "} } } } }"
)
CLASSIFY = (
    "mutation Classify($input: ClassifyAISystemInput!) { classifyAISystem(input: $input) {"
    " classification {"
    + CLASSIFICATION
    + "} errors { __typename message code ... on ValidationError { field } } } }"
)

# Name, inventory facts, REST answers, and the route the Regulation leads to.
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    (
        "Targeting aid",
        {},
        {"role": "provider", "scope_exclusion": "military_defence_national_security"},
        "art2_excluded",  # Art. 2(3)
    ),
    (
        "Card fraud screen",
        {"sector": "credit_finance"},
        {"role": "deployer", "annex_iii_carve_outs": ["financial_fraud_detection"]},
        "annex_iii_carve_out",  # Annex III point 5(b) excludes financial fraud detection
    ),
    (
        "Open foundation model",
        {},
        {"role": "provider", "gpai_model": True, "gpai_open_source": True},
        "gpai",  # Arts. 51-55, with the Art. 53(2) open-source carve-out
    ),
    (
        "Pilot fatigue monitor",
        {},
        {
            "role": "provider",
            "prohibited_practices": ["5(1)(f)"],
            "art5_exceptions": ["emotion_recognition_medical_or_safety"],
        },
        "annex_iii",  # Art. 5(1)(f) medical or safety exception → Annex III point 1(c)
    ),
    (
        "Lift controller",
        {},
        {
            "role": "provider",
            "annex_i_product": True,
            "annex_i_third_party_assessment": True,
            "annex_i_legislation": "4",
        },
        "art6_1",  # Annex I Section A, Art. 6(1)
    ),
    (
        "Applicant ranker",
        {"sector": "hiring_employment"},
        {"role": "deployer"},
        "none",  # the sector points to Annex III area 4: a warning, not a tier
    ),
]


async def gql(
    stack: Any, headers: dict[str, str], query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await stack.gateway.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def register(stack: Any, org: uuid.UUID, name: str, **facts: Any) -> str:
    headers = stack.headers(org, "risk_owner")
    created = await stack.inventory.post(
        "/v1/ai-systems", json={"name": name, **facts}, headers=headers
    )
    assert created.status_code == 201, created.text
    system_id = str(created.json()["id"])

    async def projected() -> bool:
        response = await stack.risk.get(f"/v1/systems/{system_id}", headers=headers)
        return response.status_code == 200

    await eventually(projected)
    return system_id


@pytest.mark.engines
async def test_every_route_classified_through_rest_reads_back_through_graphql(
    stack: Any, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "risk_owner", subject="rita")
    rest: dict[str, dict[str, Any]] = {}
    for name, facts, answers, route in CASES:
        system_id = await register(stack, org, name, **facts)
        response = await stack.risk.post(
            f"/v1/systems/{system_id}/classifications", json=answers, headers=headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["route"] == route, response.json()["reasons"]
        rest[name] = response.json()

    listed = await gql(stack, headers, SYSTEMS)
    read = {e["node"]["name"]: e["node"]["classification"] for e in listed["aiSystems"]["edges"]}
    assert set(read) == {name for name, *_ in CASES}
    for name, found in read.items():
        expected = rest[name]
        assert found["route"] == expected["route"].upper()
        assert found["tier"] == expected["tier"].upper()
        for field, key in (
            ("articles", "articles"),
            ("reasons", "reasons"),
            ("annexIiiPoints", "annex_iii_points"),
            ("annexIiiPoint", "annex_iii_point"),
            ("annexISection", "annex_i_section"),
            ("annexILegislation", "annex_i_legislation"),
            ("gpaiOpenSource", "gpai_open_source"),
            ("exemptionDocumentedByProvider", "exemption_documented_by_provider"),
        ):
            assert found[field] == expected[key], (name, field)
        for field, key in (
            ("art5Exceptions", "art5_exceptions"),
            ("annexIiiCarveOuts", "annex_iii_carve_outs"),
        ):
            assert found[field] == [v.upper() for v in expected[key]], (name, field)
        exclusion = expected["scope_exclusion"]
        assert found["scopeExclusion"] == (exclusion.upper() if exclusion else None)
        assert [o["ref"] for o in found["obligations"]] == [
            o["ref"] for o in expected["obligations"]
        ]
        assert found["warnings"] == [
            {
                "code": w["code"],
                "message": w["message"],
                "annexIiiArea": w["annex_iii_area"],
                "fact": w["fact"],
            }
            for w in expected["warnings"]
        ]

    # What a user reads, case by case.
    assert read["Targeting aid"]["scopeExclusion"] == "MILITARY_DEFENCE_NATIONAL_SECURITY"
    assert read["Targeting aid"]["obligations"] == []
    assert read["Card fraud screen"]["annexIiiCarveOuts"] == ["FINANCIAL_FRAUD_DETECTION"]
    assert read["Card fraud screen"]["tier"] == "MINIMAL"
    model = read["Open foundation model"]
    assert model["gpaiOpenSource"] is True
    assert "Art. 53(1)(c)" in {o["ref"] for o in model["obligations"]}
    monitor = read["Pilot fatigue monitor"]
    assert monitor["tier"] == "HIGH" and monitor["prohibitedPractices"] == []
    assert monitor["art5Exceptions"] == ["EMOTION_RECOGNITION_MEDICAL_OR_SAFETY"]
    assert monitor["annexIiiPoints"] == ["1(c)"]
    lift = read["Lift controller"]
    assert lift["annexISection"] == "A" and lift["annexILegislation"]
    ranker = read["Applicant ranker"]
    assert [(w["annexIiiArea"], w["fact"]) for w in ranker["warnings"]] == [("4", "sector")]


@pytest.mark.engines
async def test_classify_with_the_new_answers_through_graphql(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "risk_owner", subject="rita")
    benefits = await register(stack, org, "Benefit and hiring scorer")
    bought = await register(stack, org, "Bought CV parser")

    public = await gql(
        stack,
        headers,
        CLASSIFY,
        {
            "input": {
                "systemId": benefits,
                "role": "DEPLOYER",
                "annexIiiPoints": ["4(a)", "5(a)"],
                "deployerCategory": "PUBLIC_AUTHORITY",
            }
        },
    )
    result = public["classifyAISystem"]
    assert result["errors"] == []
    found = result["classification"]
    assert (found["tier"], found["route"]) == ("HIGH", "ANNEX_III")
    assert found["annexIiiPoints"] == ["4(a)", "5(a)"]
    assert {"Annex III point 4(a)", "Annex III point 5(a)"} <= set(found["articles"])
    refs = {o["ref"] for o in found["obligations"]}
    # A public authority deploying an Annex III system owes the Art. 27(1) FRIA and registers
    # under Art. 49(3); the provider's duties (Art. 16) are not the deployer's.
    assert {"Art. 27(1)", "Art. 49(3)"} <= refs
    assert not any(r.startswith("Art. 16") for r in refs)

    # A deployer cannot make the Art. 6(3) assessment itself (Art. 6(4)) …
    refused = await gql(
        stack,
        headers,
        CLASSIFY,
        {
            "input": {
                "systemId": bought,
                "role": "DEPLOYER",
                "annexIiiPoints": ["4(a)"],
                "exemption": "PREPARATORY_TASK",
            }
        },
    )
    assert refused["classifyAISystem"]["classification"] is None
    [error] = refused["classifyAISystem"]["errors"]
    assert error["__typename"] == "ValidationError"
    assert "provider" in error["message"]
    # … but relies on the one the provider documented.
    relied = await gql(
        stack,
        headers,
        CLASSIFY,
        {
            "input": {
                "systemId": bought,
                "role": "DEPLOYER",
                "annexIiiPoints": ["4(a)"],
                "exemption": "PREPARATORY_TASK",
                "providerDocumentedExemption": True,
            }
        },
    )
    exempt = relied["classifyAISystem"]["classification"]
    assert relied["classifyAISystem"]["errors"] == []
    assert (exempt["tier"], exempt["route"]) == ("MINIMAL", "ART6_3_EXEMPT")
    assert exempt["exemptionDocumentedByProvider"] is True
    assert exempt["exemption"] == "PREPARATORY_TASK"

    unknown = await gql(
        stack,
        headers,
        CLASSIFY,
        {"input": {"systemId": bought, "role": "PROVIDER", "annexIiiPoints": ["4(z)"]}},
    )
    [bad] = unknown["classifyAISystem"]["errors"]
    assert bad["__typename"] == "ValidationError" and bad["field"][0] == "annexIiiPoints"


PAIRS: list[tuple[type[enum.Enum], type[enum.Enum]]] = [
    (procedure.Route, gql_types.ClassificationRoute),
    (procedure.OperatorRole, gql_types.EUAIActRole),
    (procedure.ExemptionCondition, gql_types.EUAIActExemption),
    (procedure.TransparencyTrigger, gql_types.TransparencyTrigger),
    (procedure.ScopeExclusion, gql_types.EUAIActScopeExclusion),
    (procedure.Art5Exception, gql_types.EUAIActArt5Exception),
    (procedure.RbiCondition, gql_types.EUAIActRbiCondition),
    (procedure.AnnexIIICarveOut, gql_types.EUAIActAnnexIIICarveOut),
    (procedure.DeployerCategory, gql_types.EUAIActDeployerCategory),
    (procedure.ValueChainTrigger, gql_types.EUAIActValueChainTrigger),
]


@pytest.mark.parametrize(("service", "gateway"), PAIRS, ids=[s.__name__ for s, _ in PAIRS])
def test_gateway_enums_match_the_risk_service(
    service: type[enum.Enum], gateway: type[enum.Enum]
) -> None:
    """A value the risk service can store but GraphQL cannot name makes every read of that
    classification fail; so the gateway's enums hold exactly the service's values."""
    assert {m.value for m in gateway} == {m.value for m in service}
    answers = set(procedure.Answers.model_fields) - {"annex_iii_area", "annex_iii_point"}
    assert answers <= set(gql_types.ANSWER_FIELDS)
