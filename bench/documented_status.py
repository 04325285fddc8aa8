"""Benchmark of documented information (ISO/IEC 42001 7.5): status with 1,000 systems in scope.

Five organisations each hold 1,000 AI systems in scope (10 % high-risk) and 20,000 evidence items
with their links (three quarters per system: linked to a SYS item and to the system; a quarter
organisation-wide: linked to a DI/CE/AX item or to an Annex A control), with mixed statuses and
review dates, plus one open request per system and item. Rows are bulk-loaded as the owner role
with server-side multi-row inserts (COPY is refused under row-level security). Then the evidence
service runs in-process and is asked over HTTP, for one of them:

* ``GET /v1/documented-information`` (target: p50 under 200 ms),
* ``GET /v1/documented-information/coverage`` for 100 and 500 systems (the DataLoader's batch),
* ``GET /v1/documented-information/summary``, one system's view, a page of requests,

and a ``scope.changed`` taking 1,000 other systems into scope is applied (requests and events).

Run: ``.venv/bin/python bench/documented_status.py``. ``BENCH_EXPLAIN=1`` prints the plans of
the two status statements. Starts and removes its own embedded PostgreSQL and NATS (or uses
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

from shared.db import tenant_transaction, uuid7
from shared.testing import TestEngines

ORGS = int(os.environ.get("BENCH_ORGS", "5"))
SYSTEMS = 1_000
EVIDENCE = 20_000
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
COVERAGE = "/v1/documented-information/coverage"

ORG_ITEMS = [f"DI-{i:02d}" for i in range(1, 23)] + [f"CE-{i:02d}" for i in range(1, 5)]
ORG_ITEMS += [f"AX-{i:02d}" for i in range(1, 28)]
SYS_ITEMS = [
    "SYS-TECH-DOC",
    "SYS-DATA-PROVENANCE",
    "SYS-MONITORING-PLAN",
    "SYS-EVENT-LOG",
    "SYS-IMPACT-ASSESSMENT",
]
CONTROLS = ["A.2.2", "A.6.2.8", "A.7.5", "A.9.2"]

LOAD_SYSTEMS = sa.text(
    """
INSERT INTO documented_system (id, org_id, in_scope, scope_number, tier,
                               classification_version, updated_at)
SELECT gen_random_uuid(), :org, true, 1, CASE WHEN g % 10 = 0 THEN 'high' ELSE 'minimal' END,
       1, now()
  FROM generate_series(1, :systems) AS g
"""
)

# Evidence: status mix 55 % approved (a fifth of them past review_by), 15 % draft, 10 % in
# review, 10 % expired, 10 % superseded; 2 % deleted.
LOAD_EVIDENCE = sa.text(
    """
INSERT INTO evidence_item (id, org_id, version, created_at, updated_at, title, kind, status,
                           review_by, legal_hold, latest_version, current_version, created_by,
                           updated_by, deleted_at)
SELECT gen_random_uuid(), :org, 1, now(), now(), 'Evidence ' || g, 'document',
       CASE WHEN r < 0.55 THEN 'approved' WHEN r < 0.70 THEN 'draft'
            WHEN r < 0.80 THEN 'in_review' WHEN r < 0.90 THEN 'expired' ELSE 'superseded' END,
       CASE WHEN r < 0.11 THEN current_date - (1 + g % 200)
            WHEN r < 0.40 THEN current_date + (g % 400) END,
       false, 1, 1, 'bench', 'bench',
       CASE WHEN g % 50 = 0 THEN now() END
  FROM (SELECT g, random() AS r FROM generate_series(1, :n) AS g) AS raw
"""
)

LOAD_LINKS = sa.text(
    """
WITH systems AS (
  SELECT array_agg(id::text ORDER BY id) AS ids FROM documented_system WHERE org_id = :org
), items AS (
  SELECT id, row_number() OVER (ORDER BY id) AS n FROM evidence_item WHERE org_id = :org
), links AS (
  -- three quarters per system: the SYS item and the system
  SELECT i.id AS item_id, 'documented_information' AS target_type,
         (CAST(:sys_items AS text[]))[1 + (i.n / 7) % 5] AS target_id
    FROM items i WHERE i.n % 4 <> 0
  UNION ALL
  SELECT i.id, 'system', (SELECT ids FROM systems)[1 + i.n % :systems]
    FROM items i WHERE i.n % 4 <> 0
  -- a quarter organisation-wide: an item, or now and then a control
  UNION ALL
  SELECT i.id,
         CASE WHEN i.n % 20 = 0 THEN 'control' ELSE 'documented_information' END,
         CASE WHEN i.n % 20 = 0 THEN (CAST(:controls AS text[]))[1 + (i.n / 20) % 4]
              ELSE (CAST(:org_items AS text[]))[1 + (i.n / 4) % 53] END
    FROM items i WHERE i.n % 4 = 0
)
INSERT INTO evidence_link (id, org_id, item_id, target_type, target_id, created_by, created_at)
SELECT gen_random_uuid(), :org, item_id, target_type, target_id, 'bench', now() FROM links
"""
)

LOAD_REQUESTS = sa.text(
    """
INSERT INTO evidence_request (id, org_id, system_id, item_id, status, requested_at, version,
                              updated_at)
SELECT documented_uuid7(), s.org_id, s.id, i.item_id, 'open', now(), 1, now()
  FROM documented_system s CROSS JOIN unnest(CAST(:sys_items AS text[])) AS i(item_id)
 WHERE s.org_id = :org AND (i.item_id <> 'SYS-IMPACT-ASSESSMENT' OR s.tier = 'high')
