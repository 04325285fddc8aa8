"""Issue 9: the GraphQL list of AI systems filters by vendor, business function and custom field
as the REST list does (the same query parameters upstream)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.db import uuid7
from tests.inventory.test_import_upsert import define, register

pytestmark = pytest.mark.engines

LIST = """
query($filter: AISystemFilter) {
  aiSystems(first: 50, filter: $filter) { edges { node { name } } }
}
"""


async def gql(stack: Any, org: uuid.UUID, variables: dict[str, Any]) -> Any:
    response = await stack.gateway.post(
        "/graphql", json={"query": LIST, "variables": variables}, headers=stack.headers(org)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def names(stack: Any, org: uuid.UUID, **filter: Any) -> list[str]:
    body = await gql(stack, org, {"filter": filter})
    assert "errors" not in body, body
    return sorted(e["node"]["name"] for e in body["data"]["aiSystems"]["edges"])


async def test_vendor_business_function_and_custom_field_filters(
    stack: Any, org: uuid.UUID
) -> None:
    made = await stack.inventory.post(
        "/v1/vendors", json={"name": "Acme AI"}, headers=stack.headers(org, "admin")
    )
    assert made.status_code == 201, made.text
    acme = made.json()["id"]
    await define(stack, org, key="cost_centre", label="Cost centre", type="text")
    await register(
        stack, org, name="A", vendor_id=acme, business_function="Équipe IA",
        custom_fields={"cost_centre": "HR-42"},
    )  # fmt: skip
    await register(stack, org, name="B", business_function="IT")

    assert await names(stack, org, vendorId=acme) == ["A"]
    assert await names(stack, org, businessFunction="équipe ia") == ["A"]
    assert await names(stack, org, businessFunction="it") == ["B"]
    assert await names(stack, org, customFields=[{"key": "cost_centre", "value": "HR-42"}]) == ["A"]
    assert await names(stack, org, vendorId=str(uuid7())) == []
    assert await names(stack, org) == ["A", "B"]
    # Another organisation's vendor finds nothing there; an unknown custom field is an error.
    assert await names(stack, uuid7(), vendorId=acme) == []
    unknown = await gql(stack, org, {"filter": {"customFields": [{"key": "x", "value": "1"}]}})
    assert unknown.get("errors") or unknown["data"] is None, unknown
