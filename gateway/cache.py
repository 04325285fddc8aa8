"""The GraphQL response cache: a dashboard that sends the same query again gets the bytes it got.

An uncached 50-system dashboard page costs tens of milliseconds of CPU across the gateway and
the three services; sending a stored result costs a dictionary lookup. Correctness comes first,
so the cache is narrow:

* **What is stored.** Only the encoded JSON of an error-free *query* (never a mutation, a
  subscription or a result with ``errors``), keyed by everything the result can depend on:
  organisation, the caller's subject, kind and roles (per principal: nothing is shared between
  users), the document's SHA-256, the operation name, the variables and extensions (canonical
  JSON). Root fields that read state changed without an event (``webhookSubscriptions``: the
  delivery worker updates failure times) are never cached.
* **Invalidation.** Each organisation has a generation. Every event of the organisation seen by
  the subscription hub's consumer (gateway/subscriptions/service.py; no second consumer) and
  every mutation executed through this gateway (when it completes, before its response is sent:
  read-your-writes) moves it on; any write through the gateway's own REST routes moves every
  organisation on. An entry is served only while its organisation's generation is the one its
  execution started at, and it is stored only if the generation did not move during the
  execution (no race stores a result older than an invalidation). Services apply each other's
  events a little after the event (projections), so a result computed within
  ``graphql_response_cache_settle_seconds`` of an event of its organisation is served at most
  until that window ends. Every entry expires after ``graphql_response_cache_ttl_seconds``.
* **No feed, no cache.** Without a live event consumer (no broker, the NATS connection down, the
  hub not subscribed) every request bypasses the cache, and a reconnection or resubscription
  invalidates everything stored before it.
* **Bounded.** An LRU by entry count and total bytes.
* **One execution for identical concurrent misses.** A request whose key is being executed
  already, under a ticket still current when it arrives (nothing invalidated the organisation
  since that execution began), waits for that execution and gets its bytes
  (``X-AIMS-Cache: coalesced``) instead of running the same resolvers and upstream calls again.
  Joining is decided on arrival only: the shared execution began after every change the
  gateway had heard of when the request came, which is what a fresh execution would see. If
  the shared execution ends without a cacheable result (errors, cancelled), each waiting
  request executes on its own.

A client bypasses it with ``Cache-Control: no-cache`` (or ``no-store``). Every GraphQL response
says ``X-AIMS-Cache: hit``, ``miss`` (executed and offered to the cache), ``coalesced`` or
``bypass``;
``aims_graphql_response_cache_total{outcome}`` counts them.

Staleness bound: a write made directly to a service's REST API (not through this gateway) is
seen once its event arrives (commit → outbox relay → NATS → gateway, tens of milliseconds), and
a projection a service updates from another service's event within the settle window; another
gateway replica's mutation likewise once its events arrive. Bounded in any case by the TTL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from gateway.loaders.selection import selected_fields
from gateway.protection import service as documents
from gateway.protection.documents import requested_hash
from gateway.protection.router import ProtectedGraphQLRouter
from gateway.schema.context import GraphQLContext
from shared.auth import Principal
from shared.db import tenant_transaction
from shared.events import CloudEvent

if TYPE_CHECKING:
    from nats.aio.client import Client as NATS

    from gateway.config import GatewaySettings
    from gateway.subscriptions.service import EventHub

CACHE_HEADER = "x-aims-cache"
#: Root fields whose state changes without an event (the webhook delivery worker records
#: failures in the gateway's own database): never cached.
UNCACHEABLE_ROOT_FIELDS = frozenset({"webhookSubscriptions"})
#: Where the router leaves the execution result for :meth:`CachingGraphQLRouter.run`.
_RESULT_STATE = "aims_graphql_result"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_OUTCOMES = ("hit", "miss", "coalesced", "bypass")

CacheKey = tuple[str, str, str, tuple[str, ...], str]


@dataclass(frozen=True)
class Ticket:
    """What an execution started under: compared again when it ends, and kept with the entry."""

    org: str
    generation: int
    global_generation: int
    feed: tuple[int, int]
    started: float


@dataclass(frozen=True)
class Entry:
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    ticket: Ticket
    size: int


Shared = tuple[bytes, tuple[tuple[bytes, bytes], ...]]


@dataclass(frozen=True)
class Flight:
    """An execution in progress that identical requests may wait for."""

    ticket: Ticket
    result: asyncio.Future[Shared | None]


@dataclass(frozen=True)
class Operation:
    """What the cache needs to know of one operation of a document."""

    kind: OperationType
    cacheable_fields: bool


class ResponseCache:
    """The store, the generations and the feed's health (see the module doc)."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        ttl_seconds: float = 30.0,
        settle_seconds: float = 1.0,
        max_entries: int = 2000,
        max_bytes: int = 64 * 1024 * 1024,
        max_tokens: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.ttl = ttl_seconds
        self.settle = settle_seconds
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_tokens = max_tokens
        self.clock = clock
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()
        self.bytes = 0
        # Per organisation: its generation (a value of one process-wide counter, so a forgotten
        # and re-created organisation never reuses a number) and its last event's time.
        self._counter = 0
        self._generations: dict[str, int] = {}
        self._last_event: dict[str, float] = {}
        self._global = 0
        self._operations: OrderedDict[str, dict[str | None, Operation] | None] = OrderedDict()
        self._flights: dict[CacheKey, Flight] = {}
        self.hub: EventHub | None = None
        self.nc: NATS | None = None
        self.counts = dict.fromkeys(_OUTCOMES, 0)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> ResponseCache:
        return cls(
            enabled=settings.graphql_response_cache_enabled,
            ttl_seconds=settings.graphql_response_cache_ttl_seconds,
            settle_seconds=settings.graphql_response_cache_settle_seconds,
            max_entries=settings.graphql_response_cache_max_entries,
            max_bytes=settings.graphql_response_cache_max_bytes,
            max_tokens=settings.graphql_max_tokens,
        )

    # --- the feed -----------------------------------------------------------------------------

    def attach(self, hub: EventHub, nc: NATS | None) -> None:
        """Listen to every event the hub consumes; the cache works only while it is live."""
        self.hub, self.nc = hub, nc
        hub.listeners.append(self.on_event)

    def detach(self) -> None:
        if self.hub is not None and self.on_event in self.hub.listeners:
            self.hub.listeners.remove(self.on_event)
        self.hub, self.nc = None, None
        self.clear()

    def feed(self) -> tuple[int, int] | None:
        """The feed's identity while it is live (None when it is not): a reconnection to NATS
        or a resubscription of the hub changes it, which invalidates everything before it."""
        hub, nc = self.hub, self.nc
        if hub is None or nc is None or not hub.live or not nc.is_connected:
            return None
        return (hub.epoch, int(nc.stats.get("reconnects", 0)))

    def on_event(self, event: CloudEvent) -> None:
        org = event.orgid
        if not org:
            self.invalidate_all()
            return
        self.invalidate(org)
        self._last_event[org] = self.clock()

    def invalidate(self, org: str) -> None:
        self._counter += 1
        self._generations[org] = self._counter

    def invalidate_all(self) -> None:
        self._global += 1
        self.clear()

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    # --- executions and entries ---------------------------------------------------------------

    def begin(self, org: str, feed: tuple[int, int]) -> Ticket:
        return Ticket(
            org=org,
            generation=self._generations.get(org, 0),
            global_generation=self._global,
            feed=feed,
            started=self.clock(),
        )

    def _current(self, ticket: Ticket, now: float) -> bool:
        if (
            self.feed() != ticket.feed
            or self._generations.get(ticket.org, 0) != ticket.generation
            or self._global != ticket.global_generation
        ):
            return False
        if now - ticket.started >= self.ttl:
            return False
        # Computed within the settle window after the organisation's last event: good only
        # until the window ends (a service may not have applied that event yet).
        settled = self._last_event.get(ticket.org, float("-inf")) + self.settle
        return not (ticket.started < settled <= now)

    def get(self, key: CacheKey) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if not self._current(entry.ticket, self.clock()):
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(
        self,
        key: CacheKey,
        ticket: Ticket,
        body: bytes,
        headers: Iterable[tuple[bytes, bytes]],
    ) -> bool:
        """Store ``body`` unless anything invalidated the organisation since ``ticket``."""
        if not self._current(ticket, self.clock()):
            return False
        size = len(body) + sum(len(part) for part in key[:4]) + len(key[4]) + 200
        if size > self.max_bytes // 4:
            return False
        self._drop(key)
        self._entries[key] = Entry(body=body, headers=tuple(headers), ticket=ticket, size=size)
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= evicted.size
        return True

    def joinable(self, key: CacheKey) -> asyncio.Future[Shared | None] | None:
        """The result of ``key``'s execution in progress, if one runs under a ticket that is
        still current (see the module doc); None: the caller executes."""
        flight = self._flights.get(key)
        if flight is None or flight.result.done() or not self._current(flight.ticket, self.clock()):
            return None
        return flight.result

    def lead(self, key: CacheKey, ticket: Ticket) -> Flight:
        """Announce an execution of ``key`` that later identical requests may wait for; the
        caller must :meth:`land` it, whatever happens."""
        flight = Flight(ticket, asyncio.get_running_loop().create_future())
        self._flights[key] = flight
        return flight

    def land(self, key: CacheKey, flight: Flight, shared: Shared | None) -> None:
        """End ``flight``: those waiting get ``shared`` (None: they execute themselves)."""
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.result.done():
            flight.result.set_result(shared)

    def in_flight(self) -> int:
        return len(self._flights)

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry.size

    def __len__(self) -> int:
        return len(self._entries)

    def count(self, outcome: str) -> None:
        self.counts[outcome] += 1

    # --- documents ----------------------------------------------------------------------------

    def operations(self, sha256: str, text: str | None) -> dict[str | None, Operation] | None:
        """The operations of a document by name (None: the only one), parsed once per process;
        None when the document does not parse (its execution reports that)."""
        if sha256 in self._operations:
            self._operations.move_to_end(sha256)
            return self._operations[sha256]
        if text is None:
            return None
        found = _operations_of(text, self.max_tokens)
        self._operations[sha256] = found
        while len(self._operations) > 512:
            self._operations.popitem(last=False)
        return found


