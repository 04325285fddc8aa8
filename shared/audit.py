"""Hash-chained, per-organisation audit trail: who changed what, when, from what to what.

Every change is appended to ``audit_entry`` in the transaction that makes it (``emit`` does it for
every event; changes that emit none call :func:`append_audit`). Entries of one organisation form
a chain: ``hash = SHA-256(canonical JSON of the entry, including prev_hash)``, and ``prev_hash``
is the hash of the entry before (64 zeros for the first). ``audit_head`` holds each chain's last
``seq`` and ``hash``; locking that row serialises appends per organisation, so ``seq`` runs
1, 2, 3… without gaps, and it lets verification see a truncated tail. The row is locked only
for the last statements before ``COMMIT``: entries wait in the session until then (see
"Chaining at commit" below), so the chain's order is the order in which transactions commit.

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
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from shared.db import (
    NAMING_CONVENTION,
    ORG_INFO,
    ORG_SETTING,
    Database,
    defer_to_commit,
    dollar_quoted,
    set_org,
    utcnow,
    uuid7,
)

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

    The exact types of decoded JSON (``str``, ``int``, ``bool``, ``None``, ``dict``, ``list``)
    take a short way, leaves without a call of their own: every write seals an entry, and an
    import of 10,000 systems spent 2 s here (docs/performance.md). Any other type takes
    :func:`_canonical_other`; both give the same value (a property test holds them to the
    general form).
    """
    kind = type(value)
    if kind is str or value is None or kind is int or kind is bool:
        return value
    if kind is dict:
        return {
            (k if type(k) is str else str(k)): (
                v if (t := type(v)) is str or v is None or t is int or t is bool
                else canonical_value(v)
            )
            for k, v in value.items()
        }  # fmt: skip
    if kind is list:
        return [
            v if (t := type(v)) is str or v is None or t is int or t is bool
            else canonical_value(v)
            for v in value
        ]  # fmt: skip
    return _canonical_other(value)


def _canonical_other(value: Any) -> Any:
    if isinstance(value, bool | str):
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
            k: (
                REDACTED if k in SENSITIVE_KEYS and v is not None
                else v if type(v) in _LEAVES
                else redact(v)
            )
            for k, v in value.items()
        }  # fmt: skip
    if isinstance(value, list | tuple):
        return [v if type(v) in _LEAVES else redact(v) for v in value]
    return value


_LEAVES = frozenset({str, int, bool, float, type(None)})


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
) -> None:
    """Append one entry to ``org_id``'s chain, in the caller's transaction.

    ``before`` defaults to the ``after`` of the entity's previous entry (so every update shows
    both); pass ``None`` for a creation. ``actor`` defaults to :data:`current_actor`.

    The entry is chained when the transaction commits (see :func:`_seal_pending`): the org's
    head row is locked only for the last statements before ``COMMIT``, so concurrent writes of
    one org overlap until then, and the chain's order is the order in which they commit.
    """
    await append_audit_batch(
        session,
        org_id=org_id,
        changes=[AuditChange(action, entity_type, str(entity_id), after, before)],
        actor=actor,
    )


@dataclass(frozen=True)
class AuditChange:
    """One change for :func:`append_audit_batch`; ``before`` as in :func:`append_audit`."""

    action: str
    entity_type: str
    entity_id: str
    after: Any
    before: Any = PREVIOUS_STATE


@dataclass(frozen=True)
class _PendingEntry:
    org: uuid.UUID
    actor: Actor
    action: str
    entity_type: str
    entity_id: str
    before: Any  # canonical, or PREVIOUS_STATE
    after: Any  # canonical


async def append_audit_batch(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | str,
    changes: Iterable[AuditChange],
    actor: Actor | None = None,
) -> int:
    """Append many entries to one org's chain, in the caller's transaction.

    Like :func:`append_audit`, the entries are chained at ``COMMIT``, all of a transaction's
    entries of one org with one head lock and one multi-row insert. Returns their number.
    """
    org = _org(org_id)
    # Row-level security decided at append time: the chain is sealed at COMMIT, when the seal sets
    # each entry's organisation itself (a consumer's batch spans organisations), so an entry for
    # another organisation than the one the transaction is scoped to now is refused here, as the
    # insert would have been when entries were written at once.
    scoped = session.info.get(ORG_INFO)
    if scoped is not None and scoped != str(org):
        raise PermissionError(
            f"audit entry for organisation {org} in a transaction scoped to {scoped}"
        )
    who = actor or current_actor.get()
    pending: list[_PendingEntry] = session.info.setdefault(_PENDING, [])
    count = 0
    for change in changes:
        # Canonical copies now: the caller may go on changing the objects it passed.
        before = (
            change.before
            if isinstance(change.before, _PreviousState)
            else canonical_value(redact(change.before))
        )
        pending.append(
            _PendingEntry(
                org=org,
                actor=who,
                action=change.action,
                entity_type=change.entity_type,
                entity_id=str(change.entity_id),
                before=before,
                after=canonical_value(redact(change.after)),
            )
        )
        count += 1
    return count


