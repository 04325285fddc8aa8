"""Timers and the scheduler that fires them: time-based events (review dates, retention, expiry).

A domain arms a timer in the same transaction as the state change that sets a date
(:func:`set_timer`); when the date passes, the scheduler of the owning service calls the
:class:`TimerJob` registered for the timer's ``kind``, which re-reads the entity and emits its
events. The job runs in one transaction scoped to the timer's organisation, and the timer is
marked fired in that same transaction, so an event is emitted exactly once:

- *Several replicas.* A timer is claimed with ``SELECT … FOR UPDATE SKIP LOCKED``, one timer per
  transaction: while one replica fires it, the others skip it, and once that transaction commits
  ``fired_at`` is set, so no other replica can claim it again. No advisory lock is needed: the row
  lock is the lease, and it is released by commit, rollback or a dropped connection.
- *Downtime.* Due timers are simply those with ``due_at <= now()`` not yet fired, so timers that
  came due while no scheduler ran fire on the first tick after start.
- *A failing job* is rolled back (to a savepoint) and its timer records ``attempts``,
  ``last_error`` and ``next_attempt_at`` (back-off), so it is retried later and never blocks the
  timers behind it.
- *Dates.* A ``date`` D means "on day D": the timer fires when day D has passed, at
  D+1 00:00 UTC (see :func:`due_instant`).

The ``timer`` table is a worker table like ``outbox``: it has no row-level security because the
scheduler reads it across organisations; it is never exposed by the API without an org filter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import (
    NAMING_CONVENTION,
    Database,
    dollar_quoted,
    gather_to_commit,
    set_org,
    utcnow,
)

logger = logging.getLogger("aims.scheduler")

#: ``NOTIFY`` channel that wakes the schedulers when a timer is armed that is due (almost) now.
TIMER_NOTIFY_CHANNEL = "aims_timer"
#: A timer armed to fire within this much of now notifies the schedulers (on commit).
_NOTIFY_HORIZON = timedelta(seconds=1)

# Own metadata: this table comes with the ``20261128_audit`` migration of each service (its DDL
# is frozen in ``migrations/toolkit_20261128.py``; a change here needs a new revision).
timer_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

timer_table = sa.Table(
    "timer",
    timer_metadata,
    sa.Column("org_id", PG_UUID(as_uuid=True), primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("entity_id", sa.Text, primary_key=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("armed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("ix_timer_pending", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)


@dataclass(frozen=True)
class Timer:
    """The timer a job is fired for."""

    org_id: uuid.UUID
    kind: str
    entity_id: str
    due_at: datetime


@dataclass(frozen=True)
class TimerJob:
    """What to do when a timer of ``kind`` comes due.

    ``fire`` runs in one transaction already scoped to ``timer.org_id`` (``set_org`` done). It
    must re-check the entity's current state (the timer may be stale: the entity may have
    changed or gone) and emit its events; the timer is marked fired in the same transaction, so
    an event is emitted exactly once. Raising rolls the job back and retries it later. ``fire``
    may re-arm its own timer with :func:`set_timer` (a new ``due_at``): it is then not marked
    fired.

    Lock the entity with ``NOWAIT`` (``with_for_update={"nowait": True}``), not a waiting
    ``FOR UPDATE``: the timer row is already locked here, and a request that changes the entity
    locks the entity first and then re-arms its timer, so waiting could deadlock. A busy entity
    fails the job, which is retried after the back-off.
    """

    kind: str
    fire: Callable[[AsyncSession, Timer], Awaitable[None]]


def due_instant(value: datetime | date) -> datetime:
    """The UTC instant a timer for ``value`` fires.

    A ``datetime`` fires at that instant (a naive one is taken as UTC). A ``date`` D fires at
    D+1 00:00 UTC: a review "due on D" is overdue once day D has passed everywhere UTC counts it.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC)


