"""SoA proposals from what the inventory knows (organisation-level AI roles, in-scope and live
systems, vendors), and approval refused while entries are only proposed. Everything is arranged
through the inventory's REST API and reaches the risk service as real events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.testing import eventually

pytestmark = pytest.mark.engines

JUSTIFIED = "Batch analytics with no effect on individuals; reviewed by the DPO."


async def set_org_roles(stack: Any, org: uuid.UUID, roles: list[str]) -> None:
    headers = stack.headers(org, "manager")
    current = await stack.inventory.get("/v1/organisation/ai-roles", headers=headers)
    put = await stack.inventory.put(
        "/v1/organisation/ai-roles",
        json={"roles": roles, "note": "What we do with AI."},
        headers={**headers, "If-Match": current.headers["etag"]},
    )
    assert put.status_code == 200, put.text


async def vendor(stack: Any, org: uuid.UUID, name: str = "Model Vendor Ltd") -> str:
    response = await stack.inventory.post(
        "/v1/vendors", json={"name": name}, headers=stack.headers(org, "manager")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def register(stack: Any, org: uuid.UUID, name: str, **fields: Any) -> str:
    """A system registered in the inventory, once the risk service holds it."""
    body = {"name": name, "owner": "owner@example.com", **fields}
    response = await stack.inventory.post(
        "/v1/ai-systems", json=body, headers=stack.headers(org, "manager")
    )
    assert response.status_code == 201, response.text
    system_id = str(response.json()["id"])
    headers = stack.headers(org, "viewer")

    async def known() -> bool:
        return bool((await stack.risk.get(f"/v1/systems/{system_id}", headers=headers)).is_success)

    await eventually(known)
    return system_id


async def approve_scope(
    stack: Any, org: uuid.UUID, included: list[str], excluded: list[str]
) -> None:
    """Approve a scope in the inventory and wait until the risk service has applied it."""
    systems = [{"system_id": s, "included": True} for s in included] + [
        {"system_id": s, "included": False, "justification": JUSTIFIED} for s in excluded
    ]
    draft = await stack.inventory.post(
        "/v1/scope-versions",
        json={"statement": "AI in operations", "activities": [{"name": "Ops"}], "systems": systems},
        headers=stack.headers(org, "contributor"),
    )
    assert draft.status_code == 201, draft.text
    approved = await stack.inventory.post(
        f"/v1/scope-versions/{draft.json()['id']}/approve",
        headers=stack.headers(org, "manager", subject="ceo"),
    )
    assert approved.status_code == 200, approved.text
    headers = stack.headers(org, "viewer")
    expected = {s: True for s in included} | {s: False for s in excluded}

    async def applied() -> bool:
        for system_id, wanted in expected.items():
            seen = (await stack.risk.get(f"/v1/systems/{system_id}", headers=headers)).json()
            if seen["in_scope"] is not wanted:
                return False
        return True

    await eventually(applied)


async def propose(stack: Any, org: uuid.UUID, body: dict[str, Any] | None = None) -> Any:
    response = await stack.risk.post(
        "/v1/soa/propose", json=body or {}, headers=stack.headers(org, "risk_owner")
    )
    assert response.status_code == 200, response.text
    return response.json()


async def propose_once_roles_arrive(stack: Any, org: uuid.UUID, roles: list[str]) -> Any:
    """Propose once the organisation's roles have reached the risk service (an event away)."""

    async def ready() -> Any:
        result = await propose(stack, org)
        return result if result["organisation_roles"] == sorted(roles) else None

    return await eventually(ready)


def by_control(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["control_id"]: e for e in result["items"]}


