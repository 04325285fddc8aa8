"""Benchmark: import 10,000 AI systems from CSV, events included (issue 3: under 10 s).

Runs against fresh embedded engines (``shared.testing.TestEngines``) with the inventory app's
real lifespan, so its outbox relay publishes to JetStream as in production. "Events included"
means until the stream holds a message for every imported system.

    .venv/bin/python bench/import_systems.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.inventory.config import InventorySettings
from services.inventory.imports import service
from services.inventory.main import create_app
from shared.auth import Principal, Role
from shared.db import tenant_transaction, uuid7
from shared.testing import TestEngines

STAGES = ["idea", "Design", "development", "VALIDATION", "deployed", "retired"]
ROLES = ["producer", "provider", "customer", "partner"]
SECTORS = ["hiring_employment", "credit_finance", "healthcare", "education", "general", ""]


def generate_csv(rows: int, seed: int = 42) -> bytes:
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "Name",
            "Description",
            "Intended purpose",
            "Owner",
            "Business function",
            "Lifecycle stage",
            "Sector",
            "AI roles",
            "Affected stakeholders",
            "Next review at",
            "Data inputs",
        ]
    )
    for i in range(rows):
        writer.writerow(
            [
                f"System {i:05d}",
                f"Scores and ranks case {i} for the team; " * rng.randint(1, 4),
                "Assist a human decision-maker",
                f"owner{rng.randint(1, 300)}@example.com",
                rng.choice(["HR", "Lending", "Claims", "Support", "IT"]),
                rng.choice(STAGES),
                rng.choice(SECTORS),
                ";".join(rng.sample(ROLES, rng.randint(1, 3))),
                "customers; staff",
                f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                '[{"category": "application data", "personal": true}]',
            ]
        )
    return buffer.getvalue().encode()


async def wait_for_messages(js: object, stream: str, expected: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await js.stream_info(stream)  # type: ignore[attr-defined]
        if info.state.messages >= expected:
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"the stream did not reach {expected} messages")


async def main(rows: int) -> None:
    print(f"starting engines … ({rows:,} rows per run)")
    engines = await TestEngines.start()
    try:
        settings = InventorySettings(**engines.settings_env("inventory"))
        app = create_app(settings)
        data = generate_csv(rows)
        print(f"CSV: {len(data) / 1e6:.2f} MB")
        async with app.router.lifespan_context(app):
            ctx = app.state.ctx
            js = ctx.js
            base = (await js.stream_info(engines.stream)).state.messages

            # 1. Through the service functions, as the CLI runs them.
            org = uuid7()
            principal = Principal("bench", org, frozenset({Role.ADMIN}), "user", "")
            t0 = time.perf_counter()
            report = service.check_file(data, "text/csv")
            t1 = time.perf_counter()
            assert report.valid, report.problems[:5]
            async with tenant_transaction(ctx.db, org) as session:
                plan = await service.check_against_register(session, report, lock=True)
                ids = (await service.write_systems(session, principal, plan)).created
            t2 = time.perf_counter()
            await wait_for_messages(js, engines.stream, base + rows)
            t3 = time.perf_counter()
            assert len(ids) == rows
            print("service function:")
            print(f"  parse + validate        {t1 - t0:6.2f} s")
            print(f"  write + commit          {t2 - t1:6.2f} s")
            print(f"  relay to JetStream      {t3 - t2:6.2f} s  (after commit)")
            print(f"  total, events included  {t3 - t0:6.2f} s")

            # 2. Through the REST endpoint, in-process.
            org2 = uuid7()
            headers = {**engines.headers(org2, "admin"), "Content-Type": "text/csv"}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://inventory", timeout=120
            ) as client:
                t0 = time.perf_counter()
                response = await client.post("/v1/ai-systems/import", content=data, headers=headers)
                t1 = time.perf_counter()
                assert response.status_code == 201, response.text[:500]
                await wait_for_messages(js, engines.stream, base + 2 * rows)
                t2 = time.perf_counter()
                print("REST endpoint (in-process):")
                created = response.json()["created"]
                print(f"  request → 201           {t1 - t0:6.2f} s  ({created:,} created)")
                print(f"  relay to JetStream      {t2 - t1:6.2f} s  (after response)")
                print(f"  total, events included  {t2 - t0:6.2f} s")

                t0 = time.perf_counter()
                exported = await client.get("/v1/ai-systems/export.csv", headers=headers)
                t1 = time.perf_counter()
                assert exported.status_code == 200
                size = len(exported.content) / 1e6
                print(f"export.csv of {rows:,}       {t1 - t0:6.2f} s  ({size:.2f} MB)")

                # 3. Upserts: the same file again (matched by name), then the export back
                # (matched by id and version): both change nothing.
                for label, body in (("same file again", data), ("export back", exported.content)):
                    t0 = time.perf_counter()
                    again = await client.post(
                        "/v1/ai-systems/import", content=body, headers=headers
                    )
                    t1 = time.perf_counter()
                    assert again.status_code == 200, again.text[:500]
                    result = again.json()
                    assert result["created"] == 0 and result["unchanged"] == rows, result
                    print(f"re-import: {label:<15}{t1 - t0:6.2f} s  ({rows:,} unchanged)")
    finally:
        await engines.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().rows))
