"""Benchmark: transitive dependencies of a deep system in a graph of 10,000 nodes.

Run: ``.venv/bin/python bench/dependency_graph.py``. Starts throwaway PostgreSQL + NATS
(``shared.testing.TestEngines``), fills one organisation with 2,000 systems and 8,000
components, each component with a system and up to three random dependency edges (cycles
included), plus a chain of 500 components hanging off one "deep" system; then times, for that
system, what ``GET /v1/ai-systems/{id}/dependencies?transitive=true`` does by default (each node
once with ``depth`` and ``via``: ``service.system_dependencies``), the graph query alone
(``graph.transitive_dependencies``), the same with ``?paths=true`` (every whole path), and the
recursive SQL alone. Target: p50 < 50 ms for the default. ``--explain`` prints the SQL plan.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.components import graph, service
from services.inventory.components.models import Component, Dependency
from services.inventory.systems.models import AISystem
from shared.db import Database, tenant_transaction, utcnow, uuid7
from shared.testing import TestEngines

SYSTEMS = 2_000
COMPONENTS = 8_000
CHAIN = 500
RUNS = 50


async def main() -> None:
    rng = random.Random(42)
    engines = await TestEngines.start()
    db = Database(engines.databases["inventory"].app_url)
    org = uuid7()
    now = utcnow()
    try:
        systems = [uuid7() for _ in range(SYSTEMS)]
        components = [uuid7() for _ in range(COMPONENTS)]
        deep = systems[0]
        chain = components[:CHAIN]
        edges: set[tuple[str, object, str, object]] = set()
        for a, b in itertools.pairwise(chain):
            edges.add(("component", a, "component", b))
        edges.add(("component", chain[-1], "component", chain[0]))  # a cycle back to the start
        # ... and from the middle of the chain into the random mass: deep *and* wide.
        edges.add(("component", chain[CHAIN // 2], "component", components[CHAIN]))
        for c in components[CHAIN:]:
            for _ in range(rng.randint(0, 3)):
                target = rng.choice(components)
                if target != c:
                    edges.add(("component", c, "component", target))
        for s in systems[1:]:
            edges.add(("system", s, "system", rng.choice(systems)))
        edges = {e for e in edges if e[1] != e[3]}
        common = {"org_id": org, "version": 1, "created_at": now, "updated_at": now}
        async with tenant_transaction(db, org) as session:
            await session.execute(
                sa.insert(AISystem),
                [
                    {
                        **common,
                        "id": s,
                        "name": f"system {i}",
                        "description": "",
                        "lifecycle_stage": "deployed",
                        "created_by": "bench",
                        "updated_by": "bench",
                    }
                    for i, s in enumerate(systems)
                ],
            )
            await session.execute(
                sa.insert(Component),
                [
                    {
                        **common,
                        "id": c,
                        "kind": "software",
                        "name": f"component {i}",
                        "description": "",
                        "properties": {},
                        "created_by": "bench",
                        "updated_by": "bench",
                        "system_id": deep if i == 0 else rng.choice(systems[1:]),
                    }
                    for i, c in enumerate(components)
                ],
            )
            await session.execute(
                sa.insert(Dependency),
                [
                    {
                        **common,
                        "id": uuid7(),
                        "from_type": ft,
                        "from_id": fi,
                        "to_type": tt,
                        "to_id": ti,
                        "relation": "depends_on",
                        "created_by": "bench",
                    }
                    for ft, fi, tt, ti in edges
                ],
            )
        async with tenant_transaction(db, org) as session:
            await session.execute(sa.text("ANALYZE"))

        async def timed(run: Callable[[AsyncSession], Awaitable[object]]) -> float:
            async with tenant_transaction(db, org) as session:
                started = time.perf_counter()
                await run(session)
                return (time.perf_counter() - started) * 1000

        async with tenant_transaction(db, org) as session:
            reach = await graph.transitive_dependencies(session, deep)
        print(
            f"graph: {SYSTEMS} systems + {COMPONENTS} components = {SYSTEMS + COMPONENTS} nodes, "
            f"{len(edges)} explicit edges + {COMPONENTS} system→component"
        )
        print(
            f"deep system reaches {len(reach.items)} nodes; longest shortest path "
            f"{max(i.depth for i in reach.items)} edges; "
            f"{sum(i.depth + 1 for i in reach.items)} path entries with paths=true"
        )
        cases: list[tuple[str, Callable[[AsyncSession], Awaitable[object]]]] = [
            (
                "endpoint default (depth + via)",
                lambda s: service.system_dependencies(s, deep, transitive=True),
            ),
            ("graph.transitive_dependencies", lambda s: graph.transitive_dependencies(s, deep)),
            (
                "endpoint ?paths=true",
                lambda s: service.system_dependencies(s, deep, transitive=True, paths=True),
            ),
            ("recursive SQL alone", lambda s: graph._edges(s, graph._FORWARD, ("system", deep))),
        ]
        # Round-robin, so that every case meets the same background noise (autovacuum after
        # the bulk insert, GC); the first rounds are warm-up.
        timings: dict[str, list[float]] = {label: [] for label, _ in cases}
        for round_ in range(RUNS + 5):
            for label, run in cases:
                took = await timed(run)
                if round_ >= 5:
                    timings[label].append(took)
        for label, taken in timings.items():
            quantiles = statistics.quantiles(taken, n=20)
            print(
                f"{label:32} over {RUNS} runs: p50 {statistics.median(taken):6.1f} ms, "
                f"p95 {quantiles[18]:6.1f} ms, max {max(taken):6.1f} ms"
            )
        print("target: endpoint default p50 < 50 ms")
        if "--explain" in sys.argv:
            async with tenant_transaction(db, org) as session:
                plan = await session.execute(
                    sa.text("EXPLAIN (ANALYZE) " + graph._FORWARD.text),
                    {"start_type": "system", "start_id": deep},
                )
                print("\n".join(r[0] for r in plan))
    finally:
        await db.dispose()
        await engines.stop()


if __name__ == "__main__":
    asyncio.run(main())
