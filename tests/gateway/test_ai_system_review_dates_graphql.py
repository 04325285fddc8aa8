"""An AI system records when it was last reviewed as well as when it is next due, through
GraphQL too (issue 9)."""

from __future__ import annotations

import base64
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.engines

REGISTER = """
mutation($input: RegisterAISystemInput!) {
  registerAISystem(input: $input) {
    aiSystem { id version lastReviewedAt nextReviewAt }
    errors { __typename code ... on ValidationError { field } }
  }
}
"""
UPDATE = """
mutation($input: UpdateAISystemInput!) {
  updateAISystem(input: $input) {
    aiSystem { version lastReviewedAt nextReviewAt }
    errors { __typename code ... on ValidationError { field } }
  }
}
"""


async def gql(stack: Any, org: uuid.UUID, query: str, **variables: Any) -> dict[str, Any]:
    response = await stack.gateway.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=stack.headers(org, "manager"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def test_last_reviewed_at_is_registered_read_and_updated(stack: Any, org: uuid.UUID) -> None:
    reviewed = date.today() - timedelta(days=30)
    due = date.today() + timedelta(days=335)
    created = (
        await gql(
            stack,
            org,
            REGISTER,
            input={
                "name": "Claims triage",
                "lastReviewedAt": reviewed.isoformat(),
                "nextReviewAt": due.isoformat(),
            },
        )
    )["registerAISystem"]
    assert created["errors"] == []
    system = created["aiSystem"]
    assert system["lastReviewedAt"] == reviewed.isoformat()
    assert system["nextReviewAt"] == due.isoformat()
    register_id = base64.b64decode(system["id"]).decode().removeprefix("AISystem:")
    rest = await stack.inventory.get(
        f"/v1/ai-systems/{register_id}", headers=stack.headers(org, "viewer")
    )
    assert rest.json()["last_reviewed_at"] == reviewed.isoformat()

    today = date.today().isoformat()
    updated = (
        await gql(
            stack,
            org,
            UPDATE,
            input={
                "id": system["id"],
                "expectedVersion": system["version"],
                "lastReviewedAt": today,
            },
        )
    )["updateAISystem"]
    assert updated["errors"] == []
    assert updated["aiSystem"]["lastReviewedAt"] == today

    later = (date.today() + timedelta(days=7)).isoformat()
    future = (
        await gql(
            stack,
            org,
            UPDATE,
            input={
                "id": system["id"],
                "expectedVersion": updated["aiSystem"]["version"],
                "lastReviewedAt": later,
            },
        )
    )["updateAISystem"]
    assert future["aiSystem"] is None
    [error] = future["errors"]
    assert error["__typename"] == "ValidationError" and error["field"] == ["lastReviewedAt"]
