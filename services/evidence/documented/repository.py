"""Every query of the documented domain. Row-level security scopes each one to the caller's org.

Evidence is read (never written) from the items domain's ``evidence_item`` and
``evidence_link``. Evidence is sorted into the classes of :mod:`rules` by one aggregate per
catalogue item (or per system and item), so a status costs one statement whatever the number of
evidence items; the SQL below mirrors :func:`rules.classify` and the orders of :func:`rules.tally`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.documented.models import (
    DocumentedScope,
    DocumentedSoA,
    DocumentedSystem,
    EvidenceRequest,
)
from services.evidence.documented.rules import (
    CLASS_OF_RANK,
    EVIDENCE_IDS_SHOWN,
    HIGH_RISK_TIERS,
    Bucket,
    EvidenceClass,
    EvidenceTally,
)
from services.evidence.items.models import EvidenceItem, EvidenceLink
from services.evidence.models import SystemProjection
from shared.db import outbox_table, utcnow
from shared.events.envelope import CloudEvent
from shared.events.outbox import audit_events

_APPROVED = "e.status = 'approved' AND (e.review_by IS NULL OR e.review_by >= :today)"
_STALE = "((e.status = 'approved' AND e.review_by < :today) OR e.status = 'expired')"
_DRAFT = "e.status IN ('draft', 'in_review')"
_N = EVIDENCE_IDS_SHOWN

# One row of evidence classes per group (mirrors rules.tally).
_TALLY_COLUMNS = f"""
  count(*) FILTER (WHERE {_APPROVED}) AS approved_count,
  (array_agg(e.id ORDER BY e.review_by DESC NULLS FIRST, e.id DESC)
     FILTER (WHERE {_APPROVED}))[1:{_N}] AS approved_ids,
  (array_agg(e.review_by ORDER BY e.review_by DESC NULLS FIRST, e.id DESC)
     FILTER (WHERE {_APPROVED}))[1] AS approved_review_by,
  count(*) FILTER (WHERE {_STALE}) AS stale_count,
  (array_agg(e.id ORDER BY e.review_by DESC NULLS LAST, e.id DESC)
     FILTER (WHERE {_STALE}))[1:{_N}] AS stale_ids,
  max(e.review_by) FILTER (WHERE {_STALE}) AS stale_review_by,
  count(*) FILTER (WHERE {_DRAFT}) AS draft_count,
  (array_agg(e.id ORDER BY e.id DESC) FILTER (WHERE {_DRAFT}))[1:{_N}] AS draft_ids
"""

# The rank of one evidence item's class (rules.CLASS_RANK; NULL: counts for nothing).
_CLASS_RANK = f"""
  CASE WHEN {_APPROVED} THEN 1 WHEN {_STALE} THEN 2 WHEN {_DRAFT} THEN 3 END
"""

_ORG_TALLIES = sa.text(
    f"""
WITH ax AS (
  SELECT * FROM unnest(CAST(:ax_controls AS text[]), CAST(:ax_items AS text[]))
    AS ax(control, item_id)
), pairs AS (
  SELECT l.target_id AS item_id, l.item_id AS evidence_id
    FROM evidence_link l
   WHERE l.target_type = 'documented_information' AND l.target_id = ANY(CAST(:items AS text[]))
  UNION
  SELECT ax.item_id, l.item_id
    FROM evidence_link l JOIN ax ON ax.control = l.target_id
   WHERE l.target_type = 'control' AND l.target_id = ANY(CAST(:ax_controls AS text[]))
)
SELECT p.item_id, {_TALLY_COLUMNS}
  FROM pairs p JOIN evidence_item e ON e.id = p.evidence_id
 WHERE e.deleted_at IS NULL
 GROUP BY p.item_id
"""
)


# Named systems with their evidence classes per SYS item (ids, dates), in one statement. A
# system without evidence gives one row with a NULL item. No DISTINCT is needed:
# ``evidence_link`` is unique per (item, target), so each evidence item appears once per
# (system, SYS item).
_SYSTEM_TALLIES = sa.text(
    f"""
