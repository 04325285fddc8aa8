"""Timers fire once across replicas, back off on failure, catch up after downtime; supervised
workers are restarted and reported by /readyz."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from shared.app import ServiceContext, create_service_app
from shared.db import ORG_SETTING, Database, outbox_table, tenant_transaction, utcnow, uuid7
from shared.events import EventCatalogue, emit, make_event
from shared.events.relay import asyncpg_dsn
from shared.scheduler import (
    TIMER_NOTIFY_CHANNEL,
    Scheduler,
    Timer,
    TimerJob,
    arm_debounced,
    due_instant,
    get_timer,
    set_timer,
)
from shared.settings import ServiceSettings
from shared.supervisor import Supervisor
from shared.testing import TestEngines, eventually

pytestmark = pytest.mark.engines


class Fired(BaseModel):
    kind: str
    entity_id: str
    due_at: datetime


FIRED = EventCatalogue("schedtest").register("timer.fired", Fired, "test event")


@pytest.fixture
async def db(engines: TestEngines) -> AsyncIterator[Database]:
    database = Database(engines.databases["risk"].app_url, pool_size=4)
    try:
        yield database
    finally:
        await database.dispose()


def kind() -> str:
    """A kind of timer no other test (nor the running services) handles."""
    return f"test.{secrets.token_hex(4)}"


def emitting_job(kind_: str, before: Callable[[Timer], Awaitable[None]] | None = None) -> TimerJob:
    """A job that checks its org scoping and emits one event per firing (into the outbox)."""

    async def fire(session: AsyncSession, timer: Timer) -> None:
        scoped = await session.scalar(sa.text(f"SELECT current_setting('{ORG_SETTING}', true)"))
        assert scoped == str(timer.org_id)
        if before is not None:
            await before(timer)
        await emit(
            session,
            make_event(
                FIRED,
                org_id=timer.org_id,
                subject=timer.entity_id,
                version=1,
                data=Fired(kind=timer.kind, entity_id=timer.entity_id, due_at=timer.due_at),
            ),
        )

    return TimerJob(kind=kind_, fire=fire)


async def arm(
    db: Database, org: uuid.UUID, kind_: str, entity: str, due: datetime | date | None
) -> None:
    async with tenant_transaction(db, org) as session:
        await set_timer(session, org_id=org, kind=kind_, entity_id=entity, due_at=due)


async def fired_events(db: Database, kind_: str) -> Counter[str]:
    """How many events each entity's timer emitted (committed outbox rows)."""
    async with db.sessions() as session:
        rows = await session.execute(
            sa.select(outbox_table.c.envelope["data"]["entity_id"].astext).where(
                outbox_table.c.type == FIRED.name,
                outbox_table.c.envelope["data"]["kind"].astext == kind_,
            )
        )
        return Counter(r[0] for r in rows)


async def timer_row(db: Database, org: uuid.UUID, kind_: str, entity: str) -> Any:
    async with db.sessions() as session:
        return await get_timer(session, org_id=org, kind=kind_, entity_id=entity)


async def test_two_schedulers_fire_each_timer_exactly_once(db: Database) -> None:
    kind_ = kind()
    orgs = [uuid7(), uuid7()]
    past = utcnow() - timedelta(minutes=5)
    entities = [f"e{i}" for i in range(40)]
    for i, entity in enumerate(entities):
        await arm(db, orgs[i % 2], kind_, entity, past + timedelta(seconds=i))

    async def slow(_: Timer) -> None:
        await asyncio.sleep(0.005)  # widen the window in which both replicas want one timer

    job = emitting_job(kind_, slow)
    replicas = [Scheduler(db, [job], interval=0.05, batch_size=5) for _ in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run(stop)) for s in replicas]
    try:

        async def all_fired() -> Counter[str] | None:
            counts = await fired_events(db, kind_)
            return counts if len(counts) == len(entities) else None

        counts = await eventually(all_fired)
        await asyncio.sleep(0.3)  # several more ticks of both replicas: nothing fires again
        counts = await fired_events(db, kind_)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert counts == Counter({entity: 1 for entity in entities})
    row = await timer_row(db, orgs[0], kind_, "e0")
    assert row.fired_at is not None and row.attempts == 1


