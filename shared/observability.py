"""Structured JSON logs, request ids, W3C trace context and Prometheus metrics.

Trace context follows W3C ``traceparent``: taken from the incoming request (or started there),
forwarded by the gateway to services, stamped on every event the request causes, and restored by
the consumer that handles that event, so one trace id links a GraphQL request to the consumer
that handled its event in every log line.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import json
import logging
import re
import secrets
import sys
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PayloadTooLarge, problem_response
from shared.telemetry import active_traceparent

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
traceparent_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "traceparent", default=None
)
#: The organisation a request or an event is handled for, once known (the verified caller's,
#: the event's): in every log line written meanwhile, as ``org_id``.
org_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("org_id", default=None)

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def new_traceparent(trace_id: str | None = None) -> str:
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child_traceparent(parent: str | None) -> str:
    """A new span id under ``parent``'s trace, or a new trace when ``parent`` is not valid."""
    match = _TRACEPARENT.match(parent or "")
    return new_traceparent(match.group(1) if match else None)


def trace_id_of(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match(traceparent or "")
    return match.group(1) if match else None


def current_traceparent() -> str | None:
    return traceparent_var.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request and trace ids of the current context."""

    _RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}

    def __init__(self, service: str = "") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if self.service:
            entry["service"] = self.service
        if rid := request_id_var.get():
            entry["request_id"] = rid
        if tid := trace_id_of(traceparent_var.get()):
            entry["trace_id"] = tid
        if org := org_id_var.get():
            entry["org_id"] = org
        for key, value in record.__dict__.items():
            if key not in self._RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # orjson: one access line per request is on every request's path.
        try:
            return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # what orjson refuses (e.g. integers over 64 bits): the slow way
            return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", *, json_output: bool = True, service: str = "") -> None:
    """One handler on the root logger, to standard error: JSON lines naming ``service`` (or
    plain text). Records skip what no line shows (thread, process and multiprocessing names:
    the standard library's documented switches), which is a fifth of building one, once per
    request for the access line."""
    handler = logging.StreamHandler(sys.stderr)
    if json_output:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Our own middleware writes one access line per request, with request and trace ids.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


class Metrics:
    """The Prometheus metrics of one app (its own registry, so tests can build many apps)."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "aims_http_requests_total",
            "HTTP requests handled",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "aims_http_request_duration_seconds",
            "HTTP request latency",
            ["service", "method", "route"],
            registry=self.registry,
        )
        self.events_published = Counter(
            "aims_events_published_total",
            "Events published from the outbox",
            ["service"],
            registry=self.registry,
        )
        self.events_consumed = Counter(
            "aims_events_consumed_total",
            "Events handled by consumers",
            ["service", "consumer", "outcome"],
            registry=self.registry,
        )
        self.webhook_attempts = Counter(
            "aims_webhook_attempts_total",
            "Webhook delivery attempts by outcome: delivered (2xx), rejected (another status), "
            "unreachable (no answer)",
            ["service", "outcome"],
            registry=self.registry,
        )
        self.service = service

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class AccessLog:
    """The access lines of one app, handed to the logging handlers in batches: up to
    ``max_batch`` lines, at most ``max_delay`` seconds after the first (and at shutdown).

    Each line is the same record it would be at once (its time the request's end, its request,
    trace and organisation ids carried with it), through the same logger, level, handlers and
    formatters. Handing one line over between two requests cost ~40 µs of CPU under load, five
    times what the same code costs run back to back (measured with ``bench/run.py``: the
    inventory's item read at 0.36 ms of CPU a request with the lines, 0.32 without;
    docs/performance.md); a batch runs warm. What a crash can lose is the access lines of the
    last ``max_delay`` seconds; every other log line is written at once.
    """

    def __init__(
        self, logger: logging.Logger, *, max_batch: int = 256, max_delay: float = 0.05
    ) -> None:
        self.log = logger
        self.max_batch = max_batch
        self.max_delay = max_delay
        self._pending: list[tuple[float, dict[str, Any]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        flush = weakref.WeakMethod(self.flush)
        atexit.register(lambda: (method := flush()) is not None and method())

    def add(self, created: float, extra: dict[str, Any]) -> None:
        self._pending.append((created, extra))
        if len(self._pending) >= self.max_batch:
            self.flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: nothing would flush it later
            self.flush()
            return
        if self._timer is None or self._timer_loop is not loop:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_later(self.max_delay, self.flush)
            self._timer_loop = loop

    def flush(self) -> None:
        """Hand every pending line to the handlers now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        if pending:
            # Outside any request's context: each line carries its own ids, and a line without
            # an organisation must not take the one of the request that happens to flush.
            contextvars.Context().run(self._hand_over, pending)

    def _hand_over(self, pending: list[tuple[float, dict[str, Any]]]) -> None:
        log = self.log
        for created, extra in pending:
            record = log.makeRecord(
                log.name, logging.INFO, __file__, 0, "request", (), None, "access", extra
            )
            record.created = created
            record.msecs = (created - int(created)) * 1000
            log.handle(record)


class PoolCollector:
    """``/metrics`` view of a database connection pool, read at scrape time:
    ``aims_db_pool_connections{state="in_use|idle"}``, ``aims_db_pool_size`` (the connections
    kept) and ``aims_db_pool_overflow`` (opened beyond them, at most as many again)."""

    def __init__(self, pool: Any, service: str) -> None:
        self.pool = pool
        self.service = service

    def collect(self) -> Iterator[Metric]:
        connections = GaugeMetricFamily(
            "aims_db_pool_connections",
            "Database connections of the pool, in use by a request or worker, or idle",
            labels=["service", "state"],
        )
        connections.add_metric([self.service, "in_use"], float(self.pool.checkedout()))
        connections.add_metric([self.service, "idle"], float(self.pool.checkedin()))
        size = GaugeMetricFamily(
            "aims_db_pool_size", "Connections the pool keeps", labels=["service"]
        )
        size.add_metric([self.service], float(self.pool.size()))
        overflow = GaugeMetricFamily(
            "aims_db_pool_overflow",
            "Connections open beyond the pool's size (negative: not yet opened up to it)",
            labels=["service"],
        )
        overflow.add_metric([self.service], float(self.pool.overflow()))
        yield connections
        yield size
        yield overflow

    def describe(self) -> Iterator[Metric]:
        return iter(())


class RequestContextMiddleware:
    """Every service's one ASGI middleware: request id, trace context, access log, metrics and
    the JSON body limit.

    One layer instead of two or more (each layer is a coroutine frame and a header scan on
    every request): the headers are read once, for the ids and the body's declared length.
    A body over ``max_body_bytes`` is refused with 413 before anything parses it, with the
    request id and in the access log and metrics like any answer. Paths matching
    ``exempt_paths`` (regular expressions from the start of the path: streamed uploads)
    enforce their own, larger limits while they stream. ``max_body_bytes=None``: no limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        *,
        max_body_bytes: int | None = None,
        exempt_paths: tuple[str, ...] = (),
        access_log: AccessLog | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.log = logging.getLogger("aims.access")
        self.access = access_log or AccessLog(self.log)
        self.max_body_bytes = max_body_bytes
        pattern = "|".join(f"(?:{p})" for p in exempt_paths)
        self.exempt = re.compile(pattern) if exempt_paths else None
        # Labelled children of the request metrics, looked up once per label set: the
        # registry's own lookup takes a lock and builds a tuple on every call.
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def _observe(self, method: str, path: str, status: int, elapsed: float) -> None:
        counter = self._counted.get((method, path, status))
        if counter is None:
            counter = self.metrics.requests.labels(self.metrics.service, method, path, str(status))
            self._counted[(method, path, status)] = counter
        counter.inc()
        histogram = self._timed.get((method, path))
        if histogram is None:
            histogram = self.metrics.latency.labels(self.metrics.service, method, path)
            self._timed[(method, path)] = histogram
        histogram.observe(elapsed)

    def _access_line(
        self, method: str, scope: Scope, status: int, elapsed: float, rid: str, tp: str
    ) -> None:
        if not self.log.isEnabledFor(logging.INFO):
            return
        extra: dict[str, Any] = {"request_id": rid}
        if tid := trace_id_of(tp):
            extra["trace_id"] = tid
        if org := org_id_var.get():
            extra["org_id"] = org
        extra |= {
            "method": method,
            "path": scope.get("path"),
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
        }
        self.access.add(time.time(), extra)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        parent = None
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value.decode("latin-1")
            elif name == b"traceparent":
                parent = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        rid = rid[:128] if rid else secrets.token_hex(8)
        # The server span's context when tracing is on (shared/telemetry.py), so logs and
        # traces name the same trace; otherwise a child of the caller's.
        tp = active_traceparent() or child_traceparent(parent)
        rid_token = request_id_var.set(rid)
        tp_token = traceparent_var.set(tp)
        org_token = org_id_var.set(None)  # set by authentication (shared/auth.py)
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [(b"x-request-id", rid.encode()), (b"traceparent", tp.encode())]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            limit = self.max_body_bytes
            if limit is None or (self.exempt is not None and self.exempt.match(scope["path"])):
                await self.app(scope, receive, send_wrapper)
            elif declared is not None and _too_long(declared, limit):
                await self._refuse(scope, receive, send_wrapper, limit)
            elif chunked:
                await self.app(scope, _counted_receive(receive, limit), send_wrapper)
            else:
                # No body, or one whose declared length was checked above (the server never
                # hands on more than the declared length): nothing to count, no wrapper.
                await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self._observe(method, path, status, elapsed)
            if path not in ("/healthz", "/metrics", "/readyz"):
                self._access_line(method, scope, status, elapsed, rid, tp)
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)
            org_id_var.reset(org_token)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            413,
            PayloadTooLarge.code,
            PayloadTooLarge.title,
            f"The body exceeds {limit} bytes.",
            instance=scope["path"],
        )
        await response(scope, receive, send)


def _too_long(declared: bytes, limit: int) -> bool:
    try:
        return int(declared) > limit
    except ValueError:
        return True  # a length that is not a number is refused like one over the limit


def _counted_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` for a chunked body: raises 413 once more than ``limit`` bytes arrived."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
        return message

    return limited_receive


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return metrics.render()

    return endpoint
