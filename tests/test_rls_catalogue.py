"""Row-level security, checked from PostgreSQL's catalogue rather than from a list kept by hand.

For every service database, every table with an ``org_id`` column must have row-level security
enabled **and** forced (``pg_class.relrowsecurity`` / ``relforcerowsecurity``) with a policy,
unless it is listed below with the reason it holds no tenant data by nature (docs/architecture.md,
"Tenancy"). A table added later without RLS fails here without anyone having to remember it.

Then, with real rows arranged through the public API in every service, the app role (what the
services connect as) sees **nothing** in any RLS table while no organisation is set, and sees
the arranged rows once the organisation is set (so the count of zero is not vacuous).
"""

from __future__ import annotations

import asyncpg
import pytest

from shared.db import ORG_SETTING, uuid7
from shared.runtime.provision import asyncpg_dsn
from tests.conftest import Stack
from tests.tenant_rows import arrange_tenant_rows

pytestmark = pytest.mark.engines

SERVICES = ("inventory", "risk", "evidence", "gateway")

# Tables with an ``org_id`` column that are deliberately not under RLS, and why.
WITHOUT_RLS: dict[str, str] = {
    "outbox": "the relay publishes every organisation's events; never exposed by the API",
    "inbox": "consumers dedupe across organisations before the event's org is known",
    "dead_letter": "consumers park events of any organisation; listed over REST per org only",
    "api_key": "looked up by hash before the caller's organisation is known",
    "timer": "the scheduler claims due timers of every organisation (shared/scheduler.py); "
    "each job then runs in a transaction scoped to the timer's organisation",
    "webhook_delivery": "the gateway's delivery queue, claimed across organisations; the "
    "content it points to (messages, attempts) is under RLS (gateway/webhooks/models.py)",
}

CATALOGUE = """
SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
ORDER BY c.relname
"""


async def _catalogue(stack: Stack, service: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(stack.engines.databases[service].owner_url))
    try:
        return list(await conn.fetch(CATALOGUE))
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_every_org_table_has_forced_row_level_security(stack: Stack, service: str) -> None:
    rows = await _catalogue(stack, service)
    assert rows, f"{service}: no table with org_id found (wrong schema?)"
    missing = [
        f"{r['table']} (enabled={r['enabled']}, forced={r['forced']}, policies={r['policies']})"
        for r in rows
        if r["table"] not in WITHOUT_RLS
        and not (r["enabled"] and r["forced"] and r["policies"] > 0)
    ]
    print(
        f"\nRLS catalogue {service}: {len(rows)} tables with org_id, "
        f"{sum(1 for r in rows if r['table'] not in WITHOUT_RLS)} under forced RLS, "
        f"{sum(1 for r in rows if r['table'] in WITHOUT_RLS)} exempt"
    )
    assert not missing, f"{service}: tables with org_id but no forced RLS: {missing}"
    # An exemption that became tenant data under RLS is fine; one that is stale is not.
    exempt = sorted(r["table"] for r in rows if r["table"] in WITHOUT_RLS)
    print(f"  exempt: {', '.join(exempt)}")


@pytest.mark.parametrize("service", SERVICES)
async def test_app_role_sees_nothing_without_the_org_setting(stack: Stack, service: str) -> None:
    org = uuid7()
    await arrange_tenant_rows(stack, org, "RLS probe")
    tables = [r["table"] for r in await _catalogue(stack, service) if r["table"] not in WITHOUT_RLS]
    conn = await asyncpg.connect(asyncpg_dsn(stack.engines.databases[service].app_url))
    try:
        unset: dict[str, int] = {}
        for table in tables:
            unset[table] = await conn.fetchval(f'SELECT count(*) FROM "{table}"')
        async with conn.transaction():
            await conn.execute("SELECT set_config($1, $2, true)", ORG_SETTING, str(org))
            seen = {
                table: await conn.fetchval(
                    f'SELECT count(*) FROM "{table}" WHERE org_id = $1',
                    org,
                )
                for table in tables
            }
    finally:
        await conn.close()
    visible = {t: n for t, n in unset.items() if n}
    arranged = {t: n for t, n in seen.items() if n}
    print(
        f"\nRLS app role {service}: {len(tables)} tables counted without the org setting, "
        f"{sum(unset.values())} rows visible; with it, {sum(arranged.values())} rows of the "
        f"arranged org in {len(arranged)} tables"
    )
    assert not visible, f"{service}: the app role sees rows with no org set: {visible}"
    assert arranged, f"{service}: the arranged rows are not visible even with the org set"
