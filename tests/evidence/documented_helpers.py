"""Arranging documented-information scenarios through the services' REST APIs."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from shared.testing import eventually

CV_SCREENING = {"role": "provider", "annex_iii_area": "4", "annex_iii_point": "4(a)"}
CHATBOT = {"role": "deployer", "transparency": ["interacts_with_people"]}
JUSTIFIED = "Batch analytics with no effect on individuals; reviewed by the DPO."


async def add_evidence(
    stack: Any,
    org: uuid.UUID,
    links: list[tuple[str, str]],
    *,
    status: str = "approved",
    review_by: date | None = None,
    title: str = "Evidence",
) -> str:
    """An evidence item created, linked and taken to ``status`` (draft, in_review, approved)
    through the items API."""
    body: dict[str, Any] = {
        "title": title,
        "kind": "link",
        "url": "https://intranet.example.com/doc",
        "links": [{"target_type": t, "target_id": i} for t, i in links],
    }
    if review_by is not None:
        body["review_by"] = review_by.isoformat()
    created = await stack.evidence.post(
        "/v1/evidence", json=body, headers=stack.headers(org, "contributor", subject="ann")
    )
    assert created.status_code == 201, created.text
    item_id = str(created.json()["id"])
    if status in ("in_review", "approved"):
        submitted = await stack.evidence.post(
            f"/v1/evidence/{item_id}/submit",
            headers=stack.headers(org, "contributor", subject="ann"),
        )
        assert submitted.status_code == 200, submitted.text
    if status == "approved":
        approved = await stack.evidence.post(
            f"/v1/evidence/{item_id}/approve", headers=stack.headers(org, "manager", subject="bo")
        )
        assert approved.status_code == 200, approved.text
    return item_id


async def register(stack: Any, org: uuid.UUID, name: str) -> str:
    """A system registered in the inventory and known to the evidence service.

    Scope membership and the system itself reach the evidence service through different
    consumers, in any order; evidence can be linked to a system only once it is known there.
    """
    response = await stack.inventory.post(
        "/v1/ai-systems",
        json={"name": name, "owner": "owner@example.com"},
        headers=stack.headers(org, "manager"),
    )
    assert response.status_code == 201, response.text
    system_id = str(response.json()["id"])

    async def known() -> bool:
        found = await stack.evidence.get(f"/v1/systems/{system_id}", headers=stack.headers(org))
        return bool(found.status_code == 200)

    await eventually(known)
    return system_id


async def approve_scope(stack: Any, org: uuid.UUID, systems: dict[str, bool]) -> dict[str, Any]:
    """Approve a scope with ``systems`` (id → included) in the inventory."""
    body = {
        "statement": "AI in recruitment",
        "activities": [{"name": "Recruitment"}],
        "systems": [
            {"system_id": s, "included": True}
            if included
            else {"system_id": s, "included": False, "justification": JUSTIFIED}
            for s, included in systems.items()
        ],
    }
    draft = await stack.inventory.post(
        "/v1/scope-versions", json=body, headers=stack.headers(org, "contributor")
    )
    assert draft.status_code == 201, draft.text
    approved = await stack.inventory.post(
        f"/v1/scope-versions/{draft.json()['id']}/approve",
        headers=stack.headers(org, "manager", subject="ceo"),
    )
    assert approved.status_code == 200, approved.text
    return dict(approved.json())


async def classify(stack: Any, org: uuid.UUID, system_id: str, answers: dict[str, Any]) -> None:
    """Classify a system in the risk service (once the risk service knows it)."""
    headers = stack.headers(org, "risk_owner")

    async def known() -> bool:
        seen = await stack.risk.get(f"/v1/systems/{system_id}", headers=headers)
        return seen.status_code == 200

    await eventually(known)
    response = await stack.risk.post(
        f"/v1/systems/{system_id}/classifications", json=answers, headers=headers
    )
    assert response.status_code == 201, response.text


async def approve_soa(stack: Any, org: uuid.UUID, decisions: dict[str, bool]) -> int:
    """Propose (provider role), decide ``decisions`` (control → applicable), approve; the
    approved version's number."""
    manager = stack.headers(org, "manager")
    proposed = await stack.risk.post(
        "/v1/soa/propose", json={"roles": ["provider"]}, headers=stack.headers(org, "risk_owner")
    )
    assert proposed.status_code == 200, proposed.text
    for control, applicable in decisions.items():
        entry = await stack.risk.get(f"/v1/soa/entries/{control}", headers=manager)
        body: dict[str, Any] = {"applicable": applicable}
        if not applicable:
            body["justification"] = "We neither develop nor specify AI systems ourselves."
        decided = await stack.risk.patch(
            f"/v1/soa/entries/{control}",
            json=body,
            headers={**manager, "If-Match": entry.headers["etag"]},
        )
        assert decided.status_code == 200, decided.text
    # A version with entries still only proposed cannot be approved: accept the rest as proposed.
    accepted = await stack.risk.post("/v1/soa/entries/accept-proposals", json={}, headers=manager)
    assert accepted.status_code == 200, accepted.text
    version = await stack.risk.post("/v1/soa/versions", json={}, headers=manager)
    assert version.status_code == 201, version.text
    approved = await stack.risk.post(
        f"/v1/soa/versions/{version.json()['id']}/approve", headers=manager
    )
    assert approved.status_code == 200, approved.text
    return int(approved.json()["number"])


async def documented(stack: Any, org: uuid.UUID, **params: Any) -> dict[str, Any]:
    response = await stack.evidence.get(
        "/v1/documented-information", params=params, headers=stack.headers(org, "viewer")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def item(stack: Any, org: uuid.UUID, item_id: str) -> dict[str, Any]:
    response = await stack.evidence.get(
        f"/v1/documented-information/{item_id}", headers=stack.headers(org, "auditor")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def item_becomes(stack: Any, org: uuid.UUID, item_id: str, status: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        found = await item(stack, org, item_id)
        return found if found["status"] == status else None

    return await eventually(check)
