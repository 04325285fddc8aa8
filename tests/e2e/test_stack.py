"""The whole stack as real processes over sockets: ``aims up`` → GraphQL → events → webhook.

``aims up`` is pointed at the session's PostgreSQL and NATS (with its own database prefix,
stream and subject prefix, so it starts no engines and shares nothing with other tests), starts
the four apps as separate processes, and is stopped with SIGINT at the end, leaving nothing behind.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from standardwebhooks.webhooks import Webhook

from shared.db import uuid7
from shared.runtime.embedded import port_is_free
from shared.runtime.keys import mint_token
from shared.runtime.provision import drop
from shared.testing import TestEngines, eventually

pytestmark = [pytest.mark.engines, pytest.mark.e2e]

SERVICES = ("inventory", "risk", "evidence", "gateway")
PORT_OFFSETS = {"gateway": 0, "inventory": 1, "risk": 2, "evidence": 3}


@dataclass
class Receiver:
    """A GRC platform's webhook endpoint: a real HTTP server on loopback."""

    port: int = 0
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.deliveries.append((headers, body))
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


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


def free_port_base() -> int:
    for _ in range(50):
        base = random.randrange(20000, 30000, 10)
        if all(port_is_free(base + i) for i in range(4)):
            return base
    raise RuntimeError("no four free ports in a row")


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    base: int
    var_dir: Path
    org: str
    token: str
    secret_key: str

    def url(self, app: str) -> str:
        return f"http://127.0.0.1:{self.base + PORT_OFFSETS[app]}"


