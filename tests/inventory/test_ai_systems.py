"""The AI system register through its REST API: create, read, update, list, and its events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.testing import eventually

pytestmark = pytest.mark.engines


async def register(stack: Any, org: uuid.UUID, **fields: Any) -> dict[str, Any]:
    body = {"name": "CV screening assistant", **fields}
    response = await stack.inventory.post(
        "/v1/ai-systems", json=body, headers=stack.headers(org, "contributor")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_register_returns_state_etag_and_location(stack: Any, org: uuid.UUID) -> None:
    response = await stack.inventory.post(
        "/v1/ai-systems",
        json={
            "name": "  Credit scoring  ",
            "description": "Scores loan applications",
            "owner": "cro@example.com",
            "business_function": "Lending",
            "lifecycle_stage": "deployed",
        },
        headers=stack.headers(org, "manager", subject="alice"),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Credit scoring"  # surrounding whitespace is not part of a name
    assert body["lifecycle_stage"] == "deployed"
    assert body["version"] == 1
    assert body["org_id"] == str(org)
    assert body["created_by"] == "alice"
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/v1/ai-systems/{body['id']}"

    fetched = await stack.inventory.get(response.headers["location"], headers=stack.headers(org))
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched.headers["etag"] == '"1"'


async def test_defaults_apply_when_fields_are_left_out(stack: Any, org: uuid.UUID) -> None:
    system = await register(stack, org)
    assert system["lifecycle_stage"] == "idea"
    assert system["owner"] is None and system["description"] == ""


async def test_update_needs_current_etag_and_bumps_version(stack: Any, org: uuid.UUID) -> None:
    system = await register(stack, org)
    url = f"/v1/ai-systems/{system['id']}"
    headers = stack.headers(org, "contributor", subject="bob")

    missing = await stack.inventory.patch(url, json={"owner": "x"}, headers=headers)
    assert missing.status_code == 428
    assert missing.headers["content-type"].startswith("application/problem+json")

    updated = await stack.inventory.patch(
        url, json={"owner": "dpo@example.com"}, headers={**headers, "If-Match": '"1"'}
    )
    assert updated.status_code == 200
    assert updated.json()["owner"] == "dpo@example.com"
    assert updated.json()["version"] == 2
    assert updated.json()["updated_by"] == "bob"
    assert updated.headers["etag"] == '"2"'

    stale = await stack.inventory.patch(
        url, json={"owner": "someone-else"}, headers={**headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition-failed"
    assert stale.json()["current_version"] == 2
    again = await stack.inventory.get(url, headers=headers)
    assert again.json()["owner"] == "dpo@example.com"  # the stale write changed nothing


async def test_idempotency_key_returns_first_result(stack: Any, org: uuid.UUID) -> None:
    headers = {**stack.headers(org, "contributor"), "Idempotency-Key": "import-row-17"}
    body = {"name": "Chatbot", "lifecycle_stage": "development"}
    first = await stack.inventory.post("/v1/ai-systems", json=body, headers=headers)
    second = await stack.inventory.post("/v1/ai-systems", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers.get("idempotent-replayed") == "true"
    listed = await stack.inventory.get("/v1/ai-systems", headers=stack.headers(org))
    assert [s["name"] for s in listed.json()["items"]] == ["Chatbot"]

    other = await stack.inventory.post(
        "/v1/ai-systems", json={"name": "Different"}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency-key-reused"


async def test_list_paginates_with_cursor_and_filters_by_name(stack: Any, org: uuid.UUID) -> None:
    names = ["Fraud detector", "CV screener", "Fraud triage", "Route planner", "fraud-lite"]
    for name in names:
        await register(stack, org, name=name)
    headers = stack.headers(org, "viewer")

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["after"] = cursor
        page = (await stack.inventory.get("/v1/ai-systems", params=params, headers=headers)).json()
        seen += [s["name"] for s in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == names  # creation order, nothing twice, nothing lost
    assert pages == 3

    fraud = await stack.inventory.get("/v1/ai-systems", params={"name": "FRAUD"}, headers=headers)
    assert sorted(s["name"] for s in fraud.json()["items"]) == [
        "Fraud detector",
        "Fraud triage",
        "fraud-lite",
    ]
    # LIKE wildcards in the filter are matched literally.
    wildcard = await stack.inventory.get("/v1/ai-systems", params={"name": "%"}, headers=headers)
    assert wildcard.json()["items"] == []


async def test_batch_fetch_by_ids(stack: Any, org: uuid.UUID) -> None:
    a = await register(stack, org, name="A")
    await register(stack, org, name="B")
    c = await register(stack, org, name="C")
    response = await stack.inventory.get(
        "/v1/ai-systems", params=[("id", a["id"]), ("id", c["id"])], headers=stack.headers(org)
    )
    assert {s["name"] for s in response.json()["items"]} == {"A", "C"}


async def test_changes_reach_risk_and_evidence_projections(stack: Any, org: uuid.UUID) -> None:
    system = await register(stack, org, name="Triage bot", lifecycle_stage="design")
    headers = stack.headers(org)

    async def projected(client: Any, version: int) -> dict[str, Any] | None:
        response = await client.get(f"/v1/systems/{system['id']}", headers=headers)
        if response.status_code == 200 and response.json()["source_version"] == version:
            return dict(response.json())
        return None

    assert (await eventually(lambda: projected(stack.risk, 1)))["name"] == "Triage bot"
    assert (await eventually(lambda: projected(stack.evidence, 1)))["name"] == "Triage bot"

    await stack.inventory.patch(
        f"/v1/ai-systems/{system['id']}",
        json={"name": "Triage assistant", "lifecycle_stage": "deployed"},
        headers={**stack.headers(org, "manager"), "If-Match": '"1"'},
    )
    risk_view = await eventually(lambda: projected(stack.risk, 2))
    assert risk_view["name"] == "Triage assistant"
    assert risk_view["lifecycle_stage"] == "deployed"


async def test_roles_are_enforced_per_endpoint(stack: Any, org: uuid.UUID) -> None:
    for role in ("viewer", "auditor"):
        refused = await stack.inventory.post(
            "/v1/ai-systems", json={"name": "x"}, headers=stack.headers(org, role)
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
    system = await register(stack, org)
    refused = await stack.inventory.patch(
        f"/v1/ai-systems/{system['id']}",
        json={"name": "y"},
        headers={**stack.headers(org, "auditor"), "If-Match": '"1"'},
    )
    assert refused.status_code == 403
    readable = await stack.inventory.get(
        f"/v1/ai-systems/{system['id']}", headers=stack.headers(org, "auditor")
    )
    assert readable.status_code == 200


async def test_api_keys_issue_verify_revoke_across_services(stack: Any, org: uuid.UUID) -> None:
    admin = stack.headers(org, "admin")
    created = await stack.inventory.post(
        "/v1/api-keys", json={"name": "ServiceNow", "role": "viewer"}, headers=admin
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("aims_")
    as_key = {"Authorization": f"Bearer {key}"}
    await register(stack, org, name="Seen by the key")

    listed = await stack.inventory.get("/v1/ai-systems", headers=as_key)
    assert [s["name"] for s in listed.json()["items"]] == ["Seen by the key"]
    # A viewer key cannot write.
    assert (
        await stack.inventory.post("/v1/ai-systems", json={"name": "n"}, headers=as_key)
    ).status_code == 403

    # Every other service verifies the key itself, from its projection of key events.
    async def risk_accepts() -> bool:
        return (await stack.risk.get("/v1/systems", headers=as_key)).status_code == 200

    await eventually(risk_accepts)
    keys = (await stack.inventory.get("/v1/api-keys", headers=admin)).json()
    assert [k["name"] for k in keys] == ["ServiceNow"]
    assert "key" not in keys[0] and "key_hash" not in keys[0]

    revoked = await stack.inventory.delete(f"/v1/api-keys/{keys[0]['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert (await stack.inventory.get("/v1/ai-systems", headers=as_key)).status_code == 401

    async def risk_refuses() -> bool:
        return (await stack.risk.get("/v1/systems", headers=as_key)).status_code == 401

    await eventually(risk_refuses)
