"""Idle keep-alive connections: the client side always closes first.

A request written on a connection the server is closing at that moment is lost (the client reads
EOF, no answer). The gateway retries GETs after that, never mutations. So ``aims serve`` keeps
idle connections open for ``AIMS_HTTP_KEEP_ALIVE_SECONDS`` (75 s), and the gateway's pool drops
its idle connections after ``AIMS_UPSTREAM_KEEPALIVE_SECONDS`` (30 s), well before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from aims.cli import uvicorn_options
from gateway.clients import build_http_client
from gateway.config import GatewaySettings
from services.inventory.config import InventorySettings
from shared.runtime.embedded import find_free_port
from shared.settings import ServiceSettings


class Peers:
    """A tiny ASGI app that answers the client port of each request (one per connection)."""

    def __init__(self) -> None:
        self.ports: list[int] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.ports.append(scope["client"][1])
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})


@asynccontextmanager
async def served(settings: ServiceSettings, app: Peers) -> AsyncIterator[int]:
    port = find_free_port()
    options = uvicorn_options(settings, host="127.0.0.1", port=port)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", **options))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        await task


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(2)
    return head


def test_the_gateway_closes_idle_connections_before_the_services_do() -> None:
    service = InventorySettings().http_keep_alive_seconds
    assert GatewaySettings().upstream_keepalive_seconds < service
    assert service > 60  # longer than a load balancer's usual idle timeout


async def test_a_service_keeps_an_idle_connection_for_its_keep_alive_setting() -> None:
    app = Peers()
    async with served(InventorySettings(http_keep_alive_seconds=0.4), app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await _get(reader, writer)).startswith(b"HTTP/1.1 200")
        await asyncio.sleep(1.2)
        assert reader.at_eof()  # uvicorn closed the idle connection (its default: after 5 s)
        writer.close()

    async with served(InventorySettings(), app) as port:  # the default: 75 s
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await _get(reader, writer)
        await asyncio.sleep(1.2)  # past uvicorn's own default of 5 s would take too long here
        assert not reader.at_eof()
        assert (await _get(reader, writer)).startswith(b"HTTP/1.1 200")
        writer.close()
    assert app.ports[-1] == app.ports[-2]  # the same connection answered both


async def test_the_gateway_pool_drops_idle_connections_after_its_setting() -> None:
    app = Peers()
    async with served(InventorySettings(), app) as port:
        url = f"http://127.0.0.1:{port}/"
        async with build_http_client(GatewaySettings(upstream_keepalive_seconds=0.3)) as http:
            await http.get(url)
            await http.get(url)  # at once: the pooled connection
            await asyncio.sleep(0.8)
            await http.get(url)  # idle past the expiry: a new connection
        async with build_http_client(GatewaySettings()) as http:  # the default: 30 s
            await http.get(url)
            await asyncio.sleep(0.8)
            await http.get(url)
    first, reused, after_expiry, default_first, default_after_idle = app.ports
    assert reused == first
    assert after_expiry != first
    assert default_after_idle == default_first
