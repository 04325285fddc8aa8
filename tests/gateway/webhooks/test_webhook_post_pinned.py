"""post_pinned against real local HTTP(S) receivers on 127.0.0.1.

The receivers are reached under names that do not exist in DNS (``receiver.test``), so a
delivery can only succeed by connecting to the pinned IP; a fake resolver counts lookups to
show the name is resolved exactly once, by resolve_target, and never by the HTTP client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook

from gateway.webhooks.schedule import classify_response
from gateway.webhooks.signing import generate_secret, signature_headers
from gateway.webhooks.ssrf import ResolvedTarget, delivery_client, post_pinned, resolve_target

ALLOW = ["127.0.0.0/8"]


@dataclass
class Received:
    request_line: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server: records requests, answers with a fixed status."""

    status: int = 204
    extra_headers: dict[str, str] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    sni_names: list[str | None] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(lines[0], headers, body))
            extra = "".join(f"{k}: {v}\r\n" for k, v in self.extra_headers.items())
            writer.write(
                f"HTTP/1.1 {self.status} Whatever\r\nContent-Length: 2\r\n"
                f"Connection: close\r\n{extra}\r\nok".encode("latin-1")
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serve(receiver: Receiver, tls: ssl.SSLContext | None = None) -> AsyncIterator[Receiver]:
    if tls is not None:
        tls.sni_callback = lambda _sock, name, _ctx: receiver.sni_names.append(name)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0, ssl=tls)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()


class CountingResolver:
    def __init__(self, real: Callable[..., Any], names: dict[str, str]) -> None:
        self.real, self.names, self.calls = real, names, []  # type: ignore[var-annotated]

    async def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.calls.append(name)
        return await self.real(self.names.get(name, host), port, *args, **kwargs)


@pytest.fixture
async def resolver(monkeypatch: pytest.MonkeyPatch) -> CountingResolver:
    loop = asyncio.get_running_loop()
    counting = CountingResolver(loop.getaddrinfo, {"receiver.test": "127.0.0.1"})
    monkeypatch.setattr(loop, "getaddrinfo", counting)
    return counting


async def test_delivery_goes_to_pinned_ip_with_original_host_header(
    resolver: CountingResolver,
) -> None:
    secret = generate_secret()
    body = b'{"type":"system.registered","data":{"id":"sys_1"}}'
    async with serve(Receiver(status=204)) as receiver:
        target = await resolve_target(
            f"http://receiver.test:{receiver.port}/hooks/aims?tenant=acme", allow=ALLOW
        )
        assert target.ip == "127.0.0.1"
        headers = signature_headers("msg_1", int(time.time()), body, [secret])
        headers["content-type"] = "application/json"
        async with delivery_client() as client:
            response = await post_pinned(client, target, body, headers, timeout=5.0)

    assert response.status_code == 204
    assert classify_response(response.status_code) == "delivered"
    [received] = receiver.requests
    assert received.request_line == "POST /hooks/aims?tenant=acme HTTP/1.1"
    assert received.headers["host"] == f"receiver.test:{receiver.port}"
    assert received.body == body
    # what arrived is verifiable by a receiver using the reference library
    assert Webhook(secret).verify(received.body, received.headers) == {
        "type": "system.registered",
        "data": {"id": "sys_1"},
    }
    # the name was resolved once (by resolve_target), never by the HTTP client
    assert resolver.calls.count("receiver.test") == 1


async def test_redirect_is_not_followed(resolver: CountingResolver) -> None:
    async with serve(Receiver(status=302)) as receiver:
        receiver.extra_headers["Location"] = f"http://127.0.0.1:{receiver.port}/elsewhere"
        target = await resolve_target(f"http://receiver.test:{receiver.port}/hook", allow=ALLOW)
        # even a client configured to follow redirects must not follow them here
        async with httpx.AsyncClient(follow_redirects=True, trust_env=False) as client:
            response = await post_pinned(client, target, b"{}", {}, timeout=5.0)

    assert response.status_code == 302
    assert response.headers["location"].endswith("/elsewhere")
    assert [r.request_line for r in receiver.requests] == ["POST /hook HTTP/1.1"]
    assert classify_response(response.status_code) == "retry"


async def test_caller_host_header_cannot_override_the_target(
    resolver: CountingResolver,
) -> None:
    async with serve(Receiver(status=200)) as receiver:
        target = await resolve_target(f"http://receiver.test:{receiver.port}/", allow=ALLOW)
        async with delivery_client() as client:
            await post_pinned(client, target, b"x", {"HOST": "evil.example"}, timeout=5.0)
    assert receiver.requests[0].headers["host"] == f"receiver.test:{receiver.port}"


