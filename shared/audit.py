"""Hash-chained, per-organisation audit trail: who changed what, when, from what to what.

Every change is appended to ``audit_entry`` in the transaction that makes it (``emit`` does it for
every event; changes that emit none call :func:`append_audit`). Entries of one organisation form
a chain: ``hash = SHA-256(canonical JSON of the entry, including prev_hash)``, and ``prev_hash``
is the hash of the entry before (64 zeros for the first). ``audit_head`` holds each chain's last
``seq`` and ``hash``; locking that row serialises appends per organisation, so ``seq`` runs
1, 2, 3… without gaps, and it lets verification see a truncated tail.

Verification recomputes every hash and link (:func:`verify_chain`) and names the ``seq`` and kind
of every problem: ``edited`` (the stored hash is not the entry's), ``reordered`` (the entry links
to an entry that is elsewhere in the trail), ``deleted`` (a gap in ``seq``, or a head beyond the
last entry), ``broken-link`` (the link matches nothing near), ``head-mismatch`` (the head names
a hash that is not the last entry's).

``seq`` itself is not hashed: the chain's order is pinned by the links, and leaving the position
out lets verification tell an entry moved (its own hash still holds, its link does not) from an
entry edited (its own hash no longer holds).

The application role may only insert and read entries: a trigger refuses UPDATE and DELETE from
any role that does not own the table, so only a database owner can tamper, and then the chain
shows where.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import NAMING_CONVENTION, Database, set_org, utcnow, uuid7

GENESIS_HASH: Final = "0" * 64
HASH_VERSION: Final = 1
VERIFY_BATCH = 500
# How far back (and, through pending links, forward) verification looks to tell a moved entry
# from a broken link; bounded so that memory stays constant whatever the trail's length.
REORDER_WINDOW = 1024
MAX_PROBLEMS_LISTED = 1000
REDACTED = "[redacted]"
# Event data may carry credential verifiers (an API key's hash); the trail never repeats them.
SENSITIVE_KEYS = frozenset(
    {"key_hash", "secret", "secrets", "password", "token", "client_secret", "previous_secret"}
)

# --- Who is acting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who causes the changes of the current task: a caller's subject, or ``system:<worker>``."""

    subject: str
    kind: str  # "user", "api_key" or "system"


SYSTEM_ACTOR: Final = Actor("system", "system")
current_actor: ContextVar[Actor] = ContextVar("aims_audit_actor", default=SYSTEM_ACTOR)


def worker_actor(name: str) -> Actor:
    """The actor of a background worker (``system:consumer:risk-systems``)."""
    return Actor(f"system:{name}", "system")


# --- Tables -------------------------------------------------------------------------------------

audit_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

