"""Two replicas of every app against one PostgreSQL and one NATS, as real processes.

The test brings its own PostgreSQL and NATS (the embedded wheels): nine app processes open many
connections, and sharing the session's server with the rest of the suite would make the count of
free connection slots, not the product, decide the outcome.

Systems are registered and changed through both inventory replicas; the test then checks, from the
databases and the receiver's side: every event applied in every consumer once and none missing,
every webhook delivered once, a scheduled job run once although two schedulers race for it,
a dead letter replayed from an API-only replica (no workers of its own), and evidence uploaded
through one replica read back through the other (shared object storage).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from shared.db import uuid7
from shared.runtime.embedded import EmbeddedNats, EmbeddedPostgres, find_free_port
from shared.runtime.keys import ensure_signing_keys, mint_token
from shared.runtime.migrate import provision_and_migrate
from shared.runtime.provision import ServiceDatabase, asyncpg_dsn
from shared.testing import eventually
from tests.e2e.test_stack import Receiver

# Not marked `engines`: it brings its own engines (CI's second pass would repeat the same run).
pytestmark = [pytest.mark.e2e]

APPS = ("inventory", "risk", "evidence", "gateway")
SYSTEMS = 12


@dataclass
class Replicas:
    databases: dict[str, ServiceDatabase]
    private_key: Path
    urls: dict[str, list[str]] = field(default_factory=dict)
    org: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def headers(self, role: str = "admin") -> dict[str, str]:
        token = mint_token(
            self.private_key,
            issuer="aims-local",
            audience="aims",
            org_id=self.org,
            roles=[role],
            subject=f"replica-test-{role}",
        )
        return {"Authorization": f"Bearer {token}"}

    async def fetch(self, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
        """Read a service's tables as their owner (across organisations, for the checks)."""
        conn = await asyncpg.connect(asyncpg_dsn(self.databases[service].owner_url))
        try:
            # Tenant tables force row-level security, on their owner too.
            await conn.execute(f"SELECT set_config('aims.org_id', '{uuid.UUID(self.org)}', false)")
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def execute(self, service: str, statement: str) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.databases[service].owner_url))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()


def _start(app: str, port: int, env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{app}-{port}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "aims", "serve", app, "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_healthy(urls: list[str], processes: list[subprocess.Popen[bytes]], log_dir: Path) -> None:
    deadline = time.monotonic() + 150
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                logs = "\n".join(p.read_text()[-1500:] for p in log_dir.glob("*.log"))
                raise AssertionError(f"a replica exited with {process.returncode}:\n{logs}")
        for url in list(pending):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    pending.remove(url)
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    assert not pending, f"not ready within 150 s: {pending}"


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Replicas]:
    postgres = EmbeddedPostgres(tmp_path / "postgres", find_free_port())
    nats_server = EmbeddedNats(tmp_path / "nats", find_free_port())
    processes: list[subprocess.Popen[bytes]] = []
    try:
        admin_url = postgres.start()
        nats_url = nats_server.start()
        secret = secrets.token_hex(16)
        databases = asyncio.run(provision_and_migrate(admin_url, "aimsr", APPS, secret))
        private_key, public_key = ensure_signing_keys(tmp_path / "keys")
        stack = Replicas(databases, private_key, org=str(uuid7()), processes=processes)
        log_dir = tmp_path / "logs"
        log_dir.mkdir()
        ports = {app: [find_free_port(), find_free_port()] for app in APPS}
        api_only_port = find_free_port()
        (tmp_path / "blobs").mkdir()
        common = {
            **os.environ,
            "AIMS_ENVIRONMENT": "development",
            "AIMS_NATS_URL": nats_url,
            "AIMS_NATS_CONSUMER_PREFIX": "aimsr",
            "AIMS_JWT_PUBLIC_KEY_FILE": str(public_key),
            "AIMS_VAR_DIR": str(tmp_path / "var"),
            "AIMS_SECRET_KEY": secret,
            "AIMS_DATABASE_POOL_SIZE": "3",
            "AIMS_CONSUMER_MAX_DELIVER": "2",
            "AIMS_CONSUMER_BACKOFF_SECONDS": "[0.2, 0.5]",
            "AIMS_SCHEDULER_INTERVAL_SECONDS": "0.3",
            "AIMS_WORKER_RESTART_INITIAL_SECONDS": "0.1",
            "AIMS_WEBHOOK_ALLOWED_TARGETS": '["127.0.0.0/8"]',
            # One object store shared by every evidence replica (a folder here, S3 in production).
            "AIMS_BLOB_STORE_URL": (tmp_path / "blobs").as_uri(),
        }
        for app in APPS:
            env = {**common, f"AIMS_{app.upper()}_DATABASE_URL": databases[app].app_url}
            stack.urls[app] = [f"http://127.0.0.1:{port}" for port in ports[app]]
            for index, port in enumerate(ports[app]):
                if app == "gateway":
                    env = {
                        **env,
                        "AIMS_INVENTORY_URL": stack.urls["inventory"][index],
                        "AIMS_RISK_URL": stack.urls["risk"][index],
                        "AIMS_EVIDENCE_URL": stack.urls["evidence"][index],
                    }
                processes.append(_start(app, port, env, log_dir))
        risk_env = {
            **common,
            "AIMS_RISK_DATABASE_URL": databases["risk"].app_url,
            "AIMS_RUN_WORKERS": "false",
        }
        processes.append(_start("risk", api_only_port, risk_env, log_dir))
        stack.urls["risk-api-only"] = [f"http://127.0.0.1:{api_only_port}"]
        _wait_healthy([u for urls in stack.urls.values() for u in urls], processes, log_dir)
        yield stack
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        nats_server.stop()
        postgres.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    server = await asyncio.start_server(rec.handle, "127.0.0.1", 0)
    rec.port = server.sockets[0].getsockname()[1]
    try:
        yield rec
    finally:
        server.close()
        await server.wait_closed()