# --- Chaining at commit -------------------------------------------------------------------------
#
# Entries wait in ``session.info`` until the transaction commits. Just before ``COMMIT`` (the
# session's ``before_commit`` event, which SQLAlchemy's asyncio layer runs inside the greenlet
# of ``commit()``, so the statements below are awaited like any other) each organisation's head
# is locked, its entries chained and inserted and the head moved on; ``COMMIT`` releases the
# lock. Before this, the head was locked at the first append and held for the rest of the
# transaction, so one organisation's writes ran strictly one at a time (about 20/s).
#
# A savepoint that rolls back drops the entries appended inside it; a transaction that rolls
# back drops all of its entries.

_PENDING: Final = "aims_audit_pending"
_MARKS: Final = "aims_audit_savepoints"


def pending_entries(session: AsyncSession | Session) -> int:
    """How many entries wait to be chained at this session's commit (for tests and checks)."""
    return len(session.info.get(_PENDING, ()))


def _seal_pending(session: Session) -> None:
    pending: list[_PendingEntry] | None = session.info.get(_PENDING)
    if not pending or session.in_nested_transaction():
        return
    # Pending ORM changes go first, so that the head stays locked for as little as possible.
    session.flush()
    by_org: dict[uuid.UUID, list[_PendingEntry]] = {}
    for entry in pending:
        by_org.setdefault(entry.org, []).append(entry)
    several = len(by_org) > 1
    scoped = session.info.get(ORG_INFO)  # what ``set_org`` last set, if it was used
    # One lock order across transactions (by org id), so that two never wait for each other.
    for org in sorted(by_org):
        if several or (scoped is not None and scoped != str(org)):
            # Row-level security: the head and the entries are the organisation's rows.
            session.execute(
                sa.text("SELECT set_config(:name, :value, true)"),
                {"name": ORG_SETTING, "value": str(org)},
            )
        entries = by_org[org]
        if not (len(entries) == 1 and _seal_one(session, org, entries[0])):
            _seal_org(session, org, entries)
    pending.clear()


# The statements of :func:`_seal_org`, as fixed text: the same SQL whatever the number of
# entries (arrays, not one placeholder per value), so SQLAlchemy compiles nothing per commit and
# asyncpg prepares each once per connection. Building and compiling the equivalent Core
# statements per commit (an insert of N rows in a CTE cannot be cached) cost more CPU than
# the rest of a registration's audit work.
#
# Lock (creating it if need be) and read the head in one round trip: an upsert that changes
# nothing still locks the row, and RETURNING gives its latest committed values.
_LOCK_HEAD = sa.text(
    "INSERT INTO audit_head (org_id, seq, hash) VALUES (:org, 0, :genesis) "
    "ON CONFLICT (org_id) DO UPDATE SET seq = audit_head.seq RETURNING seq, hash"
)
# The latest ``after`` of each wanted entity (newest entry by the (org, type, id, seq) index).
_PREVIOUS_STATES = sa.text(
    "SELECT w.entity_type, w.entity_id, (SELECT e.after FROM audit_entry e "
    "WHERE e.org_id = :org AND e.entity_type = w.entity_type AND e.entity_id = w.entity_id "
    "ORDER BY e.seq DESC LIMIT 1) AS after "
    "FROM unnest(CAST(:types AS text[]), CAST(:ids AS text[])) AS w(entity_type, entity_id)"
)
# The entries and the new head in one statement (a data-modifying CTE).
_INSERT_AND_MOVE_HEAD = sa.text(
    "WITH inserted AS (INSERT INTO audit_entry (org_id, seq, id, recorded_at, actor, "
    "actor_kind, action, entity_type, entity_id, before, after, prev_hash, hash) "
    "SELECT :org, * FROM unnest(CAST(:seq AS bigint[]), CAST(:id AS uuid[]), "
    "CAST(:recorded_at AS timestamptz[]), CAST(:actor AS text[]), CAST(:actor_kind AS text[]), "
    "CAST(:action AS text[]), CAST(:entity_type AS text[]), CAST(:entity_id AS text[]), "
    "CAST(:before AS jsonb[]), CAST(:after AS jsonb[]), CAST(:prev_hash AS text[]), "
    "CAST(:hash AS text[]))) "
    "UPDATE audit_head SET seq = :head_seq, hash = :head_hash WHERE org_id = :org"
)


