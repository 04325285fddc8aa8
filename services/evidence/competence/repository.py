"""Every query of the competence domain. Row-level security scopes each one to the caller's org."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.competence.models import (
    AIMSRole,
    AIMSRoleCompetence,
    Competence,
    Person,
    RoleAssignment,
    Training,
)

Entity = TypeVar("Entity", Person, Competence, AIMSRole, Training)


def _current(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(
        RoleAssignment.since <= today,
        sa.or_(RoleAssignment.until.is_(None), RoleAssignment.until >= today),
    )


class CompetenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    async def delete(self, row: object) -> None:
        await self.session.delete(row)

    async def get(
        self, model: type[Entity], entity_id: uuid.UUID, *, for_update: bool = False
    ) -> Entity | None:
        query = sa.select(model).where(model.id == entity_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def existing_ids(self, model: type[Entity], ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        if not ids:
            return set()
        query = sa.select(model.id).where(model.id.in_(ids))
        return set((await self.session.execute(query)).scalars())

    # --- Uniqueness ------------------------------------------------------------------------------

    async def person_with_email(self, key: str) -> uuid.UUID | None:
        query = sa.select(Person.id).where(Person.email_key == key)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def person_with_external_ref(self, key: str) -> uuid.UUID | None:
        query = sa.select(Person.id).where(Person.external_ref_key == key)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def competence_named(self, key: str) -> uuid.UUID | None:
        query = sa.select(Competence.id).where(Competence.name_key == key)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def role_named(self, key: str) -> uuid.UUID | None:
        query = sa.select(AIMSRole.id).where(AIMSRole.name_key == key)
        return (await self.session.execute(query)).scalar_one_or_none()

    # --- Pages -----------------------------------------------------------------------------------

    async def people(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        ids: Sequence[uuid.UUID] = (),
        department: str | None = None,
        active: bool | None = None,
    ) -> list[Person]:
        query = sa.select(Person).order_by(Person.id).limit(limit)
        if after is not None:
            query = query.where(Person.id > after)
        if ids:
            query = query.where(Person.id.in_(ids))
        if department is not None:
            query = query.where(Person.department == department)
        if active is not None:
            query = query.where(Person.active.is_(active))
        return list((await self.session.execute(query)).scalars())

    async def competences(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        ids: Sequence[uuid.UUID] = (),
        awareness: bool | None = None,
    ) -> list[Competence]:
        query = sa.select(Competence).order_by(Competence.id).limit(limit)
        if after is not None:
            query = query.where(Competence.id > after)
        if ids:
            query = query.where(Competence.id.in_(ids))
        if awareness is not None:
            query = query.where(Competence.awareness.is_(awareness))
        return list((await self.session.execute(query)).scalars())

    async def roles(
        self, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID] = ()
    ) -> list[AIMSRole]:
        query = sa.select(AIMSRole).order_by(AIMSRole.id).limit(limit)
        if after is not None:
            query = query.where(AIMSRole.id > after)
        if ids:
            query = query.where(AIMSRole.id.in_(ids))
        return list((await self.session.execute(query)).scalars())

    async def trainings(
        self,
        *,
        limit: int,
        after: uuid.UUID | None,
        ids: Sequence[uuid.UUID] = (),
        person_ids: Sequence[uuid.UUID] = (),
        competence_ids: Sequence[uuid.UUID] = (),
        expiring_before: date | None = None,
    ) -> list[Training]:
        query = sa.select(Training).order_by(Training.id).limit(limit)
        if after is not None:
            query = query.where(Training.id > after)
        if ids:
            query = query.where(Training.id.in_(ids))
        if person_ids:
            query = query.where(Training.person_id.in_(person_ids))
        if competence_ids:
            query = query.where(Training.competence_id.in_(competence_ids))
        if expiring_before is not None:
            query = query.where(Training.expires_at < expiring_before)
        return list((await self.session.execute(query)).scalars())

    # --- Roles: requirements and holders ---------------------------------------------------------

    async def required_competences(
        self, role_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        out: dict[uuid.UUID, list[uuid.UUID]] = {r: [] for r in role_ids}
        if not role_ids:
            return out
        query = (
            sa.select(AIMSRoleCompetence.role_id, AIMSRoleCompetence.competence_id)
            .where(AIMSRoleCompetence.role_id.in_(role_ids))
            .order_by(AIMSRoleCompetence.role_id, AIMSRoleCompetence.competence_id)
        )
        for role_id, competence_id in (await self.session.execute(query)).all():
            out[role_id].append(competence_id)
        return out

    async def set_required_competences(
        self, org_id: uuid.UUID, role_id: uuid.UUID, competence_ids: Sequence[uuid.UUID]
    ) -> None:
        await self.session.execute(
            sa.delete(AIMSRoleCompetence).where(AIMSRoleCompetence.role_id == role_id)
        )
        for competence_id in dict.fromkeys(competence_ids):
            self.session.add(
                AIMSRoleCompetence(org_id=org_id, role_id=role_id, competence_id=competence_id)
            )

    async def current_holders(
        self, role_ids: Sequence[uuid.UUID], today: date, *, active_only: bool = True
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """People holding each role today, in the order they were assigned."""
        out: dict[uuid.UUID, list[uuid.UUID]] = {r: [] for r in role_ids}
        if not role_ids:
            return out
        query = (
            sa.select(RoleAssignment.role_id, RoleAssignment.person_id)
            .join(Person, Person.id == RoleAssignment.person_id)
            .where(RoleAssignment.role_id.in_(role_ids), _current(today))
            .order_by(RoleAssignment.role_id, RoleAssignment.id)
        )
        if active_only:
            query = query.where(Person.active.is_(True))
        for role_id, person_id in (await self.session.execute(query)).all():
            if person_id not in out[role_id]:
                out[role_id].append(person_id)
        return out

    async def assignments(
        self,
        role_id: uuid.UUID,
        *,
        limit: int,
        after: uuid.UUID | None,
        person_id: uuid.UUID | None = None,
    ) -> list[RoleAssignment]:
        query = (
            sa.select(RoleAssignment)
            .where(RoleAssignment.role_id == role_id)
            .order_by(RoleAssignment.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(RoleAssignment.id > after)
        if person_id is not None:
            query = query.where(RoleAssignment.person_id == person_id)
        return list((await self.session.execute(query)).scalars())

    async def assignments_of_roles(
        self, role_ids: Sequence[uuid.UUID], *, limit: int, after: uuid.UUID | None
    ) -> list[RoleAssignment]:
        """The assignments of several roles, oldest first (for DataLoaders)."""
        query = (
            sa.select(RoleAssignment)
            .where(RoleAssignment.role_id.in_(role_ids))
            .order_by(RoleAssignment.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(RoleAssignment.id > after)
        return list((await self.session.execute(query)).scalars())

    async def overlapping_assignment(
        self, role_id: uuid.UUID, person_id: uuid.UUID, since: date, until: date | None
    ) -> RoleAssignment | None:
        """An assignment of ``person`` to ``role`` whose period meets ``[since, until]``."""
        query = sa.select(RoleAssignment).where(
            RoleAssignment.role_id == role_id,
            RoleAssignment.person_id == person_id,
            sa.or_(RoleAssignment.until.is_(None), RoleAssignment.until >= since),
        )
        if until is not None:
            query = query.where(RoleAssignment.since <= until)
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def assignment_in_force(
        self, role_id: uuid.UUID, person_id: uuid.UUID, today: date
    ) -> list[RoleAssignment]:
        """Assignments of ``person`` to ``role`` current today or starting later, locked."""
        query = (
            sa.select(RoleAssignment)
            .where(
                RoleAssignment.role_id == role_id,
                RoleAssignment.person_id == person_id,
                sa.or_(RoleAssignment.until.is_(None), RoleAssignment.until >= today),
            )
            .with_for_update()
        )
        return list((await self.session.execute(query)).scalars())

    async def roles_of_person_in_force(self, person_id: uuid.UUID, today: date) -> list[uuid.UUID]:
        query = sa.select(RoleAssignment.role_id).where(
            RoleAssignment.person_id == person_id,
            sa.or_(RoleAssignment.until.is_(None), RoleAssignment.until >= today),
        )
        return list(dict.fromkeys((await self.session.execute(query)).scalars()))

    # --- References (for deletes) ----------------------------------------------------------------

    async def count_trainings_of_person(self, person_id: uuid.UUID) -> int:
        query = sa.select(sa.func.count()).where(Training.person_id == person_id)
        return int((await self.session.execute(query)).scalar_one())

    async def count_assignments_of_person(self, person_id: uuid.UUID) -> int:
        query = sa.select(sa.func.count()).where(RoleAssignment.person_id == person_id)
        return int((await self.session.execute(query)).scalar_one())

    async def count_trainings_of_competence(self, competence_id: uuid.UUID) -> int:
        query = sa.select(sa.func.count()).where(Training.competence_id == competence_id)
        return int((await self.session.execute(query)).scalar_one())

    async def roles_requiring(self, competence_id: uuid.UUID) -> list[uuid.UUID]:
        query = sa.select(AIMSRoleCompetence.role_id).where(
            AIMSRoleCompetence.competence_id == competence_id
        )
        return list((await self.session.execute(query)).scalars())

    # --- Whole-org reads for gaps and coverage ---------------------------------------------------

    async def people_by_id(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Person]:
        if not ids:
            return {}
        query = sa.select(Person).where(Person.id.in_(ids))
        return {p.id: p for p in (await self.session.execute(query)).scalars()}

    async def competences_by_id(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Competence]:
        if not ids:
            return {}
        query = sa.select(Competence).where(Competence.id.in_(ids))
        return {c.id: c for c in (await self.session.execute(query)).scalars()}

    async def active_people(self) -> list[Person]:
        query = sa.select(Person).where(Person.active.is_(True)).order_by(Person.id)
        return list((await self.session.execute(query)).scalars())

    async def awareness_topics(self) -> list[Competence]:
        query = sa.select(Competence).where(Competence.awareness.is_(True)).order_by(Competence.id)
        return list((await self.session.execute(query)).scalars())

    async def trainings_for(
        self, person_ids: Sequence[uuid.UUID], competence_ids: Sequence[uuid.UUID]
    ) -> list[Training]:
        """Trainings of these people in these competences (the rules pick what counts)."""
        if not person_ids or not competence_ids:
            return []
        query = sa.select(Training).where(
            Training.person_id.in_(person_ids), Training.competence_id.in_(competence_ids)
        )
        return list((await self.session.execute(query)).scalars())

    async def later_trainings(self, training: Training) -> list[Training]:
        """Other trainings of the same person in the same competence completed on or after it."""
        query = sa.select(Training).where(
            Training.person_id == training.person_id,
            Training.competence_id == training.competence_id,
            Training.id != training.id,
            Training.completed_at >= training.completed_at,
        )
        return list((await self.session.execute(query)).scalars())
