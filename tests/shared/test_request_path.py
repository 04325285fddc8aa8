"""The request path made cheaper (docs/performance.md) still behaves: connections the database
closed are replaced instead of failing a request (no pre-ping any more), row-level security
still scopes every transaction, and a remembered token is refused once it expires."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
import sqlalchemy as sa

from shared.db import Database, tenant_transaction
from shared.testing import eventually
from tests.conftest import Stack

pytestmark = pytest.mark.engines


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _register(stack: Stack, org: uuid.UUID, name: str) -> str:
    created = await stack.inventory.post(
        "/v1/ai-systems", json={"name": name}, headers=stack.headers(org, "admin")
    )
    assert created.status_code == 201, created.text
    system_id: str = created.json()["id"]
    return system_id


async def test_a_connection_the_database_closed_is_replaced_not_used(stack: Stack) -> None:
    """Without pre-ping, a pooled connection the server closed (restart, failover) must be
    noticed at checkout and replaced; handed out, it would fail the transaction."""
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=2)
    try:
        async with tenant_transaction(db, None) as session:
            assert (await session.execute(sa.text("SELECT 1"))).scalar() == 1

        app_role = stack.engines.databases["inventory"].app_url.split("//", 1)[1].split(":")[0]
        admin = await asyncpg.connect(_dsn(stack.engines.admin_url))
        try:
            # What a database restart does to every pooled connection of this pool.
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE usename = $1 AND application_name = 'aims'",
                app_role,
            )
            assert killed >= 1
        finally:
            await admin.close()
        await asyncio.sleep(0.5)  # let this event loop read the closed socket

        async with tenant_transaction(db, None) as session:
            assert (await session.execute(sa.text("SELECT 1"))).scalar() == 1
    finally:
        await db.dispose()


async def test_every_transaction_is_scoped_to_its_callers_organisation(stack: Stack) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    system_id = await _register(stack, mine, "Mine only")
    # Alternate callers on the same pooled connections: the setting of one never leaks.
    for _ in range(5):
        own = await stack.inventory.get(
            f"/v1/ai-systems/{system_id}", headers=stack.headers(mine, "viewer")
        )
        assert own.status_code == 200
        other = await stack.inventory.get(
            f"/v1/ai-systems/{system_id}", headers=stack.headers(theirs, "viewer")
        )
        assert other.status_code == 404
        listed = await stack.inventory.get(
            "/v1/ai-systems", headers=stack.headers(theirs, "viewer")
        )
        assert listed.json()["items"] == []


async def test_a_remembered_token_is_refused_once_it_expires(stack: Stack, org: uuid.UUID) -> None:
    system_id = await _register(stack, org, "Short-lived token")
    token = stack.engines.token(org, "viewer", ttl=2)
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):  # verified once, then answered from the verified-token cache
        ok = await stack.inventory.get(f"/v1/ai-systems/{system_id}", headers=headers)
        assert ok.status_code == 200

    async def refused() -> bool:
        answer = await stack.inventory.get(f"/v1/ai-systems/{system_id}", headers=headers)
        return answer.status_code == 401 and "expired" in answer.json()["detail"]

    await eventually(refused, timeout=10, interval=0.5)
