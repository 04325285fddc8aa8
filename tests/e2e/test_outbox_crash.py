"""No event is lost when the process that committed a change dies before publishing it.

A real ``aims serve inventory`` process (its relay switched off, so the kill is guaranteed to
land between commit and publish) registers a system and is killed with SIGKILL. The event sits in
its outbox. The process is started again, relay on: the event reaches JetStream and the risk
service's projection, exactly once.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any

import asyncpg
import httpx
import pytest

from shared.db import uuid7
from shared.runtime.embedded import find_free_port
from shared.runtime.migrate import upgrade
from shared.runtime.provision import ServiceDatabase, asyncpg_dsn, drop, provision
from shared.testing import TestEngines, eventually

pytestmark = [pytest.mark.engines, pytest.mark.e2e]


@pytest.fixture
async def private_dbs(engines: TestEngines) -> AsyncIterator[dict[str, ServiceDatabase]]:
    """Inventory and risk databases of this test alone (no other relay may touch its outbox)."""
    prefix = f"aimsc_{secrets.token_hex(3)}"
    dbs = await provision(engines.admin_url, prefix, ("inventory", "risk"), engines.secret_key)
    for service in ("inventory", "risk"):
        await asyncio.to_thread(upgrade, service, dbs[service].owner_url)
    try:
        yield dbs
    finally:
        await drop(engines.admin_url, prefix, ("inventory", "risk"))


@contextmanager
def inventory_process(
    engines: TestEngines, db: ServiceDatabase, port: int, *, relay: bool, stream: str, subj: str
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "AIMS_INVENTORY_DATABASE_URL": db.app_url,
        "AIMS_NATS_URL": engines.nats_url,
        "AIMS_NATS_STREAM_MAX_BYTES": str(256 * 1024**2),
        "AIMS_NATS_STREAM": stream,
        "AIMS_NATS_SUBJECT_PREFIX": subj,
        "AIMS_RUN_WORKERS": "true" if relay else "false",
        "AIMS_JWT_PUBLIC_KEY_FILE": str(engines.public_key),
        "AIMS_VAR_DIR": str(engines.work_dir / "crash-var"),
        "AIMS_SECRET_KEY": engines.secret_key,
        "AIMS_ENVIRONMENT": "development",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "aims", "serve", "inventory", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def wait_healthy(port: int) -> None:
    async def up() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                response = await client.get(f"http://127.0.0.1:{port}/healthz")
                return response.status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(up, timeout=60, interval=0.2)


async def unpublished(db: ServiceDatabase) -> list[Any]:
    conn = await asyncpg.connect(asyncpg_dsn(db.app_url))
    try:
        return list(
            await conn.fetch("SELECT event_id, type FROM outbox WHERE published_at IS NULL")
        )
    finally:
        await conn.close()


async def test_event_survives_a_crash_between_commit_and_publish(
    engines: TestEngines, private_dbs: dict[str, ServiceDatabase]
) -> None:
    from services.risk.config import RiskSettings
    from services.risk.main import create_app as create_risk

    token = secrets.token_hex(3)
    stream, subj = f"AIMSC_{token}", f"c{token}."
    org = uuid7()
    headers = engines.headers(org, "admin")
    port = find_free_port()

    with inventory_process(
        engines, private_dbs["inventory"], port, relay=False, stream=stream, subj=subj
    ) as process:
        await wait_healthy(port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            created = await client.post(
                "/v1/ai-systems", json={"name": "Survivor"}, headers=headers
            )
        assert created.status_code == 201
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    pending = await unpublished(private_dbs["inventory"])
    assert [row["type"] for row in pending] == ["aims.inventory.system.registered"]
    system_id = created.json()["id"]

    risk_settings = RiskSettings(
        **{
            **engines.settings_env("risk"),
            "app_database_url": private_dbs["risk"].app_url,
            "nats_stream": stream,
            "nats_subject_prefix": subj,
            "nats_consumer_prefix": f"crash{token}",
        }
    )
    risk_app = create_risk(risk_settings)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(engines.delete_stream, stream)
        await stack.enter_async_context(risk_app.router.lifespan_context(risk_app))
        risk = httpx.AsyncClient(transport=httpx.ASGITransport(app=risk_app), base_url="http://r")
        stack.push_async_callback(risk.aclose)
        # Nothing can have arrived: the only process that knew of the change is dead.
        assert (await risk.get(f"/v1/systems/{system_id}", headers=headers)).status_code == 404

        with inventory_process(
            engines, private_dbs["inventory"], port, relay=True, stream=stream, subj=subj
        ):
            await wait_healthy(port)

            async def arrived() -> dict[str, Any] | None:
                response = await risk.get(f"/v1/systems/{system_id}", headers=headers)
                return dict(response.json()) if response.status_code == 200 else None

            projected = await eventually(arrived, timeout=30)
            assert projected["name"] == "Survivor"
            assert await unpublished(private_dbs["inventory"]) == []
