"""Request and response bodies of the objectives API (and the data of its events)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)

from services.evidence.objectives.rules import Direction, ObjectiveStatus
from shared.http import Page
from shared.text import Name, Prose, no_nul

# Finite JSON numbers only: NaN and infinities can be neither compared with a target nor stored
# portably in JSON; strict, so that `true` or `"3"` are refused rather than read as 1.0 or 3.0.
Value = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
ClauseId = Annotated[Name, Field(max_length=20)]
ControlId = Annotated[Name, Field(max_length=20)]
# Dates the scheduler and the "as of" arithmetic can add a year to without overflowing.
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(9998, 12, 31))]
Unit = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=50), AfterValidator(no_nul)
]


class ObjectiveCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Keep the CV screener's false-negative rate low",
                    "description": "Fewer suitable candidates wrongly rejected.",
                    "clauses": ["6.2"],
                    "controls": ["A.6.2.6"],
                    "measure": "False-negative rate on the monthly audit sample",
                    "unit": "%",
                    "target_value": 2.0,
                    "direction": "at_most",
                    "baseline": 4.5,
                    "owner": "head-of-ml@example.com",
                    "due_date": "2027-06-30",
                }
            ]
        },
    )

    title: Name
    description: Prose = ""
    clauses: list[ClauseId] = Field(
        default_factory=list, max_length=50, description="ISO/IEC 42001 clause ids, e.g. `6.2`"
    )
    controls: list[ControlId] = Field(
        default_factory=list, max_length=50, description="Annex A control ids, e.g. `A.6.2.6`"
    )
    measure: Name = Field(description="What is measured")
    unit: Unit = ""
    target_value: Value
    direction: Direction = Field(
        description="`at_least`: on target when value ≥ target; `at_most`: when value ≤ target"
    )
    baseline: Value | None = Field(default=None, description="The value when the objective was set")
    owner: Name
    due_date: Day


class ObjectiveUpdate(BaseModel):
    """A partial update: only the fields sent change. A new target or direction re-evaluates
    ``on_target`` against the latest value (and may emit ``objective.off_target``)."""

    model_config = ConfigDict(extra="forbid")

    title: Name | None = None
    description: Prose | None = None
    clauses: list[ClauseId] | None = Field(default=None, max_length=50)
    controls: list[ControlId] | None = Field(default=None, max_length=50)
    measure: Name | None = None
    unit: Unit | None = None
    target_value: Value | None = None
    direction: Direction | None = None
    baseline: Value | None = None
    owner: Name | None = None
    due_date: Day | None = None
    status: ObjectiveStatus | None = Field(
        default=None,
        description="Set by hand: `withdrawn` (no longer pursued), `achieved`, `missed`, or back "
        "to `active`. The scheduler sets `achieved`/`missed` the day after `due_date`.",
    )

    @model_validator(mode="after")
    def _not_null(self) -> ObjectiveUpdate:
        for name in type(self).model_fields:
            if name == "baseline":
                continue
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ObjectiveRead(BaseModel):
    """The full state of an objective; also the data of ``aims.evidence.objective.*``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    title: str
    description: str
    clauses: list[str]
    controls: list[str]
    measure: str
    unit: str
    target_value: float
    direction: Direction
    baseline: float | None
    owner: str
    due_date: date
    status: ObjectiveStatus
    status_changed_at: datetime
    latest_value: float | None = Field(description="Value of the latest measurement by date")
    latest_measured_on: date | None
    on_target: bool | None = Field(description="Whether latest_value meets the target; null: none")
    measurement_count: int
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


ObjectivePage = Page[ObjectiveRead]


class MeasurementCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"value": 3.1, "measured_on": "2026-11-30", "note": ""}]},
    )

    value: Value
    measured_on: Day | None = Field(default=None, description="Default: today (UTC); not future")
    note: Prose = ""


class MeasurementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    objective_id: uuid.UUID
    value: float
    measured_on: date
    note: str
    recorded_by: str
    recorded_at: datetime
    on_target: bool = Field(description="Whether this value meets the objective's current target")


class MeasurementPage(BaseModel):
    """Measurements in time order (``measured_on``, then recording order)."""

    items: list[MeasurementRead]
    next_cursor: str | None = None


class ObjectiveMeasurements(BaseModel):
    """One objective's latest measurements (in time order) and how many it has."""

    objective_id: uuid.UUID
    total_count: int
    items: list[MeasurementRead]


class ObjectiveMeasurementsList(BaseModel):
    """``GET /v1/objective-measurements``: one entry per objective asked that exists, in the
    order asked."""

    items: list[ObjectiveMeasurements]


class ObjectiveMeasurementPage(BaseModel):
    """One objective's first page of measurements in time order; page on with ``next_cursor``
    at ``/v1/objectives/{objective_id}/measurements`` (same ``since``/``until``)."""

    objective_id: uuid.UUID
    items: list[MeasurementRead]
    next_cursor: str | None = None


class ObjectiveMeasurementPages(BaseModel):
    """``GET /v1/measurements-by-objective``: one entry per objective asked that exists, in the
    order asked."""

    items: list[ObjectiveMeasurementPage]


class ObjectiveMeasured(BaseModel):
    """Data of ``objective.measured``: the objective after the measurement, and the measurement."""

    objective: ObjectiveRead
    measurement: MeasurementRead