# One entry whose ``before`` is known (a creation, or a change that names it): locked, chained,
# inserted and the head moved on in ONE statement. The hash is the same SHA-256 of the same
# canonical JSON: the app sends the JSON's text before and after the ``prev_hash`` value,
# PostgreSQL puts the locked head's hash between them, and the timestamp, taken once the lock is
# held (so ``recorded_at`` keeps the chain's order), in the form :func:`_timestamp` writes.
#
# The entry's values travel as one JSON document (``{payload}``), and the statement is sent
# WITH the ``COMMIT``, in one message (:func:`shared.db.defer_to_commit`), after an upsert that
# creates the org's head if it has none yet (``DO NOTHING`` takes no lock on an existing row).
# The head is then locked for the server's work and the commit only. Sent apart, the lock was
# held across a round trip and a turn of the app's event loop between the statement and the
# ``COMMIT``; at 100 registrations a second on two busy cores, most of the inventory's
# database time was spent waiting for that lock (docs/performance.md). A transaction that
# ``set_org`` did not begin executes the same statement with bound parameters instead (with
# no head yet: the general path).
_APPEND_ONE_SQL = (
    "WITH p AS MATERIALIZED (SELECT CAST({payload} AS jsonb) AS j), "
    "head AS (SELECT seq, hash FROM audit_head WHERE org_id = CAST({org} AS uuid) FOR UPDATE), "
    "stamp AS MATERIALIZED (SELECT clock_timestamp() AS at FROM head), "
    "chained AS MATERIALIZED (SELECT head.seq + 1 AS seq, head.hash AS prev_hash, stamp.at, "
    "encode(sha256(decode(p.j->>'before_prev', 'hex') || convert_to(head.hash || "
    "'\",\"recorded_at\":\"' || to_char(stamp.at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24{colon}MI{colon}SS.US\"Z\"') || (p.j->>'tail'), 'UTF8')), 'hex') "
    "AS hash FROM head, stamp, p), "
    "moved AS (UPDATE audit_head h SET seq = chained.seq, hash = chained.hash FROM chained "
    "WHERE h.org_id = CAST({org} AS uuid) RETURNING h.seq), "
    "inserted AS (INSERT INTO audit_entry (org_id, seq, id, recorded_at, actor, actor_kind, "
    "action, entity_type, entity_id, before, after, prev_hash, hash) "
    "SELECT CAST({org} AS uuid), seq, CAST(p.j->>'id' AS uuid), at, p.j->>'actor', "
    "p.j->>'actor_kind', p.j->>'action', p.j->>'entity_type', p.j->>'entity_id', "
    "NULLIF(p.j->'before', 'null'), NULLIF(p.j->'after', 'null'), prev_hash, hash "
    "FROM chained, p RETURNING seq) "
    "SELECT chained.seq, chained.hash FROM chained"
)
_APPEND_ONE = sa.text(_APPEND_ONE_SQL.format(payload=":payload", org=":org", colon="\\:"))
_ENSURE_HEAD_SQL = (
    "INSERT INTO audit_head (org_id, seq, hash) VALUES (CAST({org} AS uuid), 0, '{genesis}') "
    "ON CONFLICT (org_id) DO NOTHING"
)
_PREV_MARK: Final = "\x00prev\x00"
_STAMP_MARK: Final = "\x00stamp\x00"


