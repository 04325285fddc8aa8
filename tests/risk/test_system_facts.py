"""The risk service keeps the facts of each AI system and tells its domains what changed."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.systems import hooks
from services.risk.systems.models import SystemProjection
from shared.db import utcnow, uuid7
from shared.testing import eventually

pytestmark = pytest.mark.engines


@pytest.fixture
async def js(stack: Any) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(stack.engines.nats_url)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


@pytest.fixture
def changes() -> Any:
    seen: list[tuple[uuid.UUID, frozenset[str]]] = []

    async def listener(
        session: AsyncSession, system: SystemProjection, changed: frozenset[str]
    ) -> None:
        seen.append((system.id, changed))

    hooks.on_facts_changed(listener)
    try:
        yield seen
    finally:
        hooks._listeners.remove(listener)


async def send(
    stack: Any, js: JetStreamContext, type_: str, org: uuid.UUID, version: int, data: dict[str, Any]
) -> None:
    event = {
        "specversion": "1.0",
        "id": str(uuid7()),
        "source": "/aims/inventory",
        "type": type_,
        "time": utcnow().isoformat(),
        "subject": str(data.get("id", "")),
        "orgid": str(org),
        "dataversion": version,
        "data": data,
    }
    await js.publish(
        stack.engines.subject_prefix + type_,
        json.dumps(event).encode(),
        headers={"Nats-Msg-Id": event["id"]},
    )


def system_state(system_id: uuid.UUID, org: uuid.UUID, **facts: Any) -> dict[str, Any]:
    return {
        "id": str(system_id),
        "org_id": str(org),
        "name": "Claims triage",
        "lifecycle_stage": "deployed",
        "intended_purpose": "Route insurance claims",
        "sector": "insurance",
        "data_inputs": [{"category": "health", "personal": True, "special_category": True}],
        "ai_roles": ["provider"],
        "affected_stakeholders": ["claimants"],
        **facts,
    }


async def test_facts_are_kept_and_changes_reported(
    stack: Any, js: JetStreamContext, org: uuid.UUID, changes: Any
) -> None:
    system_id = uuid7()
    headers = stack.headers(org, "viewer")
    url = f"/v1/systems/{system_id}"
    await send(stack, js, "aims.inventory.system.registered", org, 1, system_state(system_id, org))

    async def at(version: int) -> dict[str, Any] | None:
        response = await stack.risk.get(url, headers=headers)
        if response.status_code == 200 and response.json()["source_version"] == version:
            return dict(response.json())
        return None

    first = await eventually(lambda: at(1))
    assert first["sector"] == "insurance"
    assert first["data_inputs"][0]["special_category"] is True
    assert first["in_scope"] is None
    assert [c for c in changes if c[0] == system_id] == []  # a new system is not a change

    changed = system_state(system_id, org, sector="healthcare", name="Claims triage v2")
    await send(stack, js, "aims.inventory.system.updated", org, 2, changed)
    await eventually(lambda: at(2))
    assert (system_id, frozenset({"sector"})) in changes  # a name change is not a watched fact

    # An older event arriving late changes nothing.
    stale = system_state(system_id, org, sector="education")
    await send(stack, js, "aims.inventory.system.updated", org, 1, stale)
    await send(stack, js, "aims.inventory.system.updated", org, 3, changed)
    latest = await eventually(lambda: at(3))
    assert latest["sector"] == "healthcare"

    scope = {"system_id": str(system_id), "org_id": str(org), "in_scope": True}
    await send(stack, js, "aims.inventory.system_scope.changed", org, 1, scope)

    async def in_scope() -> bool:
        response = await stack.risk.get(url, headers=headers)
        return response.json()["in_scope"] is True

    await eventually(in_scope)
    out = {"system_id": str(system_id), "org_id": str(org), "in_scope": False}
    await send(stack, js, "aims.inventory.system_scope.changed", org, 2, out)

    async def reported() -> bool:
        return (system_id, frozenset({"in_scope"})) in changes

    await eventually(reported)
    # Another organisation sees none of it.
    other = await stack.risk.get(url, headers=stack.headers(uuid7(), "admin"))
    assert other.status_code == 404
