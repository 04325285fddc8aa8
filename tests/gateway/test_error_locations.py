"""Where a payload's `ValidationError.field` points: schema field names camel-cased, the
caller's own data keys (custom field keys) and list indexes kept as they are."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from gateway.schema.errors import _input_path
from tests.conftest import Stack

ERRORS = "errors { __typename code message ... on ValidationError { field } }"

REGISTER = f"""
mutation Register($input: RegisterAISystemInput!) {{
  registerAISystem(input: $input) {{ aiSystem {{ id version customFields }} {ERRORS} }}
}}
"""

UPDATE = f"""
mutation Update($input: UpdateAISystemInput!) {{
  updateAISystem(input: $input) {{ aiSystem {{ id version customFields }} {ERRORS} }}
}}
"""


@pytest.mark.parametrize(
    ("location", "path"),
    [
        (["body", "business_function"], ["businessFunction"]),
        (["body", "custom_fields", "cost_centre"], ["customFields", "cost_centre"]),
        (
            ["body", "custom_fields", "cost_centre", "sub_key"],
            ["customFields", "cost_centre", "sub_key"],
        ),
        (["body", "properties", "max_tokens"], ["properties", "max_tokens"]),
        (["body", "data_inputs", 0, "special_category"], ["dataInputs", "0", "specialCategory"]),
        (["body", "affected_stakeholders", 2], ["affectedStakeholders", "2"]),
        (("body", "next_review_at"), ["nextReviewAt"]),
        (["body"], None),
        ("body", None),
        (None, None),
    ],
)
def test_input_path(location: Any, path: list[str] | None) -> None:
    assert _input_path(location) == path


async def gql(
    stack: Stack, headers: dict[str, str], query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await stack.gateway.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


@pytest.mark.engines
async def test_a_bad_custom_field_value_points_at_its_key_as_defined(
    stack: Stack, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "admin")
    defined = await stack.inventory.post(
        "/v1/custom-fields",
        json={"key": "cost_centre", "label": "Cost centre", "type": "number"},
        headers=headers,
    )
    assert defined.status_code == 201, defined.text

    registered = await gql(
        stack, headers, REGISTER, {"input": {"name": "x", "customFields": {"cost_centre": "HR"}}}
    )
    (error,) = registered["registerAISystem"]["errors"]
    assert error["__typename"] == "ValidationError"
    assert error["field"] == ["customFields", "cost_centre"]

    ok = await gql(
        stack, headers, REGISTER, {"input": {"name": "x", "customFields": {"cost_centre": 42}}}
    )
    system = ok["registerAISystem"]["aiSystem"]
    assert system["customFields"] == {"cost_centre": 42}

    updated = await gql(
        stack,
        headers,
        UPDATE,
        {
            "input": {
                "id": system["id"],
                "expectedVersion": system["version"],
                "customFields": {"cost_centre": "HR-42"},
            }
        },
    )
    assert updated["updateAISystem"]["aiSystem"] is None
    (error,) = updated["updateAISystem"]["errors"]
    assert error["__typename"] == "ValidationError"
    assert error["field"] == ["customFields", "cost_centre"]
