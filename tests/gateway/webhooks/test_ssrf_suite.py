"""Webhook SSRF suite: every way to point a webhook at ourselves is refused.

Loopback, private, link-local and cloud-metadata addresses, in every spelling (IPv6 forms,
IPv4-mapped and NAT64/6to4-embedded, decimal/octal/hex IPv4), names that resolve to them, DNS
rebinding between the check and the connect, and redirects. Each vector is tried where a
tenant can reach the guard: registering a subscription (REST, the production default of no
allow-list) and delivering to it (the worker resolves, checks, pins and sends).

DNS is the outside world here: a fake name server answers on the running loop
(``FakeDNS``); connections are real. Run with ``-rP`` to see the figures, e.g.
``SSRF suite: 60 vectors, 60 refused at registration, 60 refused at delivery, 0 admitted``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from gateway.webhooks import service
from gateway.webhooks.errors import UnsafeTarget
from gateway.webhooks.ssrf import (
    UnresolvableWebhookTarget,
    UnsafeWebhookTarget,
    resolve_target,
    unsafe_address_reason,
)
from shared.testing import eventually
from tests.gateway.webhooks.test_delivery_webhooks import (
    Receiver,
    attempts,
    message_in_state,
    register_system,
    subscribe,
)
from tests.gateway.webhooks.test_webhook_ssrf import FakeDNS

pytestmark = pytest.mark.engines

#: Names the fake name server answers, as an attacker's would.
ATTACKER_NAMES = {
    "metadata.attacker.test": ["169.254.169.254"],
    "aws6.attacker.test": ["fd00:ec2::254"],
    "loop.attacker.test": ["127.0.0.1"],
    "loop6.attacker.test": ["::1"],
    "mapped.attacker.test": ["::ffff:127.0.0.1"],
    "private.attacker.test": ["10.1.2.3"],
    # A public address first and an internal one after: a client falling back would reach it.
    "mixed.attacker.test": ["93.184.216.34", "192.168.0.10"],
}

#: (url, family) — the family names what the vector tries to reach.
VECTORS: list[tuple[str, str]] = [
    # loopback, in every spelling
    ("http://127.0.0.1/", "loopback"),
    ("http://127.8.9.10:8080/", "loopback"),
    ("http://localhost/", "loopback"),
    ("http://LOCALHOST./", "loopback"),
    ("http://127.1/", "loopback, short form"),
    ("http://127.0.1/", "loopback, short form"),
    ("http://2130706433/", "loopback, decimal"),
    ("http://0x7f000001/", "loopback, hex"),
    ("http://0x7f.1/", "loopback, hex short"),
    ("http://0x7f.0x0.0x0.0x1/", "loopback, hex octets"),
    ("http://017700000001/", "loopback, octal"),
    ("http://0177.0.0.1/", "loopback, octal octet"),
    ("http://127.000.000.001/", "loopback, zero-padded"),
    ("http://127\u30020\u30020\u30021/", "loopback, ideographic dots"),
    ("http://[::1]/", "loopback IPv6"),
    ("http://[0:0:0:0:0:0:0:1]/", "loopback IPv6, long form"),
    ("http://[0000:0000:0000:0000:0000:0000:0000:0001]/", "loopback IPv6, padded"),
    ("http://[::ffff:127.0.0.1]/", "loopback IPv4-mapped"),
    ("http://[::ffff:7f00:1]/", "loopback IPv4-mapped, hex"),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]/", "loopback IPv4-mapped, long form"),
    ("http://[::127.0.0.1]/", "loopback IPv4-compatible"),
    ("http://[::ffff:0:127.0.0.1]/", "loopback IPv4-translated"),
    ("http://[2002:7f00:1::]/", "loopback via 6to4"),
    ("http://[64:ff9b::7f00:1]/", "loopback via NAT64"),
    ("http://[::1%25lo]/", "loopback with a zone id"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified, short form"),
    ("http://[::]/", "unspecified IPv6"),
    # private networks
    ("http://10.0.0.1/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.0.1/", "private"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://[fc00::1]/", "private IPv6"),
    ("http://[::ffff:10.0.0.1]/", "private IPv4-mapped"),
    ("http://[2002:a00:1::1]/", "private via 6to4"),
    # link-local and cloud metadata
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://169.254.169.254/", "metadata over https"),
    ("http://169.254.169.254:80/", "metadata with port"),
    ("http://2852039166/", "metadata, decimal"),
    ("http://0xa9fea9fe/", "metadata, hex"),
    ("http://0251.0376.0251.0376/", "metadata, octal"),
    ("http://[fd00:ec2::254]/", "metadata IPv6 (AWS)"),
    ("http://[::ffff:169.254.169.254]/", "metadata IPv4-mapped"),
    ("http://[::ffff:a9fe:a9fe]/", "metadata IPv4-mapped, hex"),
    ("http://[64:ff9b::a9fe:a9fe]/", "metadata via NAT64"),
    ("http://[2002:a9fe:a9fe::]/", "metadata via 6to4"),
    ("http://[fe80::1]/", "link-local IPv6"),
    # multicast, reserved, documentation
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast IPv6"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[2001:db8::1]/", "documentation IPv6"),
    # names resolving to internal addresses
    ("http://metadata.attacker.test/", "name -> metadata"),
    ("http://aws6.attacker.test/", "name -> metadata IPv6"),
    ("http://loop.attacker.test:5432/", "name -> loopback (PostgreSQL port)"),
    ("http://loop6.attacker.test/", "name -> loopback IPv6"),
    ("http://mapped.attacker.test/", "name -> IPv4-mapped loopback"),
    ("http://private.attacker.test/", "name -> private"),
    ("http://mixed.attacker.test/", "name -> public and private"),
    # parser confusion
    ("http://127.0.0.1:80@attacker.test/", "credentials confusion"),
    ("http://attacker.test#@127.0.0.1/", "fragment confusion"),
    ("http://attacker.test\\@127.0.0.1/", "backslash confusion"),
    ("http://1.1.1.1 &@127.0.0.1/", "space confusion"),
]


@pytest.fixture
async def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    loop = asyncio.get_running_loop()
    dns = FakeDNS(loop.getaddrinfo)
    for name, addresses in ATTACKER_NAMES.items():
        dns.set(name, addresses)
    monkeypatch.setattr(loop, "getaddrinfo", dns.getaddrinfo)
    return dns


async def _refused_at_delivery(url: str) -> str | None:
    """The guard's reason when the worker would refuse ``url`` (production: no allow-list)."""
    try:
        await resolve_target(url, allow=[], resolve_timeout=5)
    except UnsafeWebhookTarget as exc:
        return exc.reason
    except UnresolvableWebhookTarget:
        return None
    return None


