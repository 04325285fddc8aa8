"""Benchmark of readiness: ``GET /v1/readiness`` for an organisation with 1,000 AI systems,
20,000 evidence items and 5,000 risks (target: p50 under 500 ms).

``BENCH_ORGS`` organisations (default 3) each hold 1,000 systems (projection and documented
scope/tier: 10 % high-risk, a tenth of those out of scope, half with an approved impact
assessment), 20,000 evidence items with links (three quarters per system, a quarter to DI/AX
items, controls and clauses) in a mix of statuses and review dates, and 5,000 risks (a tenth past
their review date). Rows are bulk-loaded as the owner role. Then the evidence service runs
in-process and is asked over HTTP for one of them: the live readiness, the remediation plan, and a
recompute (the snapshot written by the debounced timer).

Run: ``.venv/bin/python bench/readiness.py``. ``BENCH_EXPLAIN=1`` prints the plan of the
evidence tally statement. Starts and removes its own embedded PostgreSQL and NATS (or uses
``AIMS_TEST_DATABASE_URL`` / ``AIMS_TEST_NATS_URL``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from datetime import date

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.db import uuid7
from shared.testing import TestEngines

ORGS = int(os.environ.get("BENCH_ORGS", "3"))
SYSTEMS = 1_000
EVIDENCE = 20_000
RISKS = 5_000
RUNS = int(os.environ.get("BENCH_RUNS", "30"))

ORG_ITEMS = [f"DI-{i:02d}" for i in range(1, 23)] + [f"AX-{i:02d}" for i in range(1, 28)]
SYS_ITEMS = ["SYS-TECH-DOC", "SYS-DATA-PROVENANCE", "SYS-MONITORING-PLAN", "SYS-EVENT-LOG"]
CONTROLS = ["A.2.2", "A.4.2", "A.5.2", "A.6.2.8", "A.7.5", "A.9.2", "A.10.2"]
CLAUSES = ["4.1", "5.2", "6.1.2", "7.2", "8.1", "9.1", "10.1"]

LOAD = [
    sa.text(
        """
INSERT INTO system (id, org_id, name, lifecycle_stage, owner, source_version, synced_at)
SELECT gen_random_uuid(), :org, 'System ' || g, 'operation', 'owner' || (g % 40) || '@example.com',
       1, now()
  FROM generate_series(1, :systems) AS g
"""
    ),
    sa.text(
        """
INSERT INTO documented_system (id, org_id, in_scope, scope_number, tier,
                               classification_version, updated_at)
SELECT s.id, s.org_id, NOT (n % 100 = 0), 1,
       CASE WHEN n % 10 = 0 THEN 'high' ELSE 'minimal' END, 1, now()
  FROM (SELECT id, org_id, row_number() OVER (ORDER BY id) AS n FROM system
         WHERE org_id = :org) AS s
"""
    ),
    sa.text(
        """
INSERT INTO readiness_impact_assessment (id, org_id, system_id, status, approved_at,
                                         source_version, synced_at)
SELECT gen_random_uuid(), d.org_id, d.id,
       CASE WHEN row_number() OVER (ORDER BY d.id) % 2 = 0 THEN 'approved' ELSE 'draft' END,
       now(), 1, now()
  FROM documented_system d WHERE d.org_id = :org AND d.tier = 'high'
"""
    ),
    sa.text(
        """
INSERT INTO evidence_item (id, org_id, version, created_at, updated_at, title, kind, status,
                           review_by, legal_hold, latest_version, current_version, created_by,
                           updated_by, owner, deleted_at)
SELECT gen_random_uuid(), :org, 1, now(), now(), 'Evidence ' || g, 'document',
       CASE WHEN r < 0.55 THEN 'approved' WHEN r < 0.70 THEN 'draft'
            WHEN r < 0.80 THEN 'in_review' WHEN r < 0.90 THEN 'expired' ELSE 'superseded' END,
       CASE WHEN r < 0.11 THEN current_date - (1 + g % 200)
            WHEN r < 0.40 THEN current_date + (g % 400) END,
       false, 1, 1, 'bench', 'bench', 'owner' || (g % 25) || '@example.com',
       CASE WHEN g % 50 = 0 THEN now() END
  FROM (SELECT g, random() AS r FROM generate_series(1, :evidence) AS g) AS raw
"""
    ),
    sa.text(
        """
WITH systems AS (
  SELECT array_agg(id::text ORDER BY id) AS ids FROM system WHERE org_id = :org
), items AS (
  SELECT id, row_number() OVER (ORDER BY id) AS n FROM evidence_item WHERE org_id = :org
), links AS (
  SELECT i.id AS item_id, 'documented_information' AS target_type,
         (CAST(:sys_items AS text[]))[1 + (i.n / 7) % 4] AS target_id
    FROM items i WHERE i.n % 4 <> 0
  UNION ALL
  SELECT i.id, 'system', (SELECT ids FROM systems)[1 + i.n % :systems]
    FROM items i WHERE i.n % 4 <> 0
  UNION ALL
  SELECT i.id,
         CASE WHEN i.n % 12 = 0 THEN 'control' WHEN i.n % 8 = 0 THEN 'clause'
              ELSE 'documented_information' END,
         CASE WHEN i.n % 12 = 0 THEN (CAST(:controls AS text[]))[1 + (i.n / 12) % 7]
              WHEN i.n % 8 = 0 THEN (CAST(:clauses AS text[]))[1 + (i.n / 8) % 7]
              ELSE (CAST(:org_items AS text[]))[1 + (i.n / 4) % 49] END
    FROM items i WHERE i.n % 4 = 0
)
INSERT INTO evidence_link (id, org_id, item_id, target_type, target_id, created_by, created_at)
SELECT gen_random_uuid(), :org, item_id, target_type, target_id, 'bench', now() FROM links
"""
    ),
    sa.text(
        """
