"""Client of the evidence service's internal audit (ISO/IEC 42001 9.2) and its nonconformities
and corrective actions (10.2): programmes with their coverage, audits, findings,
nonconformities, corrective actions."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, Field

from gateway.clients.base import Params, UpstreamClient, upstream_error
from gateway.clients.schemas import UpstreamModel, UpstreamPage

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# The members of a problem+json answer that a typed GraphQL error carries on: the reasons an
# auditor is not independent, what a nonconformity still lacks before it may close.
_PROBLEM_EXTENSIONS = ("reasons", "missing", "unverified_action_ids")

# ``GET /v1/findings?audit_id=…`` and ``GET /v1/corrective-actions?nonconformity_id=…`` take at
# most this many parents per request.
MAX_AUDITS_PER_REQUEST = 100
MAX_NONCONFORMITIES_PER_REQUEST = 500
# The largest page the services answer.
MAX_LIMIT = 500


class UpstreamProgramme(UpstreamModel):
    """``ProgrammeRead``."""

    id: uuid.UUID
    title: str
    description: str
    period_start: date
    period_end: date
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamCoverageGap(UpstreamModel):
    id: str
    title: str


class UpstreamCoverage(UpstreamModel):
    """``CoverageRead``."""

    programme_id: uuid.UUID
    period_start: date
    period_end: date
    audits_counted: int
    controls_basis: str
    soa_number: int | None = None
    clauses_assessable: int
    clauses_covered: int
    controls_applicable: int
    controls_covered: int
    clause_gaps: list[UpstreamCoverageGap]
    control_gaps: list[UpstreamCoverageGap]
    complete: bool


class UpstreamCoverageList(UpstreamModel):
    items: list[UpstreamCoverage]


class UpstreamAudit(UpstreamModel):
    """``AuditRead``."""

    id: uuid.UUID
    programme_id: uuid.UUID | None = None
    title: str
    criteria: str
    status: str
    planned_start: date
    planned_end: date
    started_on: date | None = None
    completed_on: date | None = None
    cancelled_at: datetime | None = None
    clauses: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)
    systems: list[str] = Field(default_factory=list)
    lead_auditor: str
    auditors: list[str] = Field(default_factory=list)
    evidence_sampled: list[str] = Field(default_factory=list)
    conclusion: str = ""
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamFindingLink(UpstreamModel):
    target_type: str
    target_id: str


class UpstreamFinding(UpstreamModel):
    """``FindingRead``."""

    id: uuid.UUID
    audit_id: uuid.UUID
    kind: str
    title: str
    description: str
    status: str
    links: list[UpstreamFindingLink] = Field(default_factory=list)
    nonconformity_id: uuid.UUID | None = None
    raised_by: str
    raised_at: datetime
    closed_at: datetime | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamWhy(UpstreamModel):
    why: str
    because: str


class UpstreamNonconformity(UpstreamModel):
    """``NonconformityRead``."""

    id: uuid.UUID
    finding_id: uuid.UUID | None = None
    severity: str
    title: str
    description: str
    status: str
    owner: str | None = None
    due_date: date | None = None
    correction: str | None = None
    correction_done_on: date | None = None
    root_cause_whys: list[UpstreamWhy] = Field(default_factory=list)
    root_cause: str | None = None
    actions_total: int
    actions_verified_effective: int
    close_blockers: list[str] = Field(default_factory=list)
    closed_at: datetime | None = None
    closed_by: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamCorrectiveAction(UpstreamModel):
    """``CorrectiveActionRead``."""

    id: uuid.UUID
    nonconformity_id: uuid.UUID
    description: str
    owner: str
    due_date: date
    status: str
    overdue: bool
    implemented_at: datetime | None = None
    implemented_by: str | None = None
    implementation_notes: str = ""
    verified_at: datetime | None = None
    verified_on: date | None = None
    verified_by: str | None = None
    verification_method: str | None = None
    verification_notes: str = ""
    closed_at: datetime | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


def _paged(limit: int, after: str | None, filters: Params) -> list[tuple[str, str | int]]:
    params: list[tuple[str, str | int]] = [("limit", limit), *filters]
    if after:
        params.append(("after", after))
    return params


def _headers(idempotency_key: str | None, expected_version: int | None) -> dict[str, str]:
    headers = {}
    if idempotency_key:
        headers["idempotency-key"] = idempotency_key
    if expected_version is not None:
        headers["if-match"] = f'"{expected_version}"'
    return headers


class AuditsClient(UpstreamClient):
    service = "evidence"

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """``UpstreamClient._send`` whose errors also carry the problem's ``reasons``,
        ``missing`` and ``unverified_action_ids`` members."""
        response = await self._request(method, path, params=params, json=json, headers=headers)
        if response.is_success:
            return response
        error = upstream_error(self.service, response)
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if isinstance(problem, dict):
            error.extensions = {k: problem[k] for k in _PROBLEM_EXTENSIONS if k in problem}
        raise error

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

    # --- Programmes -------------------------------------------------------------------------

    async def programmes(
        self, *, limit: int, after: str | None = None
    ) -> UpstreamPage[UpstreamProgramme]:
        return await self._get(
            "/v1/audit-programmes",
            UpstreamPage[UpstreamProgramme],
            params=_paged(limit, after, ()),
        )

    async def programmes_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamProgramme]:
        page = await self._get(
            "/v1/audit-programmes",
            UpstreamPage[UpstreamProgramme],
            params=self._batch_params(ids),
        )
        return page.items

    async def coverage(self, programme_id: uuid.UUID) -> UpstreamCoverage:
        return await self._get(f"/v1/audit-programmes/{programme_id}/coverage", UpstreamCoverage)

    async def coverage_by_programme(
        self, programme_ids: Sequence[uuid.UUID]
    ) -> list[UpstreamCoverage]:
        """The coverage of each programme (at most 100), in the order asked (duplicates
        answered once; a programme the service does not know is absent)."""
        found = await self._get(
            "/v1/coverage-by-programme",
            UpstreamCoverageList,
            params=[("programme_id", str(i)) for i in programme_ids],
        )
        return found.items

    async def create_programme(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamProgramme:
        return await self._write(
            "POST",
            "/v1/audit-programmes",
            UpstreamProgramme,
            body,
            idempotency_key=idempotency_key,
        )

    async def update_programme(
        self, programme_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamProgramme:
        return await self._write(
            "PATCH",
            f"/v1/audit-programmes/{programme_id}",
            UpstreamProgramme,
            body,
            expected_version=expected_version,
        )

    # --- Audits -----------------------------------------------------------------------------

    async def audits(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamAudit]:
        return await self._get(
            "/v1/audits", UpstreamPage[UpstreamAudit], params=_paged(limit, after, filters)
        )

    async def audits_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamAudit]:
        page = await self._get(
            "/v1/audits", UpstreamPage[UpstreamAudit], params=self._batch_params(ids)
        )
        return page.items

    async def create_audit(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamAudit:
        return await self._write(
            "POST", "/v1/audits", UpstreamAudit, body, idempotency_key=idempotency_key
        )

    async def update_audit(
        self, audit_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamAudit:
        return await self._write(
            "PATCH",
            f"/v1/audits/{audit_id}",
            UpstreamAudit,
            body,
            expected_version=expected_version,
        )

    async def transition_audit(
        self,
        audit_id: uuid.UUID,
        transition: str,
        body: dict[str, Any] | None = None,
        *,
        expected_version: int | None = None,
    ) -> UpstreamAudit:
        """``start``, ``complete`` or ``cancel``."""
        return await self._write(
            "POST",
            f"/v1/audits/{audit_id}/{transition}",
            UpstreamAudit,
            body,
            expected_version=expected_version,
        )

    # --- Findings ---------------------------------------------------------------------------

    async def findings(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamFinding]:
        return await self._get(
            "/v1/findings", UpstreamPage[UpstreamFinding], params=_paged(limit, after, filters)
        )

    async def findings_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamFinding]:
        page = await self._get(
            "/v1/findings", UpstreamPage[UpstreamFinding], params=self._batch_params(ids)
        )
        return page.items

    async def findings_of_audits(self, audit_ids: Sequence[uuid.UUID]) -> list[UpstreamFinding]:
        """Every finding of ``audit_ids`` (at most 100 audits), oldest first: one call per 500
        findings."""
        filters = [("audit_id", str(i)) for i in audit_ids]
        return await _every(self.findings, filters)

    async def audit_findings(
        self, audit_id: uuid.UUID, *, limit: int, after: str | None = None
    ) -> UpstreamPage[UpstreamFinding]:
        return await self._get(
            f"/v1/audits/{audit_id}/findings",
            UpstreamPage[UpstreamFinding],
            params=_paged(limit, after, ()),
        )

    async def raise_finding(
        self, audit_id: uuid.UUID, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamFinding:
        return await self._write(
            "POST",
            f"/v1/audits/{audit_id}/findings",
            UpstreamFinding,
            body,
            idempotency_key=idempotency_key,
        )

    async def update_finding(
        self, finding_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamFinding:
        return await self._write(
            "PATCH",
            f"/v1/findings/{finding_id}",
            UpstreamFinding,
            body,
            expected_version=expected_version,
        )

    # --- Nonconformities --------------------------------------------------------------------

    async def nonconformities(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamNonconformity]:
        return await self._get(
            "/v1/nonconformities",
            UpstreamPage[UpstreamNonconformity],
            params=_paged(limit, after, filters),
        )

    async def nonconformities_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamNonconformity]:
        page = await self._get(
            "/v1/nonconformities",
            UpstreamPage[UpstreamNonconformity],
            params=self._batch_params(ids),
        )
        return page.items

    async def create_nonconformity(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamNonconformity:
        return await self._write(
            "POST",
            "/v1/nonconformities",
            UpstreamNonconformity,
            body,
            idempotency_key=idempotency_key,
        )

    async def update_nonconformity(
        self, nc_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamNonconformity:
        return await self._write(
            "PATCH",
            f"/v1/nonconformities/{nc_id}",
            UpstreamNonconformity,
            body,
            expected_version=expected_version,
        )

    async def close_nonconformity(
        self, nc_id: uuid.UUID, body: dict[str, Any], *, expected_version: int | None
    ) -> UpstreamNonconformity:
        return await self._write(
            "POST",
            f"/v1/nonconformities/{nc_id}/close",
            UpstreamNonconformity,
            body,
            expected_version=expected_version,
        )

    # --- Corrective actions -----------------------------------------------------------------

    async def corrective_actions(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamCorrectiveAction]:
        return await self._get(
            "/v1/corrective-actions",
            UpstreamPage[UpstreamCorrectiveAction],
            params=_paged(limit, after, filters),
        )

    async def corrective_actions_by_ids(
        self, ids: Sequence[uuid.UUID]
    ) -> list[UpstreamCorrectiveAction]:
        page = await self._get(
            "/v1/corrective-actions",
            UpstreamPage[UpstreamCorrectiveAction],
            params=self._batch_params(ids),
        )
        return page.items

    async def actions_of_nonconformities(
        self, nc_ids: Sequence[uuid.UUID]
    ) -> list[UpstreamCorrectiveAction]:
        """Every corrective action of ``nc_ids`` (at most 500), oldest first: one call per 500
        actions."""
        filters = [("nonconformity_id", str(i)) for i in nc_ids]
        return await _every(self.corrective_actions, filters)

    async def add_action(
        self, nc_id: uuid.UUID, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamCorrectiveAction:
        return await self._write(
            "POST",
            f"/v1/nonconformities/{nc_id}/actions",
            UpstreamCorrectiveAction,
            body,
            idempotency_key=idempotency_key,
        )

    async def update_action(
        self, action_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamCorrectiveAction:
        return await self._write(
            "PATCH",
            f"/v1/corrective-actions/{action_id}",
            UpstreamCorrectiveAction,
            body,
            expected_version=expected_version,
        )

    async def transition_action(
        self,
        action_id: uuid.UUID,
        transition: str,
        body: dict[str, Any],
        *,
        expected_version: int | None,
    ) -> UpstreamCorrectiveAction:
        """``implement`` or ``verify``."""
        return await self._write(
            "POST",
            f"/v1/corrective-actions/{action_id}/{transition}",
            UpstreamCorrectiveAction,
            body,
            expected_version=expected_version,
        )


async def _every(fetch: Callable[..., Awaitable[UpstreamPage[T]]], filters: Params) -> list[T]:
    """Every item of a filtered list, following its cursor (pages of ``MAX_LIMIT``)."""
    items: list[T] = []
    after: str | None = None
    while True:
        page = await fetch(limit=MAX_LIMIT, after=after, filters=filters)
        items.extend(page.items)
        if not page.next_cursor:
            return items
        after = page.next_cursor
