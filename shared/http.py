"""REST conventions every service shares: tenant sessions, pagination, ETags, idempotent creates.

* :data:`TenantSession` — one ``AsyncSession`` per request, scoped to the caller's organisation
  (row-level security), committed after the endpoint returns and before the response is sent.
* Cursor pagination — ``limit`` + ``after`` → ``next_cursor``; cursors are opaque.
* ``ETag`` / ``If-Match`` — updates without a matching ``If-Match`` are refused (428 / 412).
* ``Idempotency-Key`` — a retried create returns the first result instead of creating twice.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import inspect
import json
import re
import types
import typing
import uuid
import weakref
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
    Sized,
)
from typing import Annotated, Any, Generic, Protocol, TypeVar, Union, get_args, get_origin

import annotated_types
import fastapi.routing
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette._utils import get_route_path
from starlette.requests import HTTPConnection
from starlette.routing import Host, Match
from starlette.types import Scope

from shared.auth import Principal, Role, authenticate_request, require_roles
from shared.db import idempotency_table, set_org, tenant_connection, utcnow
from shared.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidCursor,
    PreconditionFailed,
    PreconditionRequired,
    UnknownQueryParameter,
    ValidationFailed,
)

T = TypeVar("T")

# --- Sessions ---------------------------------------------------------------------------------


async def _tenant_session(
    request: Request, principal: Annotated[Principal, Depends(authenticate_request)]
) -> AsyncIterator[AsyncSession]:
    db = request.app.state.ctx.db
    async with db.sessions() as session, session.begin():
        await set_org(session, principal.org_id)
        yield session


# ``scope="function"``: the transaction commits before the response leaves, so a client never
# sees 201 for a row that then failed to commit.
TenantSession = Annotated[AsyncSession, Depends(_tenant_session, scope="function")]
CurrentPrincipal = Annotated[Principal, Depends(authenticate_request)]


def tenant_connection_of(
    request: Request, principal: Principal
) -> contextlib.AbstractAsyncContextManager[Any]:
    """The driver's (asyncpg) connection in a transaction scoped to the caller's organisation,
    for reads that answer rows without the ORM (``shared.db.tenant_connection``)::

        async with tenant_connection_of(request, principal) as connection:
            row = await repository_function(connection, ...)

    Opened by the endpoint itself rather than as a dependency: FastAPI's generator
    dependencies (exit stack, shielded exit, cancel scope) cost more than the connection's
    own checkout (docs/performance.md). The transaction commits when the block ends, so, as
    with :data:`TenantSession`, before the response is sent.
    """
    return tenant_connection(request.app.state.ctx.db, principal.org_id)


# --- Routing ----------------------------------------------------------------------------------


_NAMED_GROUP = re.compile(r"\(\?P<[^>]+>")

# What FastAPI's own ``APIRouter.matches`` reads: the inclusion being tried (private to FastAPI;
# without it, no shortcut).
_inclusion_of: Callable[[Scope], Any] | None = getattr(
    fastapi.routing, "_get_scope_included_router", None
)


class PrefilteredRouter(APIRouter):
    """An ``APIRouter`` that answers "none of my routes" with one regular expression, and
    whose routes are :class:`ScreenedRoute` s: every router of every service is one.

    An app tries its routers in order, and FastAPI tries every route of each router before the
    one that matches, each through its own scope bookkeeping (≈ 2.5 µs a route here): the
    inventory's item GET went through ten routes of the operations and import routers first
    (docs/performance.md). This router first matches the path against the union of the path
    patterns of its routes as included (with every prefix, routers included in it too); a
    path that none of them matches answers "no match" at once, which is what trying each
    route answers for it. Any other path goes through FastAPI as before, and so does
    everything when the router holds a ``Host`` route or FastAPI does not say which inclusion
    is being tried.
    """

    def __init__(self, *args: Any, route_class: type[APIRoute] | None = None, **kwargs: Any):
        super().__init__(*args, route_class=route_class or ScreenedRoute, **kwargs)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and _inclusion_of is not None:
            union = self._union(_inclusion_of(scope))
            if union is not None and union.match(get_route_path(scope)) is None:
                return Match.NONE, {}
        return super().matches(scope)

    def _union(self, inclusion: Any) -> re.Pattern[str] | None:
        contexts = getattr(inclusion, "effective_route_contexts", None)
        if contexts is None or getattr(inclusion, "original_router", None) is not self:
            return None
        version = self._get_routes_version()
        # Per inclusion (an app includes the router once; tests build many apps), by identity
        # (inclusions do not hash), with a weak reference to tell a reused id.
        unions: dict[int, tuple[weakref.ref[Any], int, re.Pattern[str] | None]]
        unions = self.__dict__.setdefault("_path_unions", {})
        cached = unions.get(id(inclusion))
        if cached is None or cached[0]() is not inclusion or cached[1] != version:
            for key in [key for key, entry in unions.items() if entry[0]() is None]:
                del unions[key]
            union = _union_of(contexts())
            cached = unions[id(inclusion)] = (weakref.ref(inclusion), version, union)
        return cached[2]


def _union_of(contexts: Iterable[Any]) -> re.Pattern[str] | None:
    patterns = []
    for context in contexts:
        route = getattr(context, "starlette_route", None) or context
        regex = getattr(route, "path_regex", None)
        if isinstance(route, Host) or not isinstance(regex, re.Pattern):
            return None
        # Each pattern is anchored (``^…$``); group names repeat across routes, so unnamed.
        patterns.append("(?:" + _NAMED_GROUP.sub("(?:", regex.pattern) + ")")
    return re.compile("|".join(patterns)) if patterns else None


# --- Pagination -------------------------------------------------------------------------------


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    if len(cursor) > 1024:
        raise InvalidCursor("The cursor is too long.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc
    if not isinstance(value, dict):
        raise InvalidCursor("The cursor is not one this API issued.")
    return value


class PageParams(BaseModel):
    limit: int
    after: dict[str, Any] | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Page size")] = 50,
    after: Annotated[
        str | None, Query(max_length=1024, description="`next_cursor` of the previous page")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(after) if after else None)


Paging = Annotated[PageParams, Depends(page_params)]


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


def cursor_after_id(paging: PageParams) -> uuid.UUID | None:
    """The id a keyset-on-id page starts after (ids are time-ordered UUIDv7)."""
    if paging.after is None:
        return None
    try:
        return uuid.UUID(str(paging.after.get("id")))
    except ValueError as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc


def next_cursor(items: Sequence[_HasId], fetched: Sized, paging: PageParams) -> str | None:
    """The cursor of the next page, when one more row than the page was ``fetched``."""
    if len(fetched) > paging.limit and items:
        return encode_cursor({"id": str(items[-1].id)})
    return None


# --- Unknown query parameters -----------------------------------------------------------------


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


class RejectUnknownQuery:
    """A dependency answering 400 ``unknown-query-parameter`` (naming the allowed parameters)
    when a request carries a query parameter its route does not declare; ``prefixes`` admit
    open families such as ``cf.<key>``. Use the instance :data:`reject_unknown_query` on a
    router or route, or ``RejectUnknownQuery(prefixes=("cf.",))`` for such a family."""

    def __init__(self, *, prefixes: Sequence[str] = ()) -> None:
        self.prefixes = tuple(prefixes)

    async def __call__(self, request: HTTPConnection) -> None:
        if not request.scope.get("query_string"):
            return  # no query parameters at all: none unknown
        dependant = getattr(request.scope.get("route"), "dependant", None)
        if dependant is None:
            return
        allowed = _query_names(dependant)
        unknown = sorted(
            name
            for name in set(request.query_params) - allowed
            if not any(name.startswith(p) and len(name) > len(p) for p in self.prefixes)
        )
        if unknown:
            shown = sorted(allowed) + [f"{p}<key>" for p in self.prefixes]
            raise UnknownQueryParameter(
                f"Unknown query parameter(s): {', '.join(unknown)[:200]}. "
                f"Allowed: {', '.join(shown) or 'none'}.",
                unknown=[u[:100] for u in unknown[:20]],
                allowed=shown,
            )


reject_unknown_query = RejectUnknownQuery()


class RejectUnknownQueryOnTheApi(RejectUnknownQuery):
    """The app-wide form of :data:`reject_unknown_query`: every operation of the versioned API
    (``/v1/…``) refuses a query parameter it does not know, unless the route declares a guard
    of its own (a :class:`RejectUnknownQuery` with its open families, or a
    :class:`KnownQueryCaller`), which then decides alone. Probes, metrics, GraphQL and the
    published documents (outside ``/v1``) are left alone: a scraper or a cache-buster adding
    a parameter must not turn them into errors. Every route's handler runs it
    (:class:`ScreenedRoute`)."""

    async def __call__(self, request: HTTPConnection) -> None:
        # A WebSocket (GraphQL subscriptions) carries its own protocol's parameters, if any.
        scope = request.scope
        if scope["type"] != "http" or not scope.get("query_string"):
            return
        if not scope["path"].startswith("/v1/"):
            return
        dependant = getattr(request.scope.get("route"), "dependant", None)
        if dependant is None or _declares_own_guard(dependant):
            return
        await super().__call__(request)


def _declares_own_guard(dependant: Dependant) -> bool:
    for sub in dependant.dependencies:
        call = sub.call
        if isinstance(call, RejectUnknownQuery | KnownQueryCaller):
            return True
        if _declares_own_guard(sub):
            return True
    return False


_APP_WIDE_QUERY_GUARD = RejectUnknownQueryOnTheApi()


class KnownQueryCaller:
    """One dependency for two that a route would otherwise declare: no unknown query parameter
    (:data:`reject_unknown_query`, 400) and a caller holding one of ``allowed``
    (:func:`shared.auth.require_roles`, 401/403), checked in that order; it answers the caller.

    FastAPI's bookkeeping per dependency costs more than either check (docs/performance.md), so
    the hottest reads declare this one instead of both. The OpenAPI document is the same
    (:mod:`shared.openapi` counts it as both)."""

    def __init__(self, allowed: frozenset[Role]) -> None:
        self.allowed = allowed
        self._roles = require_roles(allowed)

    async def __call__(self, request: Request) -> Principal:
        await reject_unknown_query(request)
        return await self._roles(request)


# --- Values the database cannot store ---------------------------------------------------------
#
# One check every route of every service runs (in its handler, ``ScreenedRoute``; the
# subscription WebSocket as a dependency) before its own parameters are validated, so that no
# field needs its own guard:
#
# * U+0000 in a path parameter, a query parameter or any string of a JSON body (keys and list
#   items included, at any depth): PostgreSQL ``text`` and ``jsonb`` cannot hold it;
# * an integer path or query parameter past the range of PostgreSQL ``integer`` (the type of
#   every numbered column: versions, numbers), unless the parameter declares bounds of its own
#   (a route that takes a ``bigint`` says ``Query(le=2**63 - 1)``).
#
# Each answers 422 ``validation-failed`` whose ``errors`` name the field, as pydantic would.

NUL = "\x00"
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
_NUL_MESSAGE = "must not contain the NUL character (U+0000)"
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_MAX_REPORTED = 20


def _nul_locations(value: Any, location: list[str | int]) -> Iterator[list[str | int]]:
    """Where in a parsed JSON value a string (or an object key) holds U+0000 (iteratively:
    a body nested thousands deep must not exhaust the stack)."""
    todo: list[tuple[Any, list[str | int]]] = [(value, location)]
    while todo:
        current, where = todo.pop()
        if isinstance(current, str):
            if NUL in current:
                yield where
        elif isinstance(current, dict):
            for key, item in reversed(list(current.items())):
                if NUL in key:
                    yield [*where, key]
                todo.append((item, [*where, key]))
        elif isinstance(current, list):
            todo.extend((item, [*where, i]) for i, item in reversed(list(enumerate(current))))


def _is_int(annotation: Any) -> bool:
    return annotation is int


def _int_annotation(annotation: Any) -> bool:
    """``int``, ``int | None`` or a list of ``int`` (a repeated query parameter)."""
    if _is_int(annotation):
        return True
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_int_annotation(a) for a in get_args(annotation) if a is not type(None))
    if origin in (list, tuple, set, frozenset, Sequence):
        args = get_args(annotation)
        return bool(args) and _is_int(args[0])
    return False


def _bounds(metadata: Sequence[Any]) -> tuple[int | None, int | None]:
    """The lower and upper bound the ``int4`` range adds to what the parameter declares."""
    has_low = any(isinstance(m, annotated_types.Ge | annotated_types.Gt) for m in metadata)
    has_high = any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in metadata)
    return (None if has_low else INT4_MIN), (None if has_high else INT4_MAX)


class _RouteScreen:
    """What of one route is screened: its integer parameters without bounds of their own."""

    def __init__(self, route: APIRoute) -> None:
        self.has_body = route.body_field is not None
        self.ints: dict[tuple[str, str], tuple[int | None, int | None]] = {}
        self._collect(route.dependant)

    def _collect(self, dependant: Dependant) -> None:
        for where, params in (("path", dependant.path_params), ("query", dependant.query_params)):
            for param in params:
                info = param.field_info
                if _int_annotation(info.annotation):
                    low, high = _bounds(info.metadata)
                    if low is not None or high is not None:
                        self.ints[(where, param.alias)] = (low, high)
        for sub in dependant.dependencies:
            self._collect(sub)


# By route identity (routes compare by value and do not hash); the route is kept beside its
# screen so that an id is never reused while its entry lives.
_screens: dict[int, tuple[APIRoute, _RouteScreen]] = {}


def _screen_of(route: APIRoute) -> _RouteScreen:
    cached = _screens.get(id(route))
    if cached is None or cached[0] is not route:
        cached = _screens[id(route)] = (route, _RouteScreen(route))
    return cached[1]


def _range_error(
    where: str, name: str, raw: str, low: int | None, high: int | None
) -> dict[str, Any] | None:
    if not _INTEGER.fullmatch(raw):
        return None  # not an integer at all: the route's own validation says so
    value = int(raw)
    if low is not None and value < low:
        return {
            "location": [where, name],
            "message": f"Input should be greater than or equal to {low}",
            "type": "greater_than_equal",
        }
    if high is not None and value > high:
        return {
            "location": [where, name],
            "message": f"Input should be less than or equal to {high}",
            "type": "less_than_equal",
        }
    return None


async def reject_unstorable_values(connection: HTTPConnection) -> None:
    """Refuse (422, naming each field) NUL characters anywhere in a request's parameters and
    JSON body, and integer parameters past PostgreSQL ``integer``; see the comment above."""
    errors: list[dict[str, Any]] = []
    for name, value in connection.path_params.items():
        if isinstance(value, str) and NUL in value:
            errors.append({"location": ["path", name], "message": _NUL_MESSAGE, "type": "nul"})
    has_query = bool(connection.scope.get("query_string"))
    for name, value in connection.query_params.multi_items() if has_query else ():
        if NUL in name or NUL in value:
            shown = name.replace(NUL, "\\0")[:100]
            errors.append({"location": ["query", shown], "message": _NUL_MESSAGE, "type": "nul"})
    route = connection.scope.get("route")
    screen = _screen_of(route) if isinstance(route, APIRoute) else None
    if screen is not None:
        for (where, name), (low, high) in screen.ints.items():
            if where == "path":
                raw = connection.path_params.get(name)
                values = [raw] if isinstance(raw, str) else []
            else:
                values = connection.query_params.getlist(name) if has_query else []
            for raw in values:
                if (error := _range_error(where, name, raw, low, high)) is not None:
                    errors.append(error)
    if (
        screen is not None
        and screen.has_body
        and "json" in connection.headers.get("content-type", "json").lower()
    ):
        # FastAPI has read (and parsed) a JSON body before any dependency runs; a JSON string
        # can carry U+0000 only as the escape ``\u0000``, so only such bodies are parsed again.
        body = await connection.body() if isinstance(connection, Request) else b""
        if b"\\u0000" in body:
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                parsed = None  # FastAPI answers for a body that is not JSON
            for found in _nul_locations(parsed, ["body"]):
                errors.append({"location": found, "message": _NUL_MESSAGE, "type": "nul"})
                if len(errors) >= _MAX_REPORTED:
                    break
    if errors:
        fields = ", ".join(
            "`" + ".".join(str(p) for p in e["location"][1:]) + "`" for e in errors[:5]
        )
        raise ValidationFailed(
            f"The request has values that cannot be stored: {fields}; see `errors`.",
            errors=errors[:_MAX_REPORTED],
        )


# --- Answers ----------------------------------------------------------------------------------


class ScreenedRoute(APIRoute):
    """A route whose handler first makes the checks every operation of every service makes:
    :func:`reject_unstorable_values` (422), then the versioned API's unknown-query rule
    (:class:`RejectUnknownQueryOnTheApi`, 400), in that order and before any parameter is
    validated or dependency solved, as app-wide dependencies would.

    In the handler rather than as app-wide dependencies: FastAPI's bookkeeping per dependency
    (its cache key, sub-dependant walk and parameter collection) cost more than both checks,
    on every request (docs/performance.md). ``get_route_handler`` is FastAPI's documented hook
    for a custom route class and is called for every inclusion of the route.
    ``create_service_app`` refuses to build an app with an API route of another class.

    A route of the simplest shape (:func:`_direct_call`) is then called directly, without
    FastAPI's general dependency solving; any other, and every route while dependency
    overrides are set, goes through FastAPI's own handler.
    """

    #: Whether a handler of this route (of any inclusion) calls it directly.
    called_directly = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        built = _being_built(self)
        direct = _direct_call(self, built.dependant) if built is not None else None
        # The app (for an included route): where tests set ``dependency_overrides``.
        overrides = getattr(built, "dependency_overrides_provider", None)
        self.called_directly = self.called_directly or direct is not None

        async def screened(request: Request) -> Response:
            await reject_unstorable_values(request)
            await _APP_WIDE_QUERY_GUARD(request)
            if direct is not None and not getattr(overrides, "dependency_overrides", None):
                return await direct(request)
            return await handle(request)

        return screened


# The route FastAPI is building a handler for, with the dependencies of its inclusion (private
# to FastAPI; without it, every route keeps FastAPI's own handler).
_effective_route_var: Any = getattr(fastapi.routing, "_effective_route_context_var", None)


def _being_built(route: APIRoute) -> Any:
    """The route as FastAPI is building its handler: for an included route, with its
    inclusion's dependencies and dependency-overrides provider; None when FastAPI does not
    say (then no direct call)."""
    if _effective_route_var is None:
        return None
    effective = _effective_route_var.get()
    if effective is not None and getattr(effective, "original_route", None) is route:
        return effective
    return route


def _direct_call(
    route: APIRoute, dependant: Dependant
) -> Callable[[Request], Awaitable[Response]] | None:
    """A handler equivalent to FastAPI's for a route of the simplest shape, else None.

    The shape: a coroutine endpoint annotated to return a ``Response``, taking only path
    parameters, the ``Request`` and dependencies; each dependency a coroutine taking only the
    request (or connection), with no parameters or dependencies of its own. FastAPI solves
    those in order (the dependencies first, in declaration order, raising what they raise;
    then the path parameters, whose errors raise ``RequestValidationError``) and hands the
    endpoint's ``Response`` on as it is; so does this, without the general machinery of
    caches, exit stacks and parameter collection that costs more than the work
    (docs/performance.md). ``tests/shared/test_screened_routes.py`` holds every such route of
    every service to FastAPI's own answers."""
    endpoint = dependant.call
    if (
        endpoint is None
        or not inspect.iscoroutinefunction(endpoint)
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or not _returns_response(endpoint)
    ):
        return None
    calls: list[tuple[str | None, Callable[..., Awaitable[Any]], str]] = []
    for sub in dependant.dependencies:
        argument = sub.request_param_name or sub.http_connection_param_name
        call = sub.call
        if (
            call is None
            or argument is None
            or (sub.request_param_name and sub.http_connection_param_name)
            or sub.dependencies
            or sub.path_params
            or sub.query_params
            or sub.header_params
            or sub.cookie_params
            or sub.body_params
            or sub.websocket_param_name
            or sub.response_param_name
            or sub.background_tasks_param_name
            or sub.security_scopes_param_name
            or not _is_coroutine(call)
        ):
            return None
        calls.append((sub.name, call, argument))
    path_params = list(dependant.path_params)
    # Path parameters that are plain UUIDs, read without pydantic when written canonically
    # (which pydantic reads as the same UUID); anything else goes to FastAPI's validation.
    plain_uuids = [
        (field.name, field.alias)
        for field in path_params
        if field.field_info.annotation is uuid.UUID and not field.field_info.metadata
    ]
    if len(plain_uuids) != len(path_params):
        plain_uuids = []
    request_name = dependant.request_param_name

    async def direct(request: Request) -> Response:
        values: dict[str, Any] = {}
        for name, call, argument in calls:
            value = await call(**{argument: request})
            if name is not None:
                values[name] = value
        if path_params and not _read_plain_uuids(plain_uuids, request.path_params, values):
            found, errors = request_params_to_args(path_params, request.path_params)
            if errors:
                raise RequestValidationError(errors, body=None)
            values.update(found)
        if request_name is not None:
            values[request_name] = request
        response = await endpoint(**values)
        if not isinstance(response, Response):  # the annotation lied: FastAPI would serialise
            raise TypeError(f"{route.path} answered {type(response).__name__}, not a Response")
        return response

    return direct