async def test_a_failing_job_backs_off_without_blocking_the_others(db: Database) -> None:
    kind_ = kind()
    org = uuid7()
    past = utcnow() - timedelta(hours=1)
    # The bad timer is the oldest: it is claimed first on every tick.
    await arm(db, org, kind_, "bad", past)
    await arm(db, org, kind_, "good", past + timedelta(minutes=1))
    failures = {"left": 2}

    async def flaky(timer: Timer) -> None:
        if timer.entity_id == "bad" and failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("upstream unavailable")

    # The job emits after ``flaky``: move the failure after the emit to prove it is rolled back.
    inner = emitting_job(kind_)

    async def fire(session: AsyncSession, timer: Timer) -> None:
        await inner.fire(session, timer)
        await flaky(timer)

    # The first back-off is long enough for the two ticks below on a loaded machine.
    scheduler = Scheduler(db, [TimerJob(kind_, fire)], interval=0.05, backoff=[5.0, 0.2])
    assert await scheduler.tick() == 2  # bad failed, good fired, in one tick
    assert await fired_events(db, kind_) == Counter({"good": 1})
    bad = await timer_row(db, org, kind_, "bad")
    assert bad.fired_at is None
    assert bad.attempts == 1
    assert bad.last_error == "RuntimeError: upstream unavailable"
    assert bad.next_attempt_at > utcnow()
    assert await scheduler.tick() == 0  # backing off: not retried at once

    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    try:

        async def retried_until_fired() -> bool:
            row = await timer_row(db, org, kind_, "bad")
            return row.fired_at is not None

        await eventually(retried_until_fired, timeout=30)
    finally:
        stop.set()
        await task
    bad = await timer_row(db, org, kind_, "bad")
    assert bad.attempts == 3 and bad.last_error is None
    # Two failed attempts emitted nothing: their transactions were rolled back.
    assert await fired_events(db, kind_) == Counter({"good": 1, "bad": 1})


async def test_one_tick_handles_a_timer_at_most_once_even_when_slower_than_its_back_off(
    db: Database,
) -> None:
    """A tick claims only what was due when it began: the failed timer's back-off (0.05 s)
    ends while the next job is still running (0.3 s), and it still waits for the next tick."""
    kind_ = kind()
    org = uuid7()
    past = utcnow() - timedelta(hours=1)
    await arm(db, org, kind_, "bad", past)
    await arm(db, org, kind_, "slow", past + timedelta(minutes=1))

    async def fire(session: AsyncSession, timer: Timer) -> None:
        if timer.entity_id == "bad":
            raise RuntimeError("always down")
        await asyncio.sleep(0.3)

    scheduler = Scheduler(db, [TimerJob(kind_, fire)], backoff=[0.05])
    assert await scheduler.tick() == 2
    bad = await timer_row(db, org, kind_, "bad")
    assert bad.attempts == 1 and bad.fired_at is None
    assert bad.next_attempt_at < utcnow()  # due again now: the next tick takes it
    assert await scheduler.tick() == 1
    assert (await timer_row(db, org, kind_, "bad")).attempts == 2


async def test_timers_that_came_due_during_downtime_fire_on_the_first_tick(
    db: Database,
) -> None:
    kind_ = kind()
    org = uuid7()
    today = utcnow().date()
    await arm(db, org, kind_, "last-week", utcnow() - timedelta(days=7))
    await arm(db, org, kind_, "yesterday", today - timedelta(days=1))  # a date: due today 00:00
    await arm(db, org, kind_, "today", today)  # a date: due at midnight tonight
    await arm(db, org, kind_, "next-hour", utcnow() + timedelta(hours=1))
    scheduler = Scheduler(db, [emitting_job(kind_)])
    assert await scheduler.tick() == 2
    assert await fired_events(db, kind_) == Counter({"last-week": 1, "yesterday": 1})
    today_row = await timer_row(db, org, kind_, "today")
    assert today_row.due_at == datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)
    assert today_row.fired_at is None


async def test_rearming_clearing_and_timers_of_other_kinds(db: Database) -> None:
    kind_, other = kind(), kind()
    org = uuid7()
    first = utcnow() - timedelta(minutes=10)
    await arm(db, org, kind_, "x", first)
    await arm(db, org, kind_, "cleared", first)
    await arm(db, org, kind_, "cleared", None)
    await arm(db, org, other, "x", first)  # not this scheduler's kind: left alone
    scheduler = Scheduler(db, [emitting_job(kind_)])
    assert await scheduler.tick() == 1
    assert await timer_row(db, org, kind_, "cleared") is None
    assert (await timer_row(db, org, other, "x")).fired_at is None

    await arm(db, org, kind_, "x", first)  # the same date again: already fired, stays fired
    assert await scheduler.tick() == 0
    await arm(db, org, kind_, "x", first + timedelta(minutes=1))  # a new date: fires again
    assert (await timer_row(db, org, kind_, "x")).fired_at is None
    assert await scheduler.tick() == 1
    await arm(db, org, kind_, "x", utcnow() + timedelta(days=1))  # re-armed for later
    assert await scheduler.tick() == 0
    assert await fired_events(db, kind_) == Counter({"x": 2})