audit_entry_table = sa.Table(
    "audit_entry",
    audit_metadata,
    sa.Column("org_id", PG_UUID(as_uuid=True), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("id", PG_UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_kind", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("entity_type", sa.Text, nullable=False),
    sa.Column("entity_id", sa.Text, nullable=False),
    sa.Column("before", JSONB(none_as_null=True), nullable=True),
    sa.Column("after", JSONB(none_as_null=True), nullable=True),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.Index("ix_audit_entry_entity", "org_id", "entity_type", "entity_id", "seq"),
    sa.Index("ix_audit_entry_entity_id", "org_id", "entity_id", "seq"),
)

audit_head_table = sa.Table(
    "audit_head",
    audit_metadata,
    sa.Column("org_id", PG_UUID(as_uuid=True), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
)


# --- Canonical form and hashing (pure) ----------------------------------------------------------


def canonical_value(value: Any) -> Any:
    """``value`` as PostgreSQL's ``jsonb`` gives it back, so a hash survives the round trip.

    ``jsonb`` keeps numbers as ``numeric``: ``1.0`` returns as ``1.0`` but ``1e20`` as
    ``100000000000000000000`` (an int to Python). So integral floats become the exact integer
    their shortest decimal names, other floats stay (their shortest repr round-trips exactly),
    and tuples become lists. Keys are strings (JSON has no others).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("JSON has no NaN or infinity")
        return int(Decimal(repr(value))) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    raise TypeError(f"not JSON: {type(value).__name__}")


def redact(value: Any) -> Any:
    """``value`` with the values of credential-like keys replaced by ``[redacted]``."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if k in SENSITIVE_KEYS and v is not None else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (RFC 8785 in spirit, for the values jsonb keeps)."""
    return json.dumps(
        canonical_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _timestamp(moment: datetime) -> str:
    # PostgreSQL keeps microseconds in UTC; this form is what it returns, whatever the zone.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the trail as stored."""

    org_id: uuid.UUID
    seq: int
    id: uuid.UUID
    recorded_at: datetime
    actor: str
    actor_kind: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    prev_hash: str
    hash: str = ""

    def hashed_fields(self) -> dict[str, Any]:
        """What the hash covers: every field but ``seq`` and the hash itself."""
        return {
            "v": HASH_VERSION,
            "org_id": str(self.org_id),
            "id": str(self.id),
            "recorded_at": _timestamp(self.recorded_at),
            "actor": self.actor,
            "actor_kind": self.actor_kind,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "before": self.before,
            "after": self.after,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.hashed_fields())).hexdigest()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditRecord:
        return cls(**{name: row[name] for name in _RECORD_COLUMNS})


_RECORD_COLUMNS = (
    "org_id",
    "seq",
    "id",
    "recorded_at",
    "actor",
    "actor_kind",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "prev_hash",
    "hash",
)

# --- Verification (pure) ------------------------------------------------------------------------

ProblemKind = Literal["edited", "reordered", "deleted", "broken-link", "head-mismatch"]


class AuditProblem(BaseModel):
    seq: int = Field(description="Position in the trail where the problem shows")
    problem: ProblemKind
    detail: str


class AuditVerification(BaseModel):
    """The result of walking one organisation's chain."""

    service: str = ""
    org_id: str
    entries: int = Field(description="Entries read")
    valid: bool
    head_seq: int | None = Field(description="The last seq the head records (None: no trail)")
    counts: dict[str, int] = Field(description="Problems by kind")
    problems: list[AuditProblem] = Field(
        description=f"Problems in trail order (at most {MAX_PROBLEMS_LISTED} listed)"
    )


@dataclass
class ChainVerifier:
    """Walks a chain entry by entry (in seq order) in constant memory; :meth:`finish` reports."""

    org_id: str
    entries: int = 0
    _expected_seq: int = 1
    _expected_prev: str = GENESIS_HASH
    _last_seq: int = 0
    _problems: list[AuditProblem] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)
    # Recently seen hashes → their seq; entries already reported as moved (by hash).
    _recent: OrderedDict[str, int] = field(default_factory=OrderedDict)
    _moved: OrderedDict[str, None] = field(default_factory=OrderedDict)
    # Links pointing at a hash not yet seen → (index of the problem reported, the linking
    # entry's own hash).
    _pending: OrderedDict[str, tuple[int, str]] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self._recent[GENESIS_HASH] = 0  # a link to the genesis hash names the first entry

    def _report(self, seq: int, kind: ProblemKind, detail: str) -> int:
        self._counts[kind] = self._counts.get(kind, 0) + 1
        self._problems.append(AuditProblem(seq=seq, problem=kind, detail=detail))
        return len(self._problems) - 1

    @staticmethod
    def _remember(store: OrderedDict[str, Any], key: str, value: Any) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > REORDER_WINDOW:
            store.popitem(last=False)

    def _reclassify(self, index: int, kind: ProblemKind, detail: str) -> None:
        old = self._problems[index]
        self._counts[old.problem] -= 1
        self._counts[kind] = self._counts.get(kind, 0) + 1
        self._problems[index] = AuditProblem(seq=old.seq, problem=kind, detail=detail)

    def feed(self, entry: AuditRecord) -> None:
        self.entries += 1
        seq = entry.seq
        if seq != self._expected_seq and seq > self._expected_seq:
            first, last = self._expected_seq, seq - 1
            what = f"entry {first} is" if first == last else f"entries {first}–{last} are"
            self._report(first, "deleted", f"{what} missing: the trail jumps to {seq}")
        elif entry.prev_hash != self._expected_prev:
            if entry.prev_hash in self._moved:
                pass  # links to an entry already reported as out of place
            elif entry.prev_hash in self._recent:
                follows = self._recent[entry.prev_hash]
                original = f"follows entry {follows}" if follows else "is the first entry"
                self._report(
                    seq,
                    "reordered",
                    f"entry {seq} {original} in the chain's own order, not entry {seq - 1}",
                )
                self._remember(self._moved, entry.hash, None)
            else:
                index = self._report(
                    seq,
                    "broken-link",
                    f"entry {seq} links to a hash that is not entry {seq - 1}'s: an entry before "
                    "it was changed, replaced or removed",
                )
                self._remember(self._pending, entry.prev_hash, (index, entry.hash))
        if entry.compute_hash() != entry.hash:
            self._report(
                seq, "edited", f"entry {seq}'s content does not match its hash: it was edited"
            )
        if entry.hash in self._pending:
            index, moved_hash = self._pending.pop(entry.hash)
            moved_seq = self._problems[index].seq
            self._reclassify(
                index,
                "reordered",
                f"entry {moved_seq} comes before entry {seq}, which the chain puts before it",
            )
            self._remember(self._moved, moved_hash, None)
        self._remember(self._recent, entry.hash, seq)
        self._expected_seq = seq + 1
        self._expected_prev = entry.hash
        self._last_seq = seq

    def finish(self, head: tuple[int, str] | None) -> AuditVerification:
        if head is None:
            if self.entries:
                self._report(
                    self._last_seq,
                    "head-mismatch",
                    f"the trail has {self.entries} entries but no head: the head was deleted",
                )
        else:
            head_seq, head_hash = head
            if head_seq > self._last_seq:
                first = self._last_seq + 1
                what = (
                    f"entry {first} is" if first == head_seq else f"entries {first}–{head_seq} are"
                )
                self._report(
                    first, "deleted", f"{what} missing: the head records {head_seq} entries"
                )
            elif head_seq < self._last_seq:
                self._report(
                    head_seq + 1,
                    "head-mismatch",
                    f"entries after {head_seq} are not recorded by the head: added behind its back",
                )
            elif head_hash != self._expected_prev and head_hash not in self._moved:
                self._report(
                    head_seq, "head-mismatch", f"the head's hash is not entry {head_seq}'s"
                )
        return AuditVerification(
            org_id=self.org_id,
            entries=self.entries,
            valid=not self._problems,
            head_seq=head[0] if head is not None else None,
            counts={k: v for k, v in self._counts.items() if v},
            problems=self._problems[:MAX_PROBLEMS_LISTED],
        )


def verify_records(
    org_id: str, entries: Iterable[AuditRecord], head: tuple[int, str] | None
) -> AuditVerification:
    """Verify a chain held in memory (entries in seq order): the pure core of verification."""
    verifier = ChainVerifier(org_id)
    for entry in entries:
        verifier.feed(entry)
    return verifier.finish(head)


# --- Writing ------------------------------------------------------------------------------------


class _PreviousState:
    """Marker: take ``before`` from the ``after`` of the entity's previous entry."""


PREVIOUS_STATE: Final = _PreviousState()


def _org(org_id: uuid.UUID | str) -> uuid.UUID:
    return org_id if isinstance(org_id, uuid.UUID) else uuid.UUID(str(org_id))


async def append_audit(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | str,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    before: Any = PREVIOUS_STATE,
    after: Any = None,
    actor: Actor | None = None,
) -> AuditRecord:
    """Append one entry to ``org_id``'s chain, in the caller's transaction.

    ``before`` defaults to the ``after`` of the entity's previous entry (so every update shows
    both); pass ``None`` for a creation. ``actor`` defaults to :data:`current_actor`. The org's
    head row stays locked until the caller's transaction ends: appends of one org are serial.
    """
    org = _org(org_id)
    who = actor or current_actor.get()
    await session.execute(
        pg_insert(audit_head_table)
        .values(org_id=org, seq=0, hash=GENESIS_HASH)
        .on_conflict_do_nothing()
    )
    head = (
        await session.execute(
            sa.select(audit_head_table.c.seq, audit_head_table.c.hash)
            .where(audit_head_table.c.org_id == org)
            .with_for_update()
        )
    ).one()
    if isinstance(before, _PreviousState):
        before = (
            await session.execute(
                sa.select(audit_entry_table.c.after)
                .where(
                    audit_entry_table.c.org_id == org,
                    audit_entry_table.c.entity_type == entity_type,
                    audit_entry_table.c.entity_id == str(entity_id),
                )
                .order_by(audit_entry_table.c.seq.desc())
                .limit(1)
            )
        ).scalar()
    record = AuditRecord(
        org_id=org,
        seq=int(head.seq) + 1,
        id=uuid7(),
        recorded_at=utcnow(),
        actor=who.subject,
        actor_kind=who.kind,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=canonical_value(redact(before)),
        after=canonical_value(redact(after)),
        prev_hash=str(head.hash),
    )
    digest = record.compute_hash()
    values = {name: getattr(record, name) for name in _RECORD_COLUMNS} | {"hash": digest}
    await session.execute(audit_entry_table.insert().values(**values))
    await session.execute(
        audit_head_table.update()
        .where(audit_head_table.c.org_id == org)
        .values(seq=record.seq, hash=digest)
    )
    return AuditRecord.from_row(values)


@dataclass(frozen=True)
class AuditChange:
    """One change for :func:`append_audit_batch`; ``before`` as in :func:`append_audit`."""

    action: str
    entity_type: str
    entity_id: str
    after: Any
    before: Any = PREVIOUS_STATE


async def append_audit_batch(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | str,
    changes: Iterable[AuditChange],
    actor: Actor | None = None,
) -> int:
    """Append many entries to one org's chain with one head lock and one multi-row insert.

    For set-based writers (imports, batched outbox rows): three statements whatever the count.
    Returns the number of entries appended.
    """
    org = _org(org_id)
    who = actor or current_actor.get()
    pending = list(changes)
    if not pending:
        return 0
    await session.execute(
        pg_insert(audit_head_table)
        .values(org_id=org, seq=0, hash=GENESIS_HASH)
        .on_conflict_do_nothing()
    )
    head = (
        await session.execute(
            sa.select(audit_head_table.c.seq, audit_head_table.c.hash)
            .where(audit_head_table.c.org_id == org)
            .with_for_update()
        )
    ).one()
    t = audit_entry_table
    wanted = {c.entity_id for c in pending if isinstance(c.before, _PreviousState)}
    previous: dict[tuple[str, str], Any] = {}
    if wanted:
        rows = await session.execute(
            sa.select(t.c.entity_type, t.c.entity_id, t.c.after)
            .where(t.c.org_id == org, t.c.entity_id.in_(sorted(wanted)))
            .order_by(t.c.seq)
        )
        previous = {(r.entity_type, r.entity_id): r.after for r in rows}  # the latest wins
    seq, prev_hash = int(head.seq), str(head.hash)
    values: list[dict[str, Any]] = []
    for change in pending:
        key = (change.entity_type, change.entity_id)
        before = previous.get(key) if isinstance(change.before, _PreviousState) else change.before
        after = canonical_value(redact(change.after))
        seq += 1
        record = AuditRecord(
            org_id=org,
            seq=seq,
            id=uuid7(),
            recorded_at=utcnow(),
            actor=who.subject,
            actor_kind=who.kind,
            action=change.action,
            entity_type=change.entity_type,
            entity_id=change.entity_id,
            before=canonical_value(redact(before)),
            after=after,
            prev_hash=prev_hash,
        )
        prev_hash = record.compute_hash()
        previous[key] = after
        values.append(
            {name: getattr(record, name) for name in _RECORD_COLUMNS} | {"hash": prev_hash}
        )
    await session.execute(t.insert(), values)
    await session.execute(
        audit_head_table.update()
        .where(audit_head_table.c.org_id == org)
        .values(seq=seq, hash=prev_hash)
    )
    return len(values)


# --- Reading ------------------------------------------------------------------------------------


class AuditEntryRead(BaseModel):
    seq: int = Field(description="Position in the organisation's trail (1, 2, 3…)")
    id: uuid.UUID
    recorded_at: datetime
    actor: str = Field(description="Subject of the caller, or `system:<worker>`")
    actor_kind: str = Field(description="`user`, `api_key` or `system`")
    action: str = Field(description="Event type (`aims.inventory.system.updated`) or verb")
    entity_type: str
    entity_id: str
    before: Any = Field(description="State before the change (null for a creation)")
    after: Any = Field(description="State after the change (null for a deletion)")
    prev_hash: str
    hash: str


class AuditEntryPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None = None


async def list_audit_entries(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    limit: int,
    after_seq: int | None = None,
    entity_id: str | None = None,
    entity_type: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
) -> list[AuditEntryRead]:
    """Up to ``limit`` entries of ``org_id`` after ``after_seq``, oldest first."""
    t = audit_entry_table
    query = sa.select(t).where(t.c.org_id == org_id).order_by(t.c.seq).limit(limit)
    if after_seq is not None:
        query = query.where(t.c.seq > after_seq)
    if entity_id is not None:
        query = query.where(t.c.entity_id == entity_id)
    if entity_type is not None:
        query = query.where(t.c.entity_type == entity_type)
    if action is not None:
        query = query.where(t.c.action == action)
    if since is not None:
        query = query.where(t.c.recorded_at >= since)
    rows = (await session.execute(query)).mappings()
    return [AuditEntryRead.model_validate(dict(row)) for row in rows]


async def _stream(session: AsyncSession, org_id: uuid.UUID) -> AsyncIterator[AuditRecord]:
    t = audit_entry_table
    last = 0
    while True:
        rows = (
            (
                await session.execute(
                    sa.select(t)
                    .where(t.c.org_id == org_id, t.c.seq > last)
                    .order_by(t.c.seq)
                    .limit(VERIFY_BATCH)
                )
            )
            .mappings()
            .all()
        )
        for row in rows:
            yield AuditRecord.from_row(dict(row))
        if len(rows) < VERIFY_BATCH:
            return
        last = int(rows[-1]["seq"])


async def verify_chain(session: AsyncSession, org_id: uuid.UUID | str) -> AuditVerification:
    """Walk ``org_id``'s chain in seq order, in batches, and report every problem.

    Run it in one snapshot (REPEATABLE READ, as :func:`verify_org_chain` does) so that entries
    appended meanwhile do not look like a head mismatch.
    """
    org = _org(org_id)
    verifier = ChainVerifier(str(org))
    async for entry in _stream(session, org):
        verifier.feed(entry)
    head = (
        await session.execute(
            sa.select(audit_head_table.c.seq, audit_head_table.c.hash).where(
                audit_head_table.c.org_id == org
            )
        )
    ).first()
    return verifier.finish((int(head.seq), str(head.hash)) if head is not None else None)


async def verify_org_chain(
    db: Database, org_id: uuid.UUID | str, *, service: str = ""
) -> AuditVerification:
    """:func:`verify_chain` in a read-only snapshot transaction of its own."""
    async with db.sessions() as session:
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        await set_org(session, org_id)
        result = await verify_chain(session, org_id)
        await session.rollback()
    return result.model_copy(update={"service": service})