async def set_timer(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    kind: str,
    entity_id: str | uuid.UUID,
    due_at: datetime | date | None,
) -> None:
    """Arm, re-arm or clear the timer ``(org_id, kind, entity_id)`` in the caller's transaction.

    A new ``due_at`` re-arms the timer even when it has fired (attempts and errors start
    again); the same ``due_at`` leaves it as it is (a fired timer does not fire twice for one
    date). ``None`` removes the timer. ``date`` values follow :func:`due_instant`.
    """
    key = (
        (timer_table.c.org_id == org_id)
        & (timer_table.c.kind == kind)
        & (timer_table.c.entity_id == str(entity_id))
    )
    if due_at is None:
        await session.execute(timer_table.delete().where(key))
        return
    instant = due_instant(due_at)
    insert = pg_insert(timer_table).values(
        org_id=org_id,
        kind=kind,
        entity_id=str(entity_id),
        due_at=instant,
        attempts=0,
        armed_at=utcnow(),
    )
    same = timer_table.c.due_at == insert.excluded.due_at
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[timer_table.c.org_id, timer_table.c.kind, timer_table.c.entity_id],
            set_={
                "due_at": insert.excluded.due_at,
                "fired_at": sa.case((same, timer_table.c.fired_at), else_=None),
                "attempts": sa.case((same, timer_table.c.attempts), else_=0),
                "last_error": sa.case((same, timer_table.c.last_error), else_=None),
                "next_attempt_at": sa.case((same, timer_table.c.next_attempt_at), else_=None),
                "armed_at": sa.case((same, timer_table.c.armed_at), else_=insert.excluded.armed_at),
            },
        )
    )
    if instant <= utcnow() + _NOTIFY_HORIZON:
        # Delivered on commit only: the schedulers wake when the timer is visible to them.
        await session.execute(
            sa.text("SELECT pg_notify(:channel, '')"), {"channel": TIMER_NOTIFY_CHANNEL}
        )


async def arm_debounced(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    kind: str,
    entity_id: str | uuid.UUID,
    delay: timedelta,
) -> None:
    """Arm ``(org_id, kind, entity_id)`` to fire ``delay`` after this transaction commits,
    unless it is already armed to fire sooner: a burst of requests arms it once.

    The timer row is written at ``COMMIT`` and in the same message (one statement for every
    organisation the transaction asked for, in sorted order), so its lock is held only while
    the server commits. While a scheduler has the timer claimed (firing it), the write waits
    for that firing to commit and then arms it again, since the firing may not have seen this
    transaction's changes; while the write holds the row, a scheduler's ``SKIP LOCKED`` claim
    passes it by. Either way a firing that sees this transaction's changes follows it.
    Outside a transaction begun by :func:`set_org` the row is written at once instead.
    """
    key = ("arm_debounced", kind, str(entity_id), delay)

    def build(orgs: list[uuid.UUID]) -> str:
        now = utcnow()
        return _debounce_statement(kind, str(entity_id), orgs, due=now + delay, armed=now)

    if not await gather_to_commit(session, key, org_id, build):
        await session.execute(sa.text(build([org_id])))


def _debounce_statement(
    kind: str, entity_id: str, orgs: list[uuid.UUID], *, due: datetime, armed: datetime
) -> str:
    """One upsert arming ``(org, kind, entity_id)`` for each of ``orgs`` at ``due`` unless it
    is pending and due sooner; every value inlined as a literal (UUIDs, dollar quoting)."""
    due_literal = f"'{due.astimezone(UTC).isoformat()}'::timestamptz"
    armed_literal = f"'{armed.astimezone(UTC).isoformat()}'::timestamptz"
    kind_literal, entity_literal = dollar_quoted(kind), dollar_quoted(entity_id)
    rows = ", ".join(
        f"('{uuid.UUID(str(org))}'::uuid, {kind_literal}, {entity_literal}, {due_literal}, 0, "
        f"{armed_literal})"
        for org in orgs
    )
    keep = "t.fired_at IS NULL AND t.due_at <= excluded.due_at"
    kept = ("due_at", "attempts", "last_error", "next_attempt_at", "armed_at")
    new = {"attempts": "0", "last_error": "NULL", "next_attempt_at": "NULL"}
    assignments = ", ".join(
        f"{column} = CASE WHEN {keep} THEN t.{column} ELSE {new.get(column, f'excluded.{column}')}"
        " END"
        for column in kept
    )
    # The schedulers are woken (at COMMIT) when a timer was armed at ``due``, not when one due
    # sooner was kept: once per burst, so that they wait for ``due`` rather than their interval.
    channel = dollar_quoted(TIMER_NOTIFY_CHANNEL)
    return (
        f"WITH armed AS (INSERT INTO {timer_table.name} AS t "
        "(org_id, kind, entity_id, due_at, attempts, armed_at) "
        f"VALUES {rows} ON CONFLICT (org_id, kind, entity_id) DO UPDATE SET {assignments}, "
        f"fired_at = NULL RETURNING t.due_at) SELECT pg_notify({channel}, '') "
        f"FROM (SELECT 1 FROM armed WHERE due_at = {due_literal} LIMIT 1) AS woken"
    )