WITH wanted AS (
  SELECT s.id, s.id::text AS key, s.in_scope, s.tier FROM documented_system s
   WHERE s.id = ANY(:system_ids)
), tallies AS (
  SELECT sl.target_id AS system_key, di.target_id AS item_id, {_TALLY_COLUMNS}
    FROM evidence_link di
    JOIN evidence_link sl ON sl.item_id = di.item_id AND sl.target_type = 'system'
    JOIN evidence_item e ON e.id = di.item_id
   WHERE di.target_type = 'documented_information' AND di.target_id = ANY(CAST(:items AS text[]))
     AND sl.target_id IN (SELECT key FROM wanted) AND e.deleted_at IS NULL
   GROUP BY sl.target_id, di.target_id
)
SELECT w.id AS system_id, w.in_scope, w.tier, t.*
  FROM wanted w LEFT JOIN tallies t ON t.system_key = w.key
"""
).bindparams(sa.bindparam("system_ids", type_=ARRAY(PG_UUID(as_uuid=True))))

# Only the best class per (system, SYS item), for statuses over many systems, in two shapes:
#
# * every in-scope system: the classes are computed once per evidence item linked to a SYS item
#   (hash joins over the organisation's links), then spread over the item's systems (filtering
#   the links by system first would cost an index probe per link), and the systems are counted
#   per (item, tier, best class): at most a few dozen rows, on which the rules decide;
# * named systems (a DataLoader's batch): from those systems' own links (an index probe per
#   system), so a batch of 100 costs what 100 systems hold, not what the organisation holds.
_WANTED_SYSTEMS = """
WITH wanted AS (
  SELECT s.id, s.id::text AS key, s.in_scope, s.tier FROM documented_system s WHERE {where}
)"""

_IN_SCOPE_BEST = sa.text(
    _WANTED_SYSTEMS.format(where="s.in_scope")
    + f""", classed AS (
  SELECT di.item_id AS evidence_id, di.target_id AS item_id, {_CLASS_RANK} AS rank
    FROM evidence_link di JOIN evidence_item e ON e.id = di.item_id
   WHERE di.target_type = 'documented_information' AND di.target_id = ANY(CAST(:items AS text[]))
     AND e.deleted_at IS NULL
), system_links AS MATERIALIZED (
  -- Materialised so the planner hashes it: under RLS it underestimates the join above by
  -- ~15x and otherwise probes the links index once per evidence item (measured: ~20 % more
  -- backend CPU in 5 of 5 paired runs).
  SELECT item_id, target_id FROM evidence_link WHERE target_type = 'system'
), best AS (
  SELECT sl.target_id AS system_key, c.item_id, min(c.rank) AS rank
    FROM classed c JOIN system_links sl ON sl.item_id = c.evidence_id
   GROUP BY sl.target_id, c.item_id
)
SELECT i.item_id, w.tier, b.rank, count(*) AS systems
  FROM wanted w CROSS JOIN unnest(CAST(:items AS text[])) AS i(item_id)
  LEFT JOIN best b ON b.system_key = w.key AND b.item_id = i.item_id
 GROUP BY i.item_id, w.tier, b.rank
"""
)

_NAMED_BEST = sa.text(
    _WANTED_SYSTEMS.format(where="s.id = ANY(:system_ids)")
    + f""", best AS (
  SELECT sl.target_id AS system_key, di.target_id AS item_id, min({_CLASS_RANK}) AS rank
    FROM evidence_link sl
    JOIN evidence_link di ON di.item_id = sl.item_id
     AND di.target_type = 'documented_information' AND di.target_id = ANY(CAST(:items AS text[]))
    JOIN evidence_item e ON e.id = sl.item_id
   WHERE sl.target_type = 'system' AND sl.target_id = ANY(CAST(:keys AS text[]))
     AND e.deleted_at IS NULL
   GROUP BY sl.target_id, di.target_id
)
SELECT w.id, w.in_scope, w.tier, b.item_id, b.rank
  FROM wanted w LEFT JOIN best b ON b.system_key = w.key
