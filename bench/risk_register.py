"""Benchmark of the risk register: heat map and filtered list with 500,000 risks.

50 organisations hold 500,000 risks; one of them has 1,000 AI systems and 50,000 risks. Rows are
bulk-loaded as the owner role with server-side multi-row inserts (COPY is refused on tables under
row-level security), then the risk service runs in-process and is asked over HTTP:

* ``GET /v1/risk-dashboard`` for the big organisation (target: under 200 ms),
* ``GET /v1/risks`` filtered by status and residual level (target: p50 under 30 ms).

Run: ``.venv/bin/python bench/risk_register.py``. Prints the figures; starts and removes its own
embedded PostgreSQL and NATS (or uses ``AIMS_TEST_DATABASE_URL`` / ``AIMS_TEST_NATS_URL``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.db import uuid7
from shared.testing import TestEngines

TOTAL = 500_000
ORGS = 50
BIG_ORG_RISKS = 50_000
BIG_ORG_SYSTEMS = 1_000
SMALL_ORG_SYSTEMS = 20
RUNS = int(os.environ.get("BENCH_RUNS", "50"))

# One statement per org: every row generated server-side. Levels follow the default 5×5 preset
# (likelihood × severity banded at 2, 4, 9, 16), which the service creates as version 1.
LOAD = sa.text(
    """
WITH systems AS (
    SELECT array_agg(gen_random_uuid()) AS ids FROM generate_series(1, :systems)
), raw AS (
    SELECT g,
           1 + floor(random() * 5)::int AS l, 1 + floor(random() * 5)::int AS s,
           1 + floor(random() * 4)::int AS rl, 1 + floor(random() * 4)::int AS rs,
           1 + floor(random() * 7)::int AS domain,
           random() AS r
    FROM generate_series(1, :n) AS g
), scored AS (
    SELECT *,
      CASE WHEN l * s <= 2 THEN 0 WHEN l * s <= 4 THEN 1 WHEN l * s <= 9 THEN 2
           WHEN l * s <= 16 THEN 3 ELSE 4 END AS ir,
      CASE WHEN rl * rs <= 2 THEN 0 WHEN rl * rs <= 4 THEN 1 WHEN rl * rs <= 9 THEN 2
           WHEN rl * rs <= 16 THEN 3 ELSE 4 END AS rr
    FROM raw
)
INSERT INTO risk (
    id, org_id, version, created_at, updated_at, system_id, title, description, domain_id,
    subdomain_id, entity, intent, timing, affected_stakeholders, fundamental_rights,
    matrix_version, likelihood, severity, inherent_level, inherent_rank, residual_likelihood,
    residual_severity, residual_level, residual_rank, assessed_at, next_review_at, treatment,
    owner, control_ids, status, above_tolerance, missing_controls, created_by, updated_by)
SELECT gen_random_uuid(), :org, 1, now(), now(),
       CASE WHEN g % 10 = 0 THEN NULL
            ELSE (SELECT ids FROM systems)[1 + g % :systems] END,
       'Risk ' || g, '', domain::text, domain::text || '.1', 'ai', 'unintentional',
       'post_deployment', '["individuals"]'::jsonb, g % 20 = 0,
       1, l, s, (ARRAY['very low','low','medium','high','very high'])[ir + 1], ir,
       rl, rs, (ARRAY['very low','low','medium','high','very high'])[rr + 1], rr,
       now(), now() + ((g % 400) - 30) * interval '1 day', 'mitigate',
       'owner-' || (g % 25), '["A.6.2.4"]'::jsonb,
       CASE WHEN r < 0.70 THEN 'open' WHEN r < 0.85 THEN 'treated'
            WHEN r < 0.95 THEN 'closed' ELSE 'accepted' END,
       rr > 2, false, 'bench', 'bench'
