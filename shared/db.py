"""Database toolkit: declarative base, ids, engine, tenant-scoped sessions, row-level security.

Row-level security is the last line of tenancy: every tenant-owned table has a policy
``org_id = current_setting('aims.org_id')``, the app connects as a role that cannot bypass it, and
:func:`tenant_transaction` sets that setting for the length of one transaction (``set_config``
with ``is_local = true``), so a pooled connection never carries one org's setting into another's
request.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.util import greenlet_spawn

from shared.dberrors import redact_driver_errors

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ORG_SETTING = "aims.org_id"
#: ``session.info`` key: the organisation :func:`set_org` last scoped the transaction to.
ORG_INFO = "aims_org_id"


def utcnow() -> datetime:
    return datetime.now(UTC)


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7).

    Ids that sort by creation time make keyset pagination on the primary key alone return rows
    in creation order, and keep B-tree inserts at the right edge of the index.
    """
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


# Each service declares its own base with its own metadata (two services may both have a
# ``system`` table):
#
#     class Base(DeclarativeBase):
#         metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
#         type_annotation_map = TYPE_ANNOTATION_MAP
TYPE_ANNOTATION_MAP: dict[Any, Any] = {
    dict[str, Any]: JSONB,
    list[Any]: JSONB,
    list[str]: JSONB,
    uuid.UUID: PG_UUID(as_uuid=True),
    datetime: sa.DateTime(timezone=True),
}


def new_base() -> type[DeclarativeBase]:
    """A fresh declarative base (prefer the explicit class above: type checkers follow it)."""

    class Base(DeclarativeBase):
        metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
        type_annotation_map = TYPE_ANNOTATION_MAP

    return Base


class TenantColumns:
    """Columns every tenant-owned, versioned entity carries."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Database:
    """One service's engine and session factory; built and disposed in the app's lifespan."""

    def __init__(self, url: str, *, pool_size: int = 10, application_name: str = "aims") -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            # No pre-ping: it cost three round trips (BEGIN, ``;``, ROLLBACK) per checkout.
            # A connection the server closed is noticed by asyncpg as soon as the socket
            # closes and discarded at checkout instead (``_discard_closed``).
            pool_pre_ping=False,
            # SQL parameters carry secrets (webhook secrets, API key hashes): never in an
            # exception message, a traceback or a log line.
            hide_parameters=True,
            connect_args={"server_settings": {"application_name": application_name}},
        )
        redact_driver_errors(self.engine)
        sa.event.listen(self.engine.sync_engine, "checkout", _discard_closed)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))


def _discard_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Pool checkout: a connection whose socket the server closed (restart, failover, idle
    timeout) is replaced before use; costs no round trip, unlike ``pool_pre_ping``."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise sa.exc.DisconnectionError("the database closed this connection")


def _begin_scoped(org_id: str) -> str:
    """``BEGIN`` and the organisation setting as one simple-protocol message. ``SET LOCAL`` is
    ``set_config(…, true)`` without a result row to plan, send and read (measured: a fifth
    less time per round trip); ``org_id`` must be a UUID's text (it is inlined)."""
    return f"BEGIN; SET LOCAL {ORG_SETTING} = '{org_id}'"


class _BegunTransaction:
    """Stands in for asyncpg's ``Transaction`` in SQLAlchemy's asyncpg adapter once
    :func:`set_org` has sent ``BEGIN`` itself; SQLAlchemy only ever commits or rolls it back.

    ``before_commit`` holds statements to send with ``COMMIT`` in one simple-protocol message
    (see :func:`defer_to_commit`): whatever they lock is then held for the server's work and
    the commit only, never for a round trip to the app and a turn of its event loop. If one
    fails, the server skips the rest of the message, ``COMMIT`` included, and the error is
    raised from ``commit()``; the transaction is rolled back as after any failed commit.
    """

    __slots__ = ("before_commit", "connection", "gathered")

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.before_commit: list[str | Callable[[], str]] = []
        #: What statements deferred to the commit gather (:func:`gather_to_commit`).
        self.gathered: dict[Hashable, set[Any]] = {}

    async def commit(self) -> None:
        if self.before_commit:
            statements = [s if isinstance(s, str) else s() for s in self.before_commit]
            script = ";\n".join([*statements, "COMMIT"])
            self.before_commit = []
            try:
                await self.connection.execute(script)
            except Exception:
                # The server stopped at the failing statement, before COMMIT: unlike a failed
                # COMMIT, that leaves the transaction open (aborted). SQLAlchemy forgets it
                # after a failed commit, so it is ended here, or the connection would go back
                # to the pool inside it.
                if not self.connection.is_closed():
                    with contextlib.suppress(Exception):
                        await self.connection.execute("ROLLBACK")
                raise
            return
        await self.connection.execute("COMMIT")

    async def rollback(self) -> None:
        if not self.connection.is_closed():
            await self.connection.execute("ROLLBACK")


def _begun(adapter: Any) -> _BegunTransaction | None:
    transaction = getattr(adapter, "_transaction", None)
    return transaction if isinstance(transaction, _BegunTransaction) else None