async def test_two_replicas_of_every_app_apply_deliver_and_schedule_once(
    replicas: Replicas, receiver: Receiver
) -> None:
    stack = replicas
    inventory, risk, evidence, gateway = (stack.urls[a] for a in APPS)
    async with httpx.AsyncClient(timeout=15) as client:
        subscribed = await client.post(
            f"{gateway[1]}/v1/webhook-subscriptions",
            json={
                "url": f"http://127.0.0.1:{receiver.port}/hook",
                "event_types": ["system.registered", "system.updated"],
            },
            headers=stack.headers(),
        )
        assert subscribed.status_code == 201, subscribed.text

        # Register through both inventory replicas, then change each system through the other.
        systems: list[str] = []
        for n in range(SYSTEMS):
            created = await client.post(
                f"{inventory[n % 2]}/v1/ai-systems",
                json={"name": f"System {n}", "owner": "owner@example.com"},
                headers=stack.headers("manager"),
            )
            assert created.status_code == 201, created.text
            systems.append(created.json()["id"])
        for n, system in enumerate(systems):
            current = await client.get(
                f"{inventory[(n + 1) % 2]}/v1/ai-systems/{system}", headers=stack.headers()
            )
            changed = await client.patch(
                f"{inventory[(n + 1) % 2]}/v1/ai-systems/{system}",
                json={"name": f"System {n} (renamed)"},
                headers={**stack.headers("manager"), "If-Match": current.headers["etag"]},
            )
            assert changed.status_code == 200, changed.text

        # Every replica of every consumer service sees the final state.
        for service in (risk, evidence):
            for url in service:

                async def renamed(url: str = url) -> bool:
                    for n, system in enumerate(systems):
                        got = await client.get(
                            f"{url}/v1/systems/{system}", headers=stack.headers()
                        )
                        if got.status_code != 200 or got.json()["name"] != f"System {n} (renamed)":
                            return False
                    return True

                assert await eventually(renamed, timeout=60)

        # Applied once, none missing: each consumer's inbox holds each system event once.
        events = await stack.fetch(
            "inventory",
            "SELECT event_id, type FROM outbox WHERE type LIKE 'aims.inventory.system.%' "
            "AND org_id = $1",
            uuid.UUID(stack.org),
        )
        event_ids = {row["event_id"] for row in events}
        assert len(event_ids) >= 2 * SYSTEMS
        for consumer_service in ("risk", "evidence", "gateway"):
            rows = await stack.fetch(
                consumer_service,
                "SELECT consumer, event_id FROM inbox WHERE event_id = ANY($1::uuid[])",
                list(event_ids),
            )
            per_consumer: dict[str, Counter[Any]] = {}
            for row in rows:
                per_consumer.setdefault(row["consumer"], Counter())[row["event_id"]] += 1
            assert per_consumer, f"no consumer of {consumer_service} applied the events"
            for consumer, seen in per_consumer.items():
                assert set(seen) == event_ids, f"{consumer_service}/{consumer} missed events"
                assert max(seen.values()) == 1
            dead = await stack.fetch(consumer_service, "SELECT error FROM dead_letter")
            assert not dead, f"{consumer_service} dead-lettered: {dead}"

        # Every webhook delivered once (one delivery per webhook-id, one per event).
        async def all_delivered() -> bool:
            return len({h.get("webhook-id") for h, _ in receiver.deliveries}) >= len(event_ids)

        assert await eventually(all_delivered, timeout=60)
        await asyncio.sleep(2)  # a duplicate would come from the other replica's worker now
        ids = Counter(h.get("webhook-id") for h, _ in receiver.deliveries)
        assert len(ids) == len(event_ids) and max(ids.values()) == 1, ids.most_common(3)
        delivered = {json.loads(body)["id"] for _, body in receiver.deliveries}
        assert delivered == {str(e) for e in event_ids}

        # A timer due now fires once although both evidence schedulers look for it.
        yesterday = (date.today() - timedelta(days=1)).isoformat()
        item = await client.post(
            f"{evidence[0]}/v1/evidence",
            json={"title": "AI policy", "review_by": yesterday},
            headers=stack.headers("contributor"),
        )
        assert item.status_code == 201, item.text
        item_id = item.json()["id"]
        due_query = (
            "SELECT count(*) AS n FROM outbox WHERE type = 'aims.evidence.evidence.review_due' "
            "AND envelope->'data'->'item'->>'id' = $1"
        )

        async def fired() -> bool:
            return (await stack.fetch("evidence", due_query, item_id))[0]["n"] > 0

        assert await eventually(fired, timeout=30)
        await asyncio.sleep(2)  # ~6 more scheduler rounds on each replica
        assert (await stack.fetch("evidence", due_query, item_id))[0]["n"] == 1

        # Evidence uploaded through one replica is read back, verified, through the other.
        content = os.urandom(256 * 1024)
        uploaded = await client.post(
            f"{evidence[0]}/v1/evidence/{item_id}/versions/1/files",
            params={"filename": "policy.pdf"},
            content=content,
            headers={**stack.headers("contributor"), "Content-Type": "application/pdf"},
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]
        downloaded = await client.get(
            f"{evidence[1]}/v1/files/{file_id}/content", headers=stack.headers()
        )
        assert downloaded.status_code == 200 and downloaded.content == content