FROM scored
"""
)


async def load(conn: AsyncConnection, org: uuid.UUID, n: int, systems: int) -> None:
    await conn.execute(sa.text("SELECT set_config('aims.org_id', :o, true)"), {"o": str(org)})
    await conn.execute(LOAD, {"org": org, "n": n, "systems": systems})


EXPLAINED = {
    "heat map": "SELECT grouping(likelihood, severity, inherent_level, domain_id, system_id), "
    "likelihood, severity, inherent_level, domain_id, system_id, count(*) FROM risk "
    "WHERE org_id = :org AND status <> 'closed' GROUP BY GROUPING SETS ((likelihood, severity), "
    "(inherent_level), (domain_id), (system_id))",
    "above_tolerance+domain": "SELECT * FROM risk WHERE org_id = :org AND domain_id = '3' "
    "AND above_tolerance IS true ORDER BY id LIMIT 51",
    "review_overdue": "SELECT * FROM risk WHERE org_id = :org AND status <> 'closed' "
    "AND next_review_at < now() ORDER BY id LIMIT 51",
    "system": "SELECT * FROM risk WHERE org_id = :org AND system_id = "
    "(SELECT system_id FROM risk WHERE org_id = :org AND system_id IS NOT NULL LIMIT 1) "
    "ORDER BY id LIMIT 51",
}


async def explain(engine: AsyncEngine, org: uuid.UUID) -> None:
    """Query plans of the slowest shapes, as the service's queries run them (under RLS)."""
    async with engine.begin() as conn:
        await conn.execute(sa.text("SELECT set_config('aims.org_id', :o, true)"), {"o": str(org)})
        for name, sql in EXPLAINED.items():
            plan = await conn.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"), {"org": org})
            print(f"--- {name}")
            print("\n".join(row[0] for row in plan))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


async def timed(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[float]:
    await client.get(url, headers=headers)  # warm caches and the pool
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = await client.get(url, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return samples


async def main() -> None:
    from services.risk.config import RiskSettings
    from services.risk.main import create_app

    engines = await TestEngines.start()
    try:
        owner = create_async_engine(engines.databases["risk"].owner_url)
        orgs = [uuid7() for _ in range(ORGS)]
        big = orgs[0]
        small_each = (TOTAL - BIG_ORG_RISKS) // (ORGS - 1)
        started = time.perf_counter()
        for i, org in enumerate(orgs):
            n = BIG_ORG_RISKS if i == 0 else small_each
            if i == ORGS - 1:
                n = TOTAL - BIG_ORG_RISKS - small_each * (ORGS - 2)
            systems = BIG_ORG_SYSTEMS if i == 0 else SMALL_ORG_SYSTEMS
            async with owner.begin() as conn:
                await load(conn, org, n, systems)
        async with owner.begin() as conn:
            await conn.execute(sa.text("ANALYZE risk"))
            count = (
                await conn.execute(
                    sa.text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'risk'")
                )
            ).scalar()
        print(f"loaded ~{count} rows in {ORGS} orgs in {time.perf_counter() - started:.1f} s")
        if os.environ.get("BENCH_EXPLAIN"):
            await explain(owner, big)
        await owner.dispose()

        app = create_app(RiskSettings(**engines.settings_env("risk")))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://risk") as client:
                headers = engines.headers(big, "viewer")
                total = (await client.get("/v1/risk-dashboard", headers=headers)).json()["total"]
                print(f"big org: {BIG_ORG_SYSTEMS} systems, {total} non-closed risks")
                cases = {
                    "heat map (residual)": "/v1/risk-dashboard?basis=residual",
                    "heat map (inherent)": "/v1/risk-dashboard?basis=inherent",
                    "list status=open&residual_level=high (50)": (
                        "/v1/risks?status=open&residual_level=high&limit=50"
                    ),
                    "list above_tolerance=true&domain_id=3 (50)": (
                        "/v1/risks?above_tolerance=true&domain_id=3&limit=50"
                    ),
                    "list review_overdue=true (50)": "/v1/risks?review_overdue=true&limit=50",
                }
                for name, url in cases.items():
                    p50, p95 = percentiles(await timed(client, url, headers))
                    print(f"{name:48s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({RUNS} runs)")
                page = (await client.get("/v1/risks?limit=20", headers=headers)).json()["items"]
                system = next(r["system_id"] for r in page if r["system_id"])
                url = f"/v1/risks?system_id={system}&limit=50"
                p50, p95 = percentiles(await timed(client, url, headers))
                print(f"{'list system_id=… (50)':48s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
                ids = (
                    "&".join(f"system_id={uuid.uuid4()}" for _ in range(99))
                    + f"&system_id={system}"
                )
                p50, p95 = percentiles(await timed(client, f"/v1/risks/summary?{ids}", headers))
                print(f"{'summary of 100 systems':48s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    finally:
        await engines.stop()


if __name__ == "__main__":
    asyncio.run(main())
