"""The app factory every service uses: lifespan, middleware, health, metrics, workers.

A service supplies its routers and event handlers; this module owns the rest, so that every
service starts, reports health, relays its outbox, consumes events and shuts down the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

import nats
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from shared.apikeys import api_key_projection
from shared.audit_api import audit_router
from shared.auth import ADMINS, Authenticator, Principal, require_roles
from shared.db import Database
from shared.errors import install_problem_handlers
from shared.events.asyncapi import build_asyncapi
from shared.events.consumer import (
    ConsumerRunner,
    EventHandler,
    durable_name,
    list_dead_letters,
    replay_dead_letter,
)
from shared.events.envelope import EventCatalogue
from shared.events.monitor import PipelineMonitor
from shared.events.outbox import configure_event_limits
from shared.events.relay import OutboxRelay, asyncpg_dsn, ensure_stream
from shared.events.retention import RetentionPeriods, arm_retention, retention_job
from shared.http import PrefilteredRouter, ScreenedRoute, unscreened_routes
from shared.observability import (
    AccessLog,
    Metrics,
    PoolCollector,
    RequestContextMiddleware,
    configure_logging,
)
from shared.openapi import install_problem_responses
from shared.scheduler import Scheduler, TimerJob
from shared.settings import ServiceSettings
from shared.supervisor import Supervisor, WorkerCollector, WorkerFn
from shared.telemetry import instrument_app, instrument_engine

logger = logging.getLogger("aims.app")


@dataclass
class ServiceContext:
    """What one running service holds; reachable as ``request.app.state.ctx``."""

    name: str
    settings: ServiceSettings
    metrics: Metrics
    db: Database
    authenticator: Authenticator
    nc: NATS | None = None
    js: JetStreamContext | None = None
    runners: list[ConsumerRunner] = field(default_factory=list)
    # Every consumer of this service by durable name, whether or not this replica runs workers:
    # dead letters are replayed through them (API-only replicas included).
    handlers: dict[str, EventHandler] = field(default_factory=dict)
    relay: OutboxRelay | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    scheduler: Scheduler | None = None
    monitor: PipelineMonitor | None = None
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(
            self.stop,
            initial_backoff=self.settings.worker_restart_initial_seconds,
            max_backoff=self.settings.worker_restart_max_seconds,
        )

    def supervise(self, name: str, run: WorkerFn) -> asyncio.Task[None]:
        """Run a background worker under the supervisor (restarted when it crashes, listed
        in ``/readyz``); it must return when ``ctx.stop`` is set."""
        task = self.supervisor.start(name, run)
        self.tasks.append(task)
        return task


Hook = Callable[[ServiceContext], Awaitable[None]]
Admin = Annotated[Principal, Depends(require_roles(ADMINS))]


def create_service_app(
    *,
    name: str,
    settings: ServiceSettings,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    handlers: Sequence[EventHandler] = (),
    project_api_keys: bool = True,
    on_startup: Hook | None = None,
    on_shutdown: Hook | None = None,
    upload_paths: tuple[str, ...] = (),
    openapi_tags: list[dict[str, Any]] | None = None,
    catalogue: EventCatalogue | None = None,
    timer_jobs: Sequence[TimerJob] = (),
) -> FastAPI:
    """Build a service app; engines are connected in its lifespan, never at import.

    ``timer_jobs`` are fired by this service's scheduler (see :mod:`shared.scheduler`).
    """
    metrics = Metrics(name)
    access_log = AccessLog(logging.getLogger("aims.access"))
    all_handlers = list(handlers)
    if project_api_keys:
        all_handlers.append(api_key_projection(name))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.environment != "test":
            configure_logging(settings.log_level, json_output=settings.log_json, service=name)
        db = Database(
            settings.app_database_url,
            pool_size=settings.database_pool_size,
            application_name=f"aims-{name}",
        )
        instrument_engine(db.engine, metrics)  # SQL spans when tracing is on (shared/telemetry.py)
        ctx = ServiceContext(
            name=name,
            settings=settings,
            metrics=metrics,
            db=db,
            authenticator=Authenticator(settings, db),
        )
        app.state.ctx = ctx
        prefix = f"{settings.nats_consumer_prefix}-{name}"
        ctx.handlers = {durable_name(prefix, handler): handler for handler in all_handlers}
        # Every event this process emits is measured against the bound (tests: raise past it).
        configure_event_limits(
            max_bytes=settings.max_event_bytes, strict=settings.environment == "test"
        )
        workers_collector = WorkerCollector(ctx.supervisor, name)
        metrics.registry.register(workers_collector)
        pool_collector = PoolCollector(db.engine.sync_engine.pool, name)
        metrics.registry.register(pool_collector)
        try:
            if settings.nats_url:
                ctx.nc = await nats.connect(
                    settings.nats_url, name=f"aims-{name}", max_reconnect_attempts=-1
                )
                ctx.js = ctx.nc.jetstream()
                await ensure_stream(
                    ctx.js,
                    settings.nats_stream,
                    settings.nats_subject_prefix,
                    max_age_seconds=settings.nats_stream_max_age_seconds,
                    max_bytes=settings.nats_stream_max_bytes,
                    max_msg_size=settings.nats_stream_max_msg_bytes,
                )
            if on_startup is not None:
                await on_startup(ctx)
            if settings.run_workers and ctx.js is not None:
                await _start_workers(ctx, all_handlers)
            if settings.run_workers:
                await arm_retention(ctx.db)
                _start_scheduler(ctx, [*timer_jobs, _retention_job(ctx)])
            # What exists now (settings, routes, models, the modules) lives as long as the
            # process: keep it out of the cyclic garbage collector's full collections, which
            # otherwise walk it every few requests (a third of the gateway's CPU per dashboard
            # page, docs/performance.md). Reference counting still frees what is released.
            gc.freeze()
            logger.info("service started")
            yield
        finally:
            access_log.flush()  # the last requests' lines, before anything else stops
            gc.unfreeze()  # an app built again in this process (tests) must not pin this one
            ctx.stop.set()
            if ctx.tasks:
                _, pending = await asyncio.wait(ctx.tasks, timeout=10)
                for task in pending:
                    task.cancel()
            if on_shutdown is not None:
                await on_shutdown(ctx)
            if ctx.nc is not None:
                with contextlib.suppress(Exception):
                    await ctx.nc.drain()
            await db.dispose()
            metrics.registry.unregister(workers_collector)
            metrics.registry.unregister(pool_collector)

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        # Traces come from shared/telemetry.py, with a provider per app; FastAPI's own
        # telemetry (global providers only, so never on here) would still ask on every
        # request whether they are configured (≈ 3 µs, docs/performance.md).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # NUL characters and out-of-range integers answer 422 on every route, unknown query
    # parameters 400 on every route of the versioned API: checked by each route's handler
    # (``ScreenedRoute``), the routers' default and the app's own (shared/http.py).
    app.router.route_class = ScreenedRoute
    install_problem_handlers(app)
    install_problem_responses(app)  # documents those problems on every operation
    # One middleware for request ids, trace context, access log, metrics and the body limit.
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_json_body_bytes,
        exempt_paths=upload_paths,
        access_log=access_log,
    )
    instrument_app(app, name, metrics)  # traces, off unless OTEL_* configure them
    app.include_router(_operations_router(metrics))
    if catalogue is not None:
        document = build_asyncapi([catalogue], title=f"{title} events")

        @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI of emitted events")
        async def asyncapi() -> dict[str, Any]:
            return document

    for router in routers:
        app.include_router(router)
    if unscreened := unscreened_routes(app.router.routes):
        raise RuntimeError(
            "routes that skip the checks every operation makes (declare them on a "
            f"PrefilteredRouter or with route_class=ScreenedRoute): {', '.join(unscreened)}"
        )
    return app


async def _start_workers(ctx: ServiceContext, handlers: Sequence[EventHandler]) -> None:
    assert ctx.js is not None
    settings = ctx.settings
    ctx.relay = OutboxRelay(
        ctx.db,
        ctx.js,
        listen_dsn=asyncpg_dsn(settings.app_database_url),
        metrics=ctx.metrics,
        subject_prefix=settings.nats_subject_prefix,
        max_message_bytes=settings.nats_stream_max_msg_bytes,
    )
    ctx.supervise("relay", ctx.relay.run)
    for handler in handlers:
        runner = ConsumerRunner(
            ctx.db,
            ctx.js,
            handler,
            stream=settings.nats_stream,
            durable_prefix=f"{settings.nats_consumer_prefix}-{ctx.name}",
            metrics=ctx.metrics,
            subject_prefix=settings.nats_subject_prefix,
            max_deliver=settings.consumer_max_deliver,
            backoff=settings.consumer_backoff_seconds,
        )
        await runner.ensure_consumer()
        ctx.runners.append(runner)
        ctx.supervise(f"consumer:{handler.name}", runner.run)
    ctx.monitor = PipelineMonitor(
        ctx.db,
        ctx.js,
        ctx.runners,
        ctx.metrics,
        stream=settings.nats_stream,
        interval=settings.lag_sample_interval_seconds,
        outbox_lag_alert_seconds=settings.outbox_lag_alert_seconds,
        consumer_lag_alert_messages=settings.consumer_lag_alert_messages,
    )
    ctx.supervise("event-monitor", ctx.monitor.run)


def _retention_job(ctx: ServiceContext) -> TimerJob:
    settings = ctx.settings
    periods = RetentionPeriods(
        outbox_published=timedelta(hours=settings.outbox_retention_hours),
        inbox=timedelta(days=settings.inbox_retention_days),
        idempotency_keys=timedelta(hours=settings.idempotency_retention_hours),
        resolved_dead_letters=timedelta(days=settings.dead_letter_retention_days),
        interval=timedelta(seconds=settings.retention_interval_seconds),
    )
    return retention_job(periods, ctx.metrics)


def _start_scheduler(ctx: ServiceContext, jobs: Sequence[TimerJob]) -> None:
    settings = ctx.settings
    ctx.scheduler = Scheduler(
        ctx.db,
        jobs,
        interval=settings.scheduler_interval_seconds,
        backoff=settings.scheduler_backoff_seconds,
        listen_dsn=asyncpg_dsn(settings.app_database_url),
    )
    ctx.supervise("scheduler", ctx.scheduler.run)


def _operations_router(metrics: Metrics) -> APIRouter:
    # Tried before every service's routes: a path none of its routes take is passed on at once.
    router = PrefilteredRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: database and broker reachable, every worker running",
        responses={503: {"description": "Not ready", "content": {"application/json": {}}}},
    )
    async def readyz(request: Request) -> JSONResponse:
        ctx: ServiceContext = request.app.state.ctx
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(ctx.db.ping(), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if ctx.settings.nats_url:
            connected = ctx.nc is not None and ctx.nc.is_connected
            checks["broker"] = "ok" if connected else "unavailable"
        ready = all(v == "ok" for v in checks.values())
        # Workers: a crashed one is being restarted by the supervisor; not ready until it runs.
        workers = ctx.supervisor.workers
        checks["workers"] = {name: status.state for name, status in workers.items()}
        ready = ready and ctx.supervisor.all_running
        # Lag is reported, not a reason to take the replica out: it says where to look.
        events: dict[str, Any] | None = None
        if ctx.monitor is not None:
            checks["events"] = "lagging" if ctx.monitor.last.lagging else "ok"
            events = ctx.monitor.last.describe()
        return JSONResponse(
            {
                "status": "ready" if ready else "not-ready",
                "checks": checks,
                "workers": {name: status.describe() for name, status in workers.items()},
                "events": events,
            },
            status_code=200 if ready else 503,
        )

    router.add_api_route(
        "/metrics",
        _metrics_route(metrics),
        methods=["GET"],
        summary="Prometheus metrics",
        include_in_schema=True,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )

    @router.get("/v1/ops/dead-letters", summary="Events this service could not handle")
    async def dead_letters(request: Request, principal: Admin) -> dict[str, Any]:
        ctx: ServiceContext = request.app.state.ctx
        return {"items": await list_dead_letters(ctx.db, org_id=principal.org_id)}

    @router.post(
        "/v1/ops/dead-letters/{dead_letter_id}/replay",
        summary="Handle a dead-lettered event again",
    )
    async def replay(
        dead_letter_id: uuid.UUID, request: Request, principal: Admin
    ) -> dict[str, Any]:
        ctx: ServiceContext = request.app.state.ctx
        await replay_dead_letter(ctx.db, ctx.handlers, dead_letter_id, org_id=principal.org_id)
        return {"id": str(dead_letter_id), "replayed": True}

    # Every service's audit trail and its verification (shared/audit_api.py).
    router.include_router(audit_router())
    return router


def _metrics_route(metrics: Metrics) -> Callable[[], Awaitable[Any]]:
    async def endpoint() -> Any:
        return metrics.render()

    return endpoint
