"""Supervision of a service's background workers (outbox relay, consumers, scheduler, …).

Every worker is a coroutine ``run(stop)`` that loops until ``stop`` is set. The supervisor runs
each one in its own task; when a worker raises (or returns while the service is not stopping)
it records the crash, waits with exponential back-off and starts it again, so one crashed loop
never silently leaves a service half-working — whatever the error, including one raised in a
worker's own error path (a consumer's ``nak``/``term``/dead-lettering). ``/readyz`` reports each
worker's state and answers 503 while one of them is not running; ``/metrics`` has
``aims_worker_up`` and ``aims_worker_restarts_total`` (:class:`WorkerCollector`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from shared.db import utcnow

logger = logging.getLogger("aims.supervisor")

WorkerFn = Callable[[asyncio.Event], Awaitable[None]]
WorkerState = Literal["starting", "running", "restarting", "stopped"]


@dataclass
class WorkerStatus:
    """What ops see of one worker (``/readyz``)."""

    name: str
    state: WorkerState = "starting"
    restarts: int = 0
    last_error: str | None = None
    last_crash_at: datetime | None = None
    since: datetime = field(default_factory=utcnow)

    def describe(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "restarts": self.restarts,
            "last_error": self.last_error,
            "last_crash_at": self.last_crash_at.isoformat() if self.last_crash_at else None,
            "since": self.since.isoformat(),
        }


class Supervisor:
    """Runs named workers until ``stop`` is set, restarting each one that crashes."""

    def __init__(
        self,
        stop: asyncio.Event,
        *,
        initial_backoff: float = 1.0,
        max_backoff: float = 60.0,
    ) -> None:
        self.stop = stop
        self.initial_backoff = initial_backoff
        self.max_backoff = max(max_backoff, initial_backoff)
        self.workers: dict[str, WorkerStatus] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, run: WorkerFn) -> asyncio.Task[None]:
        """Start supervising ``run`` under ``name`` (unique within the service)."""
        if name in self.workers:
            raise ValueError(f"a worker named {name!r} is already supervised")
        status = WorkerStatus(name=name)
        self.workers[name] = status
        task = asyncio.create_task(self._supervise(status, run), name=f"worker-{name}")
        self.tasks[name] = task
        return task

    def states(self) -> dict[str, WorkerState]:
        return {name: status.state for name, status in self.workers.items()}

    @property
    def all_running(self) -> bool:
        return all(status.state == "running" for status in self.workers.values())

    def _set(self, status: WorkerStatus, state: WorkerState) -> None:
        status.state = state
        status.since = utcnow()

    async def _supervise(self, status: WorkerStatus, run: WorkerFn) -> None:
        delay = self.initial_backoff
        try:
            while not self.stop.is_set():
                self._set(status, "running")
                started = time.monotonic()
                try:
                    await run(self.stop)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if self.stop.is_set():
                        break
                    status.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    logger.exception("worker crashed", extra={"worker": status.name})
                else:
                    if self.stop.is_set():
                        break
                    status.last_error = "exited before the service stopped"
                    logger.error("worker exited unexpectedly", extra={"worker": status.name})
                status.restarts += 1
                status.last_crash_at = utcnow()
                self._set(status, "restarting")
                if time.monotonic() - started > self.max_backoff:
                    delay = self.initial_backoff  # it had been healthy for a while
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), timeout=delay)
                delay = min(delay * 2, self.max_backoff)
        finally:
            self._set(status, "stopped")


class WorkerCollector:
    """``/metrics`` view of a supervisor's workers, read at scrape time:
    ``aims_worker_up`` (1 running, 0 down) and ``aims_worker_restarts_total``."""

    def __init__(self, supervisor: Supervisor, service: str) -> None:
        self.supervisor = supervisor
        self.service = service

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "aims_worker_up",
            "1 while the background worker runs, 0 while it is down (restarting or stopped)",
            labels=["service", "worker"],
        )
        restarts = CounterMetricFamily(
            "aims_worker_restarts",
            "Times the supervisor restarted the background worker since the process started",
            labels=["service", "worker"],
        )
        for name, status in self.supervisor.workers.items():
            up.add_metric([self.service, name], 1.0 if status.state == "running" else 0.0)
            restarts.add_metric([self.service, name], float(status.restarts))
        yield up
        yield restarts

    def describe(self) -> Iterator[Metric]:
        return iter(())
