"""Organisational context through the GraphQL gateway: changing issues and interested parties
with optimistic concurrency, and the organisation's AI roles."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.engines

USER_ERRORS = "errors { __typename code message ... on ValidationError { field } }"

UPDATE_ISSUE = f"""
mutation Update($input: UpdateContextIssueInput!) {{
  updateContextIssue(input: $input) {{
    contextIssue {{ id title impact owner category version nextReviewAt }}
    {USER_ERRORS}
  }}
}}
"""

UPDATE_PARTY = f"""
mutation Update($input: UpdateInterestedPartyInput!) {{
  updateInterestedParty(input: $input) {{
    interestedParty {{ id name type version requirements {{ text addressed note }} }}
    {USER_ERRORS}
  }}
}}
"""

AI_ROLES = """
query { organisationAiRoles { roles note nextReviewAt reviewOverdue version updatedBy } }
"""

SET_AI_ROLES = f"""
mutation Set($input: SetOrganisationAIRolesInput!) {{
  setOrganisationAiRoles(input: $input) {{
    organisationAiRoles {{ roles note version updatedBy }}
    {USER_ERRORS}
  }}
}}
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


async def create_issue(stack: Any, headers: dict[str, str]) -> dict[str, Any]:
    data = await gql(
        stack,
        headers,
        """mutation {
          createContextIssue(input: {kind: EXTERNAL, framework: PESTLE, category: LEGAL,
                                     title: "EU AI Act", owner: "legal@x.io"}) {
            contextIssue { id version } errors { code } }
        }""",
    )
    issue: dict[str, Any] = data["createContextIssue"]["contextIssue"]
    return issue


async def test_update_context_issue(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "contributor")
    issue = await create_issue(stack, headers)
    changed = await gql(
        stack,
        headers,
        UPDATE_ISSUE,
        {
            "input": {
                "id": issue["id"],
                "expectedVersion": issue["version"],
                "impact": "Conformity assessment needed",
                "owner": None,
                "nextReviewAt": "2030-01-01T00:00:00Z",
            }
        },
    )
    payload = changed["updateContextIssue"]
    assert payload["errors"] == []
    updated = payload["contextIssue"]
    assert updated["id"] == issue["id"]
    # Sent fields change (null clears), omitted ones keep their value.
    assert updated["title"] == "EU AI Act" and updated["category"] == "LEGAL"
    assert updated["impact"] == "Conformity assessment needed" and updated["owner"] is None
    assert updated["nextReviewAt"].startswith("2030-01-01")
    assert updated["version"] == issue["version"] + 1

    # The version read before the change is stale now: a typed conflict, nothing changed.
    stale = await gql(
        stack,
        headers,
        UPDATE_ISSUE,
        {"input": {"id": issue["id"], "expectedVersion": issue["version"], "title": "Old"}},
    )
    assert stale["updateContextIssue"]["contextIssue"] is None
    (error,) = stale["updateContextIssue"]["errors"]
    assert error["__typename"] == "ConflictError"

    # A category outside the issue's framework is a validation error of the service.
    bad = await gql(
        stack,
        headers,
        UPDATE_ISSUE,
        {"input": {"id": issue["id"], "expectedVersion": updated["version"], "category": "THREAT"}},
    )
    assert bad["updateContextIssue"]["contextIssue"] is None
    assert bad["updateContextIssue"]["errors"][0]["__typename"] == "ValidationError"

    # A reader may not change it.
    forbidden = await gql(
        stack,
        stack.headers(org, "viewer"),
        UPDATE_ISSUE,
        {"input": {"id": issue["id"], "expectedVersion": updated["version"], "title": "X"}},
    )
    assert forbidden["updateContextIssue"]["errors"][0]["__typename"] == "ForbiddenError"


async def test_update_context_issue_of_another_organisation_is_not_found(
    stack: Any, org: uuid.UUID
) -> None:
    issue = await create_issue(stack, stack.headers(org, "contributor"))
    other = stack.headers(uuid.uuid4(), "admin")
    response = await stack.gateway.post(
        "/graphql",
        json={
            "query": UPDATE_ISSUE,
            "variables": {"input": {"id": issue["id"], "expectedVersion": 1, "title": "Mine"}},
        },
        headers=other,
    )
    body = response.json()
    assert "errors" not in body, body
    payload = body["data"]["updateContextIssue"]
    assert payload["contextIssue"] is None
    [error] = payload["errors"]
    assert error["__typename"] == "NotFoundError"


