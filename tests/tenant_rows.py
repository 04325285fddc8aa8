"""One organisation's rows in every service, arranged through the public REST API.

Shared by the authorisation matrix (which needs the ids to fill path parameters) and the RLS
catalogue (which needs a row in every tenant table): a system projected to the risk and evidence
services, a risk, an evidence item, an API key and a webhook subscription.
"""

from __future__ import annotations

import uuid

from shared.testing import eventually
from tests.conftest import Stack


async def arrange_tenant_rows(stack: Stack, org: uuid.UUID, label: str) -> dict[str, str]:
    """Create the rows for ``org`` (named after ``label``); path parameter name → id."""
    admin = stack.headers(org, "admin")
    system = await stack.inventory.post("/v1/ai-systems", json={"name": label}, headers=admin)
    assert system.status_code == 201, system.text
    system_id = system.json()["id"]

    async def projected() -> bool:
        risk = await stack.risk.get(f"/v1/systems/{system_id}", headers=admin)
        evidence = await stack.evidence.get(f"/v1/systems/{system_id}", headers=admin)
        return risk.status_code == 200 and evidence.status_code == 200

    await eventually(projected)
    risk = await stack.risk.post(
        "/v1/risks",
        json={
            "system_id": system_id,
            "title": f"{label} risk",
            "domain_id": "1",
            "subdomain_id": "1.1",
            "entity": "ai",
            "intent": "unintentional",
            "timing": "post_deployment",
            "likelihood": 2,
            "severity": 2,
        },
        headers=admin,
    )
    assert risk.status_code == 201, risk.text
    item = await stack.evidence.post("/v1/evidence", json={"title": label}, headers=admin)
    assert item.status_code == 201, item.text
    key = await stack.inventory.post(
        "/v1/api-keys", json={"name": label.lower(), "role": "viewer"}, headers=admin
    )
    assert key.status_code == 201, key.text
    hook = await stack.gateway.post(
        "/v1/webhook-subscriptions",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["system.registered"]},
        headers=admin,
    )
    assert hook.status_code == 201, hook.text
    return {
        "system_id": system_id,
        "risk_id": risk.json()["id"],
        "item_id": item.json()["id"],
        "key_id": key.json()["id"],
        "subscription_id": hook.json()["id"],
    }