_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _read_plain_uuids(
    fields: list[tuple[str, str]], received: Mapping[str, Any], values: dict[str, Any]
) -> bool:
    """Each of ``fields`` (name, alias) read into ``values`` when all are canonical UUIDs;
    False (``values`` untouched) otherwise, or when there are none."""
    if not fields:
        return False
    read: dict[str, uuid.UUID] = {}
    for name, alias in fields:
        raw = received.get(alias)
        if not isinstance(raw, str) or _CANONICAL_UUID.fullmatch(raw) is None:
            return False
        read[name] = uuid.UUID(raw)
    values.update(read)
    return True


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    try:
        answer = typing.get_type_hints(endpoint).get("return")
    except Exception:  # unresolvable annotations: not for the direct path
        return False
    return isinstance(answer, type) and issubclass(answer, Response)


def _is_coroutine(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or (
        not inspect.isroutine(call)
        and not inspect.isclass(call)
        and inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004
    )


def unscreened_routes(routes: Iterable[Any]) -> list[str]:
    """The paths of API routes, here or in routers included here at any depth, that are not
    :class:`ScreenedRoute` s (an app with one would skip the checks every operation makes)."""
    found: list[str] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += unscreened_routes(included.routes)
        elif isinstance(route, APIRoute) and not isinstance(route, ScreenedRoute):
            found.append(f"{sorted(route.methods or ())} {route.path}")
    return found


def model_response(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``model`` as the JSON answer, serialised once by pydantic (in Rust).

    For endpoints whose return value is already an instance of their ``response_model``:
    FastAPI would validate it against that model a second time, then serialise it. The
    route keeps declaring ``response_model`` for its OpenAPI schema."""
    return Response(
        model.__pydantic_serializer__.to_json(model),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


# --- ETag / If-Match --------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


_ETAG_ITEM = re.compile(r'\s*"([^"]*)"\s*')


def parse_if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` names (``"3"``); raises 428 when absent.

    ``If-Match`` uses the strong comparison (RFC 9110 §13.1.1): a weak tag (``W/"3"``) never
    matches, so it is refused with 412 like any tag of another version."""
    if value is None or not value.strip():
        raise PreconditionRequired(
            "Send `If-Match` with the ETag you read, so that no update is lost."
        )
    if value.strip() == "*":
        return None
    if value.strip().startswith("W/"):
        raise PreconditionFailed(
            "A weak ETag never matches `If-Match` (RFC 9110 §13.1.1); send the ETag as read."
        )
    match = _ETAG_ITEM.fullmatch(value)
    if not match or not match.group(1).isdigit():
        raise PreconditionFailed(f"`If-Match: {value[:64]}` is not an ETag of this resource.")
    return int(match.group(1))


def check_version(if_match: str | None, current: int) -> None:
    expected = parse_if_match(if_match)
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"The resource is at version {current}, not {expected}; read it again.",
            current_version=current,
        )


# --- Idempotency-Key --------------------------------------------------------------------------


class Idempotency:
    """Replay or remember the result of one creating POST, keyed per organisation.

    What is remembered is stored in plain JSON, so an answer that carries a secret (a webhook
    signing secret, shown once) is remembered without it: the create names the fields in
    ``withhold`` and a replay answers them as ``null``. Replaying a secret would keep a
    plaintext copy in this table and could hand out a secret that was rotated since.
    """

    def __init__(self, key: str | None, fingerprint: str) -> None:
        self.key = key
        self.fingerprint = fingerprint

    async def replay(self, session: AsyncSession, principal: Principal) -> JSONResponse | None:
        if not self.key:
            return None
        row = (
            (
                await session.execute(
                    sa.select(idempotency_table).where(
                        idempotency_table.c.org_id == principal.org_id,
                        idempotency_table.c.key == self.key,
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        if row["fingerprint"] != self.fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different request; use a new key."
            )
        headers = dict(row["headers"])
        headers["Idempotent-Replayed"] = "true"
        return JSONResponse(row["body"], status_code=row["status_code"], headers=headers)

    async def created(
        self,
        session: AsyncSession,
        principal: Principal,
        resource: BaseModel,
        *,
        version: int,
        location: str,
        withhold: Sequence[str] = (),
    ) -> JSONResponse:
        """The 201 answer to a create (``ETag``, ``Location``), remembered for retries
        without the fields named in ``withhold`` (a replay answers them as ``null``)."""
        payload = resource.model_dump(mode="json")
        headers = {"ETag": etag(version), "Location": location}
        remembered = {k: (None if k in withhold else v) for k, v in payload.items()}
        await self.remember(session, principal, 201, remembered, headers)
        return JSONResponse(payload, status_code=201, headers=headers)

    async def remember(
        self,
        session: AsyncSession,
        principal: Principal,
        status_code: int,
        body: Any,
        headers: dict[str, str],
    ) -> None:
        if not self.key:
            return
        stored = await session.execute(
            pg_insert(idempotency_table)
            .values(
                org_id=principal.org_id,
                key=self.key,
                fingerprint=self.fingerprint,
                status_code=status_code,
                body=body,
                headers=headers,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(idempotency_table.c.key)
        )
        if stored.first() is None:
            # A concurrent request with the same key won; undo ours (the caller's transaction
            # rolls back on this error) and let the client retry to get the first result.
            raise Conflict("A request with this Idempotency-Key was processed meanwhile; retry.")


async def idempotency(request: Request) -> Idempotency:
    return idempotency_for(request, await request.body())


def idempotency_for(request: Request, body: bytes, *, variant: str = "") -> Idempotency:
    """The :class:`Idempotency` of a request whose body the endpoint read itself (a streamed
    upload); ``variant`` adds what else makes two requests different (a query flag)."""
    key = request.headers.get("idempotency-key")
    if key is not None and not (1 <= len(key) <= 255):
        raise Conflict("Idempotency-Key must be 1 to 255 characters.")
    head = request.method.encode() + request.url.path.encode() + variant.encode()
    digest = hashlib.sha256(head + b"\0" + body)
    return Idempotency(key, digest.hexdigest())


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