async def test_a_dead_letter_is_replayed_from_an_api_only_replica(replicas: Replicas) -> None:
    stack = replicas
    app_role = f"{stack.databases['risk'].name}_app"
    async with httpx.AsyncClient(timeout=15) as client:
        # Ops break the risk projection for a moment: its consumers cannot write systems.
        await stack.execute("risk", f"REVOKE INSERT ON system FROM {app_role}")
        created = await client.post(
            f"{stack.urls['inventory'][0]}/v1/ai-systems",
            json={"name": "Dead-lettered", "owner": "owner@example.com"},
            headers=stack.headers("manager"),
        )
        assert created.status_code == 201, created.text
        system = created.json()["id"]
        api_only = stack.urls["risk-api-only"][0]
        [registered] = await stack.fetch(
            "inventory",
            "SELECT event_id FROM outbox WHERE type = 'aims.inventory.system.registered' "
            "AND envelope->'data'->>'id' = $1",
            system,
        )
        event_id = str(registered["event_id"])

        async def dead_lettered() -> list[dict[str, Any]] | None:
            listed = await client.get(f"{api_only}/v1/ops/dead-letters", headers=stack.headers())
            assert listed.status_code == 200, listed.text
            mine = [d for d in listed.json()["items"] if d["event_id"] == event_id]
            return mine or None

        letters = await eventually(dead_lettered, timeout=60)
        await stack.execute("risk", f"GRANT INSERT ON system TO {app_role}")

        for letter in letters:
            replayed = await client.post(
                f"{api_only}/v1/ops/dead-letters/{letter['id']}/replay", headers=stack.headers()
            )
            assert replayed.status_code == 200, replayed.text
        got = await client.get(
            f"{stack.urls['risk'][1]}/v1/systems/{system}", headers=stack.headers()
        )
        assert got.status_code == 200 and got.json()["name"] == "Dead-lettered"
