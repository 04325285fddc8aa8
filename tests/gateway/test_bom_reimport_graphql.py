"""CycloneDX 1.7 import and re-import through GraphQL: what a re-import removed is in the reply,
and each component says whether the BOM or a person keeps it (issue 9)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.inventory.test_bom_versions import BOM_1_7, _without_torch

pytestmark = pytest.mark.engines

IMPORT = """
mutation Import($s: ID!, $b: JSON!) {
  importBom(systemId: $s, bom: $b) {
    summary {
      specVersion
      components { created updated unchanged removed }
      dependencies { created removed }
      created { id bomRef name }
      updated { bomRef }
      removed { id bomRef name }
      removedDependencies { fromType fromBomRef toType toBomRef source }
      removedInterfaces
    }
    errors { code message }
  }
}
"""
COMPONENTS = """
query($id: ID!) { aiSystem(id: $id) { components(first: 20) { edges { node { name source } } } } }
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


async def test_reimport_reports_what_it_removed_and_components_say_their_source(
    stack: Any, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "manager")
    system = await stack.inventory.post("/v1/ai-systems", json={"name": "Hiring"}, headers=headers)
    assert system.status_code == 201, system.text
    system_id = system.json()["id"]

    first = (await gql(stack, org, IMPORT, s=system_id, b=BOM_1_7))["importBom"]
    assert first["errors"] == []
    summary = first["summary"]
    assert summary["specVersion"] == "1.7"
    assert summary["components"] == {"created": 3, "updated": 0, "unchanged": 0, "removed": 0}
    assert {c["bomRef"] for c in summary["created"]} == {"ranker", "cvs", "torch"}
    assert summary["removed"] == [] and summary["removedDependencies"] == []
    torch_id = next(c["id"] for c in summary["created"] if c["bomRef"] == "torch")

    by_hand = await stack.inventory.post(
        "/v1/components",
        json={"kind": "service", "name": "feature-store", "system_id": system_id},
        headers=headers,
    )
    assert by_hand.status_code == 201, by_hand.text

    again = (await gql(stack, org, IMPORT, s=system_id, b=_without_torch(BOM_1_7)))["importBom"]
    assert again["errors"] == []
    summary = again["summary"]
    assert summary["components"]["removed"] == 1
    assert summary["removed"] == [{"id": torch_id, "bomRef": "torch", "name": "torch"}]
    removed_edges = {(e["fromBomRef"], e["toBomRef"]) for e in summary["removedDependencies"]}
    assert removed_edges == {("ranker", "cvs"), ("ranker", "torch")}
    assert {e["source"] for e in summary["removedDependencies"]} == {"BOM"}
    assert summary["dependencies"]["removed"] == 2

    listed = await gql(stack, org, COMPONENTS, id=system_id)
    sources = {
        e["node"]["name"]: e["node"]["source"] for e in listed["aiSystem"]["components"]["edges"]
    }
    assert sources == {
        "resume-ranker": "BOM",
        "applications-2026": "BOM",
        "feature-store": "MANUAL",
    }
