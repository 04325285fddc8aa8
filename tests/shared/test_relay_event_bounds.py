"""Events stay bounded in size whatever the register's size.

``scope.changed`` used to list every system of the register and passed NATS's 1 MiB default at
about 7,800 systems (the relay then could never publish it). It now carries a summary, and each
system whose membership changed gets its own small ``system_scope.changed``. ``emit()`` refuses
(in tests: raises) any event past the configured bound, so every event type stays bounded.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from shared.db import Database, outbox_table, tenant_transaction, utcnow, uuid7
from shared.events import CloudEvent, emit
from shared.events.outbox import EventTooLarge, configure_event_limits, limits
from shared.runtime.migrate import upgrade
from shared.runtime.provision import drop, provision
from shared.testing import TestEngines, eventually

pytestmark = pytest.mark.engines

SYSTEMS = 10_000
IN_SCOPE = 1_000  # a scope version lists at most 1,000 systems
BOUND = 64 * 1024


@dataclass
class Inventory:
    """An inventory service of its own: its own database and stream, so the 20,000 events of
    this test are consumed by nobody and leave no backlog for the tests that follow."""

    engines: TestEngines
    client: httpx.AsyncClient
    app_url: str

    def headers(self, org: uuid.UUID, *roles: str) -> dict[str, str]:
        return self.engines.headers(org, *roles)


@pytest.fixture
async def inventory(engines: TestEngines) -> AsyncIterator[Inventory]:
    from services.inventory.config import InventorySettings
    from services.inventory.main import create_app

    token = secrets.token_hex(3)
    prefix = f"{engines.prefix}b{token}"
    databases = await provision(engines.admin_url, prefix, ["inventory"], engines.secret_key)
    stream = f"AIMSB_{token}"
    try:
        await asyncio.to_thread(upgrade, "inventory", databases["inventory"].owner_url)
        settings = InventorySettings(
            **{
                **engines.settings_env("inventory"),
                "app_database_url": databases["inventory"].app_url,
                "nats_stream": stream,
                "nats_subject_prefix": f"b{token}.",
                "nats_consumer_prefix": prefix,
            }
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://inv") as client:
                yield Inventory(engines, client, databases["inventory"].app_url)
    finally:
        await engines.delete_stream(stream)
        await drop(engines.admin_url, prefix, ["inventory"])


async def import_systems(inventory: Inventory, org: uuid.UUID, count: int) -> None:
    rows = "".join(f"System {n:05d},deployed,owner-{n % 7}\n" for n in range(count))
    response = await inventory.client.post(
        "/v1/ai-systems/import",
        content=("name,lifecycle_stage,owner\n" + rows).encode(),
        headers={**inventory.headers(org, "contributor"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["created"] == count


async def some_system_ids(inventory: Inventory, org: uuid.UUID, count: int) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while len(ids) < count:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["after"] = cursor
        page = await inventory.client.get(
            "/v1/ai-systems", params=params, headers=inventory.headers(org)
        )
        assert page.status_code == 200, page.text
        ids.extend(s["id"] for s in page.json()["items"])
        cursor = page.json().get("next_cursor")
    return ids[:count]


@asynccontextmanager
async def db_session(inventory: Inventory) -> AsyncIterator[Any]:
    db = Database(inventory.app_url, pool_size=1)
    try:
        async with db.sessions() as session:
            yield session
    finally:
        await db.dispose()


async def outbox_of(db: Database, org: uuid.UUID) -> list[tuple[str, int, dict[str, Any]]]:
    async with db.sessions() as session:
        rows = await session.execute(
            sa.select(
                outbox_table.c.type,
                sa.func.octet_length(sa.cast(outbox_table.c.envelope, sa.Text)),
                outbox_table.c.envelope,
            )
            .where(outbox_table.c.org_id == org)
            .order_by(outbox_table.c.seq)
        )
        return [(r[0], int(r[1]), r[2]) for r in rows]


async def test_a_scope_over_ten_thousand_systems_emits_only_bounded_events(
    inventory: Inventory, org: uuid.UUID
) -> None:
    await import_systems(inventory, org, SYSTEMS)
    included = await some_system_ids(inventory, org, IN_SCOPE)
    draft = await inventory.client.post(
        "/v1/scope-versions",
        json={
            "statement": "Every AI system of the organisation, at scale.",
            "activities": [{"name": "Everything", "included": True}],
            "systems": [{"system_id": i, "included": True} for i in included],
        },
        headers=inventory.headers(org, "contributor"),
    )
    assert draft.status_code == 201, draft.text
    approved = await inventory.client.post(
        f"/v1/scope-versions/{draft.json()['id']}/approve",
        headers=inventory.headers(org, "manager"),
    )
    assert approved.status_code == 200, approved.text

    db = Database(inventory.app_url, pool_size=1)
    try:
        rows = await outbox_of(db, org)
    finally:
        await db.dispose()
    largest = max(size for _, size, _ in rows)
    print(f"{len(rows)} events for {SYSTEMS} systems; largest envelope {largest} bytes")
    assert largest < BOUND
    memberships = [e for t, _, e in rows if t == "aims.inventory.system_scope.changed"]
    assert len(memberships) == SYSTEMS  # the first approval sets every system's membership
    assert sum(1 for e in memberships if e["data"]["in_scope"]) == IN_SCOPE
    assert {e["data"]["system_id"] for e in memberships if e["data"]["in_scope"]} == set(included)
    [summary] = [e["data"] for t, _, e in rows if t == "aims.inventory.scope.changed"]
    assert summary["systems_in"] == IN_SCOPE and summary["systems_out"] == SYSTEMS - IN_SCOPE
    assert summary["systems_listed"] == IN_SCOPE and summary["membership_changes"] == SYSTEMS
    # The scope's own content is read over the API, not carried by the event.
    version = await inventory.client.get(
        f"/v1/scope-versions/{summary['id']}", headers=inventory.headers(org)
    )
    assert len(version.json()["systems"]) == IN_SCOPE

    # The relay publishes all of them (nothing parked, nothing left behind).
    async def published() -> bool:
        async with db_session(inventory) as session:
            waiting = await session.execute(
                sa.select(sa.func.count()).where(
                    outbox_table.c.org_id == org,
                    sa.or_(
                        outbox_table.c.published_at.is_(None),
                        outbox_table.c.parked_at.is_not(None),
                    ),
                )
            )
            return waiting.scalar_one() == 0

    await eventually(published, timeout=300, interval=1.0)


async def test_emit_refuses_an_event_past_the_bound(engines: TestEngines) -> None:
    """Any event type: the guard measures the envelope, whatever emitted it."""
    org = uuid7()
    oversized = CloudEvent(
        id=str(uuid7()),
        source="/aims/risk",
        type="aims.risk.thing.changed",
        time=utcnow(),
        subject=str(uuid7()),
        data={"text": "x" * (limits.max_bytes + 1)},
        orgid=str(org),
        dataversion=1,
    )
    configure_event_limits(max_bytes=BOUND, strict=True)  # as every app does in tests
    db = Database(engines.databases["risk"].app_url, pool_size=1)
    try:
        with pytest.raises(EventTooLarge, match="exceeds the bound"):
            async with tenant_transaction(db, org) as session:
                await emit(session, oversized)
        async with db.sessions() as session:
            written = await session.execute(
                sa.select(sa.func.count()).where(outbox_table.c.event_id == uuid.UUID(oversized.id))
            )
            assert written.scalar_one() == 0
        fitting = oversized.model_copy(update={"id": str(uuid7()), "data": {"text": "x" * 1000}})
        async with tenant_transaction(db, org) as session:
            await emit(session, fitting)
    finally:
        await db.dispose()
    assert len(json.dumps(fitting.model_dump(mode="json"))) < limits.max_bytes