async def test_update_interested_party(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "contributor")
    created = await gql(
        stack,
        headers,
        """mutation {
          createInterestedParty(input: {name: "Customers", type: CUSTOMER,
                                        requirements: [{text: "Explanations"}]}) {
            interestedParty { id version } errors { code } }
        }""",
    )
    party = created["createInterestedParty"]["interestedParty"]
    changed = await gql(
        stack,
        headers,
        UPDATE_PARTY,
        {
            "input": {
                "id": party["id"],
                "expectedVersion": party["version"],
                "requirements": [
                    {"text": "Explanations", "addressed": True, "note": "Model cards"},
                    {"text": "Human review"},
                ],
            }
        },
    )
    payload = changed["updateInterestedParty"]
    assert payload["errors"] == []
    updated = payload["interestedParty"]
    assert updated["name"] == "Customers" and updated["type"] == "CUSTOMER"
    assert updated["requirements"] == [
        {"text": "Explanations", "addressed": True, "note": "Model cards"},
        {"text": "Human review", "addressed": False, "note": ""},
    ]
    assert updated["version"] == party["version"] + 1

    stale = await gql(
        stack,
        headers,
        UPDATE_PARTY,
        {"input": {"id": party["id"], "expectedVersion": party["version"], "name": "Clients"}},
    )
    assert stale["updateInterestedParty"]["interestedParty"] is None
    assert stale["updateInterestedParty"]["errors"][0]["__typename"] == "ConflictError"

    # An invalid requirement points at the offending list item.
    bad = await gql(
        stack,
        headers,
        UPDATE_PARTY,
        {
            "input": {
                "id": party["id"],
                "expectedVersion": updated["version"],
                "requirements": [{"text": "ok"}, {"text": "   "}],
            }
        },
    )
    (error,) = bad["updateInterestedParty"]["errors"]
    assert error["__typename"] == "ValidationError"
    assert error["field"] == ["requirements", "1", "text"]


async def test_organisation_ai_roles(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "contributor")
    initial = (await gql(stack, headers, AI_ROLES))["organisationAiRoles"]
    assert initial["roles"] == [] and initial["version"] == 0

    first = await gql(
        stack,
        headers,
        SET_AI_ROLES,
        {
            "input": {
                "expectedVersion": 0,
                "roles": ["PROVIDER", "CUSTOMER"],
                "note": "We sell a scoring API",
            }
        },
    )
    payload = first["setOrganisationAiRoles"]
    assert payload["errors"] == []
    assert payload["organisationAiRoles"]["roles"] == ["PROVIDER", "CUSTOMER"]
    assert payload["organisationAiRoles"]["version"] == 1

    read = (await gql(stack, stack.headers(org, "viewer"), AI_ROLES))["organisationAiRoles"]
    assert read["roles"] == ["PROVIDER", "CUSTOMER"] and read["note"] == "We sell a scoring API"
    assert read["version"] == 1 and read["reviewOverdue"] is False

    stale = await gql(
        stack, headers, SET_AI_ROLES, {"input": {"expectedVersion": 0, "roles": ["PRODUCER"]}}
    )
    assert stale["setOrganisationAiRoles"]["organisationAiRoles"] is None
    assert stale["setOrganisationAiRoles"]["errors"][0]["__typename"] == "ConflictError"

    repeated = await gql(
        stack,
        headers,
        SET_AI_ROLES,
        {"input": {"expectedVersion": 1, "roles": ["PRODUCER", "PRODUCER"]}},
    )
    assert repeated["setOrganisationAiRoles"]["errors"][0]["__typename"] == "ValidationError"

    forbidden = await gql(
        stack,
        stack.headers(org, "viewer"),
        SET_AI_ROLES,
        {"input": {"expectedVersion": 1, "roles": ["PRODUCER"]}},
    )
    assert forbidden["setOrganisationAiRoles"]["errors"][0]["__typename"] == "ForbiddenError"
