"""OpenTelemetry traces: one GraphQL mutation is one trace across the gateway, the inventory
(HTTP and SQL), the outbox relay, the risk service's consumer and the webhook delivered to a
receiver on 127.0.0.1; off, nothing is traced.

The traced apps run against databases, a stream and consumers of their own (not the session
stack's): another relay on the same outbox could publish the event without a span.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from standardwebhooks.webhooks import Webhook

from shared import telemetry
from shared.app import create_service_app
from shared.db import uuid7
from shared.http import PrefilteredRouter
from shared.observability import Metrics
from shared.runtime.migrate import upgrade
from shared.runtime.provision import drop, provision
from shared.settings import ServiceSettings
from shared.testing import RoutingTransport, TestEngines, eventually
from tests.gateway.webhooks.test_delivery_webhooks import Receiver

pytestmark = pytest.mark.engines

SERVICES = ("inventory", "risk", "gateway")

REGISTER = """
mutation Register($input: RegisterAISystemInput!) {
  registerAISystem(input: $input) {
    aiSystem { id name version }
    errors { __typename message }
  }
}
"""


@dataclasses.dataclass
class Traced:
    engines: TestEngines
    exporter: InMemorySpanExporter
    gateway: httpx.AsyncClient


@pytest.fixture(scope="module")
async def traced(engines: TestEngines) -> AsyncIterator[Traced]:
    import asyncio

    from gateway.config import GatewaySettings
    from gateway.main import create_app as create_gateway
    from services.inventory.config import InventorySettings
    from services.inventory.main import create_app as create_inventory
    from services.risk.config import RiskSettings
    from services.risk.main import create_app as create_risk

    token = secrets.token_hex(4)
    prefix = f"aimsotel_{token}"
    databases = await provision(engines.admin_url, prefix, SERVICES, engines.secret_key)
    for service in SERVICES:
        await asyncio.to_thread(upgrade, service, databases[service].owner_url)
    own = dataclasses.replace(
        engines,
        prefix=prefix,
        databases=databases,
        stream=f"AIMSOTEL_{token}",
        subject_prefix=f"o{token}.",
    )
    exporter = InMemorySpanExporter()
    telemetry.use_exporter(exporter)
    try:
        apps: dict[str, FastAPI] = {
            "inventory": create_inventory(InventorySettings(**own.settings_env("inventory"))),
            "risk": create_risk(RiskSettings(**own.settings_env("risk"))),
        }
        upstreams = RoutingTransport(
            {name: httpx.ASGITransport(app=app) for name, app in apps.items()}
        )
        apps["gateway"] = create_gateway(
            GatewaySettings(
                **own.settings_env("gateway"),
                inventory_url="http://inventory",
                risk_url="http://risk",
                evidence_url="http://evidence",
                webhook_allowed_targets=["127.0.0.0/8"],
            ),
            upstream_transport=upstreams,
        )
    finally:
        telemetry.use_exporter(None)  # apps built later (other tests) are not traced
    try:
        async with AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            gateway = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=apps["gateway"]), base_url="http://gateway"
            )
            stack.push_async_callback(gateway.aclose)
            yield Traced(own, exporter, gateway)
    finally:
        await engines.delete_stream(own.stream)
        await drop(engines.admin_url, prefix, SERVICES)


def service_of(span: ReadableSpan) -> str:
    return str(span.resource.attributes.get("service.name"))


def is_sql(span: ReadableSpan) -> bool:
    attributes = span.attributes or {}
    return span.kind is SpanKind.CLIENT and (
        "db.system" in attributes or "db.system.name" in attributes
    )


def in_trace(spans: Sequence[ReadableSpan], trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans if s.context is not None and s.context.trace_id == trace_id]


async def test_one_mutation_is_one_trace_from_the_gateway_to_the_risk_consumer(
    traced: Traced,
) -> None:
    org = uuid7()
    response = await traced.gateway.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"input": {"name": "Traced system"}}},
        headers=traced.engines.headers(org, "admin"),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    global_id = body["data"]["registerAISystem"]["aiSystem"]["id"]  # Relay: "AISystem:<uuid>"
    system_id = base64.b64decode(global_id).decode().split(":", 1)[1]
    # The trace context the gateway logs with and answers with is its server span's.
    _, trace_hex, span_hex, _ = response.headers["traceparent"].split("-")
    trace_id = int(trace_hex, 16)

    async def consumed() -> list[ReadableSpan] | None:
        spans = in_trace(traced.exporter.get_finished_spans(), trace_id)
        done = [
            s
            for s in spans
            if s.kind is SpanKind.CONSUMER
            and service_of(s) == "aims-risk"
            and (s.attributes or {}).get("cloudevents.event_subject") == system_id
        ]
        return spans if done else None

    spans = await eventually(consumed, timeout=30)

    gateway_server = [
        s for s in spans if service_of(s) == "aims-gateway" and s.kind is SpanKind.SERVER
    ]
    assert len(gateway_server) == 1, [s.name for s in spans]
    assert gateway_server[0].context is not None
    assert f"{gateway_server[0].context.span_id:016x}" == span_hex
    upstream_calls = {
        s.context.span_id: s
        for s in spans
        if service_of(s) == "aims-gateway" and s.kind is SpanKind.CLIENT and s.context
    }
    assert upstream_calls, "the gateway's httpx call to the inventory is traced"

    # The inventory's request span (SERVER across processes; INTERNAL here, where the
    # gateway's client span is already active in the in-process ASGI call).
    inventory_server = [
        s
        for s in spans
        if service_of(s) == "aims-inventory"
        and s.kind in (SpanKind.SERVER, SpanKind.INTERNAL)
        and s.name == "POST /v1/ai-systems"
    ]
    assert inventory_server, [(service_of(s), s.name) for s in spans]
    # Parented by the gateway's client span: the httpx instrumentation forwarded its context.
    assert any(
        s.parent is not None and s.parent.span_id in upstream_calls for s in inventory_server
    )
    inventory_sql = [s for s in spans if service_of(s) == "aims-inventory" and is_sql(s)]
    assert any("INSERT" in s.name or "ai_system" in str(s.attributes) for s in inventory_sql), [
        s.name for s in inventory_sql
    ]

    registered = f"{traced.engines.subject_prefix}aims.inventory.system.registered"
    publish = [
        s for s in spans if s.kind is SpanKind.PRODUCER and s.name == f"{registered} publish"
    ]
    assert len(publish) == 1
    assert service_of(publish[0]) == "aims-inventory"
    server_ids = {s.context.span_id for s in inventory_server if s.context}
    assert publish[0].parent is not None and publish[0].parent.span_id in server_ids

    consumer = [
        s
        for s in spans
        if s.kind is SpanKind.CONSUMER
        and service_of(s) == "aims-risk"
        and (s.attributes or {}).get("messaging.consumer.group.name") == "systems"
    ]
    assert len(consumer) == 1, [s.name for s in spans if s.kind is SpanKind.CONSUMER]
    # Child of the request that committed the event (the traceparent in the CloudEvent) ...
    assert consumer[0].parent is not None and consumer[0].parent.span_id in server_ids
    # ... and its SQL (inbox, projection) is its own child.
    assert consumer[0].context is not None
    consumer_sql = [
        s
        for s in spans
        if is_sql(s)
        and service_of(s) == "aims-risk"
        and s.parent is not None
        and s.parent.span_id == consumer[0].context.span_id
    ]
    assert consumer_sql, "the consumer's statements are children of its span"


async def test_the_webhook_delivery_of_a_mutation_is_in_its_trace(traced: Traced) -> None:
    """GraphQL mutation → inventory commit → event → the gateway's webhook consumer → the
    delivery worker's POST: one trace, and the receiver gets its traceparent (beside a
    signature that still verifies)."""
    org = uuid7()
    receiver = Receiver()
    await receiver.start()
    try:
        created = await traced.gateway.post(
            "/v1/webhook-subscriptions",
            json={"url": receiver.url, "event_types": ["system.registered"]},
            headers=traced.engines.headers(org, "admin"),
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        response = await traced.gateway.post(
            "/graphql",
            json={"query": REGISTER, "variables": {"input": {"name": "Webhooked system"}}},
            headers=traced.engines.headers(org, "admin"),
        )
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.json()
        trace_hex = response.headers["traceparent"].split("-")[1]
        trace_id = int(trace_hex, 16)

        [delivery] = await receiver.wait_for(1, timeout=30)
    finally:
        await receiver.stop()
    event = dict(Webhook(secret).verify(delivery.body, delivery.headers))
    assert event["type"] == "aims.inventory.system.registered"
    _, sent_trace, sent_span, flags = delivery.headers["traceparent"].split("-")
    assert sent_trace == trace_hex
    assert int(flags, 16) & 1  # sampled

    async def delivered() -> list[ReadableSpan] | None:
        spans = in_trace(traced.exporter.get_finished_spans(), trace_id)
        found = [s for s in spans if s.context and f"{s.context.span_id:016x}" == sent_span]
        return spans if found else None

    spans = await eventually(delivered, timeout=30)
    [post] = [s for s in spans if s.context and f"{s.context.span_id:016x}" == sent_span]
    assert service_of(post) == "aims-gateway"
    assert post.kind is SpanKind.CLIENT
    attributes = post.attributes or {}
    assert attributes["http.request.method"] == "POST"
    assert attributes["http.response.status_code"] == 200
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["webhook.message_id"] == delivery.headers["webhook-id"]
    assert "url.full" not in attributes  # a URL may carry the receiver's token
    # Its parent: the gateway's consumer span of the event that queued it ...
    [consumer] = [
        s
        for s in spans
        if s.kind is SpanKind.CONSUMER
        and service_of(s) == "aims-gateway"
        and (s.attributes or {}).get("messaging.consumer.group.name") == "webhooks"
    ]
    assert consumer.context is not None and post.parent is not None
    assert post.parent.span_id == consumer.context.span_id
    # ... whose own parent is the inventory request that committed the event.
    inventory = {
        s.context.span_id
        for s in spans
        if service_of(s) == "aims-inventory" and s.name == "POST /v1/ai-systems" and s.context
    }
    assert consumer.parent is not None and consumer.parent.span_id in inventory
    # The worker's statements (the attempt read and recorded) are the delivery span's children.
    assert post.context is not None
    assert any(
        is_sql(s) and s.parent is not None and s.parent.span_id == post.context.span_id
        for s in spans
    )


async def test_pollers_make_no_orphan_sql_traces(traced: Traced) -> None:
    """The relays, schedulers and monitors poll all the time: none of it is a trace."""
    spans = traced.exporter.get_finished_spans()
    assert spans, "the traced apps ran"
    orphans = [s for s in spans if is_sql(s) and s.parent is None]
    assert orphans == []


async def test_untraced_app_makes_no_spans_and_keeps_its_own_trace_context(
    traced: Traced,
) -> None:
    """Off (no OTEL_* variable, no exporter): nothing is instrumented, no span is made, and
    the request still carries a child of the caller's trace context, as before."""
    router = PrefilteredRouter()

    @router.get("/ping")
    async def ping() -> dict[str, str | None]:
        return {"active": telemetry.active_traceparent()}

    app = create_service_app(
        name=f"untraced-{secrets.token_hex(3)}",
        settings=ServiceSettings(**traced.engines.settings_env("risk")),
        title="Untraced",
        description="An app built with telemetry off",
        routers=[router],
        project_api_keys=False,
    )
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    before = len(traced.exporter.get_finished_spans())
    caller = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://untraced"
    ) as client:
        response = await client.get("/ping", headers={"traceparent": caller})
    assert response.status_code == 200
    assert response.json() == {"active": None}
    assert response.headers["traceparent"].split("-")[1] == caller.split("-")[1]
    assert response.headers["traceparent"] != caller
    assert all(
        not service_of(s).startswith("aims-untraced")
        for s in traced.exporter.get_finished_spans()[before:]
    )
    scope = telemetry.consume_span(Metrics("untraced"), "any", None)
    assert scope.traceparent is None
    scope.end()


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "x"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:4318"}, False),
    ],
)
def test_tracing_is_off_unless_the_environment_configures_an_exporter(
    env: dict[str, str], on: bool
) -> None:
    assert telemetry.enabled(env) is on


def test_service_name_is_per_app_unless_set() -> None:
    assert telemetry.service_name("risk", {}) == "aims-risk"
    assert telemetry.service_name("risk", {"OTEL_SERVICE_NAME": "grc-risk"}) == "grc-risk"