@pytest.fixture
def running_stack(engines: TestEngines, tmp_path: Path) -> Iterator[RunningStack]:
    prefix = f"aimse_{secrets.token_hex(3)}"
    token = secrets.token_hex(3)
    base = free_port_base()
    env = {
        **os.environ,
        "AIMS_DATABASE_URL": engines.admin_url,
        "AIMS_NATS_URL": engines.nats_url,
        "AIMS_DATABASE_PREFIX": prefix,
        "AIMS_NATS_STREAM_MAX_BYTES": str(256 * 1024**2),
        "AIMS_NATS_STREAM": f"AIMSE_{token}",
        "AIMS_NATS_SUBJECT_PREFIX": f"e{token}.",
        "AIMS_NATS_CONSUMER_PREFIX": prefix,
        "AIMS_WEBHOOK_ALLOWED_TARGETS": '["127.0.0.0/8"]',
        "AIMS_SECRET_KEY": engines.secret_key,
    }
    var_dir = tmp_path / "var"
    process = subprocess.Popen(
        [sys.executable, "-m", "aims", "up", "--port-base", str(base), "--var-dir", str(var_dir)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    org = str(uuid7())
    try:
        _wait_for_gateway(process, base)
        admin_token = mint_token(
            var_dir / "keys" / "jwt_private.pem",
            issuer="aims-local",
            audience="aims",
            org_id=org,
            roles=["admin"],
            subject="e2e",
        )
        yield RunningStack(process, base, var_dir, org, admin_token, engines.secret_key)
    finally:
        children = _descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        asyncio.run(drop(engines.admin_url, prefix, SERVICES))
        asyncio.run(engines.delete_stream(f"AIMSE_{token}"))
        leftovers = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not leftovers, f"aims up left processes behind: {leftovers}"


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _wait_for_gateway(process: subprocess.Popen[bytes], base: int) -> None:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise AssertionError(f"aims up exited with {process.returncode}:\n{output[-4000:]}")
        try:
            healthy = all(
                httpx.get(f"http://127.0.0.1:{base + i}/healthz", timeout=1).status_code == 200
                for i in range(4)
            )
            if healthy:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the stack did not become healthy within 120 s")


def raw_id(global_id: str) -> str:
    """The UUID inside a Relay GlobalID (``base64("AISystem:<uuid>")``)."""
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.b64decode(padded).decode().split(":", 1)[1]


async def test_register_through_graphql_reaches_services_and_a_signed_webhook(
    running_stack: RunningStack, receiver: Receiver
) -> None:
    auth = {"Authorization": f"Bearer {running_stack.token}"}
    async with httpx.AsyncClient(timeout=10) as client:
        subscribed = await client.post(
            f"{running_stack.url('gateway')}/v1/webhook-subscriptions",
            json={
                "url": f"http://127.0.0.1:{receiver.port}/aims",
                "event_types": ["system.registered"],
            },
            headers=auth,
        )
        assert subscribed.status_code == 201, subscribed.text
        secret = subscribed.json()["secret"]

        mutation = """
          mutation Register($input: RegisterAISystemInput!) {
            registerAISystem(input: $input) {
              aiSystem { id name lifecycleStage }
              errors { message }
            }
          }"""
        response = await client.post(
            f"{running_stack.url('gateway')}/graphql",
            json={
                "query": mutation,
                "variables": {"input": {"name": "Claims triage", "lifecycleStage": "DEPLOYED"}},
            },
            headers=auth,
        )
        payload = response.json()
        assert "errors" not in payload, payload
        system = payload["data"]["registerAISystem"]["aiSystem"]
        assert system["name"] == "Claims triage"
        system_id = raw_id(system["id"])

        for app in ("risk", "evidence"):

            async def projected(app: str = app) -> dict[str, Any] | None:
                r = await client.get(
                    f"{running_stack.url(app)}/v1/systems/{system_id}", headers=auth
                )
                return dict(r.json()) if r.status_code == 200 else None

            assert (await eventually(projected, timeout=30))["name"] == "Claims triage"

        async def delivered() -> bool:
            return bool(receiver.deliveries)

        await eventually(delivered, timeout=30)
        headers, body = receiver.deliveries[0]
        verified = Webhook(secret).verify(body, headers)
        assert verified["type"] == "aims.inventory.system.registered"
        assert verified["data"]["id"] == system_id
        assert verified["orgid"] == running_stack.org
        assert json.loads(body)["data"]["name"] == "Claims triage"

        # Another organisation sees none of it through GraphQL.
        other = mint_token(
            running_stack.var_dir / "keys" / "jwt_private.pem",
            issuer="aims-local",
            audience="aims",
            org_id=str(uuid7()),
            roles=["admin"],
            subject="intruder",
        )
        listing = await client.post(
            f"{running_stack.url('gateway')}/graphql",
            json={"query": "{ aiSystems(first: 10) { edges { node { id } } } }"},
            headers={"Authorization": f"Bearer {other}"},
        )
        assert listing.json()["data"]["aiSystems"]["edges"] == []

    # The logs of the whole run: an access line of this organisation's requests in each app
    # it called (written in batches, so looked for until they are there), and no secret this
    # test created or used, in any form, in any app's log.
    logs = running_stack.var_dir / "logs"

    async def access_lines() -> dict[str, int] | None:
        found = {
            path.stem: sum(
                1
                for line in path.read_text(errors="replace").splitlines()
                if '"logger":"aims.access"' in line and f'"org_id":"{running_stack.org}"' in line
            )
            for path in logs.glob("*.log")
        }
        return found if all(found.get(app) for app in ("gateway", "risk", "evidence")) else None

    assert await eventually(access_lines, timeout=10)
    text = "\n".join(path.read_text(errors="replace") for path in logs.glob("*.log"))
    for name, value in {
        "webhook secret": secret,
        "webhook secret's key": secret.removeprefix("whsec_"),
        "caller's token": running_stack.token,
        "other caller's token": other,
        "database secret key": running_stack.secret_key,
    }.items():
        assert value not in text, f"the {name} is in the logs"


def test_a_crashed_app_is_started_again_and_says_so(running_stack: RunningStack) -> None:
    import time

    def risk_process() -> psutil.Process | None:
        for child in _descendants(running_stack.process.pid):
            try:
                cmdline = child.cmdline()
            except psutil.NoSuchProcess:
                continue
            if cmdline[-4:-2] == ["risk", "--port"] or "risk" in cmdline[3:5]:
                return child
        return None

    victim = risk_process()
    assert victim is not None, "no risk process under aims up"
    victim.kill()  # SIGKILL: no shutdown of its own
    victim.wait(10)

    deadline = time.monotonic() + 60
    replacement = None
    while time.monotonic() < deadline:
        replacement = risk_process()
        if replacement is not None and replacement.pid != victim.pid:
            try:
                if httpx.get(f"{running_stack.url('risk')}/healthz", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    else:
        raise AssertionError("the killed risk app was not started again within 60 s")
    assert running_stack.process.poll() is None, "aims up stopped instead of restarting the app"

    # The operator is told, on aims up's own output.
    assert running_stack.process.stdout is not None
    os.set_blocking(running_stack.process.stdout.fileno(), False)
    told = (running_stack.process.stdout.read() or b"").decode(errors="replace")
    assert "risk exited with code" in told and "started again" in told, told[-2000:]
