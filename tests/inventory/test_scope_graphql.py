"""Scope and context through the GraphQL gateway: typed refusal with every reason, approval,
the current scope, diffs, and context issues / interested parties."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.engines

SCOPE_FIELDS = """
id number status statement version
activities { name included justification }
systems { systemId included justification aiSystem { name owner } }
"""

APPROVE = """
mutation Approve($input: ApproveScopeVersionInput!) {
  approveScopeVersion(input: $input) {
    scopeVersion { id status approvedBy }
    warnings { code path { type name } }
    errors {
      ... on UserError { code message }
      ... on ScopeApprovalRefusedError { reasons { code message systemId } }
    }
  }
}
"""


async def gql(
    stack: Any, headers: dict[str, str], query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await stack.gateway.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_scope_over_graphql(stack: Any, org: uuid.UUID) -> None:
    manager = stack.headers(org, "manager", subject="dana")
    system = await stack.inventory.post("/v1/ai-systems", json={"name": "Scoring"}, headers=manager)
    system_id = system.json()["id"]

    created = await gql(
        stack,
        manager,
        f"""mutation Create($input: CreateScopeVersionInput!) {{
          createScopeVersion(input: $input) {{
            scopeVersion {{ {SCOPE_FIELDS} }}
            errors {{ code message }}
          }}
        }}""",
        {"input": {"statement": "Lending", "systems": [{"systemId": system_id}]}},
    )
    draft = created["createScopeVersion"]["scopeVersion"]
    assert created["createScopeVersion"]["errors"] == []
    assert draft["status"] == "DRAFT" and draft["number"] == 1
    assert draft["systems"][0]["aiSystem"] == {"name": "Scoring", "owner": None}

    unjustified = await gql(
        stack,
        manager,
        """mutation($input: CreateScopeVersionInput!) {
          createScopeVersion(input: $input) { scopeVersion { id } errors { code message } }
        }""",
        {"input": {"locations": [{"name": "Remote", "included": False}]}},
    )
    assert unjustified["createScopeVersion"]["scopeVersion"] is None
    assert unjustified["createScopeVersion"]["errors"][0]["code"] == "validation-failed"

    refused = await gql(stack, manager, APPROVE, {"input": {"id": draft["id"]}})
    payload = refused["approveScopeVersion"]
    assert payload["scopeVersion"] is None
    [error] = payload["errors"]
    assert error["code"] == "scope-approval-refused"
    assert {(r["code"], r["systemId"]) for r in error["reasons"]} == {
        ("no-boundaries", None),
        ("in-scope-system-without-owner", system_id),
    }

    forbidden = await gql(
        stack, stack.headers(org, "auditor"), APPROVE, {"input": {"id": draft["id"]}}
    )
    assert forbidden["approveScopeVersion"]["errors"][0]["code"] == "forbidden"

    await stack.inventory.patch(
        f"/v1/ai-systems/{system_id}",
        json={"owner": "cro@example.com"},
        headers={**manager, "If-Match": '"1"'},
    )
    updated = await gql(
        stack,
        manager,
        """mutation($input: UpdateScopeVersionInput!) {
          updateScopeVersion(input: $input) { scopeVersion { version activities { name } }
                                              errors { code } }
        }""",
        {"input": {"id": draft["id"], "version": 1, "activities": [{"name": "Lending"}]}},
    )
    assert updated["updateScopeVersion"]["scopeVersion"]["version"] == 2

    approved = await gql(stack, manager, APPROVE, {"input": {"id": draft["id"], "version": 2}})
    assert approved["approveScopeVersion"]["errors"] == []
    assert approved["approveScopeVersion"]["scopeVersion"]["approvedBy"] == "dana"

    second = await gql(
        stack,
        manager,
        """mutation { createScopeVersion(input: {copyFromCurrent: true, statement: "All"}) {
             scopeVersion { id } errors { code } } }""",
    )
    second_id = second["createScopeVersion"]["scopeVersion"]["id"]
    read = await gql(
        stack,
        stack.headers(org, "viewer"),
        """query($a: ID!, $b: ID!) {
          currentScope { id status }
          scopeVersions(first: 1) { edges { node { number } } pageInfo { hasNextPage endCursor } }
          scopeDiff(a: $a, b: $b) { statementChanged statementBefore statementAfter
                                    systems { nowIncluded } }
          node(id: $b) { ... on ScopeVersion { status approvalCheck { approvable } } }
        }""",
        {"a": draft["id"], "b": second_id},
    )
    assert read["currentScope"] == {"id": draft["id"], "status": "APPROVED"}
    assert read["scopeVersions"]["pageInfo"]["hasNextPage"] is True
    assert read["scopeDiff"] == {
        "statementChanged": True,
        "statementBefore": "Lending",
        "statementAfter": "All",
        "systems": {"nowIncluded": []},
    }
    assert read["node"] == {"status": "DRAFT", "approvalCheck": {"approvable": True}}

    stranger = await gql(
        stack, stack.headers(uuid.uuid4(), "admin"), "query { currentScope { id } }"
    )
    assert stranger["currentScope"] is None


async def test_context_over_graphql(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "contributor")
    created = await gql(
        stack,
        headers,
        """mutation {
          createContextIssue(input: {kind: EXTERNAL, framework: SWOT, category: THREAT,
                                     title: "New entrant", nextReviewAt: "2020-01-01T00:00:00Z"}) {
            contextIssue { id category reviewOverdue } errors { code } }
          bad: createContextIssue(input: {kind: EXTERNAL, framework: SWOT, category: LEGAL,
                                          title: "Wrong tag"}) {
            contextIssue { id } errors { code message } }
          createInterestedParty(input: {name: "Customers", type: CUSTOMER,
                                        requirements: [{text: "Explanations"}]}) {
            interestedParty { id requirements { text addressed } } errors { code } }
        }""",
    )
    assert created["createContextIssue"]["contextIssue"]["reviewOverdue"] is True
    assert created["bad"]["contextIssue"] is None
    assert created["bad"]["errors"][0]["code"] == "validation-failed"
    assert created["createInterestedParty"]["interestedParty"]["requirements"] == [
        {"text": "Explanations", "addressed": False}
    ]
    listed = await gql(
        stack,
        headers,
        """query {
          contextIssues(filter: {reviewOverdue: true}) { edges { node { title } } }
          interestedParties(filter: {unaddressed: true}) { edges { node { name type } } }
        }""",
    )
    assert [e["node"]["title"] for e in listed["contextIssues"]["edges"]] == ["New entrant"]
    assert listed["interestedParties"]["edges"] == [
        {"node": {"name": "Customers", "type": "CUSTOMER"}}
    ]