def _operations_of(text: str, max_tokens: int | None) -> dict[str | None, Operation] | None:
    try:
        document = parse(text, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found: dict[str | None, Operation] = {}
    definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for definition in definitions:
        fields = {f.name.value for f in selected_fields([definition.selection_set], fragments)}
        operation = Operation(
            kind=definition.operation, cacheable_fields=not fields & UNCACHEABLE_ROOT_FIELDS
        )
        if definition.name is not None:
            found[definition.name.value] = operation
        if len(definitions) == 1:
            found[None] = operation
    return found


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _no_cache(request: Request) -> bool:
    directives = request.headers.get("cache-control", "").lower()
    return "no-cache" in directives or "no-store" in directives


def _principal_key(principal: Principal) -> tuple[str, str, str, tuple[str, ...]]:
    roles = tuple(sorted(role.value for role in principal.roles))
    return (str(principal.org_id), principal.subject, principal.kind, roles)


class CachingGraphQLRouter(ProtectedGraphQLRouter):
    """The GraphQL endpoint in front of the :class:`ResponseCache`."""

    def __init__(self, *args: Any, response_cache: ResponseCache, **kwargs: Any) -> None:
        self.response_cache = response_cache
        super().__init__(*args, **kwargs)

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        setattr(request.state, _RESULT_STATE, result)
        return result

    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: Any = UNSET,
        root_value: Any = UNSET,
    ) -> Response | WebSocket:
        cache = self.response_cache
        if not isinstance(request, Request) or not isinstance(context, GraphQLContext):
            return await super().run(request, context, root_value)
        principal = context.principal
        operation, sha256, request_data = await self._classify(request, context)
        if operation is None or operation.kind is not OperationType.QUERY:
            cache.count("bypass")
            try:
                return self._mark(await super().run(request, context, root_value), "bypass")
            finally:
                if operation is None or operation.kind is OperationType.MUTATION:
                    # Read-your-writes: the caller's next query runs afresh. (An operation the
                    # cache cannot classify executes nothing cacheable; invalidating is cheap.)
                    cache.invalidate(str(principal.org_id))
        feed = cache.feed()
        if (
            not cache.enabled
            or feed is None
            or not operation.cacheable_fields
            or _no_cache(request)
            or request_data is None
        ):
            cache.count("bypass")
            return self._mark(await super().run(request, context, root_value), "bypass")
        key: CacheKey = (
            *_principal_key(principal),
            hashlib.sha256(
                _canonical(
                    [
                        sha256,
                        request_data.operation_name,
                        request_data.variables or {},
                        request_data.extensions or {},
                    ]
                ).encode()
            ).hexdigest(),
        )
        entry = cache.get(key)
        if entry is not None:
            cache.count("hit")
            return self._mark(self._stored(entry.body, entry.headers), "hit")
        waiting = cache.joinable(key)
        if waiting is not None:
            # Shielded: this request giving up (its client gone) must not end the execution
            # the others wait for.
            shared = await asyncio.shield(waiting)
            if shared is not None:
                cache.count("coalesced")
                return self._mark(self._stored(*shared), "coalesced")
        cache.count("miss")
        ticket = cache.begin(str(principal.org_id), feed)
        flight = cache.lead(key, ticket)
        shared = None
        try:
            response = await super().run(request, context, root_value)
            result = getattr(request.state, _RESULT_STATE, None)
            if (
                isinstance(result, ExecutionResult)
                and not result.errors
                and isinstance(response, Response)
                and response.status_code == 200
                and isinstance(body := getattr(response, "body", None), bytes)
            ):
                extra = tuple(
                    (name, value)
                    for name, value in response.headers.raw
                    if name not in (b"content-length", b"content-type")
                )
                shared = (body, extra)
                cache.put(key, ticket, body, extra)
        finally:
            cache.land(key, flight, shared)
        return self._mark(response, "miss")

    @staticmethod
    def _stored(body: bytes, headers: Iterable[tuple[bytes, bytes]]) -> Response:
        response = Response(body, media_type="application/json")
        response.headers.raw.extend(headers)
        return response

    @staticmethod
    def _mark(response: Response | WebSocket, outcome: str) -> Response | WebSocket:
        if isinstance(response, Response):
            response.headers[CACHE_HEADER] = outcome
        return response

    async def _classify(
        self, request: Request, context: GraphQLContext
    ) -> tuple[Operation | None, str, GraphQLRequestData | None]:
        """The operation a request names, its document's hash and the parsed request; a
        request this cannot make sense of gets ``None`` (its execution reports why)."""
        adapter = self.request_adapter_class(request)
        if request.method not in ("GET", "POST") or self.should_render_graphql_ide(adapter):
            return None, "", None
        try:
            data = await self.parse_http_body(adapter)
            assert isinstance(data, GraphQLRequestData)
            sha256 = requested_hash(data.extensions)
        except Exception:
            return None, "", None
        text = data.query
        if text is not None:
            sha256 = documents.document_hash(text)
        if sha256 is None:
            return None, "", None
        cache = self.response_cache
        if text is None and cache.operations(sha256, None) is None:
            # A trusted document named only by its hash: its registered text, once.
            async with tenant_transaction(context.db, context.principal.org_id) as session:
                text = await documents.find_document_text(session, sha256)
        found = cache.operations(sha256, text)
        operation = None if found is None else found.get(data.operation_name)
        return operation, sha256, data