def _seal_one(session: Session, org: uuid.UUID, entry: _PendingEntry) -> bool:
    """Chain one entry in one statement (see :data:`_APPEND_ONE_SQL`); False when it cannot be
    (the entity's previous state must be read first, or, sent on its own, the org has no head
    yet)."""
    if isinstance(entry.before, _PreviousState):
        return False
    record = AuditRecord(
        org_id=org,
        seq=0,
        id=uuid7(),
        recorded_at=datetime.now(UTC),
        actor=entry.actor.subject,
        actor_kind=entry.actor.kind,
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        before=entry.before,
        after=entry.after,
        prev_hash=_PREV_MARK,
    )
    fields = record.hashed_fields() | {"recorded_at": _STAMP_MARK}
    text = canonical_json(fields).decode("utf-8")
    # ``prev_hash``, ``recorded_at`` and ``v`` are the last keys (sorted), so the marks are the
    # last two in the text, whatever the entry's values hold.
    head, mark, rest = text.rpartition(json.dumps(_PREV_MARK))
    tail_expected = f',"recorded_at":{json.dumps(_STAMP_MARK)},"v":{HASH_VERSION}}}'
    if not mark or rest != tail_expected:
        return False
    payload = json.dumps(
        {
            "before_prev": (head + '"').encode("utf-8").hex(),
            "tail": f'","v":{HASH_VERSION}}}',
            "id": str(record.id),
            "actor": record.actor,
            "actor_kind": record.actor_kind,
            "action": record.action,
            "entity_type": record.entity_type,
            "entity_id": record.entity_id,
            "before": record.before,
            "after": record.after,
        },
        ensure_ascii=False,
    )
    org_literal = f"'{org}'"  # a UUID's text: safe inline
    fused = ";\n".join(
        (
            _ENSURE_HEAD_SQL.format(org=org_literal, genesis=GENESIS_HASH),
            _APPEND_ONE_SQL.format(payload=dollar_quoted(payload), org=org_literal, colon=":"),
        )
    )
    if defer_to_commit(session, fused):
        return True
    row = session.execute(_APPEND_ONE, {"org": org, "payload": payload}).first()
    return row is not None


def _jsonb(value: Any) -> str | None:
    """The text of a ``jsonb`` array element (None: SQL NULL, as ``JSONB(none_as_null)``)."""
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _seal_org(session: Session, org: uuid.UUID, entries: list[_PendingEntry]) -> None:
    head = session.execute(_LOCK_HEAD, {"org": org, "genesis": GENESIS_HASH}).one()
    wanted = sorted(
        {(e.entity_type, e.entity_id) for e in entries if isinstance(e.before, _PreviousState)}
    )
    previous: dict[tuple[str, str], Any] = {}
    if wanted:
        # Read under the lock: every entry committed before it is visible to this statement.
        rows = session.execute(
            _PREVIOUS_STATES,
            {"org": org, "types": [w[0] for w in wanted], "ids": [w[1] for w in wanted]},
        )
        previous = {(r.entity_type, r.entity_id): r.after for r in rows}
    seq, prev_hash = int(head.seq), str(head.hash)
    columns: dict[str, list[Any]] = {name: [] for name in _RECORD_COLUMNS if name != "org_id"}
    for entry in entries:
        key = (entry.entity_type, entry.entity_id)
        before = previous.get(key) if isinstance(entry.before, _PreviousState) else entry.before
        seq += 1
        record = AuditRecord(
            org_id=org,
            seq=seq,
            id=uuid7(),
            recorded_at=utcnow(),
            actor=entry.actor.subject,
            actor_kind=entry.actor.kind,
            action=entry.action,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            before=before,
            after=entry.after,
            prev_hash=prev_hash,
        )
        prev_hash = record.compute_hash()
        previous[key] = entry.after
        for name, column in columns.items():
            value = prev_hash if name == "hash" else getattr(record, name)
            column.append(_jsonb(value) if name in ("before", "after") else value)
    session.execute(
        _INSERT_AND_MOVE_HEAD, {"org": org, "head_seq": seq, "head_hash": prev_hash, **columns}
    )


def _savepoint_started(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        marks: dict[SessionTransaction, int] = session.info.setdefault(_MARKS, {})
        marks[transaction] = len(session.info.get(_PENDING, ()))


def _rolled_back(session: Session, transaction: SessionTransaction) -> None:
    pending: list[_PendingEntry] | None = session.info.get(_PENDING)
    if transaction.parent is None:
        if pending:
            pending.clear()
        return
    mark = session.info.get(_MARKS, {}).get(transaction)
    if pending and mark is not None:
        del pending[mark:]


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint's mark stays until the transaction ends: SQLAlchemy ends a savepoint
    # *before* it reports the rollback (``after_soft_rollback``) that needs the mark.
    if transaction.parent is None:
        # Committed (and sealed) or rolled back: nothing carries over to the next transaction,
        # not even the organisation ``set_org`` scoped it to (``set_config(…, true)`` ends too).
        session.info.pop(_PENDING, None)
        session.info.pop(_MARKS, None)
        session.info.pop(ORG_INFO, None)


sa.event.listen(Session, "before_commit", _seal_pending)
sa.event.listen(Session, "after_transaction_create", _savepoint_started)
sa.event.listen(Session, "after_soft_rollback", _rolled_back)
sa.event.listen(Session, "after_transaction_end", _transaction_ended)


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
