"""The gateway: GraphQL over the services for frontends, webhooks for GRC platforms."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from gateway.cache import (
    CachingGraphQLRouter,
    InvalidateOnGatewayWrites,
    ResponseCache,
    ResponseCacheCollector,
)
from gateway.clients import build_http_client
from gateway.config import GatewaySettings
from gateway.exports.api import router as exports_router
from gateway.protection.api import SCHEMA_STATE
from gateway.protection.api import router as documents_router
from gateway.root_page import root_router
from gateway.schema import build_schema
from gateway.schema.context import HTTP_CLIENT_KEY, get_context
from gateway.subscriptions.api import SubscriptionRouter
from gateway.subscriptions.service import start_subscription_hub
from gateway.webhooks.api import router as webhooks_router
from gateway.webhooks.consumers import HANDLERS
from gateway.webhooks.retention import TIMER_JOBS as WEBHOOK_TIMER_JOBS
from gateway.webhooks.worker import start_delivery_worker
from shared.app import ServiceContext, create_service_app
from shared.http import ScreenedRoute
from shared.telemetry import instrument_client


def create_app(
    settings: GatewaySettings | None = None,
    *,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the gateway; ``upstream_transport`` replaces the network (tests route in-process)."""
    settings = settings or GatewaySettings()
    # GraphQL response cache, invalidated by the hub's event feed (gateway/cache.py).
    response_cache = ResponseCache.from_settings(settings)
    collector: ResponseCacheCollector | None = None

    async def on_startup(ctx: ServiceContext) -> None:
        ctx.extras[HTTP_CLIENT_KEY] = build_http_client(settings, upstream_transport)
        instrument_client(ctx.extras[HTTP_CLIENT_KEY], ctx.metrics)  # when tracing is on
        # Always: it also wires the SSRF allow-list; it starts the worker only with run_workers.
        start_delivery_worker(ctx)
        # Live subscriptions: one event-stream consumer fanning out to every WebSocket client.
        hub = start_subscription_hub(ctx)
        response_cache.attach(hub, ctx.nc)
        nonlocal collector
        collector = ResponseCacheCollector(response_cache, ctx.name)
        ctx.metrics.registry.register(collector)
        # The schema built above is frozen out of the garbage collector's full collections with
        # everything else of start-up, by the shared app factory (shared/app.py).

    async def on_shutdown(ctx: ServiceContext) -> None:
        nonlocal collector
        response_cache.detach()
        if collector is not None:
            ctx.metrics.registry.unregister(collector)
            collector = None
        http: httpx.AsyncClient | None = ctx.extras.pop(HTTP_CLIENT_KEY, None)
        if http is not None:
            await http.aclose()

    schema = build_schema(settings)
    # Strawberry's router, answering HTTP-level mistakes as problem+json (gateway/protection/),
    # in front of the response cache.
    graphql = CachingGraphQLRouter(
        schema,
        response_cache=response_cache,
        max_json_depth=settings.graphql_max_json_depth,
        path="/graphql",
        graphql_ide="graphiql",
        context_getter=get_context,
        # WebSockets (subscriptions) are served by the SubscriptionRouter mounted before this.
        subscription_protocols=(),
        tags=["graphql"],
        route_class=ScreenedRoute,  # the checks every operation makes (shared/http.py)
    )
    app = create_service_app(
        name="gateway",
        settings=settings,
        title="AIMS gateway",
        description="GraphQL at `/graphql` (Relay; depth, token, alias and cost limits; "
        "trusted documents; SDL at `/reference/schema.graphql`) over the inventory, risk and "
        "evidence services, and webhook subscriptions for GRC platforms (Standard Webhooks). "
        "Every document is linked from `/`. Errors are RFC 9457 problem+json.",
        routers=[
            root_router(settings, schema.as_str()),
            SubscriptionRouter(schema),
            graphql,
            webhooks_router,
            exports_router,
            documents_router,
        ],
        handlers=HANDLERS,
        timer_jobs=WEBHOOK_TIMER_JOBS,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
    )
    # A write to the gateway's own REST routes invalidates the response cache.
    app.add_middleware(InvalidateOnGatewayWrites, cache=response_cache)
    # Trusted documents are validated against the schema they will run on when registered.
    setattr(app.state, SCHEMA_STATE, schema._schema)
    return app
