"""Every query of the readiness domain. Row-level security scopes each one to the caller's org.

The facts of :class:`rules.ReadinessFacts` are gathered with a fixed number of set-based
statements, whatever the number of systems, risks or evidence items: aggregates grouped by
clause/control or by owner, capped lists for what is shown. Other domains' tables (audits,
nonconformities, corrective actions, management reviews, evidence, the documented domain's
scope and systems) are only read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.audits.models import Audit, Finding
from services.evidence.corrective.models import Nonconformity
from services.evidence.readiness.models import (
    CertificationMilestone,
    CertificationPlan,
    ReadinessImpactAssessment,
    ReadinessRisk,
    ReadinessSnapshot,
)
from services.evidence.readiness.rules import (
    AUDIT_WINDOW,
    HIGH_RISK_TIERS,
    MAX_SUBJECT_IDS,
    AuditFact,
    NonconformityFact,
    OwnedGroup,
    SystemFact,
    Tally,
)
from services.evidence.reviews.models import ManagementReview
from shared.projections import upsert_if_newer

MAX_SYSTEMS = 200  # high-risk systems listed (each may be a blocker)
MAX_NONCONFORMITIES = 20
MAX_GROUPS = 20  # owners listed per grouped blocker

_CLASS = """CASE
  WHEN e.status = 'approved' AND (e.review_by IS NULL OR e.review_by >= :today) THEN 0
  WHEN (e.status = 'approved' AND e.review_by < :today) OR e.status = 'expired' THEN 1
  WHEN e.status IN ('draft', 'in_review') THEN 2
END"""

# Evidence classes per key (a clause or a control, numbered ``k``) from a mapping of link
# targets to keys, each evidence item counted once per key (mirrors rules.Tally). Integer keys
# and two materialised sets joined by hash keep it to one pass over the org's links and items
# (the row-level-security predicate hides the sizes from the planner, which otherwise picks
# 20,000 index probes).
_TALLIES = sa.text(
    f"""
WITH map AS (
  SELECT * FROM unnest(CAST(:types AS text[]), CAST(:targets AS text[]), CAST(:ks AS int[]))
    AS m(target_type, target_id, k)
), pairs AS MATERIALIZED (
  SELECT DISTINCT m.k, l.item_id
    FROM map m
    JOIN evidence_link l ON l.target_type = m.target_type AND l.target_id = m.target_id
), ev AS MATERIALIZED (
  SELECT e.id, e.review_by, e.updated_at, {_CLASS} AS cls
    FROM evidence_item e
   WHERE e.deleted_at IS NULL AND e.status IN ('approved', 'expired', 'draft', 'in_review')
)
SELECT p.k,
       count(*) FILTER (WHERE cls = 0) AS approved,
       count(*) FILTER (WHERE cls = 1) AS stale,
       count(*) FILTER (WHERE cls = 2) AS draft,
       (array_agg(ev.id ORDER BY cls, review_by DESC NULLS FIRST, ev.id DESC))[1:{MAX_SUBJECT_IDS}]
         AS ids,
       (array_agg(review_by ORDER BY review_by DESC NULLS FIRST, ev.id DESC)
          FILTER (WHERE cls = 0))[1] AS review_by,
       max(updated_at) FILTER (WHERE cls = 0) AS last_approved_at
  FROM pairs p JOIN ev ON ev.id = p.item_id
 GROUP BY p.k
"""
)

_HIGH_RISK_SYSTEMS = sa.text(
    f"""
SELECT d.id, coalesce(s.name, d.id::text) AS name, s.owner, d.in_scope, d.tier,
       EXISTS (SELECT 1 FROM readiness_impact_assessment ia
                WHERE ia.org_id = d.org_id AND ia.system_id = d.id AND ia.status = 'approved')
         AS has_ia
  FROM documented_system d LEFT JOIN system s ON s.id = d.id
 WHERE lower(coalesce(d.tier, '')) = ANY(CAST(:high AS text[]))
   AND coalesce(s.lifecycle_stage, '') <> 'retired'
 ORDER BY d.in_scope, name, d.id
 LIMIT {MAX_SYSTEMS}
"""
)


def _grouped_sql(source: str, where: str, due: str) -> sa.TextClause:
    return sa.text(
        f"""
