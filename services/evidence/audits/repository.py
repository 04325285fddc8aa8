"""Every query of the internal audit domain. Row-level security scopes each one to the caller's
organisation; the filters here are for meaning, not for tenancy.

It reads, never writes, other evidence domains' tables: the ``system`` projection (owners),
evidence items with their links (who owns the evidence of a clause or control), and the
readiness domain's projection of the risk register (which risks a finding may name).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.audits.models import Audit, AuditProgramme, Finding
from services.evidence.corrective.models import Nonconformity
from services.evidence.items.models import EvidenceItem, EvidenceLink
from services.evidence.models import SystemProjection
from services.evidence.readiness.models import ReadinessRisk

Entity = TypeVar("Entity", AuditProgramme, Audit, Finding)


@dataclass
class FindingFilter:
    ids: list[uuid.UUID] = field(default_factory=list)
    audit_ids: list[uuid.UUID] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    # (target_type, target_id): findings linked to it.
    target: tuple[str, str] | None = None


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    async def get(
        self, model: type[Entity], entity_id: uuid.UUID, *, for_update: bool = False
    ) -> Entity | None:
        query = sa.select(model).where(model.id == entity_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    # --- Pages -----------------------------------------------------------------------------------

    async def programmes(
        self, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID] = ()
    ) -> list[AuditProgramme]:
        query = sa.select(AuditProgramme).order_by(AuditProgramme.id).limit(limit)
        if after is not None:
            query = query.where(AuditProgramme.id > after)
        if ids:
            query = query.where(AuditProgramme.id.in_(ids))
        return list((await self.session.execute(query)).scalars())

    async def audits(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        ids: Sequence[uuid.UUID] = (),
        programme_ids: Sequence[uuid.UUID] = (),
        statuses: Sequence[str] = (),
    ) -> list[Audit]:
        query = sa.select(Audit).order_by(Audit.id).limit(limit)
        if after is not None:
            query = query.where(Audit.id > after)
        if ids:
            query = query.where(Audit.id.in_(ids))
        if programme_ids:
            query = query.where(Audit.programme_id.in_(programme_ids))
        if statuses:
            query = query.where(Audit.status.in_(statuses))
        return list((await self.session.execute(query)).scalars())

    async def findings(
        self, filters: FindingFilter, *, limit: int, after: uuid.UUID | None
    ) -> list[Finding]:
        query = sa.select(Finding).order_by(Finding.id).limit(limit)
        if after is not None:
            query = query.where(Finding.id > after)
        if filters.ids:
            query = query.where(Finding.id.in_(filters.ids))
        if filters.audit_ids:
            query = query.where(Finding.audit_id.in_(filters.audit_ids))
        if filters.kinds:
            query = query.where(Finding.kind.in_(filters.kinds))
        if filters.statuses:
            query = query.where(Finding.status.in_(filters.statuses))
        if filters.target is not None:
            target_type, target_id = filters.target
            query = query.where(
                Finding.links.contains([{"target_type": target_type, "target_id": target_id}])
            )
        return list((await self.session.execute(query)).scalars())

    # --- Programmes --------------------------------------------------------------------------

    async def live_audits_of(self, programme_id: uuid.UUID) -> list[Audit]:
        """The programme's audits that count towards its coverage (all but cancelled ones)."""
        query = (
            sa.select(Audit)
            .where(Audit.programme_id == programme_id, Audit.status != "cancelled")
            .order_by(Audit.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def live_audits_of_many(self, programme_ids: Sequence[uuid.UUID]) -> list[Audit]:
        """:meth:`live_audits_of` several programmes in one query (by programme, then id)."""
        if not programme_ids:
            return []
        query = (
            sa.select(Audit)
            .where(Audit.programme_id.in_(programme_ids), Audit.status != "cancelled")
            .order_by(Audit.programme_id, Audit.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def audit_span(self, programme_id: uuid.UUID) -> tuple[date | None, date | None]:
        """The first planned start and last planned end of the programme's live audits."""
        query = sa.select(sa.func.min(Audit.planned_start), sa.func.max(Audit.planned_end)).where(
            Audit.programme_id == programme_id, Audit.status != "cancelled"
        )
        first, last = (await self.session.execute(query)).one()
        return first, last

    # --- Independence ------------------------------------------------------------------------

    async def system_owners(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str | None]:
        """Known systems among ``ids`` and their owners (a system not projected is absent)."""
        if not ids:
            return {}
        query = sa.select(SystemProjection.id, SystemProjection.owner).where(
            SystemProjection.id.in_(list(ids))
        )
        return {i: o for i, o in (await self.session.execute(query)).all()}

    async def known_risks(self, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """The risks among ``ids`` the evidence service has received from the risk register."""
        if not ids:
            return set()
        query = sa.select(ReadinessRisk.id).where(ReadinessRisk.id.in_(list(ids)))
        return set((await self.session.execute(query)).scalars())

    async def evidence_owners(
        self, targets: dict[str, Sequence[str]]
    ) -> list[tuple[str, str, str]]:
        """``(target_type, target_id, owner)`` of every live evidence item with an owner linked
        to one of ``targets`` (type → ids), once each."""
        conditions = [
            sa.and_(EvidenceLink.target_type == kind, EvidenceLink.target_id.in_(list(ids)))
            for kind, ids in targets.items()
            if ids
        ]
        if not conditions:
            return []
        query = (
            sa.select(EvidenceLink.target_type, EvidenceLink.target_id, EvidenceItem.owner)
            .join(EvidenceItem, EvidenceItem.id == EvidenceLink.item_id)
            .where(
                sa.or_(*conditions),
                EvidenceItem.deleted_at.is_(None),
                EvidenceItem.owner.is_not(None),
            )
            .distinct()
        )
        return [(t, i, str(o)) for t, i, o in (await self.session.execute(query)).all()]

    # --- Findings and their nonconformities --------------------------------------------------

    async def nonconformity_of_findings(
        self, finding_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        if not finding_ids:
            return {}
        query = sa.select(Nonconformity.finding_id, Nonconformity.id).where(
            Nonconformity.finding_id.in_(list(finding_ids))
        )
        return {f: n for f, n in (await self.session.execute(query)).all() if f is not None}
