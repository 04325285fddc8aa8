"""Client of the evidence service's competence records (ISO/IEC 42001 7.2, 7.3): people,
competences, AIMS roles and who holds them, trainings, gaps and awareness."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from gateway.clients.base import Params, UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage

M = TypeVar("M", bound=BaseModel)


class UpstreamPerson(UpstreamModel):
    """``PersonRead``."""

    id: uuid.UUID
    name: str
    email: str | None = None
    department: str | None = None
    job_title: str | None = None
    active: bool
    external_ref: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamCompetence(UpstreamModel):
    """``CompetenceRead``."""

    id: uuid.UUID
    name: str
    description: str
    validity_months: int | None = None
    awareness: bool
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamAIMSRole(UpstreamModel):
    """``AIMSRoleRead``."""

    id: uuid.UUID
    name: str
    description: str
    responsibilities: str
    required_competence_ids: list[uuid.UUID] = Field(default_factory=list)
    holder_ids: list[uuid.UUID] = Field(default_factory=list)
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamAssignment(UpstreamModel):
    """``AssignmentRead``: a person holding an AIMS role over a period."""

    id: uuid.UUID
    role_id: uuid.UUID
    person_id: uuid.UUID
    since: date
    until: date | None = None
    current: bool
    created_by: str
    created_at: datetime


class UpstreamTraining(UpstreamModel):
    """``TrainingRead``."""

    id: uuid.UUID
    person_id: uuid.UUID
    competence_id: uuid.UUID
    title: str
    provider: str | None = None
    completed_at: date
    expires_at: date | None = None
    expires_at_explicit: bool = False
    evidence_item_id: uuid.UUID | None = None
    evaluation_method: str | None = None
    evaluation_result: str
    evaluated_at: date | None = None
    evaluated_by: str | None = None
    evaluation_notes: str = ""
    valid: bool
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamHolderGap(UpstreamModel):
    person_id: uuid.UUID
    person_name: str
    competence_id: uuid.UUID
    competence_name: str
    reason: str
    expired_on: date | None = None
    detail: str


class UpstreamRoleGap(UpstreamModel):
    role_id: uuid.UUID
    role_name: str
    holder_count: int
    no_holders: bool
    detail: str | None = None
    gaps: list[UpstreamHolderGap]


class UpstreamRoleGapPage(UpstreamPage[UpstreamRoleGap]):
    as_of: date


class UpstreamMissingTopic(UpstreamModel):
    competence_id: uuid.UUID
    competence_name: str
    reason: str
    expired_on: date | None = None


class UpstreamPersonMissingAwareness(UpstreamModel):
    person_id: uuid.UUID
    person_name: str
    missing: list[UpstreamMissingTopic]


class UpstreamDepartmentAwareness(UpstreamModel):
    department: str | None = None
    people: int
    covered: int
    coverage: float
    missing: list[UpstreamPersonMissingAwareness]


class UpstreamAwareness(UpstreamModel):
    as_of: date
    topics: list[UpstreamCompetence]
    people: int
    covered: int
    coverage: float
    departments: list[UpstreamDepartmentAwareness]


def _paged(limit: int, after: str | None, filters: Params) -> list[tuple[str, str | int]]:
    params: list[tuple[str, str | int]] = [("limit", limit), *filters]
    if after:
        params.append(("after", after))
    return params


def _headers(
    idempotency_key: str | None = None, expected_version: int | None = None
) -> dict[str, str]:
    headers = {}
    if idempotency_key:
        headers["idempotency-key"] = idempotency_key
    if expected_version is not None:
        headers["if-match"] = f'"{expected_version}"'
    return headers


class CompetenceClient(UpstreamClient):
    service = "evidence"

    async def _write(
        self,
        method: str,
        path: str,
        model: type[M],
        body: dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
    ) -> M:
        response = await self._send(
            method, path, json=body, headers=_headers(idempotency_key, expected_version)
        )
        return model.model_validate_json(response.content)

    # --- People ---------------------------------------------------------------------------

    async def people(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamPerson]:
        return await self._get(
            "/v1/people", UpstreamPage[UpstreamPerson], params=_paged(limit, after, filters)
        )

    async def people_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamPerson]:
        page = await self._get(
            "/v1/people", UpstreamPage[UpstreamPerson], params=self._batch_params(ids)
        )
        return page.items

    async def create_person(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamPerson:
        return await self._write(
            "POST", "/v1/people", UpstreamPerson, body, idempotency_key=idempotency_key
        )

    async def update_person(
        self, person_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamPerson:
        return await self._write(
            "PATCH",
            f"/v1/people/{person_id}",
            UpstreamPerson,
            body,
            expected_version=expected_version,
        )

    async def delete_person(self, person_id: uuid.UUID, *, expected_version: int) -> None:
        await self._send(
            "DELETE", f"/v1/people/{person_id}", headers=_headers(expected_version=expected_version)
        )

    async def delete_competence(self, competence_id: uuid.UUID, *, expected_version: int) -> None:
        await self._send(
            "DELETE",
            f"/v1/competences/{competence_id}",
            headers=_headers(expected_version=expected_version),
        )

    async def delete_role(self, role_id: uuid.UUID, *, expected_version: int) -> None:
        await self._send(
            "DELETE",
            f"/v1/aims-roles/{role_id}",
            headers=_headers(expected_version=expected_version),
        )

    async def person_trainings(
        self, person_id: uuid.UUID, *, limit: int, after: str | None = None
    ) -> UpstreamPage[UpstreamTraining]:
        return await self._get(
            f"/v1/people/{person_id}/trainings",
            UpstreamPage[UpstreamTraining],
            params=_paged(limit, after, ()),
        )

    # --- Competences ----------------------------------------------------------------------

    async def competences(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamCompetence]:
        return await self._get(
            "/v1/competences",
            UpstreamPage[UpstreamCompetence],
            params=_paged(limit, after, filters),
        )

    async def competences_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamCompetence]:
        page = await self._get(
            "/v1/competences", UpstreamPage[UpstreamCompetence], params=self._batch_params(ids)
        )
        return page.items

    async def create_competence(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamCompetence:
        return await self._write(
            "POST", "/v1/competences", UpstreamCompetence, body, idempotency_key=idempotency_key
        )

    async def update_competence(
        self, competence_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamCompetence:
        return await self._write(
            "PATCH",
            f"/v1/competences/{competence_id}",
            UpstreamCompetence,
            body,
            expected_version=expected_version,
        )

    # --- AIMS roles -----------------------------------------------------------------------

    async def roles(
        self, *, limit: int, after: str | None = None
    ) -> UpstreamPage[UpstreamAIMSRole]:
        return await self._get(
            "/v1/aims-roles", UpstreamPage[UpstreamAIMSRole], params=_paged(limit, after, ())
        )

    async def roles_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamAIMSRole]:
        page = await self._get(
            "/v1/aims-roles", UpstreamPage[UpstreamAIMSRole], params=self._batch_params(ids)
        )
        return page.items

    async def create_role(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamAIMSRole:
        return await self._write(
            "POST", "/v1/aims-roles", UpstreamAIMSRole, body, idempotency_key=idempotency_key
        )

    async def update_role(
        self, role_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamAIMSRole:
        return await self._write(
            "PATCH",
            f"/v1/aims-roles/{role_id}",
            UpstreamAIMSRole,
            body,
            expected_version=expected_version,
        )

    async def assignments(
        self, role_id: uuid.UUID, *, limit: int, after: str | None = None
    ) -> UpstreamPage[UpstreamAssignment]:
        return await self._get(
            f"/v1/aims-roles/{role_id}/assignments",
            UpstreamPage[UpstreamAssignment],
            params=_paged(limit, after, ()),
        )

    async def assignments_of_roles(
        self, role_ids: Sequence[uuid.UUID], *, limit: int, after: str | None = None
    ) -> UpstreamPage[UpstreamAssignment]:
        """The assignments of several roles, oldest first (``GET /v1/aims-role-assignments``)."""
        return await self._get(
            "/v1/aims-role-assignments",
            UpstreamPage[UpstreamAssignment],
            params=_paged(limit, after, [("role_id", str(i)) for i in role_ids]),
        )

    async def assign(
        self, role_id: uuid.UUID, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamAssignment:
        return await self._write(
            "POST",
            f"/v1/aims-roles/{role_id}/assignments",
            UpstreamAssignment,
            body,
            idempotency_key=idempotency_key,
        )

    async def unassign(self, role_id: uuid.UUID, person_id: uuid.UUID) -> None:
        await self._send("DELETE", f"/v1/aims-roles/{role_id}/assignments/{person_id}")

    # --- Trainings ------------------------------------------------------------------------

    async def trainings(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamTraining]:
        return await self._get(
            "/v1/trainings", UpstreamPage[UpstreamTraining], params=_paged(limit, after, filters)
        )

    async def trainings_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamTraining]:
        page = await self._get(
            "/v1/trainings", UpstreamPage[UpstreamTraining], params=self._batch_params(ids)
        )
        return page.items

    async def record_training(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamTraining:
        return await self._write(
            "POST", "/v1/trainings", UpstreamTraining, body, idempotency_key=idempotency_key
        )

    async def update_training(
        self, training_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamTraining:
        return await self._write(
            "PATCH",
            f"/v1/trainings/{training_id}",
            UpstreamTraining,
            body,
            expected_version=expected_version,
        )

    # --- Reports --------------------------------------------------------------------------

    async def gaps(self, *, limit: int, after: str | None = None) -> UpstreamRoleGapPage:
        return await self._get(
            "/v1/competence/gaps", UpstreamRoleGapPage, params=_paged(limit, after, ())
        )

    async def awareness(self, department: str | None = None) -> UpstreamAwareness:
        params = [("department", department)] if department is not None else None
        return await self._get("/v1/competence/awareness", UpstreamAwareness, params=params)