async def _refused_at_registration(url: str) -> str | None:
    try:
        await service.check_target(url, allowed_targets=[])
    except (UnsafeTarget, UnsafeWebhookTarget) as exc:
        return str(exc)
    return None


@pytest.mark.usefixtures("fake_dns")
async def test_every_vector_is_refused_at_registration_and_at_delivery() -> None:
    admitted: list[str] = []
    registration = delivery = 0
    for url, family in VECTORS:
        at_registration = await _refused_at_registration(url)
        at_delivery = await _refused_at_delivery(url)
        registration += at_registration is not None
        delivery += at_delivery is not None
        if at_registration is None or at_delivery is None:
            admitted.append(f"{family}: {url}")
    print(
        f"SSRF suite: {len(VECTORS)} vectors, {registration} refused at registration, "
        f"{delivery} refused at delivery, {len(admitted)} admitted"
    )
    assert admitted == []


@pytest.mark.usefixtures("fake_dns")
async def test_the_api_refuses_every_vector(stack: Any, org: uuid.UUID) -> None:
    """Through REST. The test gateway admits 127.0.0.0/8 (where its receivers listen), so the
    vectors that land there are left out here; the test above refuses them without it."""
    refused = skipped = 0
    admitted: list[str] = []
    for url, family in VECTORS:
        try:
            await resolve_target(url, allow=["127.0.0.0/8"], resolve_timeout=5)
            skipped += 1
            continue
        except (UnsafeWebhookTarget, UnresolvableWebhookTarget):
            pass
        response = await stack.gateway.post(
            "/v1/webhook-subscriptions",
            json={"url": url, "event_types": ["system.registered"]},
            headers=stack.headers(org, "admin"),
        )
        problem = response.json()
        if response.status_code == 422 and problem.get("code") in (
            "unsafe-webhook-target",
            "validation-failed",
        ):
            refused += 1
        else:
            admitted.append(f"{family}: {url} -> {response.status_code}")
    listed = await stack.gateway.get(
        "/v1/webhook-subscriptions", headers=stack.headers(org, "viewer")
    )
    print(
        f"SSRF suite (REST): {refused} refused with 422, {len(admitted)} admitted, "
        f"{skipped} left to the guard test (inside the test allow-list)"
    )
    assert admitted == []
    assert listed.json()["items"] == []