# ------------------------------------------------------------------ TLS


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _tls_pair(tmp_path: Path, cert_name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = _self_signed(tmp_path, cert_name)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


async def test_https_uses_original_host_for_sni_and_certificate(
    resolver: CountingResolver, tmp_path: Path
) -> None:
    server_tls, client_tls = _tls_pair(tmp_path, "receiver.test")
    async with serve(Receiver(status=200), tls=server_tls) as receiver:
        target = await resolve_target(f"https://receiver.test:{receiver.port}/h", allow=ALLOW)
        async with delivery_client(verify=client_tls) as client:
            response = await post_pinned(client, target, b"{}", {}, timeout=5.0)
    assert response.status_code == 200
    assert receiver.sni_names == ["receiver.test"]
    assert receiver.requests[0].headers["host"] == f"receiver.test:{receiver.port}"
    assert resolver.calls.count("receiver.test") == 1


async def test_https_certificate_for_another_name_is_rejected(
    resolver: CountingResolver, tmp_path: Path
) -> None:
    server_tls, client_tls = _tls_pair(tmp_path, "other.test")
    async with serve(Receiver(status=200), tls=server_tls) as receiver:
        target = await resolve_target(f"https://receiver.test:{receiver.port}/h", allow=ALLOW)
        async with delivery_client(verify=client_tls) as client:
            with pytest.raises(httpx.ConnectError, match=r"(?i)hostname|certificate"):
                await post_pinned(client, target, b"{}", {}, timeout=5.0)
    assert receiver.requests == []


# ------------------------------------------------------------------ request shape


@pytest.mark.parametrize(
    ("target", "url", "host", "sni"),
    [
        (
            ResolvedTarget(
                "https://grc.example/a?b=1",
                "https",
                "grc.example",
                443,
                "93.184.215.14",
                ("93.184.215.14",),
            ),
            "https://93.184.215.14/a?b=1",
            "grc.example",
            "grc.example",
        ),
        (
            ResolvedTarget(
                "http://grc.example:8080/a",
                "http",
                "grc.example",
                8080,
                "2606:2800::1",
                ("2606:2800::1",),
            ),
            "http://[2606:2800::1]:8080/a",
            "grc.example:8080",
            None,
        ),
        (
            ResolvedTarget(
                "https://[2001:4860::8888]:8443/",
                "https",
                "2001:4860::8888",
                8443,
                "2001:4860::8888",
                ("2001:4860::8888",),
            ),
            "https://[2001:4860::8888]:8443/",
            "[2001:4860::8888]:8443",
            None,
        ),
        (
            ResolvedTarget("https://8.8.8.8/", "https", "8.8.8.8", 443, "8.8.8.8", ("8.8.8.8",)),
            "https://8.8.8.8/",
            "8.8.8.8",
            None,  # no SNI for IP literals (RFC 6066)
        ),
    ],
)
async def test_request_is_rewritten_to_the_pinned_ip(
    target: ResolvedTarget, url: str, host: str, sni: str | None
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        await post_pinned(client, target, b"payload", {"webhook-id": "msg_1"}, timeout=3.0)
    [request] = seen
    assert str(request.url) == url
    assert ipaddress.ip_address(request.url.host) == ipaddress.ip_address(target.ip)
    assert request.headers["host"] == host
    assert request.headers["webhook-id"] == "msg_1"
    assert request.content == b"payload"
    assert request.extensions.get("sni_hostname") == sni
    assert request.extensions["timeout"]["connect"] == 3.0


async def test_post_pinned_caps_a_huge_reply() -> None:
    """A receiver streaming an endless reply cannot make the worker hold it all in memory."""
    import asyncio

    from gateway.webhooks.ssrf import (
        MAX_RESPONSE_BYTES,
        ResolvedTarget,
        delivery_client,
        post_pinned,
    )

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(400):  # 400 x 64 KiB = 25 MiB offered
                writer.write(b"10000\r\n" + b"x" * 65536 + b"\r\n")
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        writer.close()

    server = await asyncio.start_server(endless, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    target = ResolvedTarget(
        url=f"http://receiver.test:{port}/hook",
        scheme="http",
        host="receiver.test",
        port=port,
        ip="127.0.0.1",
        addresses=("127.0.0.1",),
    )
    try:
        async with delivery_client() as client:
            response = await post_pinned(client, target, b"{}", {}, 10.0)
    finally:
        server.close()
    assert response.status_code == 200
    assert len(response.content) == MAX_RESPONSE_BYTES
