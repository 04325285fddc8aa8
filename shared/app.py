"""The app factory every service uses: lifespan, middleware, health, metrics, workers.

A service supplies its routers and event handlers; this module owns the rest, so that every
service starts, reports health, relays its outbox, consumes events and shuts down the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
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
    list_dead_letters,
    replay_dead_letter,
)
from shared.events.envelope import EventCatalogue
from shared.events.relay import OutboxRelay, asyncpg_dsn, ensure_stream
from shared.http import BodyLimitMiddleware
from shared.observability import Metrics, RequestContextMiddleware, configure_logging
from shared.scheduler import Scheduler, TimerJob
from shared.settings import ServiceSettings
from shared.supervisor import Supervisor, WorkerFn

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
    relay: OutboxRelay | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    scheduler: Scheduler | None = None
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
        ctx = ServiceContext(
            name=name,
            settings=settings,
            metrics=metrics,
            db=db,
            authenticator=Authenticator(settings, db),
        )
        app.state.ctx = ctx
        try:
            if settings.nats_url:
                ctx.nc = await nats.connect(
                    settings.nats_url, name=f"aims-{name}", max_reconnect_attempts=-1
                )
                ctx.js = ctx.nc.jetstream()
                await ensure_stream(ctx.js, settings.nats_stream, settings.nats_subject_prefix)
            if on_startup is not None:
                await on_startup(ctx)
            if settings.run_workers and ctx.js is not None:
                await _start_workers(ctx, all_handlers)
            if settings.run_workers and timer_jobs:
                _start_scheduler(ctx, timer_jobs)
            logger.info("service started")
            yield
        finally:
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

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=openapi_tags,
    )
    install_problem_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_json_body_bytes,
        exempt_paths=upload_paths,
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.include_router(_operations_router(metrics))
    if catalogue is not None:
        document = build_asyncapi([catalogue], title=f"{title} events")

        @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI of emitted events")
        async def asyncapi() -> dict[str, Any]:
            return document

    for router in routers:
        app.include_router(router)
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
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: database and broker reachable, every worker running")
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
        return JSONResponse(
            {
                "status": "ready" if ready else "not-ready",
                "checks": checks,
                "workers": {name: status.describe() for name, status in workers.items()},
            },
            status_code=200 if ready else 503,
        )

    router.add_api_route(
        "/metrics",
        _metrics_route(metrics),
        methods=["GET"],
        summary="Prometheus metrics",
        include_in_schema=True,
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
        await replay_dead_letter(ctx.db, ctx.runners, dead_letter_id, org_id=principal.org_id)
        return {"id": str(dead_letter_id), "replayed": True}

    # Every service's audit trail and its verification (shared/audit_api.py).
    router.include_router(audit_router())
    return router


def _metrics_route(metrics: Metrics) -> Callable[[], Awaitable[Any]]:
    async def endpoint() -> Any:
        return metrics.render()

    return endpoint
