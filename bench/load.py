"""Load test: concurrent clients mixing what users do, against the whole stack; zero errors.

    .venv/bin/python bench/load.py                          # 50 clients, 5 minutes, own stack
    .venv/bin/python bench/load.py --users 10 --duration 20 # a smoke run
    .venv/bin/python bench/load.py --gateway http://127.0.0.1:8000 \\
        --inventory http://127.0.0.1:8001 --evidence http://127.0.0.1:8003 --token "$TOKEN"

Each client (a "user") loops until the duration is over: it picks an operation by weight, runs
it, and waits a random think time (0.5–1.5 s by default, like locust's ``between(0.5, 1.5)``):

==================  ========================================================================
operation           request(s)
==================  ========================================================================
``dashboard``       the GraphQL dashboard page of ``bench/run.py`` (``--page-size`` systems
                    with classification, risk summary and evidence summary)
``register``        ``POST /v1/ai-systems`` on the inventory (with an ``Idempotency-Key``)
``evidence.create`` ``POST /v1/evidence`` then ``evidence.upload``: ``POST …/files`` of
                    ``--upload-kib`` KiB (raw body, hashed while streaming)
``webhook``         not a request: each registration's ``system.registered`` webhook, signed
                    and POSTed by the gateway to a local receiver; measured from the 201 of
                    the registration to its arrival
==================  ========================================================================

An error is any answer other than the expected status (``200`` without GraphQL ``errors``,
``201``), a transport error or time-out, and a registration whose webhook has not arrived when
the run has settled (``--settle`` seconds after the last request). The table prints count,
errors, rate and latency percentiles per operation; ``--json`` writes them with the run's
settings and the first error samples. Exit status 1 when there was any error.

Where the webhooks' time goes is printed below the table: per delivery, commit → queued (the
outbox relay, NATS and the gateway's consumer) and queued → receiver (the delivery worker),
read from the UUIDv7 clocks of the event's id and the ``webhook-id``, and the lag per third of
the run; with the own stack, also when the relay published each delivered event and when every
consumer wrote it to its inbox (read from the databases before the stack stops).
``--profile DIR`` runs py-spy on every app of the own stack for the run (raw stacks).

Without ``--gateway`` it starts throwaway engines and the four apps as separate uvicorn
processes, as ``bench/run.py`` does (relay and consumers running, production scheduler
interval), with the gateway's SSRF allow-list admitting the loopback receiver. Against a
running ``aims up``, start it with ``AIMS_WEBHOOK_ALLOWED_TARGETS='["127.0.0.0/8"]'`` so that
the gateway may deliver to the receiver, and pass an admin token (``aims token create``).

The clients are asyncio tasks over one ``httpx`` connection pool, not locust: locust's gevent
monkey-patches sockets at import, which does not mix with the asyncio engines, receiver and
pytest-asyncio this shares a process with, and the receiver and the end-to-end webhook latency
are a few lines here. The client runs on the machine it measures: on a shared two-core machine
its own CPU is part of the load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.run import DASHBOARD, PRODUCTION_TIMERS, Stack, spawn, stop_stack  # noqa: E402

OPERATIONS = ("dashboard", "register", "evidence.create", "evidence.upload", "webhook")
DEFAULT_MIX = "dashboard=5,register=3,upload=2"


@dataclass
class Target:
    """Where the load goes: base URLs and the headers of an organisation's admin."""

    gateway: str
    inventory: str
    evidence: str
    headers: dict[str, str]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {name: [] for name in OPERATIONS}
    )
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    samples: list[str] = field(default_factory=list)

    def ok(self, operation: str, seconds: float) -> None:
        self.latencies[operation].append(seconds)

    def fail(self, operation: str, what: str) -> None:
        self.errors[operation] += 1
        if len(self.samples) < 20:
            self.samples.append(f"{operation}: {what[:300]}")


