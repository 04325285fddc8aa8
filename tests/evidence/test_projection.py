"""The evidence service's view of AI systems: kept from inventory events, served in batches."""

from __future__ import annotations

import uuid

import pytest

from shared.db import uuid7
from shared.testing import eventually
from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines


async def test_a_registered_system_appears_and_follows_its_updates(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org, name="Chatbot")
    url = f"/v1/systems/{system['id']}"

    seen = (await stack.evidence.get(url, headers=stack.headers(org, "auditor"))).json()
    assert seen["name"] == "Chatbot"
    assert seen["lifecycle_stage"] == "idea"
    assert seen["source_version"] == 1
    assert seen["file_count"] == 0
    assert seen["total_bytes"] == 0

    changed = await stack.inventory.patch(
        f"/v1/ai-systems/{system['id']}",
        json={"name": "Support chatbot", "lifecycle_stage": "retired"},
        headers={**stack.headers(org), "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text

    async def updated() -> dict[str, object] | None:
        body = (await stack.evidence.get(url, headers=stack.headers(org))).json()
        return body if body["source_version"] == 2 else None

    latest = await eventually(updated)
    assert latest["name"] == "Support chatbot"
    assert latest["lifecycle_stage"] == "retired"


async def test_batch_returns_each_requested_system_with_its_evidence_summary(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    a = await stack.register_system(org, name="A")
    b = await stack.register_system(org, name="B")
    c = await stack.register_system(org, name="C")
    for system, sizes in ((a, [10, 20]), (b, [5])):
        for size in sizes:
            response = await stack.evidence.post(
                f"/v1/systems/{system['id']}/files",
                params={"filename": f"{size}.bin"},
                content=bytes([size]) * size,
                headers=stack.headers(org),
            )
            assert response.status_code == 201
    elsewhere = await stack.register_system(uuid7(), name="Not yours")

    response = await stack.evidence.get(
        "/v1/systems",
        params=[("id", s["id"]) for s in (c, a, b, elsewhere)] + [("id", str(uuid7()))],
        headers=stack.headers(org, "viewer"),
    )

    assert response.status_code == 200
    body = response.json()
    summaries = {i["id"]: (i["name"], i["file_count"], i["total_bytes"]) for i in body["items"]}
    assert summaries == {a["id"]: ("A", 2, 30), b["id"]: ("B", 1, 5), c["id"]: ("C", 0, 0)}
    assert body["next_cursor"] is None


async def test_batch_pages_through_many_ids(evidence_stack: EvidenceStack, org: uuid.UUID) -> None:
    stack = evidence_stack
    ids = [(await stack.register_system(org, name=f"S{n}"))["id"] for n in range(3)]
    params = [("id", i) for i in ids]

    first = (
        await stack.evidence.get(
            "/v1/systems", params=[*params, ("limit", "2")], headers=stack.headers(org)
        )
    ).json()
    second = (
        await stack.evidence.get(
            "/v1/systems",
            params=[*params, ("limit", "2"), ("after", first["next_cursor"])],
            headers=stack.headers(org),
        )
    ).json()

    assert [i["id"] for i in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None


async def test_listing_without_ids_shows_only_the_callers_systems(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    mine = await stack.register_system(org, name="Mine")
    await stack.register_system(uuid7(), name="Theirs")

    body = (await stack.evidence.get("/v1/systems", headers=stack.headers(org))).json()

    assert [i["id"] for i in body["items"]] == [mine["id"]]
