"""OpenTelemetry traces for every app: off unless configured, one place to configure them.

Tracing is **off** unless the standard variables ask for it: ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (OTLP over HTTP/protobuf), or
``OTEL_TRACES_EXPORTER=otlp|console``; ``OTEL_SDK_DISABLED=true`` or
``OTEL_TRACES_EXPORTER=none`` turn it off again. Off, no SDK is imported, no app is instrumented
and every hook below is one dictionary look-up that finds nothing.

On, each app gets its own tracer provider (``service.name`` = ``OTEL_SERVICE_NAME`` when set,
else ``aims-<app>``; ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER[_ARG]``, ``OTEL_BSP_*``
and the ``OTEL_EXPORTER_OTLP_*`` options are read by the SDK as usual) and:

- a server span per HTTP request (FastAPI/ASGI instrumentation, continuing the caller's W3C
  ``traceparent``; health, readiness and metrics are not traced);
- a client span per SQL statement (SQLAlchemy instrumentation of the app's engine) and per
  upstream call of the gateway (httpx instrumentation, which forwards the span's context);
- a producer span per event the outbox relay publishes and a consumer span per event a
  consumer applies, both children of the ``traceparent`` the CloudEvent carries (the request
  that committed it), so one trace runs gateway → service → PostgreSQL → outbox → NATS →
  consumer;
- a client span per webhook delivery attempt (:func:`client_span`), child of the trace context
  stored with the queued delivery (the consumer that queued it), whose ``traceparent`` the POST
  carries to the receiver: the trace goes on to the webhook.

The project's own trace context (:data:`shared.observability.traceparent_var`, in every log
line, on every event) is the active span's while a span is active, so logs, events and traces
name the same trace. Client spans (SQL, HTTP) with no parent — pollers of the relay, the
scheduler and the monitors — are not recorded: they would be thousands of one-span traces.

Tests hand an exporter to :func:`use_exporter` (the SDK's ``InMemorySpanExporter``) before
building apps.
"""

from __future__ import annotations

import functools
import logging
import os
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("aims.telemetry")

#: Paths never traced (probes and scrapes), as the FastAPI instrumentation's regexes.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"

# An app's tracer provider, found through the object every one of its workers already holds
# (its ``Metrics``): a process may hold several apps (tests), each with its own service.name.
_providers: weakref.WeakKeyDictionary[object, TracerProvider] = weakref.WeakKeyDictionary()
_test_exporter: list[SpanExporter] = []
_propagator = TraceContextTextMapPropagator()


def use_exporter(exporter: SpanExporter | None) -> None:
    """Tests: apps built from now on export to ``exporter`` synchronously (None: back to the
    environment). Affects apps built afterwards only."""
    _test_exporter[:] = [exporter] if exporter is not None else []


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether the OTEL_* variables (or a test exporter) ask for traces."""
    if _test_exporter:
        return True
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter) or bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def service_name(app_name: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("OTEL_SERVICE_NAME") or f"aims-{app_name}"


def instrument_app(app: FastAPI, app_name: str, owner: object) -> TracerProvider | None:
    """Trace ``app`` when telemetry is on: its provider is registered under ``owner`` (the
    app's ``Metrics``), where its engine, clients and workers find it. None when off."""
    if not enabled():
        return None
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    provider = _build_provider(service_name(app_name))
    _providers[owner] = provider
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", EXCLUDED_URLS),
        # One span per request, not one more per body chunk received or sent (uploads).
        exclude_spans=["receive", "send"],
    )
    return provider


def instrument_engine(engine: AsyncEngine, owner: object) -> None:
    """A client span per SQL statement of ``engine`` (no-op when ``owner``'s app is untraced)."""
    provider = _providers.get(owner)
    if provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.metrics import NoOpMeterProvider

    # The engine's tracer directly: the instrumentor is once per process and patches
    # create_engine globally; tests build several apps with a provider each.
    tracer = trace.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__, provider)
    connections = NoOpMeterProvider().get_meter("aims").create_up_down_counter("unused")
    EngineTracer(tracer, engine.sync_engine, connections)  # type: ignore[no-untyped-call]


def instrument_client(client: httpx.AsyncClient, owner: object) -> None:
    """A client span per request of ``client``, whose context it forwards (``traceparent``)."""
    provider = _providers.get(owner)
    if provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)


def active_traceparent() -> str | None:
    """The W3C ``traceparent`` of the active span, None when no span is active (or telemetry
    is off): what the request context, the logs and new events carry."""
    if not _providers:
        return None
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return _format(span_context)


class SpanScope:
    """An event's span while it is handled: active (SQL below it is its child) until
    :meth:`end`. The shared no-op instance stands in when telemetry is off."""

    __slots__ = ("_span", "_token", "traceparent")

    def __init__(self, span: trace.Span | None = None) -> None:
        self._span = span
        self._token: object | None = None
        self.traceparent: str | None = None
        if span is not None:
            self._token = otel_context.attach(trace.set_span_in_context(span))
            self.traceparent = _format(span.get_span_context())

    def fail(self, error: BaseException) -> None:
        if self._span is not None:
            self._span.record_exception(error)
            self._span.set_status(Status(StatusCode.ERROR, type(error).__name__))

    def annotate(self, attributes: Mapping[str, Any], error: str | None = None) -> None:
        """Add ``attributes`` (None values skipped); ``error``: the span failed, so described."""
        if self._span is None:
            return
        self._span.set_attributes({k: v for k, v in attributes.items() if v is not None})
        if error is not None:
            self._span.set_status(Status(StatusCode.ERROR, error))

    def end(self) -> None:
        if self._span is None:
            return
        if self._token is not None:
            otel_context.detach(self._token)  # type: ignore[arg-type]
            self._token = None
        self._span.end()
        self._span = None


