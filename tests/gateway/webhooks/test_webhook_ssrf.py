"""SSRF guard: URL syntax, resolve-once address checks and the allow-list."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Sequence
from typing import Any

import pytest

from gateway.webhooks.ssrf import (
    UnresolvableWebhookTarget,
    UnsafeWebhookTarget,
    resolve_target,
    validate_url_syntax,
)


class FakeDNS:
    """Replaces the running loop's getaddrinfo; answers from a table, records every call.

    A table value is either a list of addresses (same answer every time) or a list of such
    lists (successive answers, as a rebinding name server would give). Hosts not in the table
    go to the real resolver, so IP-literal connects by httpx still work.

    The loop is the test session's, shared with the stack's delivery worker, which may be
    retrying an earlier test's subscription while this one runs: a test that calls the resolver
    itself asserts on ``calls_from_this_task()``, not on every call the loop saw.
    """

    def __init__(self, real: Any) -> None:
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.calls: list[str] = []
        self._callers: list[asyncio.Task[Any] | None] = []
        self.delay = 0.0

    def set(self, host: str, *answers: Sequence[str]) -> None:
        self.answers[host] = [list(a) for a in answers]

    def calls_for(self, host: str) -> int:
        return self.calls.count(host)

    def calls_from_this_task(self) -> list[str]:
        here = asyncio.current_task()
        return [name for name, task in zip(self.calls, self._callers, strict=True) if task is here]

    async def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.calls.append(name)
        self._callers.append(asyncio.current_task())
        if name not in self.answers:
            return await self.real(host, port, *args, **kwargs)
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self.answers[name]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        infos: list[tuple[Any, ...]] = []
        for address in addresses:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos


@pytest.fixture
async def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    loop = asyncio.get_running_loop()
    dns = FakeDNS(loop.getaddrinfo)
    monkeypatch.setattr(loop, "getaddrinfo", dns.getaddrinfo)
    return dns


# ------------------------------------------------------------------ refused addresses

REFUSED_LITERALS = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.8.9.10:8080/", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://10.255.1.2/hook", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]/", "loopback"),
    ("http://[fc00::1]/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[::ffff:10.0.0.1]/", "embedding 10.0.0.1, a private address"),
    ("http://[::ffff:127.0.0.1]/", "embedding 127.0.0.1, a loopback address"),
    ("http://[::ffff:169.254.169.254]/", "embedding 169.254.169.254, a link-local"),
    ("http://[2002:a00:1::1]/", "embedding 10.0.0.1"),  # 6to4
    ("http://[64:ff9b::a9fe:a9fe]/", "embedding 169.254.169.254"),  # NAT64
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://100.64.0.1/", "not a globally routable"),  # carrier-grade NAT
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_LITERALS)
async def test_internal_ip_literals_are_refused(fake_dns: FakeDNS, url: str, reason: str) -> None:
    with pytest.raises(UnsafeWebhookTarget, match=reason) as excinfo:
        await resolve_target(url, allow=[])
    assert reason in excinfo.value.reason
    assert fake_dns.calls_from_this_task() == []  # literals are not sent to DNS
    # API-time validation catches the same literals when given the allow-list...
    with pytest.raises(UnsafeWebhookTarget, match=reason):
        validate_url_syntax(url, allow=[])
    # ...and syntax-only validation lets them through to the delivery-time check.
    validate_url_syntax(url)


async def test_hostname_localhost_is_refused() -> None:
    with pytest.raises(UnsafeWebhookTarget, match="loopback"):
        await resolve_target("http://localhost:8080/hook", allow=[])
    with pytest.raises(UnsafeWebhookTarget, match="loopback name"):
        validate_url_syntax("http://localhost:8080/hook", allow=[])
    with pytest.raises(UnsafeWebhookTarget, match="loopback name"):
        validate_url_syntax("http://api.localhost/hook", allow=[])


@pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "::1", "fd00::5"])
async def test_hostname_resolving_to_internal_address_is_refused(
    fake_dns: FakeDNS, address: str
) -> None:
    fake_dns.set("grc.example", [address])
    with pytest.raises(UnsafeWebhookTarget, match=re.escape(f"resolves to {address}")):
        await resolve_target("https://grc.example/hook", allow=[])


async def test_any_internal_address_among_several_refuses(fake_dns: FakeDNS) -> None:
    fake_dns.set(
        "grc.example", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "10.0.0.1"]
    )
    with pytest.raises(UnsafeWebhookTarget, match=re.escape("resolves to 10.0.0.1")):
        await resolve_target("https://grc.example/hook", allow=[])


# ------------------------------------------------------------------ admitted targets


async def test_public_hostname_is_resolved_once_and_pinned(fake_dns: FakeDNS) -> None:
    fake_dns.set("grc.example", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    target = await resolve_target("https://GRC.example./hooks/aims?x=1", allow=[])
    assert target.url == "https://GRC.example./hooks/aims?x=1"
    assert (target.scheme, target.host, target.port) == ("https", "grc.example", 443)
    assert target.ip == "93.184.215.14"
    assert target.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert fake_dns.calls_for("grc.example") == 1


async def test_dns_rebinding_cannot_swap_the_pinned_address(fake_dns: FakeDNS) -> None:
    # First answer public, every later answer internal: a rebinding name server.
    fake_dns.set("rebind.example", ["93.184.215.14"], ["127.0.0.1"])
    target = await resolve_target("http://rebind.example:8080/", allow=[])
    assert target.ip == "93.184.215.14"
    assert target.port == 8080
    assert fake_dns.calls_for("rebind.example") == 1
    # A second, independent resolution would now be refused: the pin is what protects us.
    with pytest.raises(UnsafeWebhookTarget, match=re.escape("127.0.0.1")):
        await resolve_target("http://rebind.example:8080/", allow=[])


@pytest.mark.parametrize(
    ("url", "ip"),
    [
        ("http://8.8.8.8/hook", "8.8.8.8"),
        ("https://[2001:4860:4860::8888]:8443/", "2001:4860:4860::8888"),
        ("http://[::ffff:8.8.8.8]/", "::ffff:808:808"),
    ],
)
async def test_public_ip_literals_are_admitted_without_dns(
    fake_dns: FakeDNS, url: str, ip: str
) -> None:
    target = await resolve_target(url, allow=[])
    assert target.ip == ip
    assert fake_dns.calls_from_this_task() == []


async def test_allow_list_cidr_admits_loopback() -> None:
    target = await resolve_target("http://127.0.0.1:8080/hook", allow=["127.0.0.0/8"])
    assert (target.host, target.port, target.ip) == ("127.0.0.1", 8080, "127.0.0.1")
    # the allow-listed range does not open other ranges
    with pytest.raises(UnsafeWebhookTarget, match="private"):
        await resolve_target("http://10.0.0.1/", allow=["127.0.0.0/8"])
    with pytest.raises(UnsafeWebhookTarget, match="loopback"):
        await resolve_target("http://[::1]/", allow=["127.0.0.0/8"])
    validate_url_syntax("http://127.0.0.1:8080/hook", allow=["127.0.0.0/8"])
    validate_url_syntax("http://localhost:8080/hook", allow=["127.0.0.0/8"])


async def test_allow_list_cidr_admits_localhost_name_resolving_to_it(fake_dns: FakeDNS) -> None:
    fake_dns.set("localhost", ["127.0.0.1"])
    target = await resolve_target("http://localhost:9000/", allow=["127.0.0.0/8"])
    assert target.ip == "127.0.0.1"
    assert target.host == "localhost"


async def test_allow_list_hostnames_and_wildcards(fake_dns: FakeDNS) -> None:
    fake_dns.set("grc.corp.test", ["10.1.2.3"])
    fake_dns.set("corp.test", ["10.1.2.4"])
    fake_dns.set("archer.internal", ["192.168.7.7"])
    assert (await resolve_target("https://archer.internal/", allow=["archer.internal"])).ip == (
        "192.168.7.7"
    )
    assert (await resolve_target("https://grc.corp.test/", allow=["*.corp.test"])).ip == "10.1.2.3"
    with pytest.raises(UnsafeWebhookTarget):  # the wildcard covers subdomains only
        await resolve_target("https://corp.test/", allow=["*.corp.test"])
    with pytest.raises(UnsafeWebhookTarget):
        await resolve_target("https://grc.corp.test/", allow=["archer.internal"])


@pytest.mark.parametrize("entry", ["not a host", "10.0.0.0/33", "*bad*.example"])
async def test_invalid_allow_list_entries_are_rejected(entry: str) -> None:
    with pytest.raises(ValueError, match="neither a CIDR nor a host name"):
        await resolve_target("http://8.8.8.8/", allow=[entry])


async def test_allow_list_must_not_be_a_bare_string() -> None:
    with pytest.raises(TypeError):
        await resolve_target("http://8.8.8.8/", allow="127.0.0.0/8")


# ------------------------------------------------------------------ resolution failures


async def test_unresolvable_host_is_a_transient_error(fake_dns: FakeDNS) -> None:
    fake_dns.set("gone.example", [])
    with pytest.raises(UnresolvableWebhookTarget, match=re.escape("cannot resolve 'gone.example'")):
        await resolve_target("https://gone.example/", allow=[])


async def test_slow_resolution_times_out(fake_dns: FakeDNS) -> None:
    fake_dns.set("slow.example", ["93.184.215.14"])
    fake_dns.delay = 5.0
    with pytest.raises(UnresolvableWebhookTarget, match="timed out"):
        await resolve_target("https://slow.example/", allow=[], resolve_timeout=0.05)


# ------------------------------------------------------------------ URL syntax

INVALID_URLS = [
    ("ftp://example.com/hook", "scheme must be http or https (got 'ftp')"),
    ("file:///etc/passwd", "scheme must be http or https (got 'file')"),
    ("gopher://example.com/", "scheme must be http or https"),
    ("javascript:alert(1)", "scheme must be http or https"),
    ("example.com/hook", "scheme must be http or https (got none)"),
    ("https:example.com/hook", "must be absolute"),
    ("", "non-empty"),
    ("https://user:pass@example.com/hook", "credentials"),
    ("https://user@example.com/hook", "credentials"),
    ("https://@example.com/hook", "credentials"),
    ("https://example.com@10.0.0.1/", "credentials"),
    ("http:///hook", "no host"),
    ("http://:8080/hook", "no host"),
    ("http://example.com:0/", "port must be between 1 and 65535"),
    ("http://example.com:70000/", "port must be between 1 and 65535"),
    ("http://example.com:abc/", "invalid"),
    ("http://exa mple.com/", "whitespace"),
    ("http://example.com/\nX-Injected: 1", "whitespace or control"),
    ("http://example.com\\@10.0.0.1/", "backslash"),
    ("http://example.com/hook#frag", "fragment"),
    ("http://127.1/", "non-canonical IPv4"),
    ("http://2130706433/", "non-canonical IPv4"),
    ("http://0x7f.0.0.1/", "non-canonical IPv4"),
    ("http://010.0.0.1/", "Invalid IPv4 address"),  # leading zero: octal to some parsers
    ("http://[fe80::1%25eth0]/", "zone identifier"),
    ("http://-bad-.example/", "not a valid host name"),
    ("http://a..b.example/", "not a valid host name"),
    ("http://" + "a" * 64 + ".example/", "not a valid host name"),
    ("https://example.com/" + "x" * 2100, "longer than 2048"),
]


@pytest.mark.parametrize(("url", "message"), INVALID_URLS)
async def test_invalid_urls_are_refused_with_clear_messages(
    fake_dns: FakeDNS, url: str, message: str
) -> None:
    with pytest.raises(UnsafeWebhookTarget) as excinfo:
        validate_url_syntax(url)
    assert message in str(excinfo.value)
    with pytest.raises(UnsafeWebhookTarget):
        await resolve_target(url, allow=["0.0.0.0/0", "::/0"])  # syntax wins over the allow-list
    assert fake_dns.calls_from_this_task() == []


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hooks",
        "http://example.com:8080/a/b?c=d&e=f",
        "HTTPS://Example.COM./x",
        "https://bücher.de/hooks",
        "https://grc_tool.example.com/hook",
        "https://[2001:4860:4860::8888]/",
        "https://8.8.8.8/",
    ],
)
def test_valid_urls_pass_syntax_validation(url: str) -> None:
    validate_url_syntax(url)
    validate_url_syntax(url, allow=[])


async def test_idn_host_is_resolved_in_ascii_form(fake_dns: FakeDNS) -> None:
    fake_dns.set("xn--bcher-kva.de", ["93.184.215.14"])
    target = await resolve_target("https://bücher.de/hooks", allow=[])
    assert target.host == "xn--bcher-kva.de"
    assert fake_dns.calls_from_this_task() == ["xn--bcher-kva.de"]
