"""Filtered list of AI systems on 100,000 systems: p50/p95 at the service (in-process ASGI).

    .venv/bin/python bench/inventory_list.py [--systems 100000] [--runs 200]

Starts throwaway engines (``TestEngines``), seeds one organisation with ``--systems`` systems and
four noise organisations with a quarter as many each (server-side ``INSERT … SELECT
generate_series``: COPY is not allowed on tables under row-level security), then times
``GET /v1/ai-systems`` through the real app, auth and row-level security included.
Target: p50 under 30 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

import asyncpg
import httpx

from services.inventory.config import InventorySettings
from services.inventory.main import create_app
from shared.db import uuid7
from shared.testing import TestEngines

INSERT = """
INSERT INTO ai_system (
    id, org_id, version, name, description, intended_purpose, owner, business_function,
    lifecycle_stage, provenance, data_inputs, sector, affected_stakeholders, human_oversight,
    ai_roles, next_review_at, custom_fields, in_scope, eu_ai_act_tier, risk_level,
    created_by, updated_by, created_at, updated_at
)
SELECT
    gen_random_uuid(), $1::uuid, 1,
    'System ' || (i % 5000) || ' ' || substr(md5(i::text), 1, 6),
    (ARRAY['Scores credit applications', 'Detects card fraud', 'Ranks CVs for recruiters',
           'Answers customer questions', 'Plans delivery routes', 'Triages patients',
           'Forecasts energy demand', 'Checks identity documents'])[1 + i % 8],
    CASE WHEN i % 7 = 0 THEN NULL ELSE 'Purpose ' || (i % 97) END,
    CASE WHEN i % 11 = 0 THEN NULL ELSE 'owner' || (i % 200) || '@example.com' END,
    'Function ' || (i % 30),
    (ARRAY['idea', 'design', 'development', 'validation', 'deployed', 'retired'])[1 + i % 6],
    (ARRAY['in_house', 'third_party', 'hybrid'])[1 + i % 3],
    CASE WHEN i % 5 = 0 THEN '[]'::jsonb
         ELSE '[{"category": "CVs", "personal": true, "special_category": false}]'::jsonb END,
    (ARRAY['hiring_employment', 'credit_finance', 'insurance', 'healthcare', 'education',
           'law_enforcement', 'migration_border', 'justice_democracy',
           'critical_infrastructure', 'biometrics', 'essential_services', 'general',
           NULL])[1 + i % 13],
    ARRAY['applicants'],
    'A person reviews',
    string_to_array((ARRAY['producer', 'provider', 'customer', 'partner', 'producer,provider',
                           ''])[1 + i % 6], ','),
    CASE WHEN i % 9 = 0 THEN NULL ELSE current_date + (i % 730) - 200 END,
    '{}'::jsonb,
    CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END,
    (ARRAY['prohibited', 'high', 'limited', 'minimal', NULL])[1 + i % 5],
    (ARRAY['low', 'medium', 'high', NULL])[1 + i % 4],
    'bench', 'bench',
    now() - make_interval(secs => $2 - i), now() - make_interval(secs => ($2 - i) / 2)
FROM generate_series(1, $2) AS i
"""

CASES: list[tuple[str, dict[str, Any]]] = [
    ("no filter (created_at)", {}),
    ("sector=healthcare", {"sector": "healthcare"}),
    ("q=fraud", {"q": "fraud"}),
    ("q='credit applications' -created_at", {"q": "credit applications", "sort": "-created_at"}),
    ("role=partner sort=name", {"role": "partner", "sort": "name"}),
    ("review_overdue sort=next_review_at", {"review_overdue": "true", "sort": "next_review_at"}),
    ("owner=owner8@… lifecycle=deployed", {"owner": "owner8@example.com",
                                           "lifecycle_stage": "deployed"}),
    ("tier=high in_scope=true -updated_at", {"tier": "high", "in_scope": "true",
                                             "sort": "-updated_at"}),
    ("name contains 'system 42'", {"name": "system 42"}),
]  # fmt: skip


async def seed(owner_url: str, org: uuid.UUID, count: int) -> None:
    conn = await asyncpg.connect(owner_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("SELECT set_config('aims.org_id', $1, false)", str(org))
        await conn.execute(INSERT, org, count)
    finally:
        await conn.close()


async def analyze(owner_url: str) -> None:
    conn = await asyncpg.connect(owner_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("VACUUM ANALYZE ai_system")
    finally:
        await conn.close()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(systems: int, runs: int) -> None:
    engines = await TestEngines.start()
    try:
        owner_url = engines.databases["inventory"].owner_url
        org = uuid7()
        started = time.perf_counter()
        await seed(owner_url, org, systems)
        for _ in range(4):
            await seed(owner_url, uuid7(), systems // 4)
        await analyze(owner_url)
        took = time.perf_counter() - started
        print(f"seeded {systems} + 4 x {systems // 4} systems in {took:.1f} s")

        app = create_app(InventorySettings(**engines.settings_env("inventory")))
        async with app.router.lifespan_context(app):
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://inventory"
            )
            headers = engines.headers(org, "viewer")
            for _ in range(50):  # warm up: connection pool, pydantic, JWT key
                await client.get("/v1/ai-systems", params={"limit": 50}, headers=headers)
            print(f"{'case':48} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8}")
            for label, params in CASES:
                query = {"limit": 50, **params}
                first = await client.get("/v1/ai-systems", params=query, headers=headers)
                assert first.status_code == 200, first.text
                rows = len(first.json()["items"])
                cursor = first.json()["next_cursor"]
                samples: list[float] = []
                for run in range(runs):
                    # Every other request reads the second page (keyset cursor).
                    extra = {"after": cursor} if cursor and run % 2 else {}
                    t0 = time.perf_counter()
                    response = await client.get(
                        "/v1/ai-systems", params={**query, **extra}, headers=headers
                    )
                    samples.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200
                p50, p95 = statistics.median(samples), percentile(samples, 0.95)
                print(f"{label:48} {rows:>5} {p50:>8.1f} {p95:>8.1f}")
            await client.aclose()
    finally:
        await engines.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--systems", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.systems, args.runs))