"""
)

LOAD_ORG_STATE = [
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
    await conn.execute(LOAD_SYSTEMS, {"org": org, "systems": SYSTEMS})
    await conn.execute(LOAD_EVIDENCE, {"org": org, "n": EVIDENCE})
    await conn.execute(
        LOAD_LINKS,
        {
            "org": org,
            "systems": SYSTEMS,
            "sys_items": SYS_ITEMS,
            "org_items": ORG_ITEMS,
            "controls": CONTROLS,
        },
    )
    await conn.execute(LOAD_REQUESTS, {"org": org, "sys_items": SYS_ITEMS})
    for statement in LOAD_ORG_STATE:
        await conn.execute(statement, {"org": org})


async def explain(engine: AsyncEngine, org: uuid.UUID, systems: list[str]) -> None:
    """Plans of the two status statements, as the service runs them (under RLS)."""
    from services.evidence.documented import repository, service

    cases = {
        "organisation items": (
            repository._ORG_TALLIES,
            {
                "items": [i.id for i in service._org_items()],
                "ax_controls": list(service._ax_controls()),
                "ax_items": list(service._ax_controls().values()),
                "today": date.today(),
            },
        ),
        "system items, best class (all in scope)": (
            repository._IN_SCOPE_BEST,
            {"items": SYS_ITEMS, "today": date.today()},
        ),
        "system items, best class (100 named systems)": (
            repository._NAMED_BEST,
            {
                "items": SYS_ITEMS,
                "today": date.today(),
                "system_ids": [uuid.UUID(s) for s in systems[:100]],
                "keys": systems[:100],
            },
        ),
    }
    from sqlalchemy.dialects import postgresql

    requests = repository.DocumentedRepository(None).requests_query(  # type: ignore[arg-type]
        limit=51, after=None, today=date.today(), statuses=["open"]
    )
    compiled = requests.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    cases["requests (status=open, 50)"] = (sa.text(str(compiled)), {})
    async with engine.begin() as conn:
        await conn.execute(sa.text("SELECT set_config('aims.org_id', :o, true)"), {"o": str(org)})
        for name, (statement, params) in cases.items():
            explained = sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {statement.text}").bindparams(
                *statement._bindparams.values()
            )
            plan = await conn.execute(explained, params)
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
    from services.evidence.config import EvidenceSettings
    from services.evidence.documented import service
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
                "evidence_item",
                "evidence_link",
                "documented_system",
                "evidence_request",
            ):
                await conn.execute(sa.text(f"ANALYZE {table}"))
        print(
            f"loaded {ORGS} orgs × ({SYSTEMS} systems in scope, {EVIDENCE} evidence items) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        async with owner.begin() as conn:
            await conn.execute(
                sa.text("SELECT set_config('aims.org_id', :o, true)"), {"o": str(big)}
            )
            systems = [
                str(row[0])
                for row in await conn.execute(
                    sa.text("SELECT id FROM documented_system ORDER BY id LIMIT 500")
                )
            ]
        if os.environ.get("BENCH_EXPLAIN"):
            await explain(owner, big, systems)
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
                listing = (await client.get("/v1/documented-information", headers=headers)).json()
                statuses: dict[str, int] = {}
                for entry in listing["items"]:
                    statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
                print(f"big org's items by status: {statuses}")
                batch100 = "&".join(f"system_id={s}" for s in systems[:100])
                batch500 = "&".join(f"system_id={s}" for s in systems[:500])
                cases = {
                    "GET /v1/documented-information": "/v1/documented-information",
                    "GET …/documented-information?source=annex_a": (
                        "/v1/documented-information?source=annex_a"
                    ),
                    "GET …/documented-information/summary": "/v1/documented-information/summary",
                    "GET …/coverage (100 systems)": f"{COVERAGE}?{batch100}",
                    "GET …/coverage (500 systems)": f"{COVERAGE}?{batch500}",
                    "GET /v1/systems/{id}/documented-information": (
                        f"/v1/systems/{systems[0]}/documented-information"
                    ),
                    "GET /v1/evidence-requests?status=open (50)": (
                        "/v1/evidence-requests?status=open&limit=50"
                    ),
                }
                for name, url in cases.items():
                    p50, p95 = percentiles(await timed(client, url, headers))
                    print(f"{name:50s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({RUNS} runs)")

            # A scope change taking 1,000 new systems into scope (and keeping the old ones): one
            # state-carrying `system_scope.changed` event per system, each applied in its own
            # transaction as the consumer does.
            new_systems = [uuid7() for _ in range(SYSTEMS)]
            old = [uuid.UUID(s) for s in systems]
            events = [
                service.SystemScopeData(system_id=s, org_id=big, in_scope=True, scope_number=2)
                for s in new_systems + old
            ]
            count = sa.text("SELECT count(*) FROM evidence_request")
            async with tenant_transaction(app.state.ctx.db, big) as session:
                before = (await session.execute(count)).scalar_one()
            start = time.perf_counter()
            for data in events:
                async with tenant_transaction(app.state.ctx.db, big) as session:
                    await service.apply_system_scope(session, data)
            elapsed = (time.perf_counter() - start) * 1000
            async with tenant_transaction(app.state.ctx.db, big) as session:
                after = (await session.execute(count)).scalar_one()
            print(
                f"{len(events)} system_scope.changed events applied: {elapsed:.0f} ms "
                f"({elapsed / len(events):.2f} ms each), {after - before} requests opened "
                "(with their events)"
            )
    finally:
        await engines.stop()


if __name__ == "__main__":
    asyncio.run(main())