async def get_timer(
    session: AsyncSession, *, org_id: uuid.UUID, kind: str, entity_id: str | uuid.UUID
) -> sa.Row[tuple[object, ...]] | None:
    """The stored timer row (for status displays and tests), or None."""
    result = await session.execute(
        sa.select(timer_table).where(
            (timer_table.c.org_id == org_id)
            & (timer_table.c.kind == kind)
            & (timer_table.c.entity_id == str(entity_id))
        )
    )
    return result.first()


DEFAULT_BACKOFF_SECONDS: tuple[float, ...] = (10.0, 60.0, 300.0, 1800.0, 3600.0)


class Scheduler:
    """Fires due timers of this service's job kinds; one per service process.

    ``tick`` fires every timer due now, each in its own transaction; ``run`` ticks every
    ``interval`` seconds, and sooner when woken (``wake()`` in this process, or a ``NOTIFY`` on
    :data:`TIMER_NOTIFY_CHANNEL` sent when a timer that is already due is armed).
    """

    def __init__(
        self,
        db: Database,
        jobs: Sequence[TimerJob],
        *,
        interval: float = 30.0,
        backoff: Sequence[float] = DEFAULT_BACKOFF_SECONDS,
        batch_size: int = 50,
        listen_dsn: str | None = None,
    ) -> None:
        self.db = db
        self.jobs = {job.kind: job for job in jobs}
        if len(self.jobs) != len(jobs):
            raise ValueError("two timer jobs share one kind")
        self.interval = interval
        self.backoff = list(backoff) or [interval]
        self.batch_size = batch_size
        self.listen_dsn = listen_dsn
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Tick now instead of at the end of the interval."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set. Errors of one tick are logged; the next tick retries."""
        listener = await self._listen()
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    fired = await self.tick()
                except Exception:
                    logger.exception("scheduler tick failed; retrying")
                    fired = 0
                if fired >= self.batch_size:
                    continue  # more may be due: go on without waiting
                waiters = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                await asyncio.wait(
                    waiters,
                    timeout=await self._until_next_due(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for waiter in waiters:
                    waiter.cancel()
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def _until_next_due(self) -> float:
        """Seconds until the next timer of ours falls due, at most the interval: a timer armed
        a few seconds ahead (a debounced one) fires then, not at the end of the interval."""
        now = utcnow()
        try:
            async with self.db.sessions() as session:
                due = await session.scalar(
                    sa.select(timer_table.c.due_at)
                    .where(
                        timer_table.c.fired_at.is_(None),
                        timer_table.c.due_at > now,
                        timer_table.c.kind.in_(list(self.jobs)),
                    )
                    .order_by(timer_table.c.due_at)
                    .limit(1)
                )
        except Exception:
            logger.warning("reading the next due timer failed", exc_info=True)
            return self.interval
        if not isinstance(due, datetime):
            return self.interval
        return min(self.interval, (due - now).total_seconds() + 0.01)

    async def _listen(self) -> asyncpg.Connection | None:
        if not self.listen_dsn:
            return None
        try:
            conn = await asyncpg.connect(self.listen_dsn)
            await conn.add_listener(TIMER_NOTIFY_CHANNEL, lambda *_: self._wake.set())
            return conn
        except Exception:
            logger.warning("LISTEN unavailable; the scheduler polls only", exc_info=True)
            return None

    async def tick(self) -> int:
        """Handle up to ``batch_size`` due timers; returns how many were handled (fired or
        failed)."""
        if not self.jobs:
            return 0
        # One cut-off for the whole tick: a timer that failed in this tick and whose back-off
        # ends while the tick still runs waits for the next tick, so a tick handles each timer
        # at most once however slow the machine is.
        now = utcnow()
        handled = 0
        while handled < self.batch_size:
            outcome = await self._fire_next(now)
            if outcome is None:
                break
            handled += 1
        return handled

    async def _fire_next(self, now: datetime) -> bool | None:
        """Claim and fire one due timer in its own transaction: True fired, False failed,
        None when nothing is due (or everything due is being fired by another replica)."""
        claimed: Timer | None = None
        attempts = 0
        try:
            async with self.db.sessions() as session, session.begin():
                row = await self._claim(session, now)
                if row is None:
                    return None
                claimed = Timer(
                    org_id=row.org_id, kind=row.kind, entity_id=row.entity_id, due_at=row.due_at
                )
                attempts = row.attempts + 1
                await set_org(session, claimed.org_id)
                try:
                    async with session.begin_nested():
                        await self.jobs[claimed.kind].fire(session, claimed)
                except Exception as exc:
                    # Rolled back to the savepoint; the row lock is still ours, so the failure
                    # is recorded before any other replica can claim the timer again.
                    await self._record_failure(session, claimed, attempts, exc)
                    return False
                # ``_pending`` includes the due date: a job that re-armed its own timer keeps it.
                await session.execute(
                    timer_table.update()
                    .where(_pending(claimed))
                    .values(fired_at=utcnow(), attempts=attempts, last_error=None)
                )
                return True
        except Exception as exc:
            if claimed is None:
                raise
            # The transaction itself failed (connection lost, commit refused): record the
            # failure on its own so that this timer backs off instead of blocking the others.
            async with self.db.sessions() as session, session.begin():
                await self._record_failure(session, claimed, attempts, exc)
            return False

    async def _claim(
        self, session: AsyncSession, now: datetime
    ) -> sa.Row[tuple[object, ...]] | None:
        result = await session.execute(
            sa.select(timer_table)
            .where(
                timer_table.c.fired_at.is_(None),
                timer_table.c.due_at <= now,
                sa.or_(
                    timer_table.c.next_attempt_at.is_(None),
                    timer_table.c.next_attempt_at <= now,
                ),
                timer_table.c.kind.in_(list(self.jobs)),
            )
            .order_by(timer_table.c.due_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return result.first()

    async def _record_failure(
        self, session: AsyncSession, timer: Timer, attempts: int, error: BaseException
    ) -> None:
        delay = self.backoff[min(attempts - 1, len(self.backoff) - 1)]
        logger.warning(
            "timer job failed; retrying in %.1fs",
            delay,
            exc_info=error,
            extra={"kind": timer.kind, "entity_id": timer.entity_id, "attempts": attempts},
        )
        await session.execute(
            timer_table.update()
            .where(_pending(timer))
            .values(
                attempts=attempts,
                last_error=f"{type(error).__name__}: {error}"[:2000],
                next_attempt_at=utcnow() + timedelta(seconds=delay),
            )
        )


def _pending(timer: Timer) -> sa.ColumnElement[bool]:
    """The timer's row, as long as it still waits for the due date it was claimed for."""
    return (
        (timer_table.c.org_id == timer.org_id)
        & (timer_table.c.kind == timer.kind)
        & (timer_table.c.entity_id == timer.entity_id)
        & (timer_table.c.due_at == timer.due_at)
        & timer_table.c.fired_at.is_(None)
    )