def test_metadata_addresses_are_classified_unsafe() -> None:
    import ipaddress

    for address in ("169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "fe80::a9fe"):
        assert unsafe_address_reason(ipaddress.ip_address(address)) is not None


# --- through the delivery worker ------------------------------------------------------------------


async def unsubscribe_all(stack: Any, org: uuid.UUID) -> None:
    """Delete the organisation's subscriptions, so the session's delivery worker stops retrying
    a name only this test's fake name server knows after the test has gone."""
    listed = await stack.gateway.get(
        "/v1/webhook-subscriptions", headers=stack.headers(org, "viewer")
    )
    for sub in listed.json()["items"]:
        deleted = await stack.gateway.delete(
            f"/v1/webhook-subscriptions/{sub['id']}", headers=stack.headers(org, "admin")
        )
        assert deleted.status_code == 204, deleted.text


async def test_rebinding_after_registration_is_refused_at_delivery(
    stack: Any, org: uuid.UUID, fake_dns: FakeDNS
) -> None:
    """The name resolved to the (allowed) receiver at registration, to metadata afterwards."""
    receiver = Receiver()
    await receiver.start()
    name = f"rebind-{uuid.uuid4().hex[:8]}.attacker.test"
    fake_dns.set(name, ["127.0.0.1"], ["169.254.169.254"])
    try:
        sub = await subscribe(stack, org, f"http://{name}:{receiver.port}/hook")
        await register_system(stack, org)

        async def refused() -> list[dict[str, Any]] | None:
            messages = await stack.gateway.get(
                f"/v1/webhook-subscriptions/{sub['id']}/messages",
                headers=stack.headers(org, "viewer"),
            )
            items = messages.json()["items"]
            if not items:
                return None
            log = await attempts(stack, org, items[0]["id"])
            return log if log and log[0]["completed_at"] else None

        [attempt] = await eventually(refused, timeout=20)
        assert attempt["status_code"] is None
        assert "refused by the SSRF guard" in attempt["error"]
        assert "169.254.169.254" in attempt["error"]
        assert receiver.received == []
    finally:
        await unsubscribe_all(stack, org)
        await receiver.stop()


async def test_rebinding_between_check_and_connect_cannot_move_the_connection(
    stack: Any, org: uuid.UUID, fake_dns: FakeDNS
) -> None:
    """Checked at 127.0.0.1 (allowed); any later lookup would say 169.254.169.254. The POST
    reaches the checked address: the connection is pinned, the name is not looked up again."""
    receiver = Receiver()
    await receiver.start()
    name = f"pin-{uuid.uuid4().hex[:8]}.attacker.test"
    # registration, the delivery's check, then what a second lookup at connect time would get
    fake_dns.set(name, ["127.0.0.1"], ["127.0.0.1"], ["169.254.169.254"])
    try:
        sub = await subscribe(stack, org, f"http://{name}:{receiver.port}/hook")
        await register_system(stack, org)
        [delivery] = await receiver.wait_for(1)
        assert delivery.headers["host"] == f"{name}:{receiver.port}"
        await message_in_state(stack, org, sub["id"], "delivered")
        assert fake_dns.calls_for(name) == 2  # registration and the delivery's check only
    finally:
        await unsubscribe_all(stack, org)
        await receiver.stop()


async def test_redirects_are_not_followed(stack: Any, org: uuid.UUID) -> None:
    target = Receiver()
    await target.start()
    redirecting = Receiver(script=[(302, {"Location": f"{target.url}?stolen=1"})])
    await redirecting.start()
    try:
        sub = await subscribe(stack, org, redirecting.url)
        await register_system(stack, org)
        await redirecting.wait_for(1)
        message = await message_in_state(stack, org, sub["id"], "pending")

        async def logged() -> list[dict[str, Any]] | None:
            log = await attempts(stack, org, message["id"])
            return log if log and log[0]["completed_at"] else None

        [attempt] = await eventually(logged)
        assert attempt["status_code"] == 302  # a failed attempt, retried later; not followed
        assert attempt["next_attempt_at"] is not None
        assert target.received == []
    finally:
        await redirecting.stop()
        await target.stop()