"""
).bindparams(sa.bindparam("system_ids", type_=ARRAY(PG_UUID(as_uuid=True))))

# Open what each named system is now asked for (new rows, or withdrawn ones re-opened).
_OPEN_REQUESTS = sa.text(
    """
INSERT INTO evidence_request AS r
  (id, org_id, system_id, item_id, status, requested_at, withdrawn_at, version, updated_at)
SELECT documented_uuid7(), s.org_id, s.id, i.item_id, 'open', CAST(:now AS timestamptz), NULL, 1,
       CAST(:now AS timestamptz)
  FROM documented_system s
 CROSS JOIN unnest(CAST(:items AS text[]), CAST(:high_only AS boolean[])) AS i(item_id, high_only)
 WHERE s.id = ANY(:system_ids) AND s.in_scope
   AND (NOT i.high_only OR lower(coalesce(s.tier, '')) = ANY(CAST(:high_tiers AS text[])))
ON CONFLICT (org_id, system_id, item_id) DO UPDATE
   SET status = 'open', requested_at = excluded.requested_at, withdrawn_at = NULL,
       version = r.version + 1, updated_at = excluded.updated_at
 WHERE r.status = 'withdrawn'
RETURNING r.*
"""
).bindparams(sa.bindparam("system_ids", type_=ARRAY(PG_UUID(as_uuid=True))))

# Withdraw the open requests of the named systems that no longer apply.
_WITHDRAW_REQUESTS = sa.text(
    """
UPDATE evidence_request r
   SET status = 'withdrawn', withdrawn_at = :now, version = r.version + 1, updated_at = :now
  FROM documented_system s
 WHERE s.id = r.system_id AND r.system_id = ANY(:system_ids) AND r.status = 'open'
   AND NOT (s.in_scope AND (r.item_id <> ALL(CAST(:high_items AS text[]))
            OR lower(coalesce(s.tier, '')) = ANY(CAST(:high_tiers AS text[]))))
RETURNING r.*
"""
).bindparams(sa.bindparam("system_ids", type_=ARRAY(PG_UUID(as_uuid=True))))

_SET_MEMBERSHIP = sa.text(
    """
INSERT INTO documented_system AS s (id, org_id, in_scope, scope_number, updated_at)
SELECT u.id, CAST(:org_id AS uuid), u.in_scope, CAST(:number AS integer),
       CAST(:now AS timestamptz)
  FROM unnest(:ids, CAST(:flags AS boolean[])) AS u(id, in_scope)
ON CONFLICT (id) DO UPDATE
   SET in_scope = excluded.in_scope, scope_number = excluded.scope_number,
       updated_at = excluded.updated_at
 WHERE s.scope_number IS NULL OR s.scope_number < excluded.scope_number