_NOOP = SpanScope()


def consume_span(owner: object, consumer: str, event: Any) -> SpanScope:
    """The span of one consumed ``event`` (a :class:`~shared.events.envelope.CloudEvent`),
    child of the ``traceparent`` it carries; call ``end()`` when it is handled."""
    provider = _providers.get(owner)
    if provider is None:
        return _NOOP
    tracer = provider.get_tracer("aims.events")
    span = tracer.start_span(
        f"{event.type} process",
        context=_parent(event.traceparent),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "nats",
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": consumer,
            "messaging.message.id": event.id,
            "cloudevents.event_type": event.type,
            "cloudevents.event_subject": event.subject or "",
            "aims.org_id": event.orgid,
        },
    )
    return SpanScope(span)


def client_span(
    owner: object, name: str, traceparent: str | None, attributes: Mapping[str, Any]
) -> SpanScope:
    """An active client span (an outgoing request made outside any server span, e.g. a webhook
    delivery), child of ``traceparent``; call ``end()`` when done. Without a valid parent it
    is not recorded (see the sampler), like every parentless client span."""
    provider = _providers.get(owner)
    if provider is None:
        return _NOOP
    tracer = provider.get_tracer("aims.webhooks")
    span = tracer.start_span(
        name, context=_parent(traceparent), kind=SpanKind.CLIENT, attributes=dict(attributes)
    )
    return SpanScope(span)


class PublishSpans:
    """The producer spans of one relay batch: one per row, child of the row's traceparent."""

    __slots__ = ("_spans",)

    def __init__(self, spans: list[trace.Span]) -> None:
        self._spans = spans

    def end(self, outcomes: Sequence[BaseException | None]) -> None:
        for span, error in zip(self._spans, outcomes, strict=False):
            if error is not None:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.end()
        for span in self._spans[len(outcomes) :]:
            span.end()
        self._spans = []


_NO_PUBLISH = PublishSpans([])


def publish_spans(owner: object, rows: Sequence[Any], subject_prefix: str = "") -> PublishSpans:
    """Producer spans for outbox ``rows`` (with ``subject``, ``event_id``, ``type`` and
    ``traceparent``) about to be published; ``end(outcomes)`` once JetStream answered."""
    provider = _providers.get(owner)
    if provider is None or not rows:
        return _NO_PUBLISH
    tracer = provider.get_tracer("aims.events")
    return PublishSpans(
        [
            tracer.start_span(
                f"{subject_prefix}{row.subject} publish",
                context=_parent(getattr(row, "traceparent", None)),
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "nats",
                    "messaging.operation.type": "send",
                    "messaging.destination.name": subject_prefix + row.subject,
                    "messaging.message.id": str(row.event_id),
                    "cloudevents.event_type": row.type,
                },
            )
            for row in rows
        ]
    )


# --- the SDK, imported only when telemetry is on ----------------------------------------------


def _build_provider(name: str) -> TracerProvider:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import _get_from_env_or_default

    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: name, "service.namespace": "aims"}),
        sampler=_sampler_class()(_get_from_env_or_default()),
    )
    if _test_exporter:
        provider.add_span_processor(SimpleSpanProcessor(_test_exporter[0]))
        return provider
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    for chosen in exporter_name.split(","):
        if chosen.strip() == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        elif chosen.strip() == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # Endpoint, headers, timeout, compression: the OTEL_EXPORTER_OTLP_* variables.
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        else:
            logger.warning("unknown OTEL_TRACES_EXPORTER %r ignored", chosen)
    logger.info("tracing on", extra={"otel_service_name": name})
    return provider


@functools.cache
def _sampler_class() -> Any:
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    class RecordedClientSpans(Sampler):
        """The configured sampler, but a client span (SQL, HTTP) with no parent is dropped:
        the pollers' statements, outside any request or event, are not worth a trace each."""

        def __init__(self, inner: Sampler) -> None:
            self.inner = inner

        def should_sample(
            self,
            parent_context: otel_context.Context | None,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Any = None,
            links: Any = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            if kind is SpanKind.CLIENT:
                parent = trace.get_current_span(parent_context).get_span_context()
                if not parent.is_valid:
                    return SamplingResult(Decision.DROP)
            return self.inner.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"RecordedClientSpans{{{self.inner.get_description()}}}"

    return RecordedClientSpans


def _parent(traceparent: str | None) -> otel_context.Context | None:
    if not traceparent:
        return None
    return _propagator.extract({"traceparent": traceparent})


def _format(span_context: trace.SpanContext) -> str:
    return (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}"
        f"-{int(span_context.trace_flags):02x}"
    )
