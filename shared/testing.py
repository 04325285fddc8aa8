"""Test helpers: real engines for a test session, and callers with real tokens.

Tests run against real PostgreSQL and NATS. With ``AIMS_TEST_DATABASE_URL`` / ``AIMS_TEST_NATS_URL``
set (CI's second pass against the machine's own engines) those are used; otherwise embedded
engines are started in a temporary folder. Each session provisions its own databases and roles
under a random prefix, and its own JetStream stream and subject prefix, and removes them after.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from shared.runtime.embedded import EmbeddedNats, EmbeddedPostgres, find_free_port
from shared.runtime.keys import ensure_signing_keys, mint_token
from shared.runtime.migrate import upgrade
from shared.runtime.provision import ServiceDatabase, drop, provision

SERVICES = ("inventory", "risk", "evidence", "gateway")
T = TypeVar("T")


@dataclass
class TestEngines:
    """Engines, databases and keys of one test session."""

    __test__ = False  # not a pytest test class

    admin_url: str
    nats_url: str
    prefix: str
    secret_key: str
    databases: dict[str, ServiceDatabase]
    private_key: Path
    public_key: Path
    work_dir: Path
    stream: str
    subject_prefix: str
    _pg: EmbeddedPostgres | None = None
    _nats: EmbeddedNats | None = None

    @classmethod
    async def start(cls) -> TestEngines:
        work_dir = Path(tempfile.mkdtemp(prefix="aims-test-"))
        pg: EmbeddedPostgres | None = None
        nats_server: EmbeddedNats | None = None
        admin_url = os.environ.get("AIMS_TEST_DATABASE_URL")
        if not admin_url:
            pg = EmbeddedPostgres(work_dir / "postgres", find_free_port())
            admin_url = await asyncio.to_thread(pg.start)
        nats_url = os.environ.get("AIMS_TEST_NATS_URL")
        if not nats_url:
            nats_server = EmbeddedNats(work_dir / "nats", find_free_port())
            nats_url = await asyncio.to_thread(nats_server.start)
        token = secrets.token_hex(4)
        prefix = f"aimst_{token}"
        secret_key = secrets.token_hex(16)
        databases = await provision(admin_url, prefix, SERVICES, secret_key)
        for service in SERVICES:
            await asyncio.to_thread(upgrade, service, databases[service].owner_url)
        private_key, public_key = ensure_signing_keys(work_dir / "keys")
        return cls(
            admin_url=admin_url,
            nats_url=nats_url,
            prefix=prefix,
            secret_key=secret_key,
            databases=databases,
            private_key=private_key,
            public_key=public_key,
            work_dir=work_dir,
            stream=f"AIMST_{token}",
            subject_prefix=f"t{token}.",
            _pg=pg,
            _nats=nats_server,
        )

    def settings_env(self, service: str) -> dict[str, Any]:
        """Keyword arguments for a service's settings class."""
        return {
            "app_database_url": self.databases[service].app_url,
            "nats_url": self.nats_url,
            "nats_stream": self.stream,
            # Tests share one NATS: each stream reserves its max_bytes from JetStream's store.
            "nats_stream_max_bytes": 256 * 1024**2,
            "nats_subject_prefix": self.subject_prefix,
            "nats_consumer_prefix": self.prefix,
            "jwt_public_key_file": self.public_key,
            "jwt_private_key_file": self.private_key,
            "environment": "test",
            "var_dir": self.work_dir / "var",
            "consumer_backoff_seconds": [0.2, 0.5],
            "consumer_max_deliver": 3,
            "scheduler_interval_seconds": 0.2,
            "scheduler_backoff_seconds": [0.5, 1.0],
            "worker_restart_initial_seconds": 0.1,
            "worker_restart_max_seconds": 0.5,
        }

    def token(
        self, org_id: uuid.UUID | str, *roles: str, subject: str = "tester", ttl: int = 3600
    ) -> str:
        return mint_token(
            self.private_key,
            issuer="aims-local",
            audience="aims",
            org_id=str(org_id),
            roles=list(roles) or ["admin"],
            subject=subject,
            ttl_seconds=ttl,
        )

    def headers(
        self, org_id: uuid.UUID | str, *roles: str, subject: str = "tester"
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(org_id, *roles, subject=subject)}"}

    async def stop(self) -> None:
        try:
            await drop(self.admin_url, self.prefix, SERVICES)
        finally:
            await self.delete_stream(self.stream)
            if self._nats is not None:
                await asyncio.to_thread(self._nats.stop)
            if self._pg is not None:
                await asyncio.to_thread(self._pg.stop)
            shutil.rmtree(self.work_dir, ignore_errors=True)

    async def delete_stream(self, name: str) -> None:
        """Remove a JetStream stream this session created (missing is fine)."""
        import nats

        try:
            nc = await nats.connect(self.nats_url, connect_timeout=2, max_reconnect_attempts=0)
        except Exception:
            return
        try:
            await nc.jetstream().delete_stream(name)
        except Exception:  # noqa: S110 — the stream may never have been created
            pass
        finally:
            await nc.close()


@dataclass
class RoutingTransport(httpx.AsyncBaseTransport):
    """Routes requests by host name to in-process ASGI apps (the gateway's upstreams in tests)."""

    routes: Mapping[str, httpx.AsyncBaseTransport] = field(default_factory=dict)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.routes.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no test route for {request.url.host}", request=request)
        return await transport.handle_async_request(request)


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, interval: float = 0.1
) -> T:
    """Poll ``check`` until it returns something other than None/False; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last is not None and last is not False:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