RETURNING s.id
"""
).bindparams(sa.bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True))))


def _bucket(row: Any, prefix: str, review_by: bool = True) -> Bucket:
    count = row[f"{prefix}_count"] or 0
    if not count:
        return Bucket()
    return Bucket(
        count,
        tuple(row[f"{prefix}_ids"] or ()),
        row[f"{prefix}_review_by"] if review_by else None,
    )


def _tally(row: Any) -> EvidenceTally:
    return EvidenceTally(
        approved=_bucket(row, "approved"),
        stale=_bucket(row, "stale"),
        draft=_bucket(row, "draft", review_by=False),
    )


@dataclass(frozen=True)
class SystemTallies:
    system_id: uuid.UUID
    in_scope: bool
    tier: str | None
    tallies: dict[str, EvidenceTally]


@dataclass(frozen=True)
class SystemBest:
    system_id: uuid.UUID
    in_scope: bool
    tier: str | None
    best: dict[str, EvidenceClass]


class DocumentedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- What the organisation has approved -----------------------------------------------

    async def soa(self) -> DocumentedSoA | None:
        return (await self.session.execute(sa.select(DocumentedSoA))).scalar_one_or_none()

    async def scope(self) -> DocumentedScope | None:
        return (await self.session.execute(sa.select(DocumentedScope))).scalar_one_or_none()

    async def system(self, system_id: uuid.UUID) -> DocumentedSystem | None:
        return await self.session.get(DocumentedSystem, system_id)

    async def system_known(self, system_id: uuid.UUID) -> bool:
        query = sa.select(SystemProjection.id).where(SystemProjection.id == system_id)
        return (await self.session.execute(query)).first() is not None

    async def count_in_scope(self) -> int:
        query = sa.select(sa.func.count()).where(DocumentedSystem.in_scope)
        return int((await self.session.execute(query)).scalar_one())

    # --- Evidence tallies -----------------------------------------------------------------

    async def org_tallies(
        self, item_ids: Sequence[str], ax_controls: dict[str, str], today: date
    ) -> dict[str, EvidenceTally]:
        """Evidence classes per organisation-level item (``ax_controls``: control → AX id)."""
        rows = await self.session.execute(
            _ORG_TALLIES,
            {
                "items": list(item_ids),
                "ax_controls": list(ax_controls),
                "ax_items": list(ax_controls.values()),
                "today": today,
            },
        )
        return {row["item_id"]: _tally(row) for row in rows.mappings()}

    async def system_tallies(
        self,
        sys_item_ids: Sequence[str],
        today: date,
        *,
        system_ids: Sequence[uuid.UUID],
    ) -> list[SystemTallies]:
        """Each named system with its evidence classes per SYS item (ids and dates included).
        Systems the domain has never heard of are left out."""
        rows = await self.session.execute(
            _SYSTEM_TALLIES,
            {
                "system_ids": list(system_ids),
                "items": list(sys_item_ids),
                "today": today,
            },
        )
        systems: dict[uuid.UUID, SystemTallies] = {}
        for row in rows.mappings():
            entry = systems.get(row["system_id"])
            if entry is None:
                entry = systems[row["system_id"]] = SystemTallies(
                    row["system_id"], row["in_scope"], row["tier"], {}
                )
            if row["item_id"] is not None:
                entry.tallies[row["item_id"]] = _tally(row)
        return list(systems.values())

    async def system_best_classes(
        self, sys_item_ids: Sequence[str], today: date, *, system_ids: Sequence[uuid.UUID]
    ) -> list[SystemBest]:
        """Each named system with the best class of its evidence per SYS item (absent: no
        evidence). Systems never heard of are left out."""
        rows = await self.session.execute(
            _NAMED_BEST,
            {
                "items": list(sys_item_ids),
                "today": today,
                "system_ids": list(system_ids),
                "keys": [str(s) for s in system_ids],
            },
        )
        systems: dict[uuid.UUID, SystemBest] = {}
        for system_id, in_scope, tier, item_id, rank in rows:
            entry = systems.get(system_id)
            if entry is None:
                entry = systems[system_id] = SystemBest(system_id, in_scope, tier, {})
            if item_id is not None and rank is not None:
                entry.best[item_id] = CLASS_OF_RANK[rank]
        return list(systems.values())

    async def in_scope_best_classes(
        self, sys_item_ids: Sequence[str], today: date
    ) -> list[tuple[str, str | None, EvidenceClass | None, int]]:
        """Over every in-scope system: (SYS item, tier, best class, number of systems)."""
        rows = await self.session.execute(
            _IN_SCOPE_BEST, {"items": list(sys_item_ids), "today": today}
        )
        return [
            (item_id, tier, CLASS_OF_RANK[rank] if rank is not None else None, int(count))
            for item_id, tier, rank, count in rows
        ]

    # --- Projections (consumers) ----------------------------------------------------------

    async def apply_soa(
        self,
        *,
        org_id: uuid.UUID,
        soa_version_id: uuid.UUID,
        number: int,
        included: Sequence[str],
        excluded: Sequence[str],
        approved_at: datetime | None,
    ) -> bool:
        """Keep the SoA if it is newer than the one held; True when it was written."""
        insert = pg_insert(DocumentedSoA).values(
            org_id=org_id,
            soa_version_id=soa_version_id,
            number=number,
            included_controls=list(included),
            excluded_controls=list(excluded),
            approved_at=approved_at,
            synced_at=utcnow(),
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[DocumentedSoA.org_id],
            set_={
                name: insert.excluded[name]
                for name in (
                    "soa_version_id",
                    "number",
                    "included_controls",
                    "excluded_controls",
                    "approved_at",
                    "synced_at",
                )
            },
            where=DocumentedSoA.number < insert.excluded.number,
        ).returning(DocumentedSoA.org_id)
        return (await self.session.execute(upsert)).first() is not None

    async def apply_scope(
        self, *, org_id: uuid.UUID, scope_version_id: uuid.UUID, number: int
    ) -> bool:
        """Record the scope's number if it is newer; True when it was (the event applies)."""
        insert = pg_insert(DocumentedScope).values(
            org_id=org_id, scope_version_id=scope_version_id, number=number, synced_at=utcnow()
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[DocumentedScope.org_id],
            set_={
                "scope_version_id": insert.excluded.scope_version_id,
                "number": insert.excluded.number,
                "synced_at": insert.excluded.synced_at,
            },
            where=DocumentedScope.number < insert.excluded.number,
        ).returning(DocumentedScope.org_id)
        return (await self.session.execute(upsert)).first() is not None

    async def set_membership(
        self,
        *,
        org_id: uuid.UUID,
        number: int,
        systems_in: Sequence[uuid.UUID],
        systems_out: Sequence[uuid.UUID],
    ) -> bool:
        """Set ``in_scope`` of every listed system whose membership is older, in one statement;
        True when one was set."""
        ids = [*systems_in, *systems_out]
        if not ids:
            return False
        written = await self.session.execute(
            _SET_MEMBERSHIP,
            {
                "org_id": org_id,
                "number": number,
                "now": utcnow(),
                "ids": ids,
                "flags": [True] * len(systems_in) + [False] * len(systems_out),
            },
        )
        return written.first() is not None

    async def apply_classification(
        self, *, org_id: uuid.UUID, system_id: uuid.UUID, tier: str | None, version: int
    ) -> bool:
        insert = pg_insert(DocumentedSystem).values(
            id=system_id,
            org_id=org_id,
            in_scope=False,
            tier=tier,
            classification_version=version,
            updated_at=utcnow(),
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[DocumentedSystem.id],
            set_={
                "tier": insert.excluded.tier,
                "classification_version": insert.excluded.classification_version,
                "updated_at": insert.excluded.updated_at,
            },
            where=sa.or_(
                DocumentedSystem.classification_version.is_(None),
                DocumentedSystem.classification_version < insert.excluded.classification_version,
            ),
        ).returning(DocumentedSystem.id)
        return (await self.session.execute(upsert)).first() is not None

    # --- Requests ---------------------------------------------------------------------------

    async def reconcile_requests(
        self,
        system_ids: Sequence[uuid.UUID],
        *,
        items: Sequence[tuple[str, bool]],
    ) -> tuple[list[EvidenceRequest], list[EvidenceRequest]]:
        """Open what the named systems are asked for and withdraw what no longer applies, in two
        set-based statements. Returns the (opened, withdrawn) requests."""
        if not system_ids:
            return [], []
        now = utcnow()
        common = {"system_ids": list(system_ids), "now": now, "high_tiers": sorted(HIGH_RISK_TIERS)}
        opened = await self.session.execute(
            sa.select(EvidenceRequest).from_statement(_OPEN_REQUESTS),
            {
                **common,
                "items": [item_id for item_id, _ in items],
                "high_only": [high for _, high in items],
            },
        )
        opened_rows = list(opened.scalars())
        withdrawn = await self.session.execute(
            sa.select(EvidenceRequest).from_statement(_WITHDRAW_REQUESTS),
            {**common, "high_items": [item_id for item_id, high in items if high]},
        )
        return opened_rows, list(withdrawn.scalars())

    def _satisfied(self, today: date) -> sa.ColumnElement[bool]:
        """Whether a request's item has approved, current evidence for its system. Written as
        ``item_id = ANY(ARRAY(…the system's approved items…))``: the sub-select correlates on
        the system alone, so it starts from the system's few links (an EXISTS correlated on both
        was planned from the item's side: thousands of links per SYS item)."""
        di = sa.orm.aliased(EvidenceLink)
        sl = sa.orm.aliased(EvidenceLink)
        approved_items = (
            sa.select(di.target_id)
            .select_from(sl)
            .join(di, sa.and_(di.item_id == sl.item_id, di.target_type == "documented_information"))
            .join(EvidenceItem, EvidenceItem.id == sl.item_id)
            .where(
                sl.target_type == "system",
                sl.target_id == EvidenceRequest.system_key,
                EvidenceItem.deleted_at.is_(None),
                EvidenceItem.status == "approved",
                sa.or_(EvidenceItem.review_by.is_(None), EvidenceItem.review_by >= today),
            )
            .correlate(EvidenceRequest)
            .scalar_subquery()
        )
        return EvidenceRequest.item_id == sa.any_(sa.func.array(approved_items))

    def requests_query(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        today: date,
        system_ids: Sequence[uuid.UUID] = (),
        statuses: Sequence[str] = (),
        item_ids: Sequence[str] = (),
        ids: Sequence[uuid.UUID] = (),
    ) -> sa.Select[EvidenceRequest, bool]:
        satisfied = self._satisfied(today)
        query = (
            sa.select(EvidenceRequest, satisfied.label("satisfied"))
            .order_by(EvidenceRequest.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(EvidenceRequest.id > after)
        if ids:
            query = query.where(EvidenceRequest.id.in_(ids))
        if system_ids:
            query = query.where(EvidenceRequest.system_id.in_(system_ids))
        if item_ids:
            query = query.where(EvidenceRequest.item_id.in_(item_ids))
        if statuses:
            wanted: list[sa.ColumnElement[bool]] = []
            if "withdrawn" in statuses:
                wanted.append(EvidenceRequest.status == "withdrawn")
            if "open" in statuses:
                wanted.append(sa.and_(EvidenceRequest.status == "open", ~satisfied))
            if "satisfied" in statuses:
                wanted.append(sa.and_(EvidenceRequest.status == "open", satisfied))
            query = query.where(sa.or_(*wanted))
        return query

    async def requests_page(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        today: date,
        system_ids: Sequence[uuid.UUID] = (),
        statuses: Sequence[str] = (),
        item_ids: Sequence[str] = (),
        ids: Sequence[uuid.UUID] = (),
    ) -> list[tuple[EvidenceRequest, bool]]:
        """Requests in id order, each with whether it is satisfied now."""
        query = self.requests_query(
            limit=limit,
            after=after,
            today=today,
            system_ids=system_ids,
            statuses=statuses,
            item_ids=item_ids,
            ids=ids,
        )
        # The correlated sub-select makes the planner's cost of a filtered page look large
        # enough to JIT-compile it: measured, compiling cost 30-700 ms for a 30 ms query.
        await self.session.execute(sa.text("SET LOCAL jit = off"))
        rows = await self.session.execute(query)
        return [(row[0], bool(row[1])) for row in rows.all()]

    async def queue_events(self, events: Sequence[CloudEvent]) -> None:
        """Write many events to the outbox in one batched statement (same transaction)."""
        if not events:
            return
        now = utcnow()
        await self.session.execute(
            outbox_table.insert(),
            [
                {
                    "event_id": uuid.UUID(event.id),
                    "org_id": uuid.UUID(event.orgid) if event.orgid else None,
                    "type": event.type,
                    "subject": event.type,
                    "envelope": event.model_dump(mode="json"),
                    "created_at": now,
                    "attempts": 0,
                }
                for event in events
            ],
        )
        await audit_events(self.session, events)  # what emit() would also have recorded
