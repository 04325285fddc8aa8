"""Every query of the management review domain. Row-level security scopes each one to the
caller's org.

The "as of" queries reconstruct what was true at a past moment ``at`` from the timestamps the
rows keep (created, raised, implemented, verified, closed): a row created at or after ``at`` did
not exist yet, and a row closed at or after ``at`` was still open then. They read the internal
audit and corrective action tables read-only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.audits.models import Audit, Finding
from services.evidence.corrective.models import CorrectiveAction, Nonconformity
from services.evidence.readiness.models import ReadinessRisk
from services.evidence.reviews.models import (
    ManagementReview,
    ManagementReviewAction,
    ReviewSourceVersion,
)


def _open_at(closed_at: Any, at: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(closed_at.is_(None), closed_at >= at)


def action_status_at(at: datetime) -> sa.ColumnElement[str]:
    """A review action's status at ``at``: its status if it was closed before, else open."""
    return sa.case(
        (
            sa.and_(
                ManagementReviewAction.closed_at.is_not(None),
                ManagementReviewAction.closed_at < at,
            ),
            ManagementReviewAction.status,
        ),
        else_=sa.literal("open"),
    )


def corrective_status_at(at: datetime) -> sa.ColumnElement[str]:
    """A corrective action's status at ``at``, from its timestamps. A verification before
    ``at`` counts with its current result (the latest verification is the one kept)."""
    ca = CorrectiveAction
    return sa.case(
        (sa.and_(ca.closed_at.is_not(None), ca.closed_at < at), sa.literal("closed")),
        (
            sa.and_(ca.verified_at.is_not(None), ca.verified_at < at),
            sa.case(
                (ca.status == "verified_ineffective", sa.literal("verified_ineffective")),
                else_=sa.literal("verified_effective"),
            ),
        ),
        (
            sa.and_(ca.implemented_at.is_not(None), ca.implemented_at < at),
            sa.literal("implemented"),
        ),
        else_=sa.literal("planned"),
    )


class ReviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    # --- Reviews ---------------------------------------------------------------------------------

    async def get(
        self, review_id: uuid.UUID, *, for_update: bool = False
    ) -> ManagementReview | None:
        query = sa.select(ManagementReview).where(ManagementReview.id == review_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        ids: Sequence[uuid.UUID] = (),
        statuses: Sequence[str] = (),
        since: date | None = None,
        until: date | None = None,
    ) -> list[ManagementReview]:
        query = sa.select(ManagementReview).order_by(ManagementReview.id).limit(limit)
        if after is not None:
            query = query.where(ManagementReview.id > after)
        if ids:
            query = query.where(ManagementReview.id.in_(ids))
        if statuses:
            query = query.where(ManagementReview.status.in_(statuses))
        if since is not None:
            query = query.where(ManagementReview.review_date >= since)
        if until is not None:
            query = query.where(ManagementReview.review_date <= until)
        return list((await self.session.execute(query)).scalars())

    async def action_counts(
        self, review_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """Per review: (actions, open actions)."""
        if not review_ids:
            return {}
        a = ManagementReviewAction
        query = (
            sa.select(
                a.review_id,
                sa.func.count(),
                sa.func.count().filter(a.status == "open"),
            )
            .where(a.review_id.in_(review_ids))
            .group_by(a.review_id)
        )
        return {r: (int(n), int(o)) for r, n, o in (await self.session.execute(query)).all()}

    async def previous_review(self, review: ManagementReview) -> ManagementReview | None:
        """The latest review held (or closed) before ``review``'s date."""
        query = (
            sa.select(ManagementReview)
            .where(
                ManagementReview.id != review.id,
                ManagementReview.review_date < review.review_date,
                ManagementReview.status.in_(("held", "closed")),
            )
            .order_by(ManagementReview.review_date.desc(), ManagementReview.id.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    # --- Actions ---------------------------------------------------------------------------------

    async def get_action(
        self, action_id: uuid.UUID, *, for_update: bool = False, nowait: bool = False
    ) -> ManagementReviewAction | None:
        query = sa.select(ManagementReviewAction).where(ManagementReviewAction.id == action_id)
        if for_update:
            query = query.with_for_update(nowait=nowait)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def actions(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        ids: Sequence[uuid.UUID] = (),
        review_id: uuid.UUID | None = None,
        statuses: Sequence[str] = (),
        owner: str | None = None,
        overdue_on: date | None = None,
        not_overdue_on: date | None = None,
        review_ids: Sequence[uuid.UUID] = (),
    ) -> list[ManagementReviewAction]:
        a = ManagementReviewAction
        query = sa.select(a).order_by(a.id).limit(limit)
        if after is not None:
            query = query.where(a.id > after)
        if ids:
            query = query.where(a.id.in_(ids))
        if review_id is not None:
            query = query.where(a.review_id == review_id)
        if review_ids:
            query = query.where(a.review_id.in_(review_ids))
        if statuses:
            query = query.where(a.status.in_(statuses))
        if owner is not None:
            query = query.where(a.owner == owner)
        if overdue_on is not None:
            query = query.where(a.status == "open", a.due_date < overdue_on)
        if not_overdue_on is not None:
            query = query.where(sa.or_(a.status != "open", a.due_date >= not_overdue_on))
        return list((await self.session.execute(query)).scalars())

    # --- As of a moment: actions of earlier reviews (9.3.2 a) ------------------------------------

    async def previous_actions_at(
        self, review: ManagementReview, day: date, at: datetime, *, limit: int
    ) -> tuple[dict[str, int], list[dict[str, Any]]]:
        """Actions of reviews dated before ``review``, as they stood at ``at``: counts by
        status (plus ``overdue``) and the first ``limit`` (open ones first, by due date)."""
        a, r = ManagementReviewAction, ManagementReview
        status = action_status_at(at)
        counts_query = (
            sa.select(
                sa.func.count(),
                sa.func.count().filter(status == "open"),
                sa.func.count().filter(status == "done"),
                sa.func.count().filter(status == "cancelled"),
                sa.func.count().filter(status == "open", a.due_date < day),
            )
            .select_from(a)
            .join(r, r.id == a.review_id)
            .where(r.id != review.id, r.review_date < review.review_date, a.created_at < at)
        )
        total, open_, done, cancelled, overdue = (await self.session.execute(counts_query)).one()
        rows = (
            await self.session.execute(
                sa.select(a, status.label("status_then"), r.title, r.review_date)
                .join(r, r.id == a.review_id)
                .where(r.id != review.id, r.review_date < review.review_date, a.created_at < at)
                .order_by(sa.case((status == "open", 0), else_=1), a.due_date, a.id)
                .limit(limit)
            )
        ).all()
        items = [
            {
                "id": str(action.id),
                "review_id": str(action.review_id),
                "review_title": title,
                "review_date": review_date.isoformat(),
                "title": action.title,
                "owner": action.owner,
                "due_date": action.due_date.isoformat(),
                "status": status_then,
                "overdue": status_then == "open" and action.due_date < day,
            }
            for action, status_then, title, review_date in rows
        ]
        counts = {
            "total": int(total),
            "open": int(open_),
            "done": int(done),
            "cancelled": int(cancelled),
            "overdue": int(overdue),
        }
        return counts, items

    # --- As of a moment: nonconformities and corrective actions (9.3.2 d 1) ---------------------

    async def nonconformities_at(
        self, at: datetime, since: datetime | None, *, limit: int
    ) -> tuple[dict[str, int], list[dict[str, Any]]]:
        nc = Nonconformity
        is_open = _open_at(nc.closed_at, at)
        exists = nc.created_at < at
        filters = [
            sa.func.count().filter(is_open),
            sa.func.count().filter(is_open, nc.severity == "major"),
            sa.func.count().filter(is_open, nc.severity == "minor"),
        ]
        if since is not None:
            filters += [
                sa.func.count().filter(nc.created_at >= since),
                sa.func.count().filter(nc.closed_at >= since, nc.closed_at < at),
            ]
        row = (await self.session.execute(sa.select(*filters).where(exists))).one()
        counts = {"open": int(row[0]), "open_major": int(row[1]), "open_minor": int(row[2])}
        if since is not None:
            counts |= {"raised_since": int(row[3]), "closed_since": int(row[4])}
        rows = (
            await self.session.execute(
                sa.select(nc)
                .where(exists, is_open)
                .order_by(sa.case((nc.severity == "major", 0), else_=1), nc.id)
                .limit(limit)
            )
        ).scalars()
        items = [
            {
                "id": str(n.id),
                "title": n.title,
                "severity": n.severity,
                "owner": n.owner,
                "due_date": n.due_date.isoformat() if n.due_date else None,
                "finding_id": str(n.finding_id) if n.finding_id else None,
                "raised_at": n.created_at.isoformat(),
            }
            for n in rows
        ]
        return counts, items

    async def corrective_actions_at(
        self, day: date, at: datetime, *, limit: int
    ) -> tuple[dict[str, int], list[dict[str, Any]]]:
        ca = CorrectiveAction
        status = corrective_status_at(at)
        exists = ca.created_at < at
        grouped = (
            await self.session.execute(
                sa.select(status, sa.func.count()).where(exists).group_by(status)
            )
        ).all()
        counts = {name: 0 for name in ("planned", "implemented", "verified_effective")}
        counts |= {"verified_ineffective": 0, "closed": 0}
        for name, n in grouped:
            counts[str(name)] = int(n)
        overdue = (
            await self.session.execute(
                sa.select(sa.func.count()).where(exists, status == "planned", ca.due_date < day)
            )
        ).scalar_one()
        counts["overdue"] = int(overdue)
        counts["total"] = sum(int(n) for _, n in grouped)
        rows = (
            await self.session.execute(
                sa.select(ca, status.label("status_then"))
                .where(exists, status != "closed")
                .order_by(ca.due_date, ca.id)
                .limit(limit)
            )
        ).all()
        items = [
            {
                "id": str(c.id),
                "nonconformity_id": str(c.nonconformity_id),
                "description": c.description[:500],
                "owner": c.owner,
                "due_date": c.due_date.isoformat(),
                "status": status_then,
                "overdue": status_then == "planned" and c.due_date < day,
            }
            for c, status_then in rows
        ]
        return counts, items

    # --- As of a moment: audits and findings (9.3.2 d 3, e) --------------------------------------

    async def audits_at(
        self, day: date, since: date, *, limit: int
    ) -> tuple[dict[str, int], list[dict[str, Any]], list[dict[str, Any]]]:
        """Audits completed in ``(since, day]`` and audits planned after ``day``."""
        completed = sa.and_(
            Audit.completed_on.is_not(None), Audit.completed_on > since, Audit.completed_on <= day
        )
        upcoming = sa.and_(
            Audit.planned_start > day,
            sa.or_(Audit.completed_on.is_(None), Audit.completed_on > day),
            Audit.status != "cancelled",
        )
        n_completed, n_upcoming = (
            await self.session.execute(
                sa.select(sa.func.count().filter(completed), sa.func.count().filter(upcoming))
            )
        ).one()
        done = (
            await self.session.execute(
                sa.select(Audit).where(completed).order_by(Audit.completed_on.desc()).limit(limit)
            )
        ).scalars()
        planned = (
            await self.session.execute(
                sa.select(Audit).where(upcoming).order_by(Audit.planned_start).limit(limit)
            )
        ).scalars()

        def _audit(a: Audit) -> dict[str, Any]:
            return {
                "id": str(a.id),
                "title": a.title,
                "planned_start": a.planned_start.isoformat(),
                "planned_end": a.planned_end.isoformat(),
                "completed_on": a.completed_on.isoformat()
                if a.completed_on and a.completed_on <= day
                else None,
                "lead_auditor": a.lead_auditor,
                "clauses": len(a.clauses),
                "controls": len(a.controls),
                "conclusion": a.conclusion[:1000] if a.completed_on else "",
            }

        counts = {"completed": int(n_completed), "planned": int(n_upcoming)}
        return counts, [_audit(a) for a in done], [_audit(a) for a in planned]

    async def findings_at(self, at: datetime) -> dict[str, dict[str, int]]:
        """Findings raised before ``at`` by kind: how many, and how many were open then."""
        f = Finding
        rows = (
            await self.session.execute(
                sa.select(
                    f.kind, sa.func.count(), sa.func.count().filter(_open_at(f.closed_at, at))
                )
                .where(f.raised_at < at)
                .group_by(f.kind)
            )
        ).all()
        return {str(kind): {"raised": int(n), "open": int(o)} for kind, n, o in rows}

    async def improvement_findings_at(
        self, at: datetime, *, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """Opportunities for improvement and observations raised before ``at`` and open then."""
        f = Finding
        where = (
            f.kind.in_(("opportunity_for_improvement", "observation")),
            f.raised_at < at,
            _open_at(f.closed_at, at),
        )
        total = (await self.session.execute(sa.select(sa.func.count()).where(*where))).scalar_one()
        rows = (
            await self.session.execute(
                sa.select(f)
                .where(*where)
                .order_by(
                    sa.case((f.kind == "opportunity_for_improvement", 0), else_=1), f.raised_at
                )
                .limit(limit)
            )
        ).scalars()
        items = [
            {
                "id": str(x.id),
                "audit_id": str(x.audit_id),
                "kind": x.kind,
                "title": x.title,
                "raised_at": x.raised_at.isoformat(),
            }
            for x in rows
        ]
        return int(total), items

    # --- Risks (the readiness domain's projection of the risk register) --------------------------

    async def risks_now(
        self, at: datetime, *, limit: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Risks not closed, as last received from the risk service (the projection keeps no
        history): counts by status and residual level, reviews overdue at ``at``, and the first
        ``limit`` by review date."""
        r = ReadinessRisk
        not_closed = r.status != "closed"
        by_status = (
            await self.session.execute(
                sa.select(r.status, sa.func.count()).where(not_closed).group_by(r.status)
            )
        ).all()
        level = sa.func.coalesce(r.residual_level, r.inherent_level, "unassessed")
        by_level = (
            await self.session.execute(
                sa.select(level, sa.func.count()).where(not_closed).group_by(level)
            )
        ).all()
        overdue = (
            await self.session.execute(
                sa.select(sa.func.count()).where(not_closed, r.next_review_at < at)
            )
        ).scalar_one()
        rows = (
            await self.session.execute(
                sa.select(r)
                .where(not_closed)
                .order_by(r.next_review_at.asc().nulls_last(), r.id)
                .limit(limit)
            )
        ).scalars()
        counts = _risk_counts(by_status, by_level, overdue)
        items = [
            {
                "id": str(x.id),
                "title": x.title,
                "system_id": str(x.system_id) if x.system_id else None,
                "status": x.status,
                "inherent_level": x.inherent_level,
                "residual_level": x.residual_level,
                "owner": x.owner,
                "next_review_at": x.next_review_at.isoformat() if x.next_review_at else None,
                "review_overdue": x.next_review_at is not None and x.next_review_at < at,
            }
            for x in rows
        ]
        return counts, items

    # --- Context and risks (versions received from the inventory and the risk service) ---------

    async def add_source_version(self, values: dict[str, Any]) -> None:
        """Keep one version of a context entry or risk; a redelivered version is kept once."""
        await self.session.execute(
            pg_insert(ReviewSourceVersion)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["entity_type", "entity_id", "source_version"])
        )

    async def has_source_versions(self, entity_type: str) -> bool:
        v = ReviewSourceVersion
        query = sa.select(sa.exists().where(v.entity_type == entity_type))
        return bool((await self.session.execute(query)).scalar_one())

    @staticmethod
    def _latest_at(entity_type: str, at: datetime) -> sa.Subquery:
        """Each ``entity_type`` entry as it stood at ``at``: its latest version before it."""
        v = ReviewSourceVersion
        ranked = (
            sa.select(
                v.entity_id,
                v.title,
                v.data,
                v.recorded_at,
                v.changed_at,
                sa.func.row_number()
                .over(
                    partition_by=v.entity_id,
                    order_by=(v.changed_at.desc(), v.source_version.desc()),
                )
                .label("rank"),
            )
            .where(v.entity_type == entity_type, v.changed_at < at, v.recorded_at < at)
            .subquery()
        )
        return sa.select(ranked).where(ranked.c.rank == 1).subquery()

    async def context_at(
        self, entity_type: str, at: datetime, since: datetime, *, limit: int
    ) -> tuple[dict[str, int], list[dict[str, Any]]]:
        """The entries of ``entity_type`` as they stood at ``at`` (each one's latest version
        recorded before it): how many there were, how many were recorded (``new``) or changed
        (``changed``) from ``since`` on, and the first ``limit`` of those, latest change first."""
        latest = self._latest_at(entity_type, at)
        total, new, changed = (
            await self.session.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.count().filter(latest.c.recorded_at >= since),
                    sa.func.count().filter(
                        latest.c.recorded_at < since, latest.c.changed_at >= since
                    ),
                ).select_from(latest)
            )
        ).one()
        rows = (
            await self.session.execute(
                sa.select(latest)
                .where(latest.c.changed_at >= since)
                .order_by(latest.c.changed_at.desc(), latest.c.entity_id)
                .limit(limit)
            )
        ).all()
        counts = {
            "total": int(total),
            "new": int(new),
            "changed": int(changed),
            "unchanged": int(total) - int(new) - int(changed),
        }
        items = [
            {
                "id": str(r.entity_id),
                "change": "new" if r.recorded_at >= since else "changed",
                "title": r.title,
                "recorded_at": r.recorded_at.isoformat(),
                "changed_at": r.changed_at.isoformat(),
                **r.data,
            }
            for r in rows
        ]
        return counts, items

    async def risks_at(
        self, at: datetime, *, limit: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Risks not closed at ``at``, each as its latest version before it: counts by status
        and residual level, reviews overdue at ``at``, and the first ``limit`` by review date."""
        latest = self._latest_at("risk", at)
        status = latest.c.data["status"].astext
        level = sa.func.coalesce(
            latest.c.data["residual_level"].astext,
            latest.c.data["inherent_level"].astext,
            "unassessed",
        )
        review_at = sa.cast(latest.c.data["next_review_at"].astext, sa.DateTime(timezone=True))
        not_closed = status != "closed"
        by_status = (
            await self.session.execute(
                sa.select(status, sa.func.count()).where(not_closed).group_by(status)
            )
        ).all()
        by_level = (
            await self.session.execute(
                sa.select(level, sa.func.count()).where(not_closed).group_by(level)
            )
        ).all()
        overdue = (
            await self.session.execute(
                sa.select(sa.func.count()).select_from(latest).where(not_closed, review_at < at)
            )
        ).scalar_one()
        rows = (
            await self.session.execute(
                sa.select(latest, review_at.label("review_at"))
                .where(not_closed)
                .order_by(review_at.asc().nulls_last(), latest.c.entity_id)
                .limit(limit)
            )
        ).all()
        counts = _risk_counts(by_status, by_level, overdue)
        items = [
            {
                "id": str(r.entity_id),
                "title": r.title,
                **r.data,
                "review_overdue": r.review_at is not None and r.review_at < at,
            }
            for r in rows
        ]
        return counts, items


def _risk_counts(by_status: Any, by_level: Any, overdue: Any) -> dict[str, Any]:
    """The counts of a review's risk input: open risks by status and level, reviews overdue."""
    return {
        "open": sum(int(n) for _, n in by_status),
        "by_status": {str(k): int(n) for k, n in by_status},
        "by_level": {str(k): int(n) for k, n in by_level},
        "review_overdue": int(overdue),
    }
