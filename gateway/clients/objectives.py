"""Client of the evidence service's AI objectives and their measurements (ISO/IEC 42001 6.2,
9.1) and its management reviews with the actions they decide (9.3)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from gateway.clients.base import Params, UpstreamClient
from gateway.clients.schemas import UpstreamModel, UpstreamPage

M = TypeVar("M", bound=BaseModel)


class UpstreamObjective(UpstreamModel):
    """``ObjectiveRead``."""

    id: uuid.UUID
    title: str
    description: str
    clauses: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)
    measure: str
    unit: str
    target_value: float
    direction: str
    baseline: float | None = None
    owner: str
    due_date: date
    status: str
    status_changed_at: datetime
    latest_value: float | None = None
    latest_measured_on: date | None = None
    on_target: bool | None = None
    measurement_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamMeasurement(UpstreamModel):
    """``MeasurementRead``."""

    id: uuid.UUID
    objective_id: uuid.UUID
    value: float
    measured_on: date
    note: str
    recorded_by: str
    recorded_at: datetime
    on_target: bool


class UpstreamObjectiveMeasurements(UpstreamModel):
    """``ObjectiveMeasurements``: one objective's latest measurements and how many it has."""

    objective_id: uuid.UUID
    total_count: int
    items: list[UpstreamMeasurement]


class UpstreamObjectiveMeasurementsList(UpstreamModel):
    items: list[UpstreamObjectiveMeasurements]


class UpstreamMeasurementPage(UpstreamModel):
    """``ObjectiveMeasurementPage``: one objective's first page of measurements."""

    objective_id: uuid.UUID
    items: list[UpstreamMeasurement]
    next_cursor: str | None = None


class UpstreamMeasurementPages(UpstreamModel):
    items: list[UpstreamMeasurementPage]


class UpstreamReviewInput(UpstreamModel):
    """``ReviewInput``: one input of 9.3.2."""

    auto: dict[str, Any] | None = None
    auto_note: str | None = None
    notes: str = ""


class UpstreamManagementReview(UpstreamModel):
    """``ManagementReviewRead``."""

    id: uuid.UUID
    title: str
    review_date: date
    status: str
    held_on: date | None = None
    closed_at: datetime | None = None
    attendees: list[str] = Field(default_factory=list)
    decisions: list[str] = Field(default_factory=list)
    prefill_as_of: date | None = None
    prefilled_at: datetime | None = None
    action_count: int
    open_action_count: int
    inputs: dict[str, UpstreamReviewInput] = Field(default_factory=dict)
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class UpstreamReviewAction(UpstreamModel):
    """``ReviewActionRead``."""

    id: uuid.UUID
    review_id: uuid.UUID
    title: str
    description: str
    owner: str
    due_date: date
    status: str
    overdue: bool
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


