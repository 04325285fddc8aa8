"""The risk register through the GraphQL gateway: mutations with typed errors, the heat map,
and each AI system's risk summary through one batched upstream call."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.testing import eventually

pytestmark = pytest.mark.engines

CREATE = """
mutation($input: CreateRiskInput!) {
  createRisk(input: $input) {
    risk { id version inherentLevel residualLevel aboveTolerance status }
    errors { __typename message code ... on ValidationError { field } }
  }
}"""

ACCEPT = """
mutation($input: AcceptRiskInput!) {
  acceptRisk(input: $input) {
    risk { status aboveTolerance acceptedBy }
    errors { __typename message code }
  }
}"""

OVERVIEW = """
query {
  aiSystems(first: 10) { edges { node { name riskSummary { openCount highestResidualLevel } } } }
  risks(first: 10, filter: {aboveTolerance: true}) { edges { node { title status } } }
  riskMatrix { version levels tolerance }
  riskDashboard(basis: RESIDUAL) { total heatMap { likelihood severity count } }
}"""


async def gql(stack: Any, org: uuid.UUID, role: str, query: str, **variables: Any) -> Any:
    response = await stack.gateway.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=stack.headers(org, role, subject=role),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_register_through_graphql(stack: Any, org: uuid.UUID) -> None:
    admin = stack.headers(org, "admin")
    system_ids = []
    for name in ("Claims triage", "Chat assistant"):
        created = await stack.inventory.post("/v1/ai-systems", json={"name": name}, headers=admin)
        assert created.status_code == 201, created.text
        system_ids.append(created.json()["id"])

    async def projected() -> bool:
        page = await stack.risk.get("/v1/systems", params={"id": system_ids}, headers=admin)
        return len(page.json()["items"]) == 2

    await eventually(projected)
    base = {
        "title": "Unfair ranking",
        "domainId": "1",
        "subdomainId": "1.1",
        "entity": "ai",
        "intent": "unintentional",
        "timing": "post_deployment",
        "likelihood": 5,
        "severity": 4,
        "systemId": system_ids[0],
    }
    invalid = await gql(stack, org, "risk_owner", CREATE, input={**base, "subdomainId": "9.9"})
    error = invalid["createRisk"]["errors"][0]
    assert (error["__typename"], error["field"]) == ("ValidationError", ["subdomainId"])
    created = (await gql(stack, org, "risk_owner", CREATE, input=base))["createRisk"]
    risk = created["risk"]
    assert (risk["inherentLevel"], risk["aboveTolerance"]) == ("very high", True)

    overview = await gql(stack, org, "viewer", OVERVIEW)
    summaries = {
        e["node"]["name"]: e["node"]["riskSummary"] for e in overview["aiSystems"]["edges"]
    }
    assert summaries == {
        "Claims triage": {"openCount": 1, "highestResidualLevel": "very high"},
        "Chat assistant": {"openCount": 0, "highestResidualLevel": None},
    }
    assert [e["node"]["title"] for e in overview["risks"]["edges"]] == ["Unfair ranking"]
    assert overview["riskMatrix"]["tolerance"] == "medium"
    assert overview["riskDashboard"]["heatMap"] == [{"likelihood": 5, "severity": 4, "count": 1}]

    accept = {"id": risk["id"], "version": 1, "rationale": "Offset by a human check of every case."}
    denied = await gql(stack, org, "risk_owner", ACCEPT, input=accept)
    assert denied["acceptRisk"]["errors"][0]["__typename"] == "ForbiddenError"
    stale = await gql(stack, org, "manager", ACCEPT, input={**accept, "version": 5})
    assert stale["acceptRisk"]["errors"][0]["__typename"] == "ConflictError"
    accepted = await gql(stack, org, "manager", ACCEPT, input=accept)
    assert accepted["acceptRisk"]["risk"] == {
        "status": "ACCEPTED",
        "aboveTolerance": False,
        "acceptedBy": "manager",
    }
