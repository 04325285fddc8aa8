"""SSRF guard for webhook delivery: validate, resolve once, refuse internal addresses, pin.

A webhook URL is chosen by a tenant, so without a guard the delivery worker is a proxy into
our own network: ``http://169.254.169.254/`` (cloud metadata), ``http://localhost:5432``,
``http://10.0.0.7/admin``. The guard has three parts:

1. **Syntax** (:func:`validate_url_syntax`, also at API time): ``http``/``https`` only, no
   userinfo, a host, a valid port, no whitespace/control characters or backslashes, and no
   non-canonical numeric hosts (``127.1``, ``2130706433``, ``0x7f.1``) that different parsers
   read differently. Parsing is done with :class:`httpx.URL`, the same parser that sends the
   request, so what we check is what we connect to.

2. **Resolve once** (:func:`resolve_target`): the host is resolved a single time and *every*
   address returned is checked. The request is then sent to one of those already-checked
   addresses (:func:`post_pinned`) instead of letting the HTTP client resolve the name again.

   Why once: with *DNS rebinding*, an attacker's name server answers the validation lookup with
   a public address (TTL 0) and the connection lookup, a few milliseconds later, with
   ``127.0.0.1`` or ``169.254.169.254``. Any design that checks one resolution and connects
   using another is defeated by it (a time-of-check/time-of-use race). Checking *all* returned
   addresses matters for the same reason: a client may try them in order and fall back to the
   internal one.

3. **No redirects**: a ``302 Location: http://127.0.0.1/`` would bypass everything above, so
   redirects are never followed; a 3xx counts as a failed delivery.

An explicit allow-list (CIDRs such as ``127.0.0.0/8``, host names such as ``receiver.test`` or
``*.corp.example``) admits otherwise refused targets; tests use it for loopback receivers and
on-premises deployments for internal GRC tools. Allow-listing a host name admits whatever that
name resolves to, so prefer CIDRs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "ResolvedTarget",
    "UnresolvableWebhookTarget",
    "UnsafeWebhookTarget",
    "delivery_client",
    "post_pinned",
    "resolve_target",
    "unsafe_address_reason",
    "validate_url_syntax",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2048
_ALLOWED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_NAT64_PREFIXES = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)


class UnsafeWebhookTarget(ValueError):
    """The webhook URL is malformed or points at an address we refuse to deliver to."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnresolvableWebhookTarget(Exception):
    """The host did not resolve (now). Transient: treat as a failed attempt and retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A validated webhook target, pinned to one checked address.

    ``host`` is the normalised (lower-case, IDNA/ASCII, no brackets, no trailing dot) host of
    ``url``; ``ip`` is the address to connect to; ``addresses`` all the (checked) addresses the
    single resolution returned, ``ip`` first.
    """

    url: str
    scheme: str
    host: str
    port: int
    ip: str
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _ParsedUrl:
    url: httpx.URL
    scheme: str
    host: str
    port: int
    literal: IPAddress | None


# ---------------------------------------------------------------------------- syntax


