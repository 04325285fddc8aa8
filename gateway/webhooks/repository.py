"""Every webhook query.

Subscriptions, messages and attempts are under row-level security: the session's org scopes
them. The delivery queue is not (see models.py), so every query on it here that serves one
organisation names ``org_id`` explicitly, and only the worker's :meth:`DeliveryQueue.claim`
reads across organisations.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookMessage,
    WebhookSubscription,
)


class SubscriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, subscription_id: uuid.UUID, *, for_update: bool = False
    ) -> WebhookSubscription | None:
        query = sa.select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_many(
        self, subscription_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, WebhookSubscription]:
        query = sa.select(WebhookSubscription).where(
            WebhookSubscription.id.in_(set(subscription_ids))
        )
        return {s.id: s for s in (await self.session.execute(query)).scalars()}

    async def list(
        self, *, limit: int, after: uuid.UUID | None = None, ids: Sequence[uuid.UUID] = ()
    ) -> builtins.list[WebhookSubscription]:
        query = sa.select(WebhookSubscription).order_by(WebhookSubscription.id).limit(limit)
        if after is not None:
            query = query.where(WebhookSubscription.id > after)
        if ids:
            query = query.where(WebhookSubscription.id.in_(ids))
        return list((await self.session.execute(query)).scalars())

    async def enabled(self, org_id: uuid.UUID) -> builtins.list[WebhookSubscription]:
        query = (
            sa.select(WebhookSubscription)
            .where(WebhookSubscription.org_id == org_id, WebhookSubscription.enabled.is_(True))
            .order_by(WebhookSubscription.id)
        )
        return list((await self.session.execute(query)).scalars())

    def add(self, subscription: WebhookSubscription) -> None:
        self.session.add(subscription)

    async def delete(self, subscription: WebhookSubscription) -> None:
        await self.session.delete(subscription)

    async def mark_failing(self, subscription_id: uuid.UUID, now: datetime) -> datetime | None:
        """Start the failure run if none is running; return its start."""
        result = await self.session.execute(
            sa.update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id)
            .values(first_failure_at=sa.func.coalesce(WebhookSubscription.first_failure_at, now))
            .returning(WebhookSubscription.first_failure_at)
        )
        return result.scalar_one_or_none()

    async def mark_healthy(self, subscription_ids: Sequence[uuid.UUID]) -> None:
        """End the failure runs of ``subscription_ids`` (one statement however many)."""
        # Locked in id order: two transactions marking overlapping sets cannot deadlock.
        failing = (
            sa.select(WebhookSubscription.id)
            .where(
                WebhookSubscription.id.in_(set(subscription_ids)),
                WebhookSubscription.first_failure_at.is_not(None),
            )
            .order_by(WebhookSubscription.id)
            .with_for_update()
            .scalar_subquery()
        )
        await self.session.execute(
            sa.update(WebhookSubscription)
            .where(WebhookSubscription.id.in_(failing))
            .values(first_failure_at=None)
            .execution_options(synchronize_session=False)
        )

    async def disable(
        self, subscription_id: uuid.UUID, reason: str, now: datetime
    ) -> WebhookSubscription | None:
        """Disable an enabled subscription; None when it was already disabled (or is gone)."""
        result = await self.session.execute(
            sa.update(WebhookSubscription)
            .where(
                WebhookSubscription.id == subscription_id,
                WebhookSubscription.enabled.is_(True),
            )
            .values(
                enabled=False,
                disabled_reason=reason,
                disabled_at=now,
                version=WebhookSubscription.version + 1,
                updated_at=now,
            )
            .returning(WebhookSubscription)
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none()


@dataclass(frozen=True)
class MessageRow:
    message: WebhookMessage
    state: str
    attempts: int
    next_attempt_at: datetime | None


def _attempt_count() -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.count(WebhookAttempt.id))
        .where(WebhookAttempt.message_id == WebhookMessage.id)
        .correlate(WebhookMessage)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class AttemptOutcome:
    """The answer to an attempt written in flight (:meth:`MessageRepository.complete_attempts`)."""

    attempt_id: uuid.UUID
    status_code: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int
    next_attempt_at: datetime | None


def _unnest(name: str, *columns: tuple[str, sa.types.TypeEngine[Any], list[Any]]) -> Any:
    """Rows as ``unnest(arrays…) AS name(columns…)``, one bound array per column: a
    multi-row statement whose text is the same for any number of rows (prepared once)."""
    arrays = [sa.bindparam(None, values, type_=ARRAY(kind)) for _, kind, values in columns]
    return (
        sa.func.unnest(*arrays)
        .table_valued(*(sa.column(column, kind) for column, kind, _ in columns))
        .render_derived(name=name)
    )


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, message_id: uuid.UUID) -> WebhookMessage | None:
        return await self.session.get(WebhookMessage, message_id)

    async def get_many(self, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, WebhookMessage]:
        query = sa.select(WebhookMessage).where(WebhookMessage.id.in_(message_ids))
        return {m.id: m for m in (await self.session.execute(query)).scalars()}

    def _with_status(self, org_id: uuid.UUID) -> sa.Select[Any]:
        return sa.select(
            WebhookMessage,
            sa.func.coalesce(WebhookDelivery.state, "pending"),
            _attempt_count(),
            WebhookDelivery.next_attempt_at,
        ).outerjoin(
            WebhookDelivery,
            sa.and_(
                WebhookDelivery.message_id == WebhookMessage.id,
                WebhookDelivery.org_id == org_id,
            ),
        )

    async def get_with_status(self, org_id: uuid.UUID, message_id: uuid.UUID) -> MessageRow | None:
        row = (
            await self.session.execute(
                self._with_status(org_id).where(WebhookMessage.id == message_id)
            )
        ).first()
        return None if row is None else MessageRow(row[0], row[1], row[2], row[3])

    async def list_with_status(
        self,
        org_id: uuid.UUID,
        subscription_id: uuid.UUID,
        *,
        limit: int,
        after: uuid.UUID | None,
        state: str | None = None,
    ) -> list[MessageRow]:
        query = (
            self._with_status(org_id)
            .where(WebhookMessage.subscription_id == subscription_id)
            .order_by(WebhookMessage.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(WebhookMessage.id < after)
        if state is not None:
            query = query.where(sa.func.coalesce(WebhookDelivery.state, "pending") == state)
        rows = (await self.session.execute(query)).all()
        return [MessageRow(r[0], r[1], r[2], r[3]) for r in rows]

    async def attempts(
        self, message_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> list[WebhookAttempt]:
        query = (
            sa.select(WebhookAttempt)
            .where(WebhookAttempt.message_id == message_id)
            .order_by(WebhookAttempt.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(WebhookAttempt.id > after)
        return list((await self.session.execute(query)).scalars())

    async def next_attempt_numbers(self, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """The next attempt number of each message (1 for one never attempted), in one query."""
        result = await self.session.execute(
            sa.select(WebhookAttempt.message_id, sa.func.max(WebhookAttempt.attempt))
            .where(WebhookAttempt.message_id.in_(message_ids))
            .group_by(WebhookAttempt.message_id)
        )
        found = {row[0]: int(row[1]) for row in result.all()}
        return {message_id: found.get(message_id, 0) + 1 for message_id in message_ids}

    def add_attempt(self, attempt: WebhookAttempt) -> None:
        self.session.add(attempt)

    async def complete_attempts(
        self, outcomes: Sequence[AttemptOutcome], completed_at: datetime
    ) -> None:
        """Record the outcomes of attempts written in flight, in one statement (a true outcome
        always wins, also over an "outcome unknown" written by a worker that took the message
        over)."""
        done = _unnest(
            "done",
            ("attempt_id", PG_UUID(as_uuid=True), [o.attempt_id for o in outcomes]),
            ("status_code", sa.Integer(), [o.status_code for o in outcomes]),
            ("response_excerpt", sa.Text(), [o.response_excerpt for o in outcomes]),
            ("error", sa.Text(), [o.error for o in outcomes]),
            ("duration_ms", sa.Integer(), [o.duration_ms for o in outcomes]),
            (
                "next_attempt_at",
                sa.DateTime(timezone=True),
                [o.next_attempt_at for o in outcomes],
            ),
        )
        await self.session.execute(
            sa.update(WebhookAttempt)
            .where(WebhookAttempt.id == done.c.attempt_id)
            .values(
                completed_at=completed_at,
                status_code=done.c.status_code,
                response_excerpt=done.c.response_excerpt,
                error=done.c.error,
                duration_ms=done.c.duration_ms,
                next_attempt_at=done.c.next_attempt_at,
            )
            .execution_options(synchronize_session=False)
        )

    async def resolve_in_flight_many(
        self, message_ids: Sequence[uuid.UUID], now: datetime, error: str
    ) -> dict[uuid.UUID, int]:
        """Complete the attempts of ``message_ids`` left in flight, in one statement: how many
        each had (messages with none are left out)."""
        result = await self.session.execute(
            sa.update(WebhookAttempt)
            .where(
                WebhookAttempt.message_id.in_(message_ids), WebhookAttempt.completed_at.is_(None)
            )
            .values(completed_at=now, error=error)
            .returning(WebhookAttempt.message_id)
            .execution_options(synchronize_session=False)
        )
        counts: dict[uuid.UUID, int] = {}
        for (message_id,) in result.all():
            counts[message_id] = counts.get(message_id, 0) + 1
        return counts

    async def prune_finished(
        self, org_id: uuid.UUID, *, before: datetime, limit: int
    ) -> tuple[int, datetime | None]:
        """Delete up to ``limit`` messages of ``org_id`` (with their delivery log) that are
        finished (not pending) and untouched since ``before``; returns how many, and when the
        oldest remaining message was created (None: none is left)."""
        finished = sa.and_(
            WebhookMessage.org_id == org_id,
            WebhookMessage.created_at < before,
            ~sa.exists().where(
                WebhookDelivery.message_id == WebhookMessage.id,
                WebhookDelivery.org_id == org_id,
                sa.or_(WebhookDelivery.state == "pending", WebhookDelivery.updated_at >= before),
            ),
        )
        victims = (
            sa.select(WebhookMessage.id)
            .where(finished)
            .order_by(WebhookMessage.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        deleted = await self.session.execute(
            sa.delete(WebhookMessage)
            .where(WebhookMessage.id.in_(victims))
            .returning(WebhookMessage.id)
            .execution_options(synchronize_session=False)
        )
        count = len(deleted.all())
        oldest = await self.session.execute(
            sa.select(sa.func.min(WebhookMessage.created_at)).where(WebhookMessage.org_id == org_id)
        )
        return count, oldest.scalar_one_or_none()


@dataclass(frozen=True)
class NewMessage:
    """One event for one subscription, to be queued by :func:`queue_messages`."""

    id: uuid.UUID
    org_id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    #: The trace the delivery belongs to (the consumer's span): its delivery span's parent.
    traceparent: str | None


def queue_messages(messages: Sequence[NewMessage], now: datetime) -> sa.Executable:
    """One statement that inserts ``messages`` (of one organisation: ``webhook_message`` is
    under RLS) and queues a delivery, due ``now``, for each of them that is new. A message
    whose ``(subscription_id, event_id)`` is already there (the event was queued before) is
    skipped, with no delivery. Returns the queued message ids.

    The delivery rows read the inserted messages from a data-modifying CTE, so both tables
    take the whole batch in one round trip; the foreign key from ``webhook_delivery`` is
    checked at the end of the statement, when the CTE's rows are visible."""
    inserted = (
        pg_insert(WebhookMessage)
        .values(
            [
                {
                    "id": m.id,
                    "org_id": m.org_id,
                    "subscription_id": m.subscription_id,
                    "event_id": m.event_id,
                    "event_type": m.event_type,
                    "payload": m.payload,
                    "created_at": now,
                }
                for m in messages
            ]
        )
        .on_conflict_do_nothing(constraint="uq_webhook_message_sub_event")
        .returning(WebhookMessage.id, WebhookMessage.subscription_id, WebhookMessage.org_id)
        .cte("inserted_message")
    )
    traces = (
        sa.values(
            sa.column("message_id", PG_UUID(as_uuid=True)),
            sa.column("traceparent", sa.Text),
            name="trace",
        )
        .data([(m.id, m.traceparent) for m in messages])
        .alias("trace")
    )
    rows = sa.select(
        inserted.c.id,
        inserted.c.subscription_id,
        inserted.c.org_id,
        sa.literal(0),
        sa.literal(now, sa.DateTime(timezone=True)),
        sa.literal("pending"),
        sa.null(),
        sa.literal(now, sa.DateTime(timezone=True)),
        traces.c.traceparent,
    ).join_from(inserted, traces, traces.c.message_id == inserted.c.id)
    return (
        pg_insert(WebhookDelivery)
        .from_select(
            _QUEUED_COLUMNS,
            rows,
        )
        .returning(WebhookDelivery.message_id)
    )