async def test_roles_come_from_the_organisation_and_in_scope_live_systems_only(
    stack: Any, org: uuid.UUID
) -> None:
    await set_org_roles(stack, org, ["customer"])
    used = await register(stack, org, "Fraud scoring (bought)", lifecycle_stage="deployed")
    # Neither of these may make the organisation a producer or provider in the proposal.
    outside = await register(
        stack, org, "Lab model", lifecycle_stage="deployed", ai_roles=["producer"]
    )
    not_live = await register(
        stack, org, "Pilot", lifecycle_stage="development", ai_roles=["provider"]
    )
    await approve_scope(stack, org, included=[used, not_live], excluded=[outside])

    result = await propose_once_roles_arrive(stack, org, ["customer"])
    assert result["roles_from"] == "inventory"
    assert result["roles"] == ["customer"]
    assert result["systems_considered"] == [used]
    assert result["operates_systems"] is True
    entries = by_control(result)
    assert entries["A.6.2.2"]["applicable"] is False  # no producer/provider role counted
    assert entries["A.10.4"]["applicable"] is False
    assert entries["A.9.2"]["applicable"] is True
    # A deployer operating an in-scope, live system keeps operation/monitoring and event logs.
    assert entries["A.6.2.6"]["applicable"] is True
    assert entries["A.6.2.8"]["applicable"] is True
    assert "deployer" in entries["A.6.2.8"]["proposal_reason"]

    # Once the system is retired it is no longer live: nothing is operated any more.
    current = await stack.inventory.get(f"/v1/ai-systems/{used}", headers=stack.headers(org))
    patched = await stack.inventory.patch(
        f"/v1/ai-systems/{used}",
        json={"lifecycle_stage": "retired"},
        headers={**stack.headers(org, "manager"), "If-Match": current.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text

    async def retired() -> Any:
        again = await propose(stack, org)
        return again if again["systems_considered"] == [] else None

    again = by_control(await eventually(retired))
    assert again["A.6.2.6"]["applicable"] is False
    assert again["A.6.2.8"]["applicable"] is False
    assert "customer" in again["A.6.2.8"]["justification"]


async def test_organisation_roles_alone_drive_the_proposal(stack: Any, org: uuid.UUID) -> None:
    await set_org_roles(stack, org, ["provider", "customer"])
    result = await propose_once_roles_arrive(stack, org, ["customer", "provider"])
    assert result["roles"] == ["customer", "provider"]
    assert result["systems_considered"] == []
    entries = by_control(result)
    assert entries["A.6.2.2"]["applicable"] is True  # provider
    assert entries["A.9.2"]["applicable"] is True  # customer
    # Roles given in the request replace the roles, not the facts about the systems.
    asked = await propose(stack, org, {"roles": ["partner"]})
    assert asked["roles_from"] == "request" and asked["roles"] == ["partner"]
    assert asked["organisation_roles"] == ["customer", "provider"]


async def test_a_producer_with_suppliers_keeps_a_10_3(stack: Any, org: uuid.UUID) -> None:
    await set_org_roles(stack, org, ["producer"])
    supplier = await vendor(stack, org)
    built = await register(
        stack,
        org,
        "Risk model",
        lifecycle_stage="deployed",
        ai_roles=["producer"],
        vendor_id=supplier,
    )
    await approve_scope(stack, org, included=[built], excluded=[])
    result = await propose_once_roles_arrive(stack, org, ["producer"])
    assert result["has_suppliers"] is True
    entries = by_control(result)
    assert entries["A.10.3"]["applicable"] is True
    assert entries["A.10.4"]["applicable"] is True

    seen = (
        await stack.risk.get(f"/v1/systems/{built}", headers=stack.headers(org, "viewer"))
    ).json()
    assert seen["vendor_id"] == supplier


async def test_a_producer_without_suppliers_gets_a_10_3_proposed_as_excluded(
    stack: Any, org: uuid.UUID
) -> None:
    await set_org_roles(stack, org, ["producer"])
    own = await register(
        stack, org, "In-house model", lifecycle_stage="deployed", provenance="in_house"
    )
    await approve_scope(stack, org, included=[own], excluded=[])
    result = await propose_once_roles_arrive(stack, org, ["producer"])
    assert result["has_suppliers"] is False
    a_10_3 = by_control(result)["A.10.3"]
    assert a_10_3["applicable"] is False
    assert "vendor" in a_10_3["justification"]


async def test_a_version_with_proposed_entries_cannot_be_approved(
    stack: Any, org: uuid.UUID
) -> None:
    manager = stack.headers(org, "manager", subject="mia")
    await propose(stack, org, {"roles": ["provider"]})
    draft = (await stack.risk.post("/v1/soa/versions", json={}, headers=manager)).json()
    refused = await stack.risk.post(f"/v1/soa/versions/{draft['id']}/approve", headers=manager)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "soa-not-approvable"
    reasons = refused.json()["reasons"]
    assert len(reasons) == 38
    assert {r["code"] for r in reasons} == {"proposal_not_decided"}
    assert (await stack.risk.get("/v1/soa/versions/1", headers=manager)).json()["status"] == (
        "draft"
    )

    # Deciding one control leaves 37; accepting named proposals turns them into decisions.
    one = await stack.risk.post(
        "/v1/soa/entries/accept-proposals",
        json={"control_ids": ["A.2.2", "A.2.2"]},
        headers=manager,
    )
    assert one.status_code == 200, one.text
    assert one.json()["accepted"] == ["A.2.2"]
    a22 = {e["control_id"]: e for e in one.json()["items"]}["A.2.2"]
    assert a22["decision"] == "decided" and a22["decided_by"] == "mia"
    second = (await stack.risk.post("/v1/soa/versions", json={}, headers=manager)).json()
    still = await stack.risk.post(f"/v1/soa/versions/{second['id']}/approve", headers=manager)
    assert still.status_code == 422
    assert len(still.json()["reasons"]) == 37
    assert "A.2.2" not in {r["control_id"] for r in still.json()["reasons"]}

    again = await stack.risk.post(
        "/v1/soa/entries/accept-proposals", json={"control_ids": ["A.2.2"]}, headers=manager
    )
    assert again.json()["accepted"] == [] and again.json()["not_proposed"] == ["A.2.2"]
    everything = await stack.risk.post("/v1/soa/entries/accept-proposals", headers=manager)
    assert everything.status_code == 200, everything.text
    assert len(everything.json()["accepted"]) == 37
    third = (await stack.risk.post("/v1/soa/versions", json={}, headers=manager)).json()
    ok = await stack.risk.post(f"/v1/soa/versions/{third['id']}/approve", headers=manager)
    assert ok.status_code == 200, ok.text
    assert {e["decision"] for e in ok.json()["entries"]} == {"decided"}


async def test_accepting_proposals_checks_input_and_roles(stack: Any, org: uuid.UUID) -> None:
    await propose(stack, org, {"roles": ["customer"]})
    url = "/v1/soa/entries/accept-proposals"
    for role in ("auditor", "viewer", "contributor"):
        denied = await stack.risk.post(url, json={}, headers=stack.headers(org, role))
        assert denied.status_code == 403, role
    manager = stack.headers(org, "manager")
    unknown = await stack.risk.post(url, json={"control_ids": ["A.1.1", "A.2.2"]}, headers=manager)
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["location"] == ["body", "control_ids", "0"]
    for bad in ({"control_ids": ["A.2.2\x00"]}, {"control_ids": ["x" * 17]}, {"surprise": 1}):
        response = await stack.risk.post(url, json=bad, headers=manager)
        assert response.status_code == 422, (bad, response.text)
    # Nothing was accepted by the refused calls.
    entries = (await stack.risk.get("/v1/soa/entries", headers=manager)).json()["items"]
    assert {e["decision"] for e in entries} == {"proposed"}
    # Another organisation accepts nothing of this one.
    other = await stack.risk.post(url, json={}, headers=stack.headers(uuid.uuid4(), "admin"))
    assert other.status_code == 200 and other.json()["accepted"] == []
    entries = (await stack.risk.get("/v1/soa/entries", headers=manager)).json()["items"]
    assert {e["decision"] for e in entries} == {"proposed"}