def defer_to_commit(session: Session, statement: str) -> bool:
    """Send ``statement`` (complete SQL text, no parameters: every value in it must already be
    a safe literal) together with this session's ``COMMIT``, in one message. False when the
    session's transaction was not begun by :func:`set_org`'s one-message ``BEGIN`` (the caller
    must then execute it the ordinary way)."""
    if "\x00" in statement:
        return False  # a simple-protocol query is a C string
    transaction = _begun(session.connection().connection.dbapi_connection)
    if transaction is None:
        return False
    transaction.before_commit.append(statement)
    return True


async def gather_to_commit(
    session: AsyncSession, key: Hashable, item: Hashable, build: Callable[[list[Any]], str]
) -> bool:
    """Add ``item`` to what this transaction gathers under ``key``; at ``COMMIT``, one
    statement ``build(sorted items)`` goes with it in one message (as :func:`defer_to_commit`;
    ``build`` must return complete SQL without NUL). False when the transaction was not begun
    by :func:`set_org` (the caller must then execute its statement itself).

    For a write that many events of one transaction ask for, once per item: it is sent once,
    holds its row locks only while the server commits, and takes them in sorted order, so two
    transactions gathering the same rows cannot deadlock on them. A savepoint rolled back
    does not take its items back: for idempotent writes only."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    transaction = _begun(raw.dbapi_connection)
    if transaction is None:
        return False
    items = transaction.gathered.get(key)
    if items is None:
        items = transaction.gathered[key] = set()
        transaction.before_commit.append(lambda: build(sorted(items)))
    items.add(item)
    return True


def dollar_quoted(value: str) -> str:
    """``value`` as a dollar-quoted SQL string constant: no escape is interpreted inside it,
    whatever ``standard_conforming_strings`` says; the tag is one ``value`` cannot close."""
    while True:
        tag = f"$q{secrets.token_hex(6)}$"
        if (value + tag).find(tag) == len(value):
            return f"{tag}{value}{tag}"


async def set_org(session: AsyncSession, org_id: uuid.UUID | str | None) -> None:
    """Scope the current transaction to one organisation (row-level security).

    At the start of a transaction, ``BEGIN`` and the setting go to the server in one round
    trip (the simple-query protocol takes both statements at once; the value is a UUID, so
    it is safe inline). Otherwise, e.g. mid-transaction, it is one ``set_config`` statement.
    """
    value = str(org_id) if org_id else ""
    try:
        inline = str(uuid.UUID(value)) if value else ""
    except ValueError:
        inline = None  # not a UUID: bound as a parameter below, never inlined
    session.info[ORG_INFO] = value
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection
    if (
        inline is not None
        and getattr(adapter, "_transaction", True) is None
        and getattr(adapter, "isolation_level", True) is None
        and not getattr(adapter, "readonly", True)
        and not getattr(adapter, "deferrable", True)
    ):
        driver = adapter._connection
        async with adapter._execute_mutex:
            # Tracked before sending, so that a failure still ends in ROLLBACK, never in a
            # pooled connection left inside an aborted transaction.
            adapter._transaction = _BegunTransaction(driver)
            try:
                await driver.execute(_begin_scoped(inline))
            except Exception as error:
                adapter._handle_exception(error)
        return
    await session.execute(
        sa.text("SELECT set_config(:name, :value, true)"),
        {"name": ORG_SETTING, "value": value},
    )


@asynccontextmanager
async def tenant_transaction(
    db: Database, org_id: uuid.UUID | str | None
) -> AsyncIterator[AsyncSession]:
    """One transaction scoped to ``org_id``: commits on success, rolls back on error."""
    async with db.sessions() as session, session.begin():
        await set_org(session, org_id)
        yield session


@asynccontextmanager
async def tenant_connection(db: Database, org_id: uuid.UUID) -> AsyncIterator[Any]:
    """One transaction scoped to ``org_id`` on a pooled connection, handed out as the driver's
    own (asyncpg) connection: for reads that need neither the ORM nor SQLAlchemy's execution.

    The same row-level security as :func:`tenant_transaction` (``BEGIN`` and ``SET LOCAL``
    in one round trip, the setting local to the transaction), the same pool (checkout
    listeners, limits, timeouts) and the same end: ``COMMIT`` on success; on an error the
    pool's reset on return rolls back (the adapter is told the transaction has begun). What it
    skips is the session: its transaction objects, state changes and greenlet hops, which cost
    more than the statements of a single-row read together (docs/performance.md).
    """
    inline = str(uuid.UUID(str(org_id)))  # a UUID whatever was passed: safe to inline
    fairy = _checkout_idle(db.engine) or await db.engine.raw_connection()
    ended = False  # COMMIT answered: the connection is idle, outside any transaction
    committing = False
    try:
        adapter: Any = fairy.dbapi_connection
        driver = adapter._connection
        # Tracked before sending, so that a failure still ends in ROLLBACK (pool reset), never
        # in a pooled connection left inside a transaction.
        adapter._transaction = _BegunTransaction(driver)
        try:
            await driver.execute(_begin_scoped(inline))
        except Exception as error:
            adapter._handle_exception(error)
        yield driver
        committing = True
        try:
            await driver.execute("COMMIT")
        finally:
            adapter._transaction = None
        ended = True
    finally:
        if ended and _checkin_idle(fairy):
            pass  # back to the pool without a greenlet
        elif committing:
            # A COMMIT that failed or was cancelled midway leaves the connection's state
            # unknown: it is closed, not pooled (``invalidate`` returns the empty record).
            await greenlet_spawn(fairy.invalidate)
        else:
            # Back to the pool; its reset rolls back the transaction the error left open.
            await greenlet_spawn(fairy.close)


# SQLAlchemy's asyncio pool runs checkout and checkin in a greenlet (``greenlet_spawn``), for
# the cases that wait: connecting, reconnecting, waiting for a free connection, rolling back or
# closing on return. Each greenlet costs more than the rest of the checkout (docs/performance.md).
# When none of those cases can arise, the pool's own synchronous code is called directly: it
# then never awaits. The conditions read private state of SQLAlchemy's pool (checked with
# ``getattr``; anything unexpected takes the greenlet path).


def _checkout_idle(engine: AsyncEngine) -> Any:
    """A pooled connection when the pool hands out an idle, open one without waiting, connecting
    or recycling; otherwise None (the caller goes through the greenlet)."""
    pool: Any = engine.sync_engine.pool
    queue = getattr(pool, "_pool", None)
    waiting = getattr(getattr(queue, "_queue", None), "_queue", None)  # asyncio.Queue's deque
    if not waiting or getattr(pool, "_recycle", None) != -1 or getattr(pool, "_pre_ping", True):
        return None
    record = waiting[-1] if getattr(queue, "use_lifo", True) else waiting[0]
    connection = getattr(record, "dbapi_connection", None)
    driver = getattr(connection, "driver_connection", None)
    started = getattr(record, "starttime", None)
    if (
        driver is None
        or started is None
        or getattr(pool, "_invalidate_time", started + 1) > started
        or getattr(record, "_soft_invalidate_time", started + 1) > started
        or driver.is_closed()
    ):
        return None
    try:
        return engine.sync_engine.raw_connection()
    except MissingGreenlet:  # not expected after the checks above; the slow path is correct
        return None


def _checkin_idle(fairy: Any) -> bool:
    """Return ``fairy`` to the pool now if that needs no I/O (no transaction to roll back, room
    in the pool, so no close); False when the caller must do it in a greenlet."""
    pool: Any = getattr(fairy, "_pool", None)
    queue = getattr(pool, "_pool", None)
    adapter = getattr(fairy, "dbapi_connection", None)
    if (
        queue is None
        or not hasattr(queue, "full")
        or queue.full()
        or adapter is None
        or getattr(adapter, "_transaction", True) is not None
    ):
        return False
    fairy.close()
    return True


# --- Tables of the toolkit, present in every service's database. ------------------------------
# Core tables (not ORM classes) so that one definition serves every service's own metadata.

toolkit_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

outbox_table = sa.Table(
    "outbox",
    toolkit_metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("event_id", PG_UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("org_id", PG_UUID(as_uuid=True), nullable=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("envelope", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, default=utcnow),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text, nullable=True),
    # Set when the relay gave up on the row (it can never be published): see shared/events/relay.
    sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
    sa.Index("ix_outbox_parked", "seq", postgresql_where=sa.text("parked_at IS NOT NULL")),
)

inbox_table = sa.Table(
    "inbox",
    toolkit_metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", PG_UUID(as_uuid=True), primary_key=True),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, default=utcnow),
    sa.Index("ix_inbox_processed_at", "processed_at"),
)

dead_letter_table = sa.Table(
    "dead_letter",
    toolkit_metadata,
    sa.Column("id", PG_UUID(as_uuid=True), primary_key=True, default=uuid7),
    sa.Column("consumer", sa.Text, nullable=False),
    sa.Column("event_id", PG_UUID(as_uuid=True), nullable=True),
    sa.Column("org_id", PG_UUID(as_uuid=True), nullable=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("deliveries", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, default=utcnow),
    sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
)

idempotency_table = sa.Table(
    "idempotency_key",
    toolkit_metadata,
    sa.Column("org_id", PG_UUID(as_uuid=True), primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("body", JSONB, nullable=False),
    sa.Column("headers", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, default=utcnow),
    sa.Index("ix_idempotency_key_created_at", "created_at"),
)

# API keys are owned by the inventory service; every other service keeps this table as a
# projection of ``aims.inventory.apikey.*`` events so that each can verify callers itself.
api_key_table = sa.Table(
    "api_key",
    toolkit_metadata,
    sa.Column("id", PG_UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", PG_UUID(as_uuid=True), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False, unique=True),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, default=utcnow),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("version", sa.Integer, nullable=False, default=1),
)


def rls_statements(table: str) -> list[str]:
    """SQL that puts ``table`` under tenant row-level security (used by migrations)."""
    org = f"NULLIF(current_setting('{ORG_SETTING}', true), '')::uuid"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING (org_id = {org}) "
        f"WITH CHECK (org_id = {org})",
    ]


OUTBOX_NOTIFY_CHANNEL = "aims_outbox"
