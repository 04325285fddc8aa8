"""The per-request GraphQL context: the verified caller, their clients and DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import httpx
import strawberry
from fastapi import Request
from strawberry.fastapi import BaseContext

from gateway.clients import Deadline, UpstreamClients
from gateway.config import GatewaySettings
from gateway.loaders import Loaders
from shared.auth import Principal, authenticate_request
from shared.db import Database

if TYPE_CHECKING:
    from shared.app import ServiceContext

# Where ``on_startup`` keeps the gateway's shared upstream connection pool.
HTTP_CLIENT_KEY = "upstream_http"


@dataclass
class GraphQLContext(BaseContext):
    """Built afresh for every request, so no cache outlives the caller who filled it."""

    principal: Principal
    clients: UpstreamClients
    loaders: Loaders
    db: Database
    settings: GatewaySettings


Info: TypeAlias = strawberry.Info[GraphQLContext, None]


def _wants_graphiql_page(request: Request) -> bool:
    """``GET /graphql`` from a browser with no operation: the static GraphiQL page."""
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


async def get_context(request: Request) -> GraphQLContext | None:
    """FastAPI dependency of the GraphQL route: authenticate first, then build the context.

    A request without valid credentials is refused here with ``401`` problem+json, before any
    document is parsed: no data, no introspection, no upstream call. Only the GraphiQL page, a
    static HTML page that executes nothing, is served without a caller; the operations it then
    sends carry the user's ``Authorization`` header like any other.
    """
    if _wants_graphiql_page(request):
        return None
    principal = await authenticate_request(request)
    service: ServiceContext = request.app.state.ctx
    settings = service.settings
    assert isinstance(settings, GatewaySettings)
    http: httpx.AsyncClient = service.extras[HTTP_CLIENT_KEY]
    clients = UpstreamClients.for_caller(
        http,
        settings,
        principal.authorization,
        deadline=Deadline.after(settings.upstream_request_deadline_seconds),
    )
    return GraphQLContext(
        principal=principal,
        clients=clients,
        loaders=Loaders.for_clients(clients),
        db=service.db,
        settings=settings,
    )
