"""Documented information and evidence requests over GraphQL; against the real services."""

from __future__ import annotations

import uuid

import pytest

from shared.testing import eventually
from tests.conftest import Stack
from tests.evidence.documented_helpers import approve_scope
from tests.gateway.test_evidence_graphql import create_evidence, data, gql, register_systems

pytestmark = pytest.mark.engines

REQUESTS = """
query($systems: [ID!]) {
  evidenceRequests(first: 100, filter: {systemIds: $systems, statuses: [OPEN]}) {
    edges { node { itemId status aiSystem { name } } }
  }
}
"""


async def test_an_in_scope_system_is_asked_for_its_items_and_the_catalogue_shows_status(
    stack: Stack, org: uuid.UUID
) -> None:
    [system] = await register_systems(stack, org, 1)
    await approve_scope(stack, org, {system: True})
    viewer = stack.headers(org, "viewer")

    async def requested() -> list[dict[str, object]] | None:
        found = data(await gql(stack.gateway, viewer, REQUESTS, {"systems": [system]}))
        edges = found["evidenceRequests"]["edges"]
        return [e["node"] for e in edges] or None

    requests = await eventually(requested, timeout=30)
    assert all(r["aiSystem"] == {"name": "System 00"} for r in requests)
    assert all(str(r["itemId"]).startswith("SYS-") for r in requests)

    per_system = data(
        await gql(
            stack.gateway,
            viewer,
            """query($id: ID!) { systemDocumentedInformation(systemId: $id) {
                 inScope items { id status } } }""",
            {"id": system},
        )
    )["systemDocumentedInformation"]
    assert per_system["inScope"] is True
    assert {i["id"] for i in per_system["items"]} >= {str(r["itemId"]) for r in requests}

    # Approved evidence for DI-01 shows behind the item, resolved in one batch.
    evidence = await create_evidence(
        stack,
        org,
        "Scope statement",
        [{"targetType": "DOCUMENTED_INFORMATION", "targetId": "DI-01"}],
    )
    for mutation, role in (("submitEvidence", "contributor"), ("approveEvidence", "manager")):
        body = await gql(
            stack.gateway,
            stack.headers(org, role),
            f"mutation($id: ID!) {{ {mutation}(input: {{id: $id}}) {{ errors {{ code }} }} }}",
            {"id": evidence["id"]},
        )
        assert data(body)[mutation]["errors"] == []
    item = data(
        await gql(
            stack.gateway,
            viewer,
            """{ documentedInformationItem(id: "DI-01") { id status evidence { id title } }
                 missing: documentedInformation(filter: {statuses: [MISSING], sources: [CLAUSE]}) {
                   count items { id status } }
                 documentedInformationSummary { systemsInScope counts { status count } } }""",
        )
    )
    assert item["documentedInformationItem"]["status"] == "APPROVED"
    assert item["documentedInformationItem"]["evidence"] == [
        {"id": evidence["id"], "title": "Scope statement"}
    ]
    missing = item["missing"]
    assert missing["count"] == len(missing["items"]) > 0
    assert {i["status"] for i in missing["items"]} == {"MISSING"}
    assert "DI-01" not in {i["id"] for i in missing["items"]}
    assert item["documentedInformationSummary"]["systemsInScope"] == 1
    unknown = data(
        await gql(stack.gateway, viewer, '{ documentedInformationItem(id: "XX-99") { id } }')
    )
    assert unknown["documentedInformationItem"] is None