SELECT owner, count(*) AS n,
       (array_agg(id ORDER BY {due} NULLS LAST, id))[1:{MAX_SUBJECT_IDS}] AS ids,
       min({due})::date AS oldest
  FROM {source}
 WHERE {where}
 GROUP BY owner
 ORDER BY count(*) DESC, owner NULLS LAST
 LIMIT {MAX_GROUPS}
"""
    )


_OVERDUE_RISKS = _grouped_sql(
    "readiness_risk",
    "status <> 'closed' AND (status = 'review_due' OR next_review_at < :cutoff)",
    "next_review_at",
)
_OVERDUE_ACTIONS = _grouped_sql(
    "corrective_action",
    "status IN ('planned', 'verified_ineffective') AND due_date < :today",
    "due_date",
)
_STALE_EVIDENCE = _grouped_sql(
    "evidence_item",
    "status = 'approved' AND deleted_at IS NULL AND review_by < :today",
    "review_by",
)


def _groups(rows: Any) -> tuple[OwnedGroup, ...]:
    return tuple(
        OwnedGroup(r["owner"], int(r["n"]), tuple(r["ids"] or ()), r["oldest"])
        for r in rows.mappings()
    )


class ReadinessRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- Facts ------------------------------------------------------------------------------

    async def tallies(
        self, mapping: Sequence[tuple[str, str, str, str]], today: date
    ) -> dict[tuple[str, str], Tally]:
        """Evidence classes per (kind, key); ``mapping`` rows: (target_type, target_id, kind,
        key)."""
        keys = sorted({(m[2], m[3]) for m in mapping})
        number = {key: i for i, key in enumerate(keys)}
        rows = await self.session.execute(
            _TALLIES,
            {
                "types": [m[0] for m in mapping],
                "targets": [m[1] for m in mapping],
                "ks": [number[(m[2], m[3])] for m in mapping],
                "today": today,
            },
        )
        return {
            keys[r["k"]]: Tally(
                approved=int(r["approved"]),
                stale=int(r["stale"]),
                draft=int(r["draft"]),
                evidence_ids=tuple(r["ids"] or ()),
                review_by=r["review_by"],
                last_approved_at=r["last_approved_at"],
            )
            for r in rows.mappings()
        }

    async def high_risk_systems(self) -> tuple[SystemFact, ...]:
        rows = await self.session.execute(_HIGH_RISK_SYSTEMS, {"high": sorted(HIGH_RISK_TIERS)})
        return tuple(
            SystemFact(
                r["id"], r["name"], r["owner"], bool(r["in_scope"]), r["tier"], bool(r["has_ia"])
            )
            for r in rows.mappings()
        )

    async def open_risks(self) -> int:
        query = sa.select(sa.func.count()).where(ReadinessRisk.status != "closed")
        return int((await self.session.execute(query)).scalar_one())

    async def overdue_risk_reviews(self, cutoff: datetime) -> tuple[OwnedGroup, ...]:
        return _groups(await self.session.execute(_OVERDUE_RISKS, {"cutoff": cutoff}))

    async def overdue_corrective_actions(self, today: date) -> tuple[OwnedGroup, ...]:
        return _groups(await self.session.execute(_OVERDUE_ACTIONS, {"today": today}))

    async def stale_evidence(self, today: date) -> tuple[OwnedGroup, ...]:
        return _groups(await self.session.execute(_STALE_EVIDENCE, {"today": today}))

    async def completed_audits(self, today: date) -> tuple[AuditFact, ...]:
        """Audits completed in the 12 months up to ``today`` (and the last one before)."""
        query = (
            sa.select(Audit.id, Audit.title, Audit.completed_on, Audit.clauses)
            .where(
                Audit.status == "completed",
                Audit.completed_on.is_not(None),
                Audit.completed_on <= today,
            )
            .order_by(Audit.completed_on.desc(), Audit.id.desc())
        )
        recent = query.where(Audit.completed_on > today - AUDIT_WINDOW).limit(100)
        rows = list((await self.session.execute(recent)).all())
        if not rows:
            rows = list((await self.session.execute(query.limit(1))).all())
        return tuple(
            AuditFact(r.id, r.title, r.completed_on, frozenset(str(c) for c in r.clauses or ()))
            for r in rows
            if r.completed_on is not None
        )

    async def last_review_held_on(self, today: date) -> date | None:
        query = sa.select(sa.func.max(ManagementReview.held_on)).where(
            ManagementReview.status.in_(("held", "closed")),
            ManagementReview.held_on <= today,
        )
        held: date | None = (await self.session.execute(query)).scalar_one()
        return held

    async def open_major_nonconformities(self) -> tuple[tuple[NonconformityFact, ...], int]:
        """Open major nonconformities, and major findings still open with no nonconformity
        raised for them (capped list, and the total)."""
        ncs = sa.select(
            Nonconformity.id,
            Nonconformity.title,
            Nonconformity.owner,
            Nonconformity.due_date,
            sa.literal("nonconformity").label("source"),
        ).where(Nonconformity.severity == "major", Nonconformity.status != "closed")
        findings = sa.select(
            Finding.id,
            Finding.title,
            sa.cast(sa.null(), sa.Text).label("owner"),
            sa.cast(sa.null(), sa.Date).label("due_date"),
            sa.literal("finding").label("source"),
        ).where(
            Finding.kind == "major_nonconformity",
            Finding.status == "open",
            ~sa.exists().where(Nonconformity.finding_id == Finding.id),
        )
        union = sa.union_all(ncs, findings).subquery()
        rows = (
            await self.session.execute(
                sa.select(union, sa.func.count().over().label("total"))
                .order_by(union.c.id)
                .limit(MAX_NONCONFORMITIES)
            )
        ).all()
        total = int(rows[0].total) if rows else 0
        return (
            tuple(NonconformityFact(r.id, r.title, r.owner, r.due_date, r.source) for r in rows),
            total,
        )

    # --- Projections (consumers) ------------------------------------------------------------

    async def apply_risk(self, values: dict[str, Any]) -> bool:
        return await upsert_if_newer(self.session, ReadinessRisk, values)

    async def apply_impact_assessment(self, values: dict[str, Any]) -> bool:
        return await upsert_if_newer(self.session, ReadinessImpactAssessment, values)

    # --- Snapshots --------------------------------------------------------------------------

    async def latest_snapshot(self, at: datetime | None = None) -> ReadinessSnapshot | None:
        query = sa.select(ReadinessSnapshot).order_by(ReadinessSnapshot.number.desc()).limit(1)
        if at is not None:
            query = query.where(ReadinessSnapshot.computed_at <= at)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add_snapshot(self, snapshot: ReadinessSnapshot) -> None:
        self.session.add(snapshot)
        await self.session.flush()

    async def snapshots(
        self, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID]
    ) -> list[ReadinessSnapshot]:
        """Newest first (ids are time-ordered, so ``after`` pages backwards)."""
        query = sa.select(ReadinessSnapshot).order_by(ReadinessSnapshot.id.desc()).limit(limit)
        if after is not None:
            query = query.where(ReadinessSnapshot.id < after)
        if ids:
            query = query.where(ReadinessSnapshot.id.in_(ids))
        return list((await self.session.execute(query)).scalars())

    # --- Certification plan -----------------------------------------------------------------

    async def plan(self, *, for_update: bool = False) -> CertificationPlan | None:
        query = sa.select(CertificationPlan)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def milestones(self, plan_id: uuid.UUID) -> list[CertificationMilestone]:
        query = (
            sa.select(CertificationMilestone)
            .where(CertificationMilestone.plan_id == plan_id)
            .order_by(CertificationMilestone.ordinal)
        )
        return list((await self.session.execute(query)).scalars())

    async def milestone(
        self, milestone_id: uuid.UUID, *, for_update: bool = False, nowait: bool = False
    ) -> CertificationMilestone | None:
        query = sa.select(CertificationMilestone).where(CertificationMilestone.id == milestone_id)
        if for_update:
            query = query.with_for_update(nowait=nowait)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()


def day_start(day: date) -> datetime:
    from datetime import UTC, time

    return datetime.combine(day, time.min, tzinfo=UTC)


def day_end(day: date) -> datetime:
    return day_start(day + timedelta(days=1))
