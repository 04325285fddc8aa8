"""The WebSocket endpoint of GraphQL subscriptions: graphql-transport-ws at ``/graphql``.

The caller authenticates in ``connection_init``, with the credential the REST APIs take::

    {"type": "connection_init", "payload": {"Authorization": "Bearer <JWT or API key>"}}

(``{"apiKey": "aims_…"}`` works too, and so does an ``Authorization`` header on the upgrade
request). The gateway verifies it itself, with the services' verifier (:mod:`shared.auth`):
JWTs against the same keys, API keys against the gateway's projection of
``aims.inventory.apikey.*``. The credential then holds for the connection's lifetime, and no
longer:

========  ====================================================================================
code      the server closes the socket …
========  ====================================================================================
4403      at ``connection_init`` when the credential is missing or not valid (the reason says
          why), and when the API key the connection uses is revoked
4401      when the bearer token expires (at its ``exp``): refresh it and reconnect
4400      for protocol errors (Strawberry's own: malformed messages, bad documents)
========  ====================================================================================

Only subscriptions are served here; queries and mutations go over HTTP (an operation of
another kind gets an ``error`` message, the connection stays open).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import timedelta
from typing import Any

import jwt
from fastapi import Depends, WebSocket, WebSocketDisconnect
from fastapi.routing import APIWebSocketRoute
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.fastapi import GraphQLRouter
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from gateway.subscriptions.schema import SubscriptionContext
from gateway.subscriptions.service import HUB_KEY, EventHub
from gateway.subscriptions.streams import STREAMS_KEY, MemberTooSlow, SharedStreams
from shared.auth import API_KEY_PREFIX, Principal
from shared.errors import DomainError
from shared.http import reject_unstorable_values

CLOSE_REFUSED = 4403
CLOSE_TOKEN_EXPIRED = 4401
CLOSE_KEY_REVOKED = 4403
KEY_REVOKED_REASON = "The API key was revoked."
TOKEN_EXPIRED_REASON = "The token has expired."  # noqa: S105 — a message, not a secret
#: A client must send ``connection_init`` this soon after the upgrade (else 4408).
INIT_TIMEOUT = timedelta(seconds=10)
TOO_SLOW = GraphQLError(
    "This subscription fell too far behind and was ended; read the current state and "
    "subscribe again.",
    extensions={"code": "subscriber-too-slow"},
)
#: Parsing limit of the operation-kind check; the schema's own limits apply afterwards.
_PARSE_MAX_TOKENS = 10_000


def credential_of(payload: dict[str, Any], websocket: WebSocket | None) -> str | None:
    """The ``Authorization`` value a ``connection_init`` payload (or the upgrade) carries."""
    for key, value in payload.items():
        if key.lower() == "authorization" and isinstance(value, str):
            return value
    for key in ("apiKey", "api_key"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value if value.lower().startswith("bearer ") else f"Bearer {value}"
    if websocket is not None:
        return websocket.headers.get("authorization")
    return None


def _close_reason(text: str) -> str:
    # A close frame's reason is at most 123 bytes of UTF-8.
    encoded = text.encode()
    return text if len(encoded) <= 123 else encoded[:120].decode(errors="ignore") + "…"


def _expires_at(principal: Principal) -> float | None:
    """The Unix time the (already verified) bearer token of ``principal`` expires."""
    if principal.kind != "user":
        return None
    token = principal.authorization.partition(" ")[2].strip()
    if token.startswith(API_KEY_PREFIX):
        return None
    claims = jwt.decode(token, options={"verify_signature": False})
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def _operation_type(query: object, operation_name: object) -> OperationType | None:
    if not isinstance(query, str):
        return None
    try:
        document = parse(query, no_location=True, max_tokens=_PARSE_MAX_TOKENS)
    except GraphQLError:
        return None  # Strawberry reports the syntax error
    name = operation_name if isinstance(operation_name, str) else None
    operation = get_operation_ast(document, name)
    return operation.operation if operation is not None else None


class AuthenticatingHandler(BaseGraphQLTransportWSHandler[SubscriptionContext, None]):
    """graphql-transport-ws with authentication on init and a credential that can end."""

    closing = False
    _expiry: asyncio.Task[None] | None = None
    _revocation: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload", {})
        if self.connection_timed_out or self.connection_init_received:
            await super().handle_connection_init(message)  # Strawberry closes (4429)
            return
        if not isinstance(payload, dict):
            payload = {} if payload is None else payload
            if not isinstance(payload, dict):
                await super().handle_connection_init(message)  # 4400
                return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        context = self.context
        websocket = context.request if isinstance(context.request, WebSocket) else None
        authorization = credential_of(payload, websocket)
        try:
            if context.authenticator is None:
                raise GraphQLError("The gateway is not ready.")
            principal = await context.authenticator.authenticate(authorization)
        except (DomainError, GraphQLError) as exc:
            self.connection_init_received = True
            detail = exc.detail if isinstance(exc, DomainError) else exc.message
            await self.close(CLOSE_REFUSED, detail)
            return
        context.principal = principal
        self._guard(principal)
        await super().handle_connection_init({"type": "connection_init", "payload": payload})

    def _guard(self, principal: Principal) -> None:
        expires_at = _expires_at(principal)
        if expires_at is not None:
            self._expiry = asyncio.create_task(self._close_at(expires_at))
        hub = self.context.hub
        if principal.kind == "api_key" and hub is not None:
            hub.watch_revocation(principal, self._on_revoked)

    async def _close_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.close(CLOSE_TOKEN_EXPIRED, TOKEN_EXPIRED_REASON)

    def _on_revoked(self) -> None:
        if self._revocation is None:
            self._revocation = asyncio.create_task(
                self.close(CLOSE_KEY_REVOKED, KEY_REVOKED_REASON)
            )

    async def close(self, code: int, reason: str) -> None:
        """Close the socket once; operations end with it (nothing more is sent)."""
        if self.closing:
            return
        self.closing = True
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=_close_reason(reason))

    async def send_message(self, message: Message) -> None:
        if self.closing:
            return
        await super().send_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload") or {}
        kind = _operation_type(payload.get("query"), payload.get("operationName"))
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and kind is not None
            and kind is not OperationType.SUBSCRIPTION
        ):
            error = GraphQLError(
                "Only subscriptions are served over WebSocket; send queries and mutations "
                "over HTTP (POST /graphql).",
                extensions={"code": "subscription-required"},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[SubscriptionContext, None]) -> None:
        """A subscription joins the shared stream of its key (see :mod:`.streams`); anything
        Strawberry must report itself (syntax errors, unknown operation names) runs as usual."""
        streams = self.context.streams
        kind = _operation_type(operation.query, operation.operation_name)
        if streams is None or kind is not OperationType.SUBSCRIPTION:
            await super().run_operation(operation)
            return
        stream, member = streams.join(
            self.schema,
            self.context,
            operation.query,
            operation.operation_name,
            operation.variables,
        )
        prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        try:
            while True:
                try:
                    kind_, text = await member.next()
                except MemberTooSlow:
                    await operation.send_operation_message(
                        {"id": operation.id, "type": "error", "payload": [TOO_SLOW.formatted]}
                    )
                    return
                if kind_ == "next":
                    await self._send_text(prefix + text + "}")
                elif kind_ == "error":
                    await operation.send_operation_message(
                        {"id": operation.id, "type": "error", "payload": json.loads(text)}
                    )
                    return
                else:
                    await operation.send_operation_message({"id": operation.id, "type": "complete"})
                    return
        finally:
            streams.leave(stream, member)

    async def _send_text(self, text: str) -> None:
        """Send an already-encoded message (the shared result, encoded once)."""
        if self.closing:
            return
        ws = getattr(self.websocket, "ws", None)
        if ws is None:
            await super().send_message(json.loads(text))
            return
        # A failure means the connection is going away; its handler cleans up.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await ws.send_text(text)

    async def shutdown(self) -> None:
        for task in (self._expiry, self._revocation):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        principal = self.context.principal
        hub = self.context.hub
        if principal is not None and hub is not None:
            hub.unwatch_revocation(principal, self._on_revoked)
        await super().shutdown()


async def subscription_context(websocket: WebSocket) -> SubscriptionContext:
    """FastAPI dependency of the WebSocket route: the connection's (not yet authenticated)
    context."""
    service = websocket.app.state.ctx
    hub: EventHub | None = service.extras.get(HUB_KEY)
    streams: SharedStreams = service.extras.setdefault(STREAMS_KEY, SharedStreams())
    return SubscriptionContext(hub=hub, authenticator=service.authenticator, streams=streams)


class SubscriptionRouter(GraphQLRouter[SubscriptionContext, None]):
    """The WebSocket route at ``path`` only: HTTP at the same path stays with the main router.

    Mount it before the main GraphQL router, whose own WebSocket route refuses every protocol.
    """

    graphql_transport_ws_handler_class = AuthenticatingHandler

    def __init__(self, schema: BaseSchema, *, path: str = "/graphql") -> None:
        super().__init__(
            schema,
            path=path,
            graphql_ide=None,
            allow_queries_via_get=False,
            context_getter=subscription_context,
            # graphql-transport-ws only: the legacy graphql-ws protocol is not offered.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=INIT_TIMEOUT,
            include_in_schema=False,
            # The check every HTTP operation makes in its handler (shared/http.py), for the
            # WebSocket handshake: a NUL in its query string is refused.
            dependencies=[Depends(reject_unstorable_values)],
        )
        self.routes = [route for route in self.routes if isinstance(route, APIWebSocketRoute)]
