"""Components and vendors through the GraphQL gateway."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.engines


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


async def test_create_import_and_query_dependencies(stack: Any, org: uuid.UUID) -> None:
    system = (
        await stack.inventory.post(
            "/v1/ai-systems", json={"name": "Hiring"}, headers=stack.headers(org, "manager")
        )
    ).json()
    vendor = await gql(
        stack,
        org,
        "mutation($i: CreateVendorInput!) { createVendor(input: $i) "
        "{ vendor { id name } errors { code } } }",
        i={"name": "Acme AI", "services": ["LLM"]},
    )
    vendor_id = vendor["createVendor"]["vendor"]["id"]
    created = await gql(
        stack,
        org,
        "mutation($i: CreateComponentInput!) { createComponent(input: $i) "
        "{ component { name kind vendor { name } } errors { code } } }",
        i={"kind": "MODEL", "name": "ranker", "systemId": system["id"], "vendorId": vendor_id},
    )
    assert created["createComponent"]["component"] == {
        "name": "ranker",
        "kind": "MODEL",
        "vendor": {"name": "Acme AI"},
    }
    bad = await gql(
        stack,
        org,
        "mutation($s: ID!, $b: JSON!) { importBom(systemId: $s, bom: $b) "
        "{ summary { specVersion } errors { code } } }",
        s=system["id"],
        b={"bomFormat": "CycloneDX", "specVersion": "1.2"},
    )
    assert bad["importBom"] == {
        "summary": None,
        "errors": [{"code": "bom-spec-version-unsupported"}],
    }
    deps = await gql(
        stack,
        org,
        "query($id: ID!) { systemDependencies(id: $id) { depth node { type name } } "
        "components(systemId: $id) { edges { node { name } } } }",
        id=system["id"],
    )
    assert deps["systemDependencies"] == [
        {"depth": 1, "node": {"type": "component", "name": "ranker"}},
        {"depth": 2, "node": {"type": "vendor", "name": "Acme AI"}},
    ]
    assert [e["node"]["name"] for e in deps["components"]["edges"]] == ["ranker"]


async def test_an_ai_system_lists_its_components(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "manager")
    system = (
        await stack.inventory.post("/v1/ai-systems", json={"name": "Scoring"}, headers=headers)
    ).json()
    other = (
        await stack.inventory.post("/v1/ai-systems", json={"name": "Other"}, headers=headers)
    ).json()
    for name, owner in (("ranker", system), ("features", system), ("elsewhere", other)):
        created = await stack.inventory.post(
            "/v1/components",
            json={"kind": "software", "name": name, "system_id": owner["id"]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
    query = (
        "query($id: ID!, $first: Int!, $after: String) { aiSystem(id: $id) { name "
        "components(first: $first, after: $after) { edges { cursor node { name } } "
        "pageInfo { hasNextPage endCursor } } } }"
    )
    data = await gql(stack, org, query, id=system["id"], first=10)
    connection = data["aiSystem"]["components"]
    assert [e["node"]["name"] for e in connection["edges"]] == ["ranker", "features"]
    assert connection["pageInfo"]["hasNextPage"] is False
    first_page = (await gql(stack, org, query, id=system["id"], first=1))["aiSystem"]
    assert [e["node"]["name"] for e in first_page["components"]["edges"]] == ["ranker"]
    assert first_page["components"]["pageInfo"]["hasNextPage"] is True
    after = first_page["components"]["pageInfo"]["endCursor"]
    second = (await gql(stack, org, query, id=system["id"], first=1, after=after))["aiSystem"]
    assert [e["node"]["name"] for e in second["components"]["edges"]] == ["features"]
