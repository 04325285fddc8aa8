"""The GraphQL HTTP endpoint, answering every HTTP-level mistake as problem+json.

Strawberry's router answers a body that is not JSON, the wrong content type or a missing
document with ``text/plain``, and a body nested thousands deep with a 500 (``RecursionError``
in ``json.loads``). Here each is a domain error with a stable ``code``, rendered by the app's
problem handlers: ``invalid-json`` (400), ``json-too-deep`` (400), ``unsupported-media-type``
(415), ``invalid-graphql-request`` (400), ``method-not-allowed`` (405); a body over
``AIMS_MAX_JSON_BODY_BYTES`` is ``payload-too-large`` (413) from the body-limit middleware.
Mistakes inside the document or its variables stay GraphQL errors (200, ``data: null``).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.http.typevars import RootValue
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.unset import UNSET

from gateway.protection.documents import DOCUMENT_ID_EXTENSION
from gateway.protection.errors import (
    GraphQLMethodNotAllowed,
    InvalidGraphQLRequest,
    InvalidJSON,
    JSONTooDeep,
    UnsupportedGraphQLMediaType,
)
from shared.errors import DomainError, NotFound, Unauthenticated


def json_depth(value: object) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 0, ``[]`` is 1), without recursion."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth + 1)
            pending.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth + 1)
            pending.extend((v, depth + 1) for v in item)
    return deepest


def _problem(error: HTTPException) -> DomainError:
    reason = error.reason
    # A mutation sent with GET: 405, as the GraphQL-over-HTTP specification says.
    if error.status_code == 405 or isinstance(error.__cause__, InvalidOperationTypeError):
        return GraphQLMethodNotAllowed(reason)
    if error.status_code == 404:
        return NotFound(reason)
    return InvalidGraphQLRequest(reason)


class ProtectedGraphQLRouter(GraphQLRouter[Any, RootValue]):
    """Strawberry's FastAPI router with strict, problem+json request parsing."""

    def __init__(self, *args: Any, max_json_depth: int, **kwargs: Any) -> None:
        self.max_json_depth = max_json_depth
        super().__init__(*args, **kwargs)

    def decode_json(self, data: str | bytes) -> object:
        try:
            value = json.loads(data)
        except RecursionError as exc:
            raise self._too_deep() from exc
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            raise InvalidJSON(f"The request is not valid JSON: {exc}.") from exc
        if json_depth(value) > self.max_json_depth:
            raise self._too_deep()
        return value

    def encode_json(self, data: object) -> str | bytes:
        # orjson: several times faster than ``json.dumps`` on a page of results (a sixth of
        # the gateway's time on a 100-risk page). Same JSON, written as UTF-8 rather than
        # with ``\\u`` escapes; what orjson refuses (an integer beyond 64 bits in a JSON
        # scalar) goes through ``json`` as before.
        try:
            return orjson.dumps(data)
        except TypeError:  # orjson.JSONEncodeError
            return super().encode_json(data)

    def _too_deep(self) -> JSONTooDeep:
        return JSONTooDeep(
            f"The JSON is nested more than {self.max_json_depth} levels deep (variables included)."
        )

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET naming a trusted document has no `query`: it is an operation, not a visit.
        params = request.query_params
        if params.get("documentId") is not None or params.get("extensions") is not None:
            return False
        return super().should_render_graphql_ide(request)

    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: Any = UNSET,
        root_value: RootValue | None = UNSET,
    ) -> Response | WebSocket:
        if (
            # Strawberry turns the getter's "no caller" (None) into a plain dict.
            (context is None or isinstance(context, dict))
            and isinstance(request, Request)
            and not self.should_render_graphql_ide(self.request_adapter_class(request))
        ):
            # The context getter lets a browser's GET through unauthenticated for the GraphiQL
            # page only; anything else it would run must have a caller.
            raise Unauthenticated("Send a bearer token or an API key.")
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            raise _problem(error) from error

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        content_type, _ = parse_content_type(request.content_type or "")
        transport = self._get_stream_transport_from_headers(request.headers)
        protocol = transport.protocol if transport else "http"
        if request.method == "GET":
            data: object = self.parse_query_params(request.query_params)
        elif content_type in ("application/json", "application/graphql-response+json"):
            data = self.parse_json(await request.get_body())
        else:
            raise UnsupportedGraphQLMediaType(
                f"Send GraphQL requests as `application/json`, not `{content_type or 'nothing'}`."
            )
        if not isinstance(data, dict):
            raise InvalidGraphQLRequest(
                "The body must be a JSON object with `query` or `documentId` (batches are not "
                "accepted)."
            )
        query, variables = data.get("query"), data.get("variables")
        extensions, operation_name = data.get("extensions"), data.get("operationName")
        if not isinstance(query, str | None):
            raise InvalidGraphQLRequest("`query` must be a string.")
        if not isinstance(variables, dict | None):
            raise InvalidGraphQLRequest("`variables` must be a JSON object.")
        if not isinstance(extensions, dict | None):
            raise InvalidGraphQLRequest("`extensions` must be a JSON object.")
        if not isinstance(operation_name, str | None):
            raise InvalidGraphQLRequest("`operationName` must be a string.")
        if (document_id := data.get("documentId")) is not None:
            extensions = {**(extensions or {}), DOCUMENT_ID_EXTENSION: document_id}
        if query is None and not extensions:
            raise InvalidGraphQLRequest(
                "No GraphQL document: send `query`, or the `documentId` of a trusted document."
            )
        return GraphQLRequestData(
            query=query,
            variables=variables,
            operation_name=operation_name,
            extensions=extensions,
            protocol=protocol,
        )