def uuid7_seconds(value: str) -> float | None:
    """The creation time (Unix seconds) in a UUIDv7's first 48 bits; None for other ids."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None
    return (parsed.int >> 80) / 1000 if parsed.version == 7 else None


@dataclass
class Receiver:
    """The GRC platform's webhook endpoint: notes when each system's event arrived.

    Per delivery it also keeps where the time went, from the ids' UUIDv7 clocks: the event's
    id is made in the committing transaction, the ``webhook-id`` (the message id) by the
    gateway's consumer when it queued the delivery, and ``webhook-timestamp`` when the worker
    signed it; all in wall-clock seconds (one machine, one clock).
    """

    arrived: dict[str, float] = field(default_factory=dict)
    #: subject -> (event made, message queued, signed (whole seconds), arrived), Unix seconds
    stages: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    #: subject -> the event's id
    event_ids: dict[str, str] = field(default_factory=dict)
    bodies: int = 0
    server: asyncio.Server | None = None
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: several deliveries may share a connection
                head = await reader.readuntil(b"\r\n\r\n")
                headers: dict[str, str] = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                now, wall = time.monotonic(), time.time()
                self.bodies += 1
                with contextlib.suppress(ValueError, AttributeError):
                    event = json.loads(body)
                    subject = event.get("subject")
                    if isinstance(subject, str) and subject not in self.arrived:
                        self.arrived[subject] = now
                        self.event_ids[subject] = str(event.get("id"))
                        made = uuid7_seconds(event.get("id"))
                        queued = uuid7_seconds(headers.get("webhook-id", ""))
                        signed = float(headers.get("webhook-timestamp") or "nan")
                        if made is not None and queued is not None:
                            self.stages[subject] = (made, queued, signed, wall)
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/aims"


@dataclass
class Options:
    users: int = 50
    duration: float = 300.0
    wait_min: float = 0.5
    wait_max: float = 1.5
    mix: str = DEFAULT_MIX
    page_size: int = 50
    upload_kib: int = 64
    seed_systems: int = 20
    settle: float = 120.0
    timeout: float = 60.0


class Load:
    def __init__(self, target: Target, receiver: Receiver, opt: Options) -> None:
        self.target = target
        self.receiver = receiver
        self.opt = opt
        self.stats = Stats()
        self.registered: dict[str, float] = {}  # system id -> monotonic time of its 201
        self.client = httpx.AsyncClient(
            timeout=opt.timeout,
            # An idle connection is dropped by the client before uvicorn's 5 s keep-alive
            # timeout closes it: with both at 5 s (httpx's default), a request sent on a
            # connection the server is closing fails with ReadError (seen once in 5 minutes).
            limits=httpx.Limits(
                max_connections=opt.users * 2,
                max_keepalive_connections=opt.users,
                keepalive_expiry=2.0,
            ),
        )
        self.weights = parse_mix(opt.mix)
        self.payload = os.urandom(opt.upload_kib * 1024)

    async def _timed(
        self, operation: str, call: Callable[[], Awaitable[httpx.Response]], expected: int
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await call()
        except httpx.HTTPError as exc:
            self.stats.fail(operation, f"{type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - started
        if response.status_code != expected:
            self.stats.fail(operation, f"HTTP {response.status_code} {response.text}")
            return None
        if operation == "dashboard":
            body = response.json()
            if body.get("errors") or not body.get("data"):
                self.stats.fail(operation, f"GraphQL errors {body.get('errors')!s}")
                return None
        self.stats.ok(operation, elapsed)
        return response

    async def dashboard(self) -> None:
        query = {"query": DASHBOARD, "variables": {"first": self.opt.page_size}}
        await self._timed(
            "dashboard",
            lambda: self.client.post(
                f"{self.target.gateway}/graphql", json=query, headers=self.target.headers
            ),
            200,
        )

    async def register(self) -> None:
        body, headers = self._registration()
        response = await self._timed(
            "register",
            lambda: self.client.post(
                f"{self.target.inventory}/v1/ai-systems", json=body, headers=headers
            ),
            201,
        )
        if response is not None:
            self.registered[response.json()["id"]] = time.monotonic()

    async def seed(self) -> None:
        """Systems for the first dashboards (not measured, not awaited as webhooks)."""
        body, headers = self._registration()
        response = await self.client.post(
            f"{self.target.inventory}/v1/ai-systems", json=body, headers=headers
        )
        if response.status_code != 201:
            raise RuntimeError(f"seeding: {response.status_code} {response.text[:300]}")

    def _registration(self) -> tuple[dict[str, Any], dict[str, str]]:
        key = uuid.uuid4().hex
        body = {
            "name": f"Load system {key[:10]}",
            "description": "Registered by the load test",
            "owner": f"owner{random.randrange(7)}@example.com",
            "lifecycle_stage": "deployed",
        }
        return body, {**self.target.headers, "Idempotency-Key": key}

    async def upload(self) -> None:
        item = await self._timed(
            "evidence.create",
            lambda: self.client.post(
                f"{self.target.evidence}/v1/evidence",
                json={"title": f"Model card {uuid.uuid4().hex[:8]}"},
                headers=self.target.headers,
            ),
            201,
        )
        if item is None:
            return
        item_id = item.json()["id"]
        await self._timed(
            "evidence.upload",
            lambda: self.client.post(
                f"{self.target.evidence}/v1/evidence/{item_id}/versions/1/files",
                params={"filename": "card.pdf"},
                content=self.payload,
                headers={**self.target.headers, "content-type": "application/pdf"},
            ),
            201,
        )

    async def user(self, deadline: float, rng: random.Random) -> None:
        actions = {"dashboard": self.dashboard, "register": self.register, "upload": self.upload}
        names = list(self.weights)
        weights = [self.weights[n] for n in names]
        # Users start spread over the first think time, as a ramp would.
        await asyncio.sleep(rng.uniform(0, self.opt.wait_max))
        while time.monotonic() < deadline:
            await actions[rng.choices(names, weights)[0]]()
            await asyncio.sleep(rng.uniform(self.opt.wait_min, self.opt.wait_max))

    async def settle_webhooks(self) -> None:
        """Wait for every registration's webhook; count those missing then as errors."""
        deadline = time.monotonic() + self.opt.settle
        while time.monotonic() < deadline:
            if all(s in self.receiver.arrived for s in self.registered):
                break
            await asyncio.sleep(0.5)
        for system_id, created in self.registered.items():
            arrived = self.receiver.arrived.get(system_id)
            if arrived is None:
                self.stats.fail("webhook", f"no system.registered webhook for {system_id}")
            else:
                self.stats.ok("webhook", arrived - created)

    async def run(self) -> float:
        """Seed, run the users until the duration is over, settle; returns the seconds run."""
        for _ in range(self.opt.seed_systems):
            await self.seed()
        started = time.monotonic()
        deadline = started + self.opt.duration
        seed = random.Random(12)
        await asyncio.gather(
            *(self.user(deadline, random.Random(seed.random())) for _ in range(self.opt.users))
        )
        elapsed = time.monotonic() - started
        await self.settle_webhooks()
        await self.client.aclose()
        return elapsed


