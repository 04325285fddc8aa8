"""Organisation B can never see or change anything of organisation A.

Through the REST APIs (404, never 403: B must not learn that A's ids exist), and underneath them
through PostgreSQL row-level security: even a query that forgets its organisation filter,
run as the role the services connect as, returns nothing of A.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from shared.db import uuid7
from shared.runtime.provision import asyncpg_dsn
from shared.testing import eventually

pytestmark = pytest.mark.engines

INSERT_FOR = {
    "inventory": "INSERT INTO ai_system (id, org_id, name, lifecycle_stage, description, version, "
    "created_by, updated_by, created_at, updated_at) "
    "VALUES ($1, $2, 'x', 'idea', '', 1, 'm', 'm', now(), now())",
    "risk": "INSERT INTO system (id, org_id, name, lifecycle_stage, source_version, synced_at) "
    "VALUES ($1, $2, 'x', 'idea', 1, now())",
}
INSERT_FOR["evidence"] = INSERT_FOR["risk"]


async def test_rest_hides_everything_of_another_org(stack: Any) -> None:
    org_a, org_b = uuid7(), uuid7()
    a, b = stack.headers(org_a, "admin"), stack.headers(org_b, "admin")
    created = await stack.inventory.post("/v1/ai-systems", json={"name": "A's system"}, headers=a)
    system_id = created.json()["id"]
    url = f"/v1/ai-systems/{system_id}"

    assert (await stack.inventory.get(url, headers=b)).status_code == 404
    assert (await stack.inventory.get("/v1/ai-systems", headers=b)).json()["items"] == []
    by_id = await stack.inventory.get("/v1/ai-systems", params={"id": system_id}, headers=b)
    assert by_id.json()["items"] == []
    changed = await stack.inventory.patch(
        url, json={"name": "hijacked"}, headers={**b, "If-Match": '"1"'}
    )
    assert changed.status_code == 404

    async def in_risk() -> bool:
        return (await stack.risk.get(f"/v1/systems/{system_id}", headers=a)).status_code == 200

    await eventually(in_risk)
    assert (await stack.risk.get(f"/v1/systems/{system_id}", headers=b)).status_code == 404
    assert (await stack.evidence.get(f"/v1/systems/{system_id}", headers=b)).status_code == 404
    assert (await stack.inventory.get(url, headers=a)).json()["name"] == "A's system"


@pytest.mark.parametrize(
    ("service", "table"), [("inventory", "ai_system"), ("risk", "system"), ("evidence", "system")]
)
async def test_row_level_security_without_where_clause(
    stack: Any, service: str, table: str
) -> None:
    org_a = uuid7()
    created = await stack.inventory.post(
        "/v1/ai-systems", json={"name": "secret"}, headers=stack.headers(org_a)
    )
    system_id = uuid.UUID(created.json()["id"])

    async def projected() -> bool:
        response = await stack.clients[service].get(
            f"/v1/{'ai-systems' if service == 'inventory' else 'systems'}/{system_id}",
            headers=stack.headers(org_a),
        )
        return response.status_code == 200

    await eventually(projected)
    conn = await asyncpg.connect(asyncpg_dsn(stack.engines.databases[service].app_url))
    try:
        role = await conn.fetchrow(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert role["rolsuper"] is False and role["rolbypassrls"] is False
        # No organisation set at all: nothing.
        assert await conn.fetch(f"SELECT * FROM {table} WHERE id = $1", system_id) == []
        async with conn.transaction():
            await conn.execute("SELECT set_config('aims.org_id', $1, true)", str(uuid7()))
            # Another organisation, and a query that forgot its org filter: still nothing of A.
            assert await conn.fetch(f"SELECT * FROM {table}") == []
            # Writing a row for A while scoped to B is refused by the policy.
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(INSERT_FOR[service], uuid7(), org_a)
        async with conn.transaction():
            await conn.execute("SELECT set_config('aims.org_id', $1, true)", str(org_a))
            rows = await conn.fetch(f"SELECT id FROM {table} WHERE id = $1", system_id)
            assert [r["id"] for r in rows] == [system_id]
    finally:
        await conn.close()