class InvalidateOnGatewayWrites:
    """ASGI middleware: a write to one of the gateway's own REST routes (webhook subscriptions,
    trusted documents, exports) invalidates every organisation's entries once it is answered.
    GraphQL requests are left to the router, which knows a query from a mutation."""

    def __init__(self, app: ASGIApp, cache: ResponseCache, graphql_path: str = "/graphql") -> None:
        self.app = app
        self.cache = cache
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in _UNSAFE_METHODS
            or scope.get("path") == self.graphql_path
        ):
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.cache.invalidate_all()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.cache.invalidate_all()


class ResponseCacheCollector(Collector):
    """``aims_graphql_response_cache_total{outcome}``, entries and bytes, read when scraped."""

    def __init__(self, cache: ResponseCache, service: str) -> None:
        self.cache = cache
        self.service = service

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        total = CounterMetricFamily(
            "aims_graphql_response_cache",
            "GraphQL requests by response cache outcome (hit, miss, coalesced, bypass)",
            labels=["service", "outcome"],
        )
        for outcome, value in self.cache.counts.items():
            total.add_metric([self.service, outcome], value)
        yield total
        entries = GaugeMetricFamily(
            "aims_graphql_response_cache_entries", "Entries in the GraphQL response cache"
        )
        entries.add_metric([], len(self.cache))
        yield entries
        size = GaugeMetricFamily(
            "aims_graphql_response_cache_bytes", "Bytes held by the GraphQL response cache"
        )
        size.add_metric([], self.cache.bytes)
        yield size