class ObjectivesClient(UpstreamClient):
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

    # --- Objectives -------------------------------------------------------------------------

    async def objectives(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamObjective]:
        return await self._get(
            "/v1/objectives", UpstreamPage[UpstreamObjective], params=_paged(limit, after, filters)
        )

    async def objectives_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamObjective]:
        page = await self._get(
            "/v1/objectives", UpstreamPage[UpstreamObjective], params=self._batch_params(ids)
        )
        return page.items

    async def create_objective(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamObjective:
        return await self._write(
            "POST", "/v1/objectives", UpstreamObjective, body, idempotency_key=idempotency_key
        )

    async def update_objective(
        self, objective_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamObjective:
        return await self._write(
            "PATCH",
            f"/v1/objectives/{objective_id}",
            UpstreamObjective,
            body,
            expected_version=expected_version,
        )

    async def record_measurement(
        self, objective_id: uuid.UUID, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamMeasurement:
        return await self._write(
            "POST",
            f"/v1/objectives/{objective_id}/measurements",
            UpstreamMeasurement,
            body,
            idempotency_key=idempotency_key,
        )

    async def measurements(
        self,
        objective_id: uuid.UUID,
        *,
        limit: int,
        after: str | None = None,
        filters: Params = (),
    ) -> UpstreamPage[UpstreamMeasurement]:
        return await self._get(
            f"/v1/objectives/{objective_id}/measurements",
            UpstreamPage[UpstreamMeasurement],
            params=_paged(limit, after, filters),
        )

    async def latest_measurements(
        self, objective_ids: Sequence[uuid.UUID], *, last: int
    ) -> list[UpstreamObjectiveMeasurements]:
        """Each objective's latest ``last`` measurements (oldest first) and its total, in the
        order asked (duplicates answered once)."""
        params: list[tuple[str, str | int]] = [
            *(("objective_id", str(i)) for i in objective_ids),
            ("last", last),
        ]
        found = await self._get(
            "/v1/objective-measurements", UpstreamObjectiveMeasurementsList, params=params
        )
        return found.items

    async def measurements_by_objective(
        self, objective_ids: Sequence[uuid.UUID], *, limit: int, filters: Params = ()
    ) -> list[UpstreamMeasurementPage]:
        """The first ``limit`` measurements of each objective (oldest first, ``since``/``until``
        in ``filters``) and the cursor of the rest, in the order asked (duplicates answered
        once; an objective the service does not know is absent)."""
        params: list[tuple[str, str | int]] = [
            *(("objective_id", str(i)) for i in objective_ids),
            ("limit", limit),
            *filters,
        ]
        found = await self._get(
            "/v1/measurements-by-objective", UpstreamMeasurementPages, params=params
        )
        return found.items

    # --- Management reviews -----------------------------------------------------------------

    async def reviews(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamManagementReview]:
        return await self._get(
            "/v1/management-reviews",
            UpstreamPage[UpstreamManagementReview],
            params=_paged(limit, after, filters),
        )

    async def reviews_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamManagementReview]:
        page = await self._get(
            "/v1/management-reviews",
            UpstreamPage[UpstreamManagementReview],
            params=self._batch_params(ids),
        )
        return page.items

    async def create_review(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamManagementReview:
        return await self._write(
            "POST",
            "/v1/management-reviews",
            UpstreamManagementReview,
            body,
            idempotency_key=idempotency_key,
        )

    async def update_review(
        self, review_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamManagementReview:
        return await self._write(
            "PATCH",
            f"/v1/management-reviews/{review_id}",
            UpstreamManagementReview,
            body,
            expected_version=expected_version,
        )

    async def transition_review(
        self,
        review_id: uuid.UUID,
        transition: str,
        body: dict[str, Any] | None,
        *,
        expected_version: int | None,
    ) -> UpstreamManagementReview:
        """``prefill``, ``hold`` or ``close``."""
        return await self._write(
            "POST",
            f"/v1/management-reviews/{review_id}/{transition}",
            UpstreamManagementReview,
            body,
            expected_version=expected_version,
        )

    async def review_actions(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamReviewAction]:
        return await self._get(
            "/v1/management-review-actions",
            UpstreamPage[UpstreamReviewAction],
            params=_paged(limit, after, filters),
        )

    async def review_actions_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamReviewAction]:
        page = await self._get(
            "/v1/management-review-actions",
            UpstreamPage[UpstreamReviewAction],
            params=self._batch_params(ids),
        )
        return page.items

    async def add_review_action(
        self, review_id: uuid.UUID, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamReviewAction:
        return await self._write(
            "POST",
            f"/v1/management-reviews/{review_id}/actions",
            UpstreamReviewAction,
            body,
            idempotency_key=idempotency_key,
        )

    async def update_review_action(
        self, action_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamReviewAction:
        return await self._write(
            "PATCH",
            f"/v1/management-review-actions/{action_id}",
            UpstreamReviewAction,
            body,
            expected_version=expected_version,
        )
