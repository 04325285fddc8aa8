"""Crash suite: changes across the three services while processes, NATS and PostgreSQL fail.

    python -m bench.crash_suite [--changes 2000] [--nats-outage 30] [--json out.json]

Starts its own PostgreSQL and NATS (the embedded wheels, in a temporary folder, so it can stop
and restart them) and the four apps as real ``aims serve`` processes. A load of registrations,
system updates, risks and evidence items runs while, in turn:

1. the inventory is SIGKILLed (the kill lands between commits and publishes: its outbox holds
   committed rows nobody has published yet) and started again;
2. NATS is stopped for ``--nats-outage`` seconds and started again (JetStream keeps its store);
3. PostgreSQL is restarted (fast shutdown, start);
4. the risk service, a consumer, is SIGKILLed while it handles events, and started again;
5. the webhook receiver goes down and stays down through several retries; the retry clock is
   advanced (the pending messages' next attempt is brought forward, as hours passing would), then
   the receiver comes back.

Then it waits for the pipeline to drain and checks from the databases: every committed change
(every outbox row of every service) delivered to every consumer that subscribes to its type, and
recorded once in that consumer's inbox; every webhook message delivered once the receiver is back,
with one ``webhook-id`` per event. It prints ``N changes, 0 lost, 0 applied twice`` or what went
wrong, and exits 1 when anything was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from shared.events.consumer import EventHandler, subject_matches
from shared.runtime.embedded import EmbeddedNats, EmbeddedPostgres, find_free_port
from shared.runtime.keys import ensure_signing_keys, mint_token
from shared.runtime.migrate import provision_and_migrate
from shared.runtime.provision import ServiceDatabase, asyncpg_dsn

APPS = ("inventory", "risk", "evidence", "gateway")
PREFIX = "aimsx"
RISK = {
    "title": "Biased triage of claims",
    "description": "The model ranks claims from some groups lower.",
    "domain_id": "1",
    "subdomain_id": "1.1",
    "entity": "ai",
    "intent": "unintentional",
    "timing": "post_deployment",
    "affected_stakeholders": ["individuals"],
    "lifecycle_stage": "deployed",
    "likelihood": 3,
    "severity": 3,
}


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def handlers_of(app: str) -> list[EventHandler]:
    if app == "inventory":
        from services.inventory.systems.consumers import HANDLERS as inventory

        return list(inventory)
    if app == "risk":
        from services.risk.systems.consumers import HANDLERS as risk

        return list(risk)
    if app == "evidence":
        from services.evidence.consumers import HANDLERS as evidence

        return list(evidence)
    from gateway.webhooks.consumers import HANDLERS as gateway

    return list(gateway)


@dataclass
class Receiver:
    """The GRC platform's webhook endpoint; ``up`` False refuses connections (server closed)."""

    port: int = field(default_factory=find_free_port)
    deliveries: list[str] = field(default_factory=list)
    server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            headers = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            await reader.readexactly(int(headers.get("content-length", "0")))
            self.deliveries.append(headers.get("webhook-id", ""))
            writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", self.port)

    async def down(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


@dataclass
class Suite:
    work: Path
    changes: int
    nats_outage: float
    concurrency: int = 6
    # Changes offered per second: slow enough that the faults land while the load runs.
    rate: float = 25.0
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    databases: dict[str, ServiceDatabase] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    org: str = field(default_factory=lambda: str(uuid.uuid4()))
    token: str = ""
    receiver: Receiver = field(default_factory=Receiver)
    systems: list[tuple[str, str]] = field(default_factory=list)  # (id, etag)
    done: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)

    # -- engines and apps ------------------------------------------------------------------

    async def start(self) -> None:
        self.postgres = EmbeddedPostgres(self.work / "postgres", find_free_port())
        admin_url = await asyncio.to_thread(self.postgres.start)
        self.nats = EmbeddedNats(self.work / "nats", find_free_port())
        nats_url = await asyncio.to_thread(self.nats.start)
        secret = secrets.token_hex(16)
        self.databases = await provision_and_migrate(admin_url, PREFIX, APPS, secret)
        private_key, public_key = ensure_signing_keys(self.work / "keys")
        self.token = mint_token(
            private_key,
            issuer="aims-local",
            audience="aims",
            org_id=self.org,
            roles=["admin"],
            subject="crash-suite",
            ttl_seconds=6 * 3600,
        )
        self.ports = {app: find_free_port() for app in APPS}
        self.env = {
            **os.environ,
            "AIMS_ENVIRONMENT": "development",
            "AIMS_NATS_URL": nats_url,
            "AIMS_NATS_CONSUMER_PREFIX": PREFIX,
            "AIMS_JWT_PUBLIC_KEY_FILE": str(public_key),
            "AIMS_VAR_DIR": str(self.work / "var"),
            "AIMS_SECRET_KEY": secret,
            "AIMS_WEBHOOK_ALLOWED_TARGETS": '["127.0.0.0/8"]',
            "AIMS_BLOB_STORE_URL": (self.work / "blobs").as_uri(),
            "AIMS_WORKER_RESTART_INITIAL_SECONDS": "0.2",
            "AIMS_WORKER_RESTART_MAX_SECONDS": "2",
            "AIMS_CONSUMER_BACKOFF_SECONDS": "[0.5, 1, 2, 4]",
            "AIMS_CONSUMER_MAX_DELIVER": "50",
            "AIMS_LOG_LEVEL": "WARNING",
            **{f"AIMS_{a.upper()}_URL": f"http://127.0.0.1:{p}" for a, p in self.ports.items()},
            **{f"AIMS_{a.upper()}_DATABASE_URL": self.databases[a].app_url for a in APPS},
        }
        (self.work / "blobs").mkdir(exist_ok=True)
        (self.work / "logs").mkdir(exist_ok=True)
        for app in APPS:
            self.spawn(app)
        for app in APPS:
            await self.wait_ready(app)
        await self.receiver.up()

    def spawn(self, app: str) -> None:
        log = (self.work / "logs" / f"{app}.log").open("ab")
        self.processes[app] = subprocess.Popen(
            [sys.executable, "-m", "aims", "serve", app, "--port", str(self.ports[app])],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def url(self, app: str) -> str:
        return f"http://127.0.0.1:{self.ports[app]}"

    async def wait_ready(self, app: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.processes[app].poll() is not None:
                    tail = (self.work / "logs" / f"{app}.log").read_text()[-3000:]
                    raise RuntimeError(f"{app} exited:\n{tail}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url(app)}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.3)
        raise RuntimeError(f"{app} not ready within {timeout} s")

    async def stop(self) -> None:
        await self.receiver.down()
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.nats is not None:
            self.nats.stop()
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop)

    # -- load --------------------------------------------------------------------------------

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    async def one_change(self, client: httpx.AsyncClient, n: int) -> None:
        """One change, retried until the service accepts it (faults answer 5xx or refuse)."""
        choice = n % 10
        while True:
            try:
                if choice < 5 or not self.systems:
                    r = await client.post(
                        f"{self.url('inventory')}/v1/ai-systems",
                        json={"name": f"System {n}", "owner": "owner@example.com"},
                        headers=self.headers(**{"Idempotency-Key": f"register-{n}"}),
                    )
                    if r.status_code == 201:
                        self.systems.append((r.json()["id"], r.headers.get("etag", "")))
                elif choice < 7:
                    index = random.randrange(len(self.systems))
                    system, _ = self.systems[index]
                    current = await client.get(
                        f"{self.url('inventory')}/v1/ai-systems/{system}", headers=self.headers()
                    )
                    if current.status_code != 200:
                        self.refused[f"read {current.status_code}"] += 1
                        await asyncio.sleep(0.2)
                        continue
                    r = await client.patch(
                        f"{self.url('inventory')}/v1/ai-systems/{system}",
                        json={"description": f"change {n}"},
                        headers=self.headers(**{"If-Match": current.headers["etag"]}),
                    )
                    if r.status_code == 412:  # a concurrent change won: take the next one
                        continue
                elif choice < 9:
                    r = await client.post(
                        f"{self.url('risk')}/v1/risks",
                        json={**RISK, "title": f"Risk {n}"},
                        headers=self.headers(**{"Idempotency-Key": f"risk-{n}"}),
                    )
                else:
                    r = await client.post(
                        f"{self.url('evidence')}/v1/evidence",
                        json={"title": f"Evidence {n}", "kind": "record"},
                        headers=self.headers(**{"Idempotency-Key": f"evidence-{n}"}),
                    )
                if r.status_code in (200, 201):
                    self.done += 1
                    return
                self.refused[str(r.status_code)] += 1
                if r.status_code < 500 and r.status_code not in (409, 429):
                    raise RuntimeError(f"change {n} refused: {r.status_code} {r.text[:300]}")
            except httpx.TransportError as exc:
                self.refused[type(exc).__name__] += 1
            await asyncio.sleep(0.2)

    async def load(self) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(self.changes):
            queue.put_nowait(n)

        started = time.monotonic()

        async def worker() -> None:
            async with httpx.AsyncClient(timeout=20) as client:
                while True:
                    try:
                        n = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    # Change n is not offered before its slot at the configured rate.
                    await asyncio.sleep(max(0.0, started + n / self.rate - time.monotonic()))
                    await self.one_change(client, n)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    # -- faults ------------------------------------------------------------------------------

    async def at(self, fraction: float) -> None:
        """Return once ``fraction`` of the changes are done (polled: the load runs meanwhile)."""
        while self.done < fraction * self.changes:  # noqa: ASYNC110 - a counter, not an event
            await asyncio.sleep(0.1)

    async def kill(self, app: str) -> None:
        self.processes[app].send_signal(signal.SIGKILL)
        self.processes[app].wait()
        # What the kill left committed but unpublished (the relay of the restarted process owes it).
        [row] = await self.fetch(app, "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
        self.faults.append(f"{app} killed with {row['n']} committed events not yet published")
        await asyncio.sleep(1)
        self.spawn(app)
        await self.wait_ready(app)

    async def faults_schedule(self) -> None:
        steps: list[tuple[float, str, Callable[[], Awaitable[None]]]] = [
            (0.10, "SIGKILL inventory between commit and publish", lambda: self.kill("inventory")),
            (0.25, f"NATS stopped for {self.nats_outage:.0f} s", self.nats_down),
            (0.45, "PostgreSQL restarted", self.postgres_restart),
            (0.60, "SIGKILL risk while it consumes", lambda: self.kill("risk")),
            (0.70, "webhook receiver down, retry clock advanced", self.receiver_outage),
        ]
        for fraction, name, action in steps:
            await self.at(fraction)
            say(f"fault at {self.done}/{self.changes} changes: {name}")
            started = time.monotonic()
            await action()
            self.faults.append(f"{name} ({time.monotonic() - started:.1f} s)")

    async def nats_down(self) -> None:
        assert self.nats is not None
        self.nats.stop()
        await asyncio.sleep(self.nats_outage)
        await asyncio.to_thread(self.nats.start)

    async def postgres_restart(self) -> None:
        assert self.postgres is not None
        await asyncio.to_thread(self.postgres.stop)
        await asyncio.sleep(1)
        await asyncio.to_thread(self.postgres.start)

    async def receiver_outage(self) -> None:
        await self.receiver.down()
        # Hours pass for the retry schedule: bring the pending messages' next attempt forward,
        # three times, so each fails again against the closed port.
        for _ in range(3):
            await asyncio.sleep(3)
            await self.advance_webhook_clock()
        await self.at(0.9)
        await self.receiver.up()
        await self.advance_webhook_clock()

    async def advance_webhook_clock(self) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.databases["gateway"].owner_url))
        try:
            await conn.execute(
                "UPDATE webhook_delivery SET next_attempt_at = now() "
                "WHERE state = 'pending' AND next_attempt_at > now()"
            )
        finally:
            await conn.close()

    # -- checks ------------------------------------------------------------------------------

    async def fetch(self, app: str, query: str, *args: Any) -> list[asyncpg.Record]:
        """Read as the owner, inside the suite's organisation (tenant tables force RLS)."""
        conn = await asyncpg.connect(asyncpg_dsn(self.databases[app].owner_url))
        try:
            await conn.execute(f"SELECT set_config('aims.org_id', '{uuid.UUID(self.org)}', false)")
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def settle(self, timeout: float) -> dict[str, Any]:
        """Wait until nothing is pending anywhere (or the timeout), then count."""
        deadline = time.monotonic() + timeout
        report: dict[str, Any] = {}
        while time.monotonic() < deadline:
            await self.advance_webhook_clock()
            report = await self.check()
            if report["lost"] == 0 and report["webhooks_missing"] == 0:
                return report
            await asyncio.sleep(2)
        return report

    async def check(self) -> dict[str, Any]:
        produced: list[tuple[uuid.UUID, str]] = []
        unpublished = 0
        for app in APPS:
            rows = await self.fetch(app, "SELECT event_id, type, published_at FROM outbox")
            produced += [(r["event_id"], r["type"]) for r in rows]
            unpublished += sum(1 for r in rows if r["published_at"] is None)
        lost = 0
        twice = 0
        per_consumer: dict[str, dict[str, int]] = {}
        for app in APPS:
            for handler in handlers_of(app):
                durable = f"{PREFIX}-{app}-{handler.name}".replace(".", "-")
                wanted = {
                    e for e, t in produced if any(subject_matches(p, t) for p in handler.subjects)
                }
                rows = await self.fetch(
                    app, "SELECT event_id FROM inbox WHERE consumer = $1", durable
                )
                seen = Counter(r["event_id"] for r in rows)
                missing = len(wanted - set(seen))
                doubled = sum(1 for c in seen.values() if c > 1)
                lost += missing
                twice += doubled
                per_consumer[durable] = {"expected": len(wanted), "missing": missing}
        messages = await self.fetch("gateway", "SELECT id FROM webhook_message")
        ids = Counter(self.receiver.deliveries)
        delivered_ids = set(ids)
        expected_ids = {str(m["id"]) for m in messages}
        return {
            "changes": self.done,
            "events": len(produced),
            "unpublished": unpublished,
            "lost": lost,
            "applied_twice": twice,
            "consumers": per_consumer,
            "webhook_messages": len(messages),
            "webhooks_delivered": len(delivered_ids & expected_ids),
            "webhooks_missing": len(expected_ids - delivered_ids),
            "webhooks_redelivered": sum(c - 1 for c in ids.values() if c > 1),
            "refused_during_faults": dict(self.refused),
            "faults": list(self.faults),
        }


async def run(
    changes: int, nats_outage: float, *, rate: float = 25.0, settle_timeout: float = 300
) -> dict[str, Any]:
    """Run the suite in a fresh temporary folder; kept (with each app's log) when it fails."""
    work = Path(tempfile.mkdtemp(prefix="aims-crash-"))
    suite = Suite(work, changes, nats_outage, rate=rate)
    succeeded = False
    try:
        say("starting PostgreSQL, NATS and the four apps")
        await suite.start()
        async with httpx.AsyncClient(timeout=10) as client:
            subscribed = await client.post(
                f"{suite.url('gateway')}/v1/webhook-subscriptions",
                json={
                    "url": f"http://127.0.0.1:{suite.receiver.port}/hook",
                    "event_types": ["system.registered", "system.updated"],
                },
                headers=suite.headers(),
            )
            subscribed.raise_for_status()
        say(f"load: {changes} changes, {suite.concurrency} clients")
        started = time.monotonic()
        await asyncio.gather(suite.load(), suite.faults_schedule())
        say(f"load done in {time.monotonic() - started:.0f} s; waiting for the pipeline")
        report = await suite.settle(settle_timeout)
        report["seconds"] = round(time.monotonic() - started, 1)
        succeeded = report["webhook_messages"] > 0 and not (
            report["lost"] or report["applied_twice"] or report["webhooks_missing"]
        )
        return report
    finally:
        await suite.stop()
        if succeeded:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"kept {work} (logs/ holds each app's log)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--nats-outage", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=25.0, help="changes offered per second")
    parser.add_argument("--json", type=Path, help="write the report here as JSON")
    args = parser.parse_args()
    report = asyncio.run(run(args.changes, args.nats_outage, rate=args.rate))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(
        f"{report['changes']} changes ({report['events']} events), {report['lost']} lost, "
        f"{report['applied_twice']} applied twice; webhooks: {report['webhooks_delivered']} of "
        f"{report['webhook_messages']} delivered, {report['webhooks_missing']} missing, "
        f"{report['webhooks_redelivered']} redelivered with the same webhook-id"
    )
    for fault in report["faults"]:
        print(f"  fault: {fault}")
    refused = report["refused_during_faults"]
    print(f"  refused while faults lasted (retried by the clients): {refused}")
    sys.exit(1 if report["lost"] or report["applied_twice"] or report["webhooks_missing"] else 0)


if __name__ == "__main__":
    main()