def parse_mix(mix: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in mix.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in ("dashboard", "register", "upload"):
            raise SystemExit(f"unknown operation {name!r} in --mix (dashboard, register, upload)")
        weights[name.strip()] = float(weight or 1)
    return weights


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(stats: Stats, seconds: float) -> dict[str, dict[str, float | int]]:
    table: dict[str, dict[str, float | int]] = {}
    for name in OPERATIONS:
        samples = stats.latencies[name]
        table[name] = {
            "count": len(samples) + stats.errors[name],
            "errors": stats.errors[name],
            "per_second": round((len(samples) + stats.errors[name]) / seconds, 2),
            **{
                f"p{int(q * 100)}_ms": round(percentile(samples, q) * 1000, 1)
                for q in (0.5, 0.9, 0.95, 0.99)
            },
            "max_ms": round(max(samples) * 1000, 1) if samples else float("nan"),
        }
    return table


def webhook_stages(receiver: Receiver) -> dict[str, dict[str, float]]:
    """Where each webhook's time went (ms percentiles), and the end-to-end lag per third of the
    run (is it growing?): ``consumer`` from the event's commit to its message being queued
    (outbox relay, NATS, the gateway's consumer), ``worker`` from queued to the receiver (the
    delivery worker's claim, attempt log, signing and POST); ``queued→signed`` is in whole
    seconds (``webhook-timestamp``)."""
    rows = sorted(receiver.stages.values())
    if not rows:
        return {}
    stages = {
        "consumer (commit → queued)": [q - m for m, q, _, _ in rows],
        "worker (queued → receiver)": [a - q for _, q, _, a in rows],
        "total (commit → receiver)": [a - m for m, _, _, a in rows],
    }
    thirds = [rows[i * len(rows) // 3 : (i + 1) * len(rows) // 3] for i in range(3)]
    for index, part in enumerate(thirds, start=1):
        if part:
            stages[f"total, registrations' third {index}"] = [a - m for m, _, _, a in part]
    return {
        name: {
            "count": len(values),
            **{f"p{int(q * 100)}_ms": round(percentile(values, q) * 1000, 1) for q in (0.5, 0.99)},
            "max_ms": round(max(values) * 1000, 1),
        }
        for name, values in stages.items()
    }


def print_table(table: dict[str, dict[str, float | int]]) -> None:
    columns = ("count", "errors", "per_second", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms")
    heads = ("count", "errors", "req/s", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms")
    print(f"{'operation':<16}" + "".join(f"{h:>9}" for h in heads))
    for name, row in table.items():
        print(f"{name:<16}" + "".join(f"{row[c]:>9}" for c in columns))


async def start_own_stack(upload_bytes: int) -> Stack:
    """Throwaway engines and the four apps as processes (as ``bench/run.py``), the gateway's
    SSRF guard admitting the loopback receiver."""
    from shared.testing import TestEngines

    engines = await TestEngines.start()
    work = Path(tempfile.mkdtemp(prefix="aims-load-", dir=engines.work_dir))
    stack = Stack(engines, work)
    try:
        urls: dict[str, str] = {}
        for name in ("inventory", "risk", "evidence"):
            settings = {**engines.settings_env(name), "run_workers": True, **PRODUCTION_TIMERS}
            if name == "evidence":
                settings["blob_store_url"] = (work / "blobs").as_uri()
                settings["max_upload_bytes"] = upload_bytes + 1024 * 1024
            stack.procs[name] = spawn(name, settings, work)
            urls[f"{name}_url"] = stack.url(name)
        stack.procs["gateway"] = spawn(
            "gateway",
            {
                **engines.settings_env("gateway"),
                **PRODUCTION_TIMERS,
                **urls,
                "webhook_allowed_targets": ["127.0.0.0/8"],
            },
            work,
        )
        async with httpx.AsyncClient(timeout=2) as client:
            deadline = time.monotonic() + 300  # a loaded two-core machine imports slowly
            for proc in stack.procs.values():
                while True:
                    if proc.process.poll() is not None:
                        raise RuntimeError(
                            f"{proc.name} exited:\n{proc.log.read_text(errors='replace')[-3000:]}"
                        )
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(f"{stack.url(proc.name)}/readyz")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{proc.name} did not become ready")
                    await asyncio.sleep(0.2)
    except BaseException:
        await stop_stack(stack, Path(tempfile.gettempdir()) / "aims-load-logs")
        raise
    return stack


async def relay_and_inbox_lags(stack: Stack, event_ids: list[str]) -> dict[str, dict[str, float]]:
    """From the databases, before the stack goes: per delivered event, how long after its
    commit (the outbox row's ``created_at``) the inventory's relay published it and each
    consumer (of every service) recorded it in its inbox; ms percentiles."""
    import asyncpg

    ids = [uuid.UUID(i) for i in event_ids]
    made: dict[uuid.UUID, datetime] = {}
    lags: dict[str, list[float]] = {}
    for service in ("inventory", "risk", "evidence", "gateway"):
        dsn = stack.engines.databases[service].owner_url.replace("+asyncpg", "")
        conn = await asyncpg.connect(dsn)
        try:
            if service == "inventory":
                for row in await conn.fetch(
                    "SELECT event_id, created_at, published_at FROM outbox"
                    " WHERE event_id = ANY($1::uuid[])",
                    ids,
                ):
                    made[row["event_id"]] = row["created_at"]
                    if row["published_at"] is not None:
                        lags.setdefault("relay (outbox → published)", []).append(
                            (row["published_at"] - row["created_at"]).total_seconds()
                        )
            for row in await conn.fetch(
                "SELECT consumer, event_id, processed_at FROM inbox"
                " WHERE event_id = ANY($1::uuid[])",
                ids,
            ):
                if row["event_id"] in made:
                    lags.setdefault(f"inbox of {row['consumer']}", []).append(
                        (row["processed_at"] - made[row["event_id"]]).total_seconds()
                    )
        finally:
            await conn.close()
    return {
        name: {
            "count": len(values),
            **{f"p{int(q * 100)}_ms": round(percentile(values, q) * 1000, 1) for q in (0.5, 0.99)},
            "max_ms": round(max(values) * 1000, 1),
        }
        for name, values in lags.items()
    }


async def run_load(
    opt: Options,
    *,
    target: Target | None = None,
    json_path: Path | None = None,
    quiet: bool = False,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One load run (own stack unless ``target``); returns the report that ``--json`` writes."""
    receiver = Receiver()
    await receiver.start()
    stack: Stack | None = None
    lags: dict[str, dict[str, float]] = {}
    say: Callable[[str], None] = (lambda _: None) if quiet else (lambda m: print(m, flush=True))
    try:
        if target is None:
            say("starting PostgreSQL, NATS and the four apps …")
            stack = await start_own_stack(opt.upload_kib * 1024)
            from shared.db import uuid7

            target = Target(
                gateway=stack.url("gateway"),
                inventory=stack.url("inventory"),
                evidence=stack.url("evidence"),
                headers=stack.headers(uuid7(), "admin"),
            )
        async with httpx.AsyncClient(timeout=30) as client:
            subscribed = await client.post(
                f"{target.gateway}/v1/webhook-subscriptions",
                json={"url": receiver.url, "event_types": ["system.registered"]},
                headers=target.headers,
            )
            if subscribed.status_code != 201:
                raise RuntimeError(
                    f"webhook subscription: {subscribed.status_code} {subscribed.text}"
                )
        load_avg = os.getloadavg()[0]
        say(
            f"load: {opt.users} users for {opt.duration:.0f} s, mix {opt.mix} "
            f"(load average {load_avg:.2f} on {os.cpu_count()} CPUs)"
        )
        load = Load(target, receiver, opt)
        profiler = None
        if profile is not None and stack is not None:
            from bench.run import Profiler

            profiler = Profiler(stack, profile)
            profiler.start("load")
        try:
            seconds = await load.run()
        finally:
            if profiler is not None:
                # Stop the samplers without bench.run's summary (the raw stacks are kept).
                for spy in profiler.spies:
                    spy.send_signal(2)
                for spy in profiler.spies:
                    with contextlib.suppress(Exception):
                        spy.wait(timeout=30)
                say(f"py-spy raw stacks in {profile}/load-<app>.txt")
        if stack is not None:
            try:
                lags = await relay_and_inbox_lags(stack, list(receiver.event_ids.values()))
            except Exception as exc:  # a diagnosis only: the run's figures stand without it
                say(f"reading the relay and inbox lags failed: {exc!r}")
    finally:
        await receiver.stop()
        if stack is not None:
            await stop_stack(stack, None)
    table = summarise(load.stats, seconds)
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": load_avg,
        },
        "options": opt.__dict__,
        "seconds": round(seconds, 1),
        "operations": table,
        "errors": sum(load.stats.errors.values()),
        "error_samples": load.stats.samples,
        "webhooks_received": receiver.bodies,
        "webhook_stages": webhook_stages(receiver),
        "commit_to_inbox": lags,
    }
    if not quiet:
        print_table(table)
        print("webhook stages (from the UUIDv7 clocks of event id and webhook-id):")
        for name, row in report["webhook_stages"].items():
            print(
                f"  {name:<36} n={row['count']:<6} p50 {row['p50_ms']:>10} ms"
                f"  p99 {row['p99_ms']:>10} ms  max {row['max_ms']:>10} ms"
            )
        if lags:
            print("from the commit (outbox created_at) of the delivered events, own stack only:")
        for name, row in lags.items():
            print(
                f"  {name:<36} n={row['count']:<6} p50 {row['p50_ms']:>10} ms"
                f"  p99 {row['p99_ms']:>10} ms  max {row['max_ms']:>10} ms"
            )
        print(f"{report['errors']} errors in {seconds:.0f} s")
        for sample in load.stats.samples[:5]:
            print(f"  {sample}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2, default=str))  # noqa: ASYNC240
        say(f"wrote {json_path}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=300, help="seconds of load")
    parser.add_argument("--wait-min", type=float, default=0.5, help="think time, seconds")
    parser.add_argument("--wait-max", type=float, default=1.5)
    parser.add_argument("--mix", default=DEFAULT_MIX, help="weights of dashboard,register,upload")
    parser.add_argument("--page-size", type=int, default=50, help="systems per dashboard page")
    parser.add_argument("--upload-kib", type=int, default=64)
    parser.add_argument("--seed-systems", type=int, default=20)
    parser.add_argument("--settle", type=float, default=120, help="seconds to wait for webhooks")
    parser.add_argument("--json", default="var/load-results.json")
    parser.add_argument("--gateway", help="a running gateway (with --inventory, --evidence)")
    parser.add_argument("--inventory")
    parser.add_argument("--evidence")
    parser.add_argument("--token", help="an admin's bearer token (aims token create)")
    parser.add_argument(
        "--profile", help="py-spy every app of the own stack during the run; raw stacks here"
    )
    args = parser.parse_args()
    opt = Options(
        users=args.users,
        duration=args.duration,
        wait_min=args.wait_min,
        wait_max=args.wait_max,
        mix=args.mix,
        page_size=args.page_size,
        upload_kib=args.upload_kib,
        seed_systems=args.seed_systems,
        settle=args.settle,
    )
    target = None
    if args.gateway:
        if not (args.inventory and args.evidence and args.token):
            raise SystemExit("--gateway needs --inventory, --evidence and --token")
        target = Target(
            args.gateway.rstrip("/"),
            args.inventory.rstrip("/"),
            args.evidence.rstrip("/"),
            {"Authorization": f"Bearer {args.token}"},
        )
    report = asyncio.run(
        run_load(
            opt,
            target=target,
            json_path=Path(args.json),
            profile=Path(args.profile) if args.profile else None,
        )
    )
    raise SystemExit(1 if report["errors"] else 0)


if __name__ == "__main__":
    main()