async def test_a_job_that_rearms_its_own_timer_keeps_it_armed(db: Database) -> None:
    kind_ = kind()
    org = uuid7()
    later = utcnow() + timedelta(days=30)

    async def fire(session: AsyncSession, timer: Timer) -> None:
        await set_timer(
            session, org_id=timer.org_id, kind=timer.kind, entity_id=timer.entity_id, due_at=later
        )

    await arm(db, org, kind_, "cycle", utcnow() - timedelta(seconds=1))
    assert await Scheduler(db, [TimerJob(kind_, fire)]).tick() == 1
    row = await timer_row(db, org, kind_, "cycle")
    assert (row.fired_at, row.due_at) == (None, later)


async def test_arming_a_due_timer_wakes_the_scheduler(db: Database, engines: TestEngines) -> None:
    from shared.events.relay import asyncpg_dsn

    kind_ = kind()
    org = uuid7()
    # An hour between polls: only the NOTIFY sent on commit can make it fire in time.
    scheduler = Scheduler(
        db,
        [emitting_job(kind_)],
        interval=3600,
        listen_dsn=asyncpg_dsn(engines.databases["risk"].app_url),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    try:
        await asyncio.sleep(0.5)  # the first tick has run and the scheduler listens
        await arm(db, org, kind_, "now", utcnow())

        async def fired() -> Counter[str] | None:
            return await fired_events(db, kind_) or None

        assert await eventually(fired, timeout=5) == Counter({"now": 1})
    finally:
        stop.set()
        await task


@given(st.dates(min_value=date(1970, 1, 2), max_value=date(9998, 12, 30)))
def test_a_date_is_due_once_the_whole_day_has_passed(day: date) -> None:
    due = due_instant(day)
    assert due.tzinfo is UTC
    assert due - timedelta(microseconds=1) < due
    assert (due - timedelta(microseconds=1)).date() == day  # the last instant of the day: not due
    assert due.date() == day + timedelta(days=1) and due.time() == time.min


def test_an_aware_datetime_keeps_its_instant_and_a_naive_one_is_utc() -> None:
    aware = datetime(2027, 1, 1, 12, tzinfo=UTC).astimezone()
    assert due_instant(aware) == aware and due_instant(aware).tzinfo is UTC
    assert due_instant(datetime(2027, 1, 1, 12)) == datetime(2027, 1, 1, 12, tzinfo=UTC)


# --- Supervision --------------------------------------------------------------------------------


async def test_the_supervisor_restarts_a_crashed_worker() -> None:
    stop = asyncio.Event()
    supervisor = Supervisor(stop, initial_backoff=0.05, max_backoff=0.1)
    runs = {"n": 0}

    async def crashes_twice(stop_: asyncio.Event) -> None:
        runs["n"] += 1
        if runs["n"] <= 2:
            raise RuntimeError(f"crash {runs['n']}")
        await stop_.wait()

    async def returns_early(stop_: asyncio.Event) -> None:
        await asyncio.sleep(0)

    supervisor.start("flaky", crashes_twice)
    supervisor.start("quitter", returns_early)

    async def recovered() -> bool:
        return supervisor.workers["flaky"].state == "running" and runs["n"] == 3

    await eventually(recovered, timeout=5, interval=0.01)
    flaky = supervisor.workers["flaky"]
    assert (flaky.restarts, flaky.last_error) == (2, "RuntimeError: crash 2")
    # A worker that ends on its own while the service runs is a crash too.
    quitter = supervisor.workers["quitter"]
    await eventually(lambda: _async(quitter.restarts >= 2), timeout=5, interval=0.01)
    assert quitter.last_error == "exited before the service stopped"
    assert not supervisor.all_running or quitter.state == "running"
    stop.set()
    await asyncio.gather(*supervisor.tasks.values())
    assert set(supervisor.states().values()) == {"stopped"}


async def _async(value: bool) -> bool:
    return value


async def test_readyz_reports_a_crashed_worker_until_it_runs_again(engines: TestEngines) -> None:
    crash = asyncio.Event()
    healthy = asyncio.Event()

    async def probe(stop: asyncio.Event) -> None:
        """Runs until told to crash; after a crash, waits to be allowed to run again."""
        await healthy.wait()
        waiters = [asyncio.ensure_future(crash.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        if crash.is_set() and not stop.is_set():
            crash.clear()
            healthy.clear()
            raise RuntimeError("probe crashed")

    async def on_startup(ctx: ServiceContext) -> None:
        ctx.supervise("probe", probe)

    env = engines.settings_env("risk") | {
        "nats_consumer_prefix": f"{engines.prefix}-{secrets.token_hex(3)}",
        "worker_restart_initial_seconds": 0.3,
        "worker_restart_max_seconds": 0.3,
    }
    app: FastAPI = create_service_app(
        name="schedtest",
        settings=ServiceSettings(**env),
        title="t",
        description="t",
        routers=[],
        on_startup=on_startup,
        timer_jobs=[emitting_job(kind())],
    )
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        async with client:
            healthy.set()

            async def ready() -> dict[str, Any] | None:
                r = await client.get("/readyz")
                return r.json() if r.status_code == 200 else None

            body = await eventually(ready)
            assert body["checks"]["database"] == "ok" and body["checks"]["broker"] == "ok"
            assert body["checks"]["workers"] == {
                "relay": "running",
                "consumer:api-keys": "running",
                "scheduler": "running",
                "event-monitor": "running",
                "probe": "running",
            }
            crash.set()

            async def not_ready() -> dict[str, Any] | None:
                r = await client.get("/readyz")
                return r.json() if r.status_code == 503 else None

            down = await eventually(not_ready)
            assert down["status"] == "not-ready"
            assert down["checks"]["workers"]["probe"] == "restarting"
            assert down["checks"]["workers"]["relay"] == "running"
            assert down["workers"]["probe"]["last_error"] == "RuntimeError: probe crashed"
            healthy.set()
            back = await eventually(ready)
            assert back["workers"]["probe"]["restarts"] == 1
            assert back["workers"]["probe"]["state"] == "running"


async def test_every_service_reports_its_workers(stack: Any) -> None:
    expected = {
        "inventory": {"relay", "consumer:risk-classification"},
        "risk": {"relay", "scheduler", "consumer:systems", "consumer:system-scope"},
        "gateway": {"relay", "consumer:webhooks", "webhook-delivery"},
    }
    for service, names in expected.items():
        response = await stack.clients[service].get("/readyz")
        assert response.status_code == 200, response.text
        workers = response.json()["checks"]["workers"]
        assert names <= set(workers), (service, workers)
        assert set(workers.values()) == {"running"}


# --- arm_debounced: armed at COMMIT, never lost to a firing that ran meanwhile -------------


async def arm_soon(db: Database, orgs: list[uuid.UUID], kind_: str, delay: float = 2.0) -> None:
    """One transaction that asks for the debounced timer of each of ``orgs`` (repeatedly)."""
    async with tenant_transaction(db, orgs[0]) as session:
        for org in orgs * 2:
            await arm_debounced(
                session, org_id=org, kind=kind_, entity_id="org", delay=timedelta(seconds=delay)
            )


async def test_a_debounced_timer_is_armed_once_at_commit_and_kept_when_due_sooner(
    db: Database,
) -> None:
    kind_ = kind()
    a, b = uuid7(), uuid7()
    before = utcnow()
    async with tenant_transaction(db, a) as session:
        for org in (b, a, b):
            await arm_debounced(
                session, org_id=org, kind=kind_, entity_id="org", delay=timedelta(seconds=5)
            )
        assert await timer_row(db, a, kind_, "org") is None  # nothing before the COMMIT
    rows = [await timer_row(db, org, kind_, "org") for org in (a, b)]
    for row in rows:
        assert row.fired_at is None and row.attempts == 0
        assert before + timedelta(seconds=5) <= row.due_at <= utcnow() + timedelta(seconds=5)
    # Due sooner already: a later request keeps it (a steady stream cannot postpone it).
    await arm_soon(db, [a], kind_, delay=60)
    assert (await timer_row(db, a, kind_, "org")).due_at == rows[0].due_at
    # Due later (a daily re-arm) or fired: brought forward and armed again.
    await arm(db, a, kind_, "org", utcnow() + timedelta(days=1))
    await arm_soon(db, [a], kind_, delay=1)
    assert (await timer_row(db, a, kind_, "org")).due_at < utcnow() + timedelta(seconds=1)
    async with db.sessions() as session, session.begin():
        await session.execute(
            sa.text("UPDATE timer SET fired_at = now(), attempts = 3 WHERE kind = :k"),
            {"k": kind_},
        )
    await arm_soon(db, [a, b], kind_)
    for org in (a, b):
        row = await timer_row(db, org, kind_, "org")
        assert row.fired_at is None and row.attempts == 0


async def test_a_firing_while_the_requesting_transaction_is_open_is_followed_by_another(
    db: Database,
) -> None:
    """The readiness race: an event's transaction asks for the recompute, a scheduler fires
    the timer (and re-arms it for tomorrow) before that transaction commits, so the firing did
    not see the event. After the COMMIT the timer must be due again, soon."""
    kind_ = kind()
    org = uuid7()
    await arm(db, org, kind_, "org", utcnow() - timedelta(seconds=1))  # pending, due now

    async def fire_and_rearm(session: AsyncSession, timer: Timer) -> None:
        await set_timer(
            session,
            org_id=timer.org_id,
            kind=kind_,
            entity_id="org",
            due_at=utcnow() + timedelta(days=1),
        )

    scheduler = Scheduler(db, [TimerJob(kind_, fire_and_rearm)])
    async with tenant_transaction(db, org) as session:
        await arm_debounced(
            session, org_id=org, kind=kind_, entity_id="org", delay=timedelta(seconds=2)
        )
        assert await scheduler.tick() == 1  # fires while the event's transaction is open
        assert (await timer_row(db, org, kind_, "org")).due_at > utcnow() + timedelta(hours=1)
    row = await timer_row(db, org, kind_, "org")
    assert row.fired_at is None
    assert row.due_at <= utcnow() + timedelta(seconds=2)


async def test_a_commit_that_arms_waits_for_a_firing_in_progress_then_arms_again(
    db: Database,
) -> None:
    kind_ = kind()
    org = uuid7()
    await arm(db, org, kind_, "org", utcnow() - timedelta(seconds=1))
    firing, release = asyncio.Event(), asyncio.Event()

    async def slow_fire(session: AsyncSession, timer: Timer) -> None:
        firing.set()
        await release.wait()

    scheduler = Scheduler(db, [TimerJob(kind_, slow_fire)])
    tick = asyncio.create_task(scheduler.tick())
    await asyncio.wait_for(firing.wait(), 10)
    # A long debounce, so that a stalled machine cannot make the re-armed timer due again
    # before the last assertion reads it.
    commit = asyncio.create_task(arm_soon(db, [org], kind_, delay=60))
    done, _ = await asyncio.wait([commit], timeout=0.5)
    assert not done  # the COMMIT waits on the claimed row
    release.set()
    assert await tick == 1
    await asyncio.wait_for(commit, 10)
    row = await timer_row(db, org, kind_, "org")
    assert row.fired_at is None  # armed again after the firing
    # And the other way round: while the arming COMMIT holds the row, no claim takes it.
    assert row.due_at > utcnow()


async def test_transactions_arming_many_organisations_in_any_order_do_not_deadlock(
    db: Database,
) -> None:
    """Three consumers (the readiness consumers of three streams) each arm the same
    organisations' timers in their own order, at once, many times: rows are taken in sorted
    order at COMMIT, so none waits on another in a cycle."""
    kind_ = kind()
    orgs = [uuid7() for _ in range(6)]
    orders = [orgs, orgs[::-1], orgs[3:] + orgs[:3]]
    for _ in range(15):
        await asyncio.gather(*(arm_soon(db, order, kind_) for order in orders))
    for org in orgs:
        assert (await timer_row(db, org, kind_, "org")).fired_at is None


async def test_a_debounced_timer_wakes_a_sleeping_scheduler_and_fires_when_due(
    engines: TestEngines, db: Database
) -> None:
    """Readiness lag: a scheduler polling every 30 s fires a timer armed 0.5 s ahead about
    0.5 s after the COMMIT (woken by it, then sleeping only until the timer is due), and a
    burst that keeps the pending timer wakes no one again."""
    kind_ = kind()
    org = uuid7()
    dsn = asyncpg_dsn(engines.databases["risk"].app_url)
    listener = await asyncpg.connect(dsn)
    notified: list[str] = []
    await listener.add_listener(TIMER_NOTIFY_CHANNEL, lambda *args: notified.append(args[3]))
    scheduler = Scheduler(db, [emitting_job(kind_)], interval=30.0, listen_dsn=dsn)
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    try:
        await asyncio.sleep(0.5)  # the scheduler is listening and asleep
        before = len(notified)
        armed = utcnow()
        await arm_soon(db, [org], kind_, delay=0.5)
        await arm_soon(db, [org], kind_, delay=0.5)  # kept: due sooner already

        async def fired() -> Counter[str] | None:
            counts = await fired_events(db, kind_)
            return counts or None

        assert await eventually(fired, timeout=10) == Counter({"org": 1})
        row = await timer_row(db, org, kind_, "org")
        assert row.fired_at is not None
        assert timedelta(seconds=0.5) <= row.fired_at - armed < timedelta(seconds=10)
        assert len(notified) - before == 1
    finally:
        stop.set()
        await task
        await listener.close()
