"""The services' audit trails over GraphQL: an auditor reads and verifies them."""

from __future__ import annotations

import uuid

import pytest
from strawberry.relay import GlobalID

from tests.conftest import Stack
from tests.gateway.test_evidence_graphql import create_evidence, data, gql

pytestmark = pytest.mark.engines

TRAIL = """
query($service: AuditedService!, $entity: String, $after: String) {
  auditTrail(service: $service, first: 1, after: $after, filter: {entityId: $entity}) {
    pageInfo { hasNextPage endCursor }
    edges { node { seq actor action entityType entityId after } }
  }
  auditTrailVerification(service: $service) { valid entries problems { seq } }
}
"""


async def test_an_auditor_reads_and_verifies_the_evidence_trail(
    stack: Stack, org: uuid.UUID
) -> None:
    created = await create_evidence(stack, org, "AI policy", [])
    item_id = GlobalID.from_id(created["id"]).node_id
    await gql(
        stack.gateway,
        stack.headers(org, "contributor"),
        """mutation($id: ID!, $v: Int!) { updateEvidence(input: {id: $id, expectedVersion: $v,
             owner: "dpo@example.com"}) { errors { code } } }""",
        {"id": created["id"], "v": created["version"]},
    )
    auditor = stack.headers(org, "auditor")
    first = data(
        await gql(stack.gateway, auditor, TRAIL, {"service": "EVIDENCE", "entity": item_id})
    )
    [entry] = [e["node"] for e in first["auditTrail"]["edges"]]
    assert entry["entityId"] == item_id
    assert entry["actor"] == "ann"
    assert entry["after"]["title"] == "AI policy"
    assert first["auditTrail"]["pageInfo"]["hasNextPage"] is True
    second = data(
        await gql(
            stack.gateway,
            auditor,
            TRAIL,
            {
                "service": "EVIDENCE",
                "entity": item_id,
                "after": first["auditTrail"]["pageInfo"]["endCursor"],
            },
        )
    )
    [change] = [e["node"] for e in second["auditTrail"]["edges"]]
    assert change["seq"] > entry["seq"]
    assert change["after"]["owner"] == "dpo@example.com"
    verification = first["auditTrailVerification"]
    assert verification["valid"] is True
    assert verification["entries"] >= 2
    assert verification["problems"] == []


async def test_a_viewer_may_not_read_the_trail(stack: Stack, org: uuid.UUID) -> None:
    body = await gql(stack.gateway, stack.headers(org, "viewer"), TRAIL, {"service": "INVENTORY"})
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"forbidden"}
    assert {e["extensions"]["status"] for e in body["errors"]} == {403}