INSERT INTO readiness_risk (id, org_id, system_id, title, status, inherent_level,
                            residual_level, next_review_at, owner, source_version, synced_at)
SELECT gen_random_uuid(), :org, NULL, 'Risk ' || g,
       CASE WHEN g % 20 = 0 THEN 'closed' WHEN g % 25 = 0 THEN 'review_due' ELSE 'open' END,
       'high', 'medium',
       CASE WHEN g % 10 = 0 THEN now() - interval '10 days' ELSE now() + interval '90 days' END,
       'risk' || (g % 30) || '@example.com', 1, now()
  FROM generate_series(1, :risks) AS g
"""
    ),
    sa.text(
        "INSERT INTO documented_scope (org_id, scope_version_id, number, synced_at) "
        "VALUES (:org, gen_random_uuid(), 1, now())"
    ),
    sa.text(
        "INSERT INTO documented_soa (org_id, soa_version_id, number, included_controls, "
        "excluded_controls, approved_at, synced_at) VALUES (:org, gen_random_uuid(), 1, "
        "ARRAY['A.2.2','A.6.2.8'], ARRAY['A.6.2.2','A.10.3'], now(), now())"
    ),
]


async def load(conn: AsyncConnection, org: uuid.UUID) -> None:
    await conn.execute(sa.text("SELECT set_config('aims.org_id', :o, true)"), {"o": str(org)})
    params = {
        "org": org,
        "systems": SYSTEMS,
        "evidence": EVIDENCE,
        "risks": RISKS,
        "sys_items": SYS_ITEMS,
        "org_items": ORG_ITEMS,
        "controls": CONTROLS,
        "clauses": CLAUSES,
    }
    for statement in LOAD:
        wanted = {k: v for k, v in params.items() if f":{k}" in statement.text}
        await conn.execute(statement, wanted)


async def explain(engine: AsyncEngine, org: uuid.UUID) -> None:
    from services.evidence.readiness import repository, service

    mapping = service._tally_mapping()
    keys = sorted({(m[2], m[3]) for m in mapping})
    params = {
        "types": [m[0] for m in mapping],
        "targets": [m[1] for m in mapping],
        "ks": [keys.index((m[2], m[3])) for m in mapping],
        "today": date.today(),
    }
    async with engine.begin() as conn:
        await conn.execute(sa.text("SELECT set_config('aims.org_id', :o, true)"), {"o": str(org)})
        plan = await conn.execute(
            sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {repository._TALLIES.text}"), params
        )
        print("--- evidence tallies per clause and control")
        print("\n".join(row[0] for row in plan))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def main() -> None:
    from services.evidence.config import EvidenceSettings
    from services.evidence.main import create_app

    engines = await TestEngines.start()
    try:
        owner = create_async_engine(engines.databases["evidence"].owner_url)
        orgs = [uuid7() for _ in range(ORGS)]
        big = orgs[0]
        started = time.perf_counter()
        for org in orgs:
            async with owner.begin() as conn:
                await load(conn, org)
        async with owner.begin() as conn:
            for table in (
                "system",
                "documented_system",
                "evidence_item",
                "evidence_link",
                "readiness_risk",
                "readiness_impact_assessment",
            ):
                await conn.execute(sa.text(f"ANALYZE {table}"))
        print(
            f"loaded {ORGS} orgs × ({SYSTEMS} systems, {EVIDENCE} evidence items, {RISKS} risks) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        if os.environ.get("BENCH_EXPLAIN"):
            await explain(owner, big)
        await owner.dispose()

        app = create_app(
            EvidenceSettings(
                **engines.settings_env("evidence"),
                blob_store_url=(engines.work_dir / "blobs").as_uri(),
            )
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ev") as client:
                headers = engines.headers(big, "viewer")
                body = (await client.get("/v1/readiness", headers=headers)).json()
                print(
                    f"verdict {body['verdict']}, score {body['score']}, "
                    f"{body['blockers_total']} blockers: {body['blocker_counts']}"
                )
                for name, url in {
                    "GET /v1/readiness": "/v1/readiness",
                    "GET /v1/readiness/plan": "/v1/readiness/plan",
                }.items():
                    await client.get(url, headers=headers)
                    samples = []
                    for _ in range(RUNS):
                        start = time.perf_counter()
                        response = await client.get(url, headers=headers)
                        samples.append((time.perf_counter() - start) * 1000)
                        assert response.status_code == 200, response.text
                    p50, p95 = percentiles(samples)
                    print(f"{name:30s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({RUNS} runs)")
                editor = engines.headers(big, "contributor")
                start = time.perf_counter()
                response = await client.post("/v1/readiness/recompute", headers=editor)
                assert response.status_code == 200, response.text
                print(
                    f"POST /v1/readiness/recompute (snapshot + event): "
                    f"{(time.perf_counter() - start) * 1000:.0f} ms"
                )
    finally:
        await engines.stop()


if __name__ == "__main__":
    asyncio.run(main())
