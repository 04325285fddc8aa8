"""The request path made cheaper (docs/performance.md) still behaves: connections the database
closed are replaced instead of failing a request (no pre-ping any more), row-level security
still scopes every transaction, and a remembered token is refused once it expires."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
import sqlalchemy as sa

from shared.db import Database, tenant_connection, tenant_transaction
from shared.testing import eventually
from tests.conftest import Stack

pytestmark = pytest.mark.engines


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _terminate_pooled_connections(stack: Stack) -> None:
    """What a database restart does to every pooled connection of the inventory's pools."""
    app_role = stack.engines.databases["inventory"].app_url.split("//", 1)[1].split(":")[0]
    admin = await asyncpg.connect(_dsn(stack.engines.admin_url))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE usename = $1 AND application_name = 'aims'",
            app_role,
        )
        assert killed >= 1
    finally:
        await admin.close()
    await asyncio.sleep(0.5)  # let this event loop read the closed socket


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

        await _terminate_pooled_connections(stack)

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


async def test_a_session_less_read_is_scoped_and_leaves_the_connection_clean(
    stack: Stack,
) -> None:
    """``tenant_connection`` (the driver connection the single-item GET reads on): the setting
    holds inside its transaction only, an error rolls back, and a connection the server
    closed is replaced; with one pooled connection, every step reuses the same one."""
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    org = uuid.uuid4()
    try:
        async with tenant_connection(db, org) as connection:
            assert await connection.fetchval("SELECT current_setting('aims.org_id')") == str(org)
        async with db.engine.connect() as plain:
            setting = sa.text("SELECT current_setting('aims.org_id', true)")
            assert (await plain.execute(setting)).scalar() in (None, "")
            await plain.rollback()

        with pytest.raises(asyncpg.DivisionByZeroError):
            async with tenant_connection(db, org) as connection:
                await connection.fetchval("SELECT 1 / 0")
        # Left inside the aborted transaction, the next BEGIN would be refused.
        async with tenant_connection(db, org) as connection:
            before = await connection.fetchval("SELECT pg_backend_pid()")

        # A COMMIT that fails (a deferred constraint) closes the connection instead of pooling
        # it in an unknown state; the next read gets a new one.
        with pytest.raises(asyncpg.UniqueViolationError):
            async with tenant_connection(db, org) as connection:
                await connection.execute(
                    "CREATE TEMP TABLE deferred_check (x int UNIQUE DEFERRABLE INITIALLY "
                    "DEFERRED) ON COMMIT DROP; INSERT INTO deferred_check VALUES (1), (1)"
                )
        assert db.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        async with tenant_connection(db, org) as connection:
            assert await connection.fetchval("SELECT pg_backend_pid()") != before

        await _terminate_pooled_connections(stack)
        async with tenant_connection(db, org) as connection:
            assert await connection.fetchval("SELECT current_setting('aims.org_id')") == str(org)
    finally:
        await db.dispose()


async def test_session_less_reads_wait_for_a_connection_when_the_pool_is_busy(
    stack: Stack,
) -> None:
    """More concurrent reads than connections (1 + 1 overflow): the ones that find no idle
    connection take the pool's waiting path, and every one answers in its own organisation."""
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    orgs = [uuid.uuid4() for _ in range(6)]

    async def read(org: uuid.UUID) -> str:
        async with tenant_connection(db, org) as connection:
            await asyncio.sleep(0.05)
            value: str = await connection.fetchval("SELECT current_setting('aims.org_id')")
            return value

    try:
        assert await asyncio.gather(*(read(org) for org in orgs)) == [str(o) for o in orgs]
        assert db.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await db.dispose()


async def test_not_found_answers_leave_no_connection_inside_a_transaction(
    stack: Stack, org: uuid.UUID
) -> None:
    """A 404 is raised inside the read's transaction: the connection goes back rolled back."""
    system_id = await _register(stack, org, "Found")
    viewer = stack.headers(org, "viewer")
    for _ in range(5):
        missing = await stack.inventory.get(f"/v1/ai-systems/{uuid.uuid4()}", headers=viewer)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.headers["x-request-id"]
    found = await stack.inventory.get(f"/v1/ai-systems/{system_id}", headers=viewer)
    assert found.status_code == 200
    assert found.headers["etag"] == '"1"'
    assert found.json()["id"] == system_id
    admin = await asyncpg.connect(_dsn(stack.engines.admin_url))
    try:
        stuck = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aims-inventory' "
            "AND state LIKE 'idle in transaction%' AND query LIKE '%FROM ai_system WHERE id%'"
        )
    finally:
        await admin.close()
    assert stuck == 0