#: The columns of a ``webhook_delivery`` row as the queue's inserts write them.
_QUEUED_COLUMNS = [
    "message_id",
    "subscription_id",
    "org_id",
    "attempt_count",
    "next_attempt_at",
    "state",
    "locked_until",
    "updated_at",
    "traceparent",
]


@dataclass(frozen=True)
class ClaimedDelivery:
    message_id: uuid.UUID
    subscription_id: uuid.UUID
    org_id: uuid.UUID
    attempt_count: int
    locked_until: datetime
    #: The W3C trace context the delivery was queued in (the consumer's span, or the replay
    #: request's): the delivery's span is its child. None for rows queued before it was kept.
    traceparent: str | None = None


@dataclass(frozen=True)
class FinishedDelivery:
    """What a claimed attempt leaves its queue row as (:meth:`DeliveryQueue.finish_many`)."""

    claim: ClaimedDelivery
    state: str
    attempt_count: int
    next_attempt_at: datetime | None


def _requeue_values(now: datetime, traceparent: str | None) -> dict[str, Any]:
    return {
        "state": "pending",
        "attempt_count": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "updated_at": now,
        "traceparent": traceparent,
    }


class DeliveryQueue:
    """The delivery queue. Not under RLS: scope every per-org query by ``org_id`` here."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        *,
        message_id: uuid.UUID,
        subscription_id: uuid.UUID,
        org_id: uuid.UUID,
        now: datetime,
        traceparent: str | None = None,
    ) -> None:
        """Queue one message for delivery now; a replay starts a fresh retry schedule.
        ``traceparent``: the trace the delivery belongs to (its span's parent)."""
        values = _requeue_values(now, traceparent)
        insert = pg_insert(WebhookDelivery).values(
            message_id=message_id, subscription_id=subscription_id, org_id=org_id, **values
        )
        await self.session.execute(
            insert.on_conflict_do_update(index_elements=[WebhookDelivery.message_id], set_=values)
        )

    async def enqueue_since(
        self,
        *,
        org_id: uuid.UUID,
        subscription_id: uuid.UUID,
        since: datetime,
        now: datetime,
        traceparent: str | None = None,
    ) -> int:
        """Queue again every message of a subscription created at or after ``since``."""
        # The SELECT reads webhook_message under RLS (the session's org), so it yields only
        # this org's messages; org_id is named as well, for the queue table.
        source = sa.select(
            WebhookMessage.id,
            WebhookMessage.subscription_id,
            WebhookMessage.org_id,
            sa.literal(0),
            sa.literal(now, sa.DateTime(timezone=True)),
            sa.literal("pending"),
            sa.null(),
            sa.literal(now, sa.DateTime(timezone=True)),
            sa.literal(traceparent, sa.Text),
        ).where(
            WebhookMessage.subscription_id == subscription_id,
            WebhookMessage.org_id == org_id,
            WebhookMessage.created_at >= since,
        )
        insert = pg_insert(WebhookDelivery).from_select(
            _QUEUED_COLUMNS,
            source,
        )
        result = await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=[WebhookDelivery.message_id],
                set_=_requeue_values(now, traceparent),
            ).returning(WebhookDelivery.message_id)
        )
        return len(result.all())

    async def claim(self, *, limit: int, now: datetime, lease: timedelta) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries of any org (``FOR UPDATE SKIP LOCKED``).

        The lease (``locked_until``) keeps other workers off the row while this one sends,
        outside any transaction; a worker that dies loses its lease and the row is due again.
        """
        due = (
            sa.select(WebhookDelivery.message_id)
            .where(
                WebhookDelivery.state == "pending",
                WebhookDelivery.next_attempt_at <= now,
                sa.or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        result = await self.session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.message_id.in_(due))
            .values(locked_until=now + lease)
            .returning(
                WebhookDelivery.message_id,
                WebhookDelivery.subscription_id,
                WebhookDelivery.org_id,
                WebhookDelivery.attempt_count,
                WebhookDelivery.locked_until,
                WebhookDelivery.traceparent,
            )
            .execution_options(synchronize_session=False)
        )
        return [
            ClaimedDelivery(
                message_id=row.message_id,
                subscription_id=row.subscription_id,
                org_id=row.org_id,
                attempt_count=row.attempt_count,
                locked_until=row.locked_until or now + lease,
                traceparent=row.traceparent,
            )
            for row in result.all()
        ]

    async def finish(
        self,
        claim: ClaimedDelivery,
        *,
        state: str,
        attempt_count: int,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Record the outcome of a claimed attempt; False when the claim was superseded."""
        finished = FinishedDelivery(claim, state, attempt_count, next_attempt_at)
        return claim.message_id in await self.finish_many(claim.org_id, [finished], now=now)

    async def finish_many(
        self, org_id: uuid.UUID, finished: Sequence[FinishedDelivery], *, now: datetime
    ) -> set[uuid.UUID]:
        """Record the outcomes of claimed attempts of ``org_id`` in one statement; the message
        ids whose claim was still current (the others were superseded and are left alone).

        ``locked_until`` doubles as the claim token: a replay during the attempt resets it,
        and the replay's fresh schedule then wins over this outcome.
        """
        rows = _unnest(
            "finished",
            ("message_id", PG_UUID(as_uuid=True), [f.claim.message_id for f in finished]),
            (
                "locked_until",
                sa.DateTime(timezone=True),
                [f.claim.locked_until for f in finished],
            ),
            ("state", sa.Text(), [f.state for f in finished]),
            ("attempt_count", sa.Integer(), [f.attempt_count for f in finished]),
            (
                "next_attempt_at",
                sa.DateTime(timezone=True),
                [f.next_attempt_at for f in finished],
            ),
        )
        result = await self.session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.message_id == rows.c.message_id,
                WebhookDelivery.org_id == org_id,
                WebhookDelivery.locked_until == rows.c.locked_until,
            )
            .values(
                state=rows.c.state,
                attempt_count=rows.c.attempt_count,
                next_attempt_at=rows.c.next_attempt_at,
                locked_until=None,
                updated_at=now,
            )
            .returning(WebhookDelivery.message_id)
            .execution_options(synchronize_session=False)
        )
        return set(result.scalars())

    async def fail_outstanding(
        self, *, org_id: uuid.UUID, subscription_id: uuid.UUID, now: datetime
    ) -> None:
        """Mark a disabled subscription's pending deliveries ``failed`` (replay to resend)."""
        await self.session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.org_id == org_id,
                WebhookDelivery.subscription_id == subscription_id,
                WebhookDelivery.state == "pending",
            )
            .values(state="failed", next_attempt_at=None, locked_until=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
