"""EU AI Act classification through the GraphQL gateway."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.testing import eventually

pytestmark = pytest.mark.engines

CLASSIFY = """
mutation Classify($input: ClassifyAISystemInput!) {
  classifyAISystem(input: $input) {
    classification {
      tier route articles reasons reclassificationRequested classifiedAt classifiedBy version
      obligations { article title }
    }
    errors { __typename message code ... on ValidationError { field } }
  }
}
"""

SYSTEMS = """
query { aiSystems(first: 10) { edges { node { id name classification { tier route } } } } }
"""


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


async def test_classify_and_read_through_the_gateway(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "risk_owner", subject="rita")
    ids = []
    for name in ("CV screening", "Support chatbot", "Unclassified"):
        created = await stack.inventory.post("/v1/ai-systems", json={"name": name}, headers=headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])

    async def projected() -> bool:
        for system_id in ids:
            response = await stack.risk.get(f"/v1/systems/{system_id}", headers=headers)
            if response.status_code != 200:
                return False
        return True

    await eventually(projected)

    questionnaire = await gql(
        stack, headers, "{ euAiActQuestionnaire { questions { id kind options { value } } } }"
    )
    questions = {q["id"]: q for q in questionnaire["euAiActQuestionnaire"]["questions"]}
    assert "4(a)" in {o["value"] for o in questions["annex_iii_points"]["options"]}

    hiring = await gql(
        stack,
        headers,
        CLASSIFY,
        {"input": {"systemId": ids[0], "role": "PROVIDER", "annexIiiPoint": "4(a)"}},
    )
    result = hiring["classifyAISystem"]
    assert result["errors"] == []
    assert result["classification"]["tier"] == "HIGH"
    assert result["classification"]["route"] == "ANNEX_III"
    assert result["classification"]["classifiedBy"] == "rita"
    assert result["classification"]["reclassificationRequested"] is False
    assert "9" in {o["article"] for o in result["classification"]["obligations"]}

    chatbot = await gql(
        stack,
        headers,
        CLASSIFY,
        {
            "input": {
                "systemId": ids[1],
                "role": "DEPLOYER",
                "transparency": ["INTERACTS_WITH_PEOPLE"],
            }
        },
    )
    assert chatbot["classifyAISystem"]["classification"]["tier"] == "LIMITED"

    bad = await gql(
        stack,
        headers,
        CLASSIFY,
        {
            "input": {
                "systemId": ids[0],
                "role": "PROVIDER",
                "annexIiiPoint": "4(a)",
                "exemption": "PREPARATORY_TASK",
                "prohibitedPractices": ["5(1)(z)"],
            }
        },
    )
    errors = bad["classifyAISystem"]["errors"]
    assert bad["classifyAISystem"]["classification"] is None
    assert {e["__typename"] for e in errors} == {"ValidationError"}
    assert ["prohibitedPractices"] in [e["field"] for e in errors]

    viewer = await gql(
        stack,
        stack.headers(org, "viewer"),
        CLASSIFY,
        {"input": {"systemId": ids[2], "role": "PROVIDER"}},
    )
    assert viewer["classifyAISystem"]["errors"][0]["__typename"] == "ForbiddenError"

    listed = await gql(stack, headers, SYSTEMS)
    by_name = {e["node"]["name"]: e["node"]["classification"] for e in listed["aiSystems"]["edges"]}
    assert by_name == {
        "CV screening": {"tier": "HIGH", "route": "ANNEX_III"},
        "Support chatbot": {"tier": "LIMITED", "route": "ART50"},
        "Unclassified": None,
    }
