"""GraphQL subscriptions under load: 200 subscribers, 50 events/s, commit → client latency.

    .venv/bin/python bench/subscriptions.py [--subscriptions 200] [--rate 50] [--seconds 20]
                                            [--per-connection 1] [--direct]
                                            [--loop uvloop|asyncio] [--no-deflate]

Starts throwaway engines (``TestEngines``; ``AIMS_TEST_DATABASE_URL`` / ``AIMS_TEST_NATS_URL`` to
use the machine's), runs the inventory service and the gateway with their real lifespans, serves
the gateway with uvicorn on a free port, and starts a separate client process that opens
``--subscriptions`` ``aiSystemChanged`` subscriptions (``--per-connection`` per WebSocket) in one
organisation over graphql-transport-ws. Then it registers AI systems through the inventory's REST
API at ``--rate`` per second for ``--seconds``: each one commits, is relayed from the outbox to
NATS, consumed by the gateway's single fan-out consumer and pushed to every subscriber.

The server side runs on uvloop by default, as ``aims serve`` does (``uvicorn.run`` picks uvloop);
``--loop asyncio`` measures the stdlib loop. WebSocket permessage-deflate is negotiated as uvicorn
does by default (every browser offers it); ``--no-deflate`` turns it off in the server, which
saves compressing each message once per subscriber.

Prints p50/p95/p99/max of "event time (CloudEvent ``time``, stamped in the committing
transaction) → receipt by the client", how many events each subscriber got, and the hub's
counters. Target: p99 under 250 ms. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

QUERY = "subscription { aiSystemChanged { occurredAt name } }"
PROTOCOL = "graphql-transport-ws"
ROOT = Path(__file__).resolve().parent.parent


# --- client process ---------------------------------------------------------------------------


async def _client_connection(
    url: str, token: str, subscriptions: int, latencies: list[float], stop: asyncio.Event
) -> int:
    from websockets.asyncio.client import connect

    received = 0
    async with connect(url, subprotocols=[PROTOCOL], max_queue=None) as ws:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await ws.recv())
        if ack["type"] != "connection_ack":
            raise RuntimeError(f"not acknowledged: {ack}")
        for n in range(subscriptions):
            message = {"id": str(n), "type": "subscribe", "payload": {"query": QUERY}}
            await ws.send(json.dumps(message))
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            now = time.time()
            message = json.loads(raw)
            if message["type"] == "next":
                event = message["payload"]["data"]["aiSystemChanged"]
                occurred = datetime.fromisoformat(event["occurredAt"]).timestamp()
                latencies.append(now - occurred)
                received += 1
            elif message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            else:
                print(json.dumps({"unexpected": message}), file=sys.stderr)
    return received


async def run_clients(url: str, token: str, subscriptions: int, per_connection: int) -> None:
    """Open the subscriptions, say READY, collect until stdin says stop; print JSON results."""
    latencies: list[float] = []
    stop = asyncio.Event()
    connections = max(1, subscriptions // per_connection)
    tasks = [
        asyncio.create_task(_client_connection(url, token, per_connection, latencies, stop))
        for _ in range(connections)
    ]
    await asyncio.sleep(0)  # let every connection start
    print("STARTED", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # the server side says stop
    stop.set()
    received = await asyncio.gather(*tasks, return_exceptions=True)
    counts = [r for r in received if isinstance(r, int)]
    errors = [repr(r) for r in received if not isinstance(r, int)]
    result = {
        "latencies": latencies,
        "counts": counts,
        "errors": errors[:5],
        "cpu": time.process_time(),
    }
    print(json.dumps(result), flush=True)


# --- server side ------------------------------------------------------------------------------


async def _started(server: Any) -> bool:
    return bool(server.started)


async def _all_registered(streams: Any, subscriptions: int) -> bool:
    return bool(streams.member_count >= subscriptions)


async def _reached(at_hub: list[float], events: int) -> bool:
    return len(at_hub) >= events


def _on_uvloop() -> bool:
    return type(asyncio.get_running_loop()).__module__.startswith("uvloop")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(
    subscriptions: int,
    rate: float,
    seconds: float,
    per_connection: int,
    direct: bool,
    deflate: bool = True,
) -> None:
    import httpx
    import uvicorn

    from gateway.config import GatewaySettings
    from gateway.main import create_app as create_gateway
    from services.inventory.config import InventorySettings
    from services.inventory.main import create_app as create_inventory
    from shared.db import uuid7
    from shared.runtime.embedded import find_free_port
    from shared.testing import RoutingTransport, TestEngines, eventually

    engines = await TestEngines.start()
    try:
        inventory = create_inventory(InventorySettings(**engines.settings_env("inventory")))
        gateway = create_gateway(
            GatewaySettings(**engines.settings_env("gateway"), inventory_url="http://inventory"),
            upstream_transport=RoutingTransport({"inventory": httpx.ASGITransport(app=inventory)}),
        )
        async with AsyncExitStack() as stack:
            for app in (inventory, gateway):
                await stack.enter_async_context(app.router.lifespan_context(app))
            port = find_free_port()
            server = uvicorn.Server(
                uvicorn.Config(
                    gateway,
                    host="127.0.0.1",
                    port=port,
                    lifespan="off",
                    log_level="warning",
                    ws_per_message_deflate=deflate,
                )
            )
            serving = asyncio.create_task(server.serve())
            await eventually(lambda: _started(server), timeout=30, interval=0.05)
            org = uuid7()
            token = engines.token(org, "viewer", ttl=3600)
            await _measure(
                engines, gateway, inventory, f"ws://127.0.0.1:{port}/graphql", token, org,
                subscriptions=subscriptions, rate=rate, seconds=seconds,
                per_connection=per_connection, direct=direct,
            )  # fmt: skip
            server.should_exit = True
            await serving
    finally:
        await engines.stop()


async def _measure(
    engines: Any,
    gateway: Any,
    inventory: Any,
    url: str,
    token: str,
    org: uuid.UUID,
    *,
    subscriptions: int,
    rate: float,
    seconds: float,
    per_connection: int,
    direct: bool,
) -> None:
    import httpx

    from gateway.subscriptions.streams import STREAMS_KEY, SharedStreams
    from shared.testing import eventually

    client_cmd = [
        sys.executable, __file__, "--client", url, token,
        "--subscriptions", str(subscriptions), "--per-connection", str(per_connection),
        "--loop", "uvloop" if _on_uvloop() else "asyncio",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    clients = await asyncio.create_subprocess_exec(
        *client_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    assert clients.stdout is not None and clients.stdin is not None
    started = await clients.stdout.readline()
    if started.strip() != b"STARTED":
        raise RuntimeError(f"client process failed: {started!r}")
    hub = gateway.state.ctx.extras["subscription_hub"]
    streams = gateway.state.ctx.extras.setdefault(STREAMS_KEY, SharedStreams())
    # Where the time goes: event time → the hub's dispatch (outbox, relay, NATS, consumer).
    at_hub: list[float] = []
    dispatch = hub.dispatch

    def timed_dispatch(event: Any) -> None:
        at_hub.append((time.time() - event.time.timestamp()) * 1000)
        dispatch(event)

    hub.dispatch = timed_dispatch
    with contextlib.suppress(AssertionError):
        await eventually(lambda: _all_registered(streams, subscriptions), timeout=30)
    print(
        f"subscriptions at the gateway: {streams.member_count} in {streams.count} shared "
        f"stream(s), {hub.subscriber_count} hub subscriber(s); load average before: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )

    headers = engines.headers(org, "contributor")
    statuses: list[int] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=inventory), base_url="http://inventory"
    ) as api:

        async def register(n: int) -> None:
            response = await api.post(
                "/v1/ai-systems", json={"name": f"Bench system {n}"}, headers=headers
            )
            statuses.append(response.status_code)

        produce = _direct_publisher(gateway, org, statuses) if direct else register
        total = int(rate * seconds)
        cpu_begin = time.process_time()
        begin = time.monotonic()
        writes: list[asyncio.Task[None]] = []
        for n in range(total):
            # Scheduled by the clock, so a slow write does not lower the rate.
            await asyncio.sleep(max(0.0, begin + n / rate - time.monotonic()))
            writes.append(asyncio.create_task(produce(n)))
        await asyncio.gather(*writes)
        elapsed = time.monotonic() - begin
    # Let the last events arrive: all of them at the hub (or a minute), then 3 s for the sends.
    ok_so_far = sum(1 for s in statuses if s == 201)
    with contextlib.suppress(AssertionError):
        await eventually(lambda: _reached(at_hub, ok_so_far), timeout=60)
    await asyncio.sleep(3)
    cpu = time.process_time() - cpu_begin
    clients.stdin.write(b"stop\n")
    await clients.stdin.drain()
    raw = await clients.stdout.read()
    await clients.wait()
    result = json.loads(raw.decode().strip().splitlines()[-1])
    latencies = [v * 1000 for v in result["latencies"]]
    counts: list[int] = result["counts"]

    ok = sum(1 for s in statuses if s == 201)
    source = "published to NATS" if direct else "systems registered through REST"
    print(f"events: {ok} {source} (of {len(statuses)}) in {elapsed:.1f} s "
          f"= {ok / elapsed:.1f} events/s; {subscriptions} subscriptions on "
          f"{max(1, subscriptions // per_connection)} connections")  # fmt: skip
    expected = ok * subscriptions
    print(f"deliveries: {len(latencies)} of {expected} expected "
          f"({len(latencies) / max(1, elapsed):.0f}/s); per connection min/max "
          f"{min(counts, default=0)}/{max(counts, default=0)}; client errors: "
          f"{result['errors'] or 'none'}")  # fmt: skip
    print(f"hub: {hub.describe()}; load average after: {os.getloadavg()[0]:.1f}")
    per = len(latencies) or 1
    print(
        f"CPU: server process {cpu:.1f} s ({cpu / per * 1e6:.0f} µs per delivery, everything "
        f"in it included); client process {result['cpu']:.1f} s "
        f"({result['cpu'] / per * 1e6:.0f} µs per delivery)"
    )
    if at_hub:
        print(
            "commit → gateway hub (ms):    "
            f"p50 {statistics.median(at_hub):.1f}  p95 {_pct(at_hub, 0.95):.1f}  "
            f"p99 {_pct(at_hub, 0.99):.1f}  max {max(at_hub):.1f}"
        )
    if latencies:
        print(
            "commit → client latency (ms): "
            f"p50 {statistics.median(latencies):.1f}  p95 {_pct(latencies, 0.95):.1f}  "
            f"p99 {_pct(latencies, 0.99):.1f}  max {max(latencies):.1f}  (target p99 < 250)"
        )


def _direct_publisher(
    gateway: Any, org: uuid.UUID, statuses: list[int]
) -> Callable[[int], Coroutine[Any, Any, None]]:
    """Publish ``system.registered`` envelopes straight to JetStream (stamped at publish):
    isolates the gateway's share (NATS → fan-out → WebSocket) from the write path's."""
    from shared.db import utcnow, uuid7
    from shared.events import CloudEvent

    ctx = gateway.state.ctx
    subject = f"{ctx.settings.nats_subject_prefix}aims.inventory.system.registered"

    async def publish(n: int) -> None:
        system_id = str(uuid7())
        event = CloudEvent(
            id=str(uuid7()),
            source="/aims/inventory",
            type="aims.inventory.system.registered",
            time=utcnow(),
            subject=system_id,
            data={"id": system_id, "name": f"Bench system {n}", "lifecycle_stage": "idea"},
            orgid=str(org),
            dataversion=1,
        )
        await ctx.js.publish(subject, event.model_dump_json().encode())
        statuses.append(201)

    return publish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--per-connection", type=int, default=1, help="subscriptions per WebSocket")
    parser.add_argument(
        "--direct",
        action="store_true",
        help="publish events straight to NATS (the gateway's share only) instead of REST writes",
    )
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop of both processes (uvloop: as `aims serve` runs the gateway)",
    )
    parser.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        help="turn WebSocket permessage-deflate off in the server (uvicorn's default is on)",
    )
    parser.add_argument("--client", nargs=2, metavar=("URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    loop_factory = None
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        if args.client:
            with contextlib.suppress(KeyboardInterrupt):
                url, token = args.client
                runner.run(run_clients(url, token, args.subscriptions, args.per_connection))
            return
        print(f"event loop: {args.loop}; permessage-deflate: {'on' if args.deflate else 'off'}")
        runner.run(
            run(
                args.subscriptions,
                args.rate,
                args.seconds,
                args.per_connection,
                args.direct,
                args.deflate,
            )
        )


if __name__ == "__main__":
    main()
