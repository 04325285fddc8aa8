"""The gateway: GraphQL over the services for frontends, webhooks for GRC platforms."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter

from gateway.clients import build_http_client
from gateway.config import GatewaySettings
from gateway.exports.api import router as exports_router
from gateway.schema import build_schema
from gateway.schema.context import HTTP_CLIENT_KEY, get_context
from gateway.webhooks.api import router as webhooks_router
from gateway.webhooks.consumers import HANDLERS
from gateway.webhooks.worker import start_delivery_worker
from shared.app import ServiceContext, create_service_app


def create_app(
    settings: GatewaySettings | None = None,
    *,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the gateway; ``upstream_transport`` replaces the network (tests route in-process)."""
    settings = settings or GatewaySettings()

    async def on_startup(ctx: ServiceContext) -> None:
        ctx.extras[HTTP_CLIENT_KEY] = build_http_client(settings, upstream_transport)
        # Always: it also wires the SSRF allow-list; it starts the worker only with run_workers.
        start_delivery_worker(ctx)

    async def on_shutdown(ctx: ServiceContext) -> None:
        http: httpx.AsyncClient | None = ctx.extras.pop(HTTP_CLIENT_KEY, None)
        if http is not None:
            await http.aclose()

    graphql = GraphQLRouter(
        build_schema(settings),
        path="/graphql",
        graphql_ide="graphiql",
        context_getter=get_context,
        # No subscriptions (yet): refuse WebSocket protocols rather than half-support them.
        subscription_protocols=(),
        tags=["graphql"],
    )
    return create_service_app(
        name="gateway",
        settings=settings,
        title="AIMS gateway",
        description="GraphQL at `/graphql` (Relay; depth, token and alias limits; SDL in "
        "`schema.graphql`) over the inventory, risk and evidence services, and webhook "
        "subscriptions for GRC platforms (Standard Webhooks). Errors are RFC 9457 "
        "problem+json.",
        routers=[graphql, webhooks_router, exports_router],
        handlers=HANDLERS,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
    )