def _parse(url: str) -> _ParsedUrl:
    if not isinstance(url, str) or not url:
        raise UnsafeWebhookTarget("webhook URL must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookTarget(f"webhook URL is longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeWebhookTarget("webhook URL must not contain whitespace or control characters")
    if "\\" in url:
        raise UnsafeWebhookTarget("webhook URL must not contain backslashes")
    scheme_end = url.find(":")
    scheme = url[:scheme_end].lower() if scheme_end > 0 else ""
    if scheme not in _ALLOWED_SCHEMES:
        shown = f"'{scheme}'" if scheme else "none"
        raise UnsafeWebhookTarget(f"webhook URL scheme must be http or https (got {shown})")
    if not url[scheme_end + 1 :].startswith("//"):
        raise UnsafeWebhookTarget("webhook URL must be absolute, like https://host/path")
    authority = re.split(r"[/?#]", url[scheme_end + 3 :], maxsplit=1)[0]
    if "@" in authority:
        raise UnsafeWebhookTarget(
            "webhook URL must not contain credentials (user:password@); "
            "receivers authenticate deliveries by their signature"
        )
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeWebhookTarget(f"webhook URL is invalid: {exc}") from exc
    if parsed.userinfo:  # defence in depth; the authority check above already refuses '@'
        raise UnsafeWebhookTarget("webhook URL must not contain credentials")
    if parsed.fragment:
        raise UnsafeWebhookTarget("webhook URL must not contain a #fragment")
    raw_host = parsed.raw_host.decode("ascii").lower()
    if not raw_host:
        raise UnsafeWebhookTarget("webhook URL has no host")
    port = parsed.port if parsed.port is not None else _DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise UnsafeWebhookTarget(f"webhook URL port must be between 1 and 65535 (got {port})")

    literal: IPAddress | None = None
    if ":" in raw_host:  # bracketed IPv6 literal (httpx strips the brackets)
        if "%" in raw_host:
            raise UnsafeWebhookTarget("webhook URL must not use an IPv6 zone identifier")
        try:
            literal = ipaddress.IPv6Address(raw_host)
        except ValueError as exc:
            raise UnsafeWebhookTarget(f"webhook URL has an invalid IPv6 host: {exc}") from exc
        host = str(literal)
    else:
        host = raw_host.removesuffix(".")
        if len(host) > 253:
            raise UnsafeWebhookTarget("webhook URL host name is longer than 253 characters")
        labels = host.split(".")
        if not all(_LABEL.match(label) for label in labels):
            raise UnsafeWebhookTarget(
                f"webhook URL host {host!r} is not a valid host name "
                "(letters, digits, '-', '_' in dot-separated labels of 1-63 characters)"
            )
        if _NUMERIC_LABEL.match(labels[-1]):
            try:
                literal = ipaddress.IPv4Address(host)
            except ValueError:
                raise UnsafeWebhookTarget(
                    f"webhook URL host {host!r} looks like a non-canonical IPv4 address; "
                    "write it as four decimal octets (a.b.c.d)"
                ) from None
    return _ParsedUrl(url=parsed, scheme=scheme, host=host, port=port, literal=literal)


def validate_url_syntax(url: str, *, allow: Sequence[str] | None = None) -> None:
    """Validate a webhook URL when it is registered; raise :class:`UnsafeWebhookTarget`.

    Checks syntax only (no DNS). When ``allow`` is given, also refuses IP-literal hosts and
    ``localhost`` names that :func:`resolve_target` would refuse, so obviously internal
    targets fail at registration instead of at first delivery.
    """
    parsed = _parse(url)
    if allow is None:
        return
    allow_list = _AllowList.parse(allow)
    if allow_list.admits_host(parsed.host):
        return
    if parsed.literal is not None:
        reason = unsafe_address_reason(parsed.literal)
        if reason is not None and not allow_list.admits_address(parsed.literal):
            raise UnsafeWebhookTarget(f"webhook URL host {parsed.host} is {reason}")
    elif _is_localhost_name(parsed.host) and not allow_list.admits_address(_LOOPBACK):
        raise UnsafeWebhookTarget(f"webhook URL host {parsed.host!r} is a loopback name")


# ---------------------------------------------------------------------------- addresses


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    for prefix in _NAT64_PREFIXES:
        if address in prefix:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _category(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a globally routable address"
    return None


def unsafe_address_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not receive webhooks, or ``None`` when it may.

    Refuses unspecified, loopback, link-local (incl. 169.254.169.254 metadata), multicast,
    private (RFC 1918, fc00::/7, ...), reserved and otherwise non-global addresses (e.g.
    100.64.0.0/10), and IPv6 addresses that embed such an IPv4 address (IPv4-mapped
    ``::ffff:a.b.c.d``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``).
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = _category(embedded)
            if inner is not None:
                return f"an IPv6 address embedding {embedded}, {inner}"
            if address.ipv4_mapped is not None or any(address in p for p in _NAT64_PREFIXES):
                return None  # the IPv4 address is what is actually reached
    return _category(address)


_LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


def _is_localhost_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")  # RFC 6761 section 6.3


@dataclass(frozen=True, slots=True)
class _AllowList:
    networks: tuple[IPNetwork, ...]
    hosts: frozenset[str]
    suffixes: tuple[str, ...]

    @classmethod
    def parse(cls, entries: Sequence[str]) -> _AllowList:
        if isinstance(entries, str):
            raise TypeError("allow must be a sequence of CIDRs or host names, not a string")
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        suffixes: list[str] = []
        for raw in entries:
            entry = raw.strip().lower().removesuffix(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = entry.removeprefix("*.")
            if not all(_LABEL.match(label) for label in name.split(".")):
                raise ValueError(
                    f"webhook allow-list entry {raw!r} is neither a CIDR nor a host name"
                )
            if entry.startswith("*."):
                suffixes.append("." + name)
            else:
                hosts.add(name)
        return cls(tuple(networks), frozenset(hosts), tuple(suffixes))

    def admits_host(self, host: str) -> bool:
        return host in self.hosts or host.endswith(self.suffixes)

    def admits_address(self, address: IPAddress) -> bool:
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.networks
        )


# ---------------------------------------------------------------------------- resolution


async def resolve_target(
    url: str, *, allow: Sequence[str], resolve_timeout: float = 10.0
) -> ResolvedTarget:
    """Validate ``url``, resolve its host exactly once and pin one checked address.

    Raises :class:`UnsafeWebhookTarget` when the URL is malformed or *any* resolved address is
    refused (see :func:`unsafe_address_reason`) and neither that address nor the host is on
    the ``allow`` list; :class:`UnresolvableWebhookTarget` when resolution fails or times out
    (a transient delivery failure). Resolving once and connecting to the returned ``ip`` with
    :func:`post_pinned` is what defeats DNS rebinding (see the module docstring).
    """
    parsed = _parse(url)
    allow_list = _AllowList.parse(allow)
    host_allowed = allow_list.admits_host(parsed.host)

    addresses: list[IPAddress]
    if parsed.literal is not None:
        addresses = [parsed.literal]
    else:
        try:
            async with asyncio.timeout(resolve_timeout):
                addresses = await _resolve(parsed.host, parsed.port)
        except TimeoutError:
            raise UnresolvableWebhookTarget(f"resolving {parsed.host!r} timed out") from None

    if not host_allowed:
        for address in addresses:
            reason = unsafe_address_reason(address)
            if reason is not None and not allow_list.admits_address(address):
                raise UnsafeWebhookTarget(
                    f"webhook host {parsed.host!r} resolves to {address}, which is {reason}"
                )
    return ResolvedTarget(
        url=url,
        scheme=parsed.scheme,
        host=parsed.host,
        port=parsed.port,
        ip=str(addresses[0]),
        addresses=tuple(str(a) for a in addresses),
    )


async def _resolve(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableWebhookTarget(f"cannot resolve {host!r}: {exc}") from exc
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableWebhookTarget(f"{host!r} has no IPv4 or IPv6 address")
    return addresses


# ---------------------------------------------------------------------------- sending


def delivery_client(**kwargs: Any) -> httpx.AsyncClient:
    """An :class:`httpx.AsyncClient` suited to :func:`post_pinned`.

    - ``trust_env=False``: an ``HTTPS_PROXY`` from the environment would make the proxy, not
      us, resolve and connect, defeating the pinning (and could reach internal hosts);
    - ``follow_redirects=False``;
    - no keep-alive: httpx pools connections by (scheme, IP, port), so a kept-alive TLS
      connection opened for ``a.example`` could be reused for ``b.example`` pinned to the same
      IP without verifying ``b.example``'s certificate. One connection per delivery keeps
      certificate verification per host.

    Keyword arguments override these defaults.
    """
    options: dict[str, Any] = {
        "trust_env": False,
        "follow_redirects": False,
        "limits": httpx.Limits(max_keepalive_connections=0),
    }
    options.update(kwargs)
    return httpx.AsyncClient(**options)


def _host_header(target: ResolvedTarget) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != _DEFAULT_PORTS[target.scheme]:
        host = f"{host}:{target.port}"
    return host


# What is kept of a receiver's reply (the delivery log stores the first kilobyte of it).
MAX_RESPONSE_BYTES = 64 * 1024


async def post_pinned(
    client: httpx.AsyncClient,
    target: ResolvedTarget,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> httpx.Response:
    """POST ``body`` to ``target`` over a connection to the pinned ``target.ip``.

    The URL's host is replaced by the IP (so the client does not resolve the name again), the
    ``Host`` header carries the original host, and for https the TLS SNI and certificate
    verification use the original host name (``sni_hostname`` extension). Redirects are never
    followed: the caller sees the 3xx response. Network errors propagate as
    :class:`httpx.HTTPError` subclasses.

    The response body is read as a stream and cut at ``MAX_RESPONSE_BYTES``: a hostile receiver
    cannot make the worker hold an unbounded reply in memory.
    """
    pinned_url = httpx.URL(target.url).copy_with(host=target.ip)
    send_headers = {k: v for k, v in headers.items() if k.lower() != "host"}
    send_headers["Host"] = _host_header(target)
    # Plain bytes only: a compressed reply could expand far past the cap below in one chunk.
    send_headers.setdefault("Accept-Encoding", "identity")
    extensions: dict[str, Any] = {}
    if target.scheme == "https" and ":" not in target.host:
        try:
            ipaddress.IPv4Address(target.host)
        except ValueError:
            extensions["sni_hostname"] = target.host
    request = client.build_request(
        "POST",
        pinned_url,
        content=body,
        headers=send_headers,
        timeout=timeout,
        extensions=extensions,
    )
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        kept = bytearray()
        async for chunk in response.aiter_bytes():
            kept += chunk[: MAX_RESPONSE_BYTES - len(kept)]
            if len(kept) >= MAX_RESPONSE_BYTES:
                break
    finally:
        await response.aclose()
    headers_out = [
        (k, v)
        for k, v in response.headers.multi_items()
        if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(
        response.status_code, headers=headers_out, content=bytes(kept), request=request
    )
