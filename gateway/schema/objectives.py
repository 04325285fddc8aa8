"""AI objectives and their measurements (ISO/IEC 42001 6.2, 9.1) and management reviews with the
actions they decide (9.3); evidence service."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from gateway.clients.objectives import (
    UpstreamManagementReview,
    UpstreamMeasurement,
    UpstreamObjective,
    UpstreamReviewAction,
)
from gateway.loaders.children import ChildrenKey
from gateway.loaders.objective_measurement_pages import MeasurementPageKey
from gateway.loaders.objective_measurements import LatestMeasurements
from gateway.schema.arguments import merge_filter_argument
from gateway.schema.context import Info
from gateway.schema.errors import UserError
from gateway.schema.ids import parse_node_id
from gateway.schema.improvement import attempt, plain_edges, resolve_nodes, rest, sent
from gateway.schema.organisation_context import page_edges
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.errors import BadRequest

# The measurements listed with an objective unless the field asks for another number.
LATEST_MEASUREMENTS = 10
MAX_LATEST_MEASUREMENTS = 100


@strawberry.enum(
    name="ObjectiveDirection",
    description="`AT_LEAST`: on target when value ≥ target; `AT_MOST`: when value ≤ target.",
)
class ObjectiveDirection(enum.Enum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


@strawberry.enum(
    name="ObjectiveStatus",
    description="active until the day after its due date, then achieved or missed; or withdrawn.",
)
class ObjectiveStatus(enum.Enum):
    ACTIVE = "active"
    ACHIEVED = "achieved"
    MISSED = "missed"
    WITHDRAWN = "withdrawn"


@strawberry.enum(name="ManagementReviewStatus", description="planned → held → closed.")
class ManagementReviewStatus(enum.Enum):
    PLANNED = "planned"
    HELD = "held"
    CLOSED = "closed"


@strawberry.enum(name="ManagementReviewActionStatus")
class ManagementReviewActionStatus(enum.Enum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


@strawberry.enum(
    name="ManagementReviewSection", description="The inputs of a management review (9.3.2)."
)
class ManagementReviewSection(enum.Enum):
    PREVIOUS_ACTIONS = "previous_actions"
    CHANGES_IN_ISSUES = "changes_in_issues"
    CHANGES_IN_NEEDS = "changes_in_needs"
    PERFORMANCE = "performance"
    OBJECTIVES = "objectives"
    RISKS = "risks"
    DOCUMENTED_INFORMATION = "documented_information"
    OPPORTUNITIES_FOR_IMPROVEMENT = "opportunities_for_improvement"


# --- Objectives ------------------------------------------------------------------------------


@strawberry.type(name="ObjectiveMeasurement", description="One measured value of an objective.")
class ObjectiveMeasurement:
    id: uuid.UUID
    objective_id: uuid.UUID
    value: float
    measured_on: date
    note: str
    recorded_by: str
    recorded_at: datetime
    on_target: bool = strawberry.field(
        description="Whether this value meets the objective's current target."
    )

    @classmethod
    def from_upstream(cls, m: UpstreamMeasurement) -> ObjectiveMeasurement:
        return cls(
            id=m.id,
            objective_id=m.objective_id,
            value=m.value,
            measured_on=m.measured_on,
            note=m.note,
            recorded_by=m.recorded_by,
            recorded_at=m.recorded_at,
            on_target=m.on_target,
        )


@strawberry.type(name="ObjectiveMeasurementEdge")
class ObjectiveMeasurementEdge:
    cursor: str
    node: ObjectiveMeasurement


@strawberry.type(name="ObjectiveMeasurementConnection", description="Measurements in time order.")
class ObjectiveMeasurementConnection:
    page_info: relay.PageInfo
    edges: list[ObjectiveMeasurementEdge]


@strawberry.type(
    name="Objective",
    description="An AI objective (6.2): what is measured, the target, owner and due date, and "
    "the latest value; an objective off target emits `objective.off_target`.",
)
class Objective(relay.Node):
    objective_id: relay.NodeID[uuid.UUID]
    title: str
    description: str
    clauses: list[str]
    controls: list[str]
    measure: str = strawberry.field(description="What is measured.")
    unit: str
    target_value: float
    direction: ObjectiveDirection
    baseline: float | None
    owner: str
    due_date: date
    status: ObjectiveStatus
    status_changed_at: datetime
    latest_value: float | None = strawberry.field(description="The latest measurement by date.")
    latest_measured_on: date | None
    on_target: bool | None = strawberry.field(
        description="Whether the latest value meets the target; null: never measured."
    )
    measurement_count: int
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, o: UpstreamObjective) -> Objective:
        return cls(
            objective_id=o.id,
            title=o.title,
            description=o.description,
            clauses=list(o.clauses),
            controls=list(o.controls),
            measure=o.measure,
            unit=o.unit,
            target_value=o.target_value,
            direction=ObjectiveDirection(o.direction),
            baseline=o.baseline,
            owner=o.owner,
            due_date=o.due_date,
            status=ObjectiveStatus(o.status),
            status_changed_at=o.status_changed_at,
            latest_value=o.latest_value,
            latest_measured_on=o.latest_measured_on,
            on_target=o.on_target,
            measurement_count=o.measurement_count,
            version=o.version,
            created_at=o.created_at,
            updated_at=o.updated_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="latestMeasurements",
        description=f"The latest `last` measurements in time order (a trend line). Batched: a "
        f"page of objectives asks for all of theirs at once. `last` is at most "
        f"{MAX_LATEST_MEASUREMENTS}.",
    )
    async def latest_measurements(
        self, info: Info, last: int = LATEST_MEASUREMENTS
    ) -> list[ObjectiveMeasurement]:
        if not 1 <= last <= MAX_LATEST_MEASUREMENTS:
            raise BadRequest(f"`last` must be between 1 and {MAX_LATEST_MEASUREMENTS}.")
        found = await info.context.loaders.latest_measurements.load(
            LatestMeasurements(self.objective_id, last)
        )
        return [ObjectiveMeasurement.from_upstream(m) for m in found.items]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"Every measurement in time order, paged. Batched: the first page of "
        f"every objective on a page of objectives is asked for at once. `first` is at most "
        f"{MAX_PAGE_SIZE}."
    )
    async def measurements(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ObjectiveMeasurementFilter | None = None,
        since: Annotated[
            date | None, strawberry.argument(deprecation_reason="Use filter.since")
        ] = None,
        until: Annotated[
            date | None, strawberry.argument(deprecation_reason="Use filter.until")
        ] = None,
    ) -> ObjectiveMeasurementConnection:
        check_page_size(first)
        since = merge_filter_argument(filter.since if filter else None, since, name="since")
        until = merge_filter_argument(filter.until if filter else None, until, name="until")
        if after is None:
            found = await info.context.loaders.measurement_pages.load(
                MeasurementPageKey(self.objective_id, first, since, until)
            )
            first_edges, first_info = plain_edges(found.items, found.next_cursor, Position(), None)
            return ObjectiveMeasurementConnection(
                page_info=first_info,
                edges=[
                    ObjectiveMeasurementEdge(cursor=c, node=ObjectiveMeasurement.from_upstream(m))
                    for c, m in first_edges
                ],
            )
        start = Position.decode(after)
        filters: list[tuple[str, str | int]] = []
        if since is not None:
            filters.append(("since", since.isoformat()))
        if until is not None:
            filters.append(("until", until.isoformat()))
        page = await info.context.clients.objectives.measurements(
            self.objective_id, limit=start.skip + first, after=start.upstream, filters=filters
        )
        edges, page_info = plain_edges(page.items[start.skip :], page.next_cursor, start, after)
        return ObjectiveMeasurementConnection(
            page_info=page_info,
            edges=[
                ObjectiveMeasurementEdge(cursor=c, node=ObjectiveMeasurement.from_upstream(m))
                for c, m in edges
            ],
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Objective | None]:
        return await resolve_nodes(
            info.context.loaders.objectives,
            node_ids,
            Objective.from_upstream,
            required,
            "objective",
        )


# --- Management reviews ----------------------------------------------------------------------


@strawberry.type(
    name="ManagementReviewInput",
    description="One input of 9.3.2: what AIMS filled in from its data, and what people wrote.",
)
class ManagementReviewInput:
    section: ManagementReviewSection
    auto: JSON | None = strawberry.field(
        description="Filled from the data as of the review's `prefillAsOf`; null when AIMS holds "
        "no data for it (see `autoNote`) or it was not pre-filled yet."
    )
    auto_note: str | None
    notes: str


@strawberry.type(
    name="ManagementReviewAction",
    description="An action a management review decided (9.3.3), tracked until done.",
)
class ManagementReviewAction(relay.Node):
    action_id: relay.NodeID[uuid.UUID]
    review_id: uuid.UUID
    title: str
    description: str
    owner: str
    due_date: date
    status: ManagementReviewActionStatus
    overdue: bool = strawberry.field(description="Open and its due date has passed.")
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, a: UpstreamReviewAction) -> ManagementReviewAction:
        return cls(
            action_id=a.id,
            review_id=a.review_id,
            title=a.title,
            description=a.description,
            owner=a.owner,
            due_date=a.due_date,
            status=ManagementReviewActionStatus(a.status),
            overdue=a.overdue,
            closed_at=a.closed_at,
            version=a.version,
            created_at=a.created_at,
            updated_at=a.updated_at,
        )

    @strawberry.field(description="The review that decided it (batched).")  # type: ignore[untyped-decorator]
    async def review(self, info: Info) -> ManagementReview | None:
        found = await info.context.loaders.management_reviews.load(self.review_id)
        return ManagementReview.from_upstream(found) if found is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ManagementReviewAction | None]:
        return await resolve_nodes(
            info.context.loaders.review_actions,
            node_ids,
            ManagementReviewAction.from_upstream,
            required,
            "management review action",
        )


@strawberry.type(name="ManagementReviewActionConnection", description="Review actions.")
class ManagementReviewActionConnection(relay.Connection[ManagementReviewAction]):
    pass


@strawberry.type(
    name="ManagementReview",
    description="A management review (9.3): each input the standard asks for, pre-filled from "
    "the data as of the review date, the decisions and the actions taken.",
)
class ManagementReview(relay.Node):
    review_id: relay.NodeID[uuid.UUID]
    title: str
    review_date: date
    status: ManagementReviewStatus
    held_on: date | None
    closed_at: datetime | None
    attendees: list[str]
    decisions: list[str]
    prefill_as_of: date | None = strawberry.field(
        description="The day the automatic inputs describe."
    )
    prefilled_at: datetime | None
    action_count: int
    open_action_count: int
    inputs: list[ManagementReviewInput] = strawberry.field(description="Each input of 9.3.2.")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, r: UpstreamManagementReview) -> ManagementReview:
        inputs = []
        for section in ManagementReviewSection:
            found = r.inputs.get(section.value)
            if found is not None:
                inputs.append(
                    ManagementReviewInput(
                        section=section,
                        auto=JSON(found.auto) if found.auto is not None else None,
                        auto_note=found.auto_note,
                        notes=found.notes,
                    )
                )
        return cls(
            review_id=r.id,
            title=r.title,
            review_date=r.review_date,
            status=ManagementReviewStatus(r.status),
            held_on=r.held_on,
            closed_at=r.closed_at,
            attendees=list(r.attendees),
            decisions=list(r.decisions),
            prefill_as_of=r.prefill_as_of,
            prefilled_at=r.prefilled_at,
            action_count=r.action_count,
            open_action_count=r.open_action_count,
            inputs=inputs,
            version=r.version,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The actions it decided, oldest first (one upstream call per review). "
        f"`first` is at most {MAX_PAGE_SIZE}."
    )
    async def actions(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> ManagementReviewActionConnection:
        if after is None:
            # The first page of every review on a page of reviews: one call together.
            check_page_size(first)
            found = await info.context.loaders.review_actions_by_review.load(
                ChildrenKey(self.review_id, first)
            )
            for item in found.items:
                info.context.loaders.review_actions.prime(item.id, item)
            edges, page_info = page_edges(
                found.items, None, Position(), None, ManagementReviewAction.from_upstream
            )
            page_info.has_next_page = found.has_next
            return ManagementReviewActionConnection(edges=edges, page_info=page_info)
        return await _action_connection(info, first, after, [("review_id", str(self.review_id))])

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ManagementReview | None]:
        return await resolve_nodes(
            info.context.loaders.management_reviews,
            node_ids,
            ManagementReview.from_upstream,
            required,
            "management review",
        )


@strawberry.type(name="ObjectiveConnection", description="A page of AI objectives.")
class ObjectiveConnection(relay.Connection[Objective]):
    pass


@strawberry.type(name="ManagementReviewConnection", description="A page of management reviews.")
class ManagementReviewConnection(relay.Connection[ManagementReview]):
    pass


async def _action_connection(
    info: Info, first: int, after: str | None, filters: list[tuple[str, str | int]]
) -> ManagementReviewActionConnection:
    check_page_size(first)
    start = Position.decode(after)
    page = await info.context.clients.objectives.review_actions(
        limit=start.skip + first, after=start.upstream, filters=filters
    )
    for item in page.items:
        info.context.loaders.review_actions.prime(item.id, item)
    edges, page_info = page_edges(
        page.items[start.skip :],
        page.next_cursor,
        start,
        after,
        ManagementReviewAction.from_upstream,
    )
    return ManagementReviewActionConnection(edges=edges, page_info=page_info)


# --- Filters, inputs, payloads ---------------------------------------------------------------


@strawberry.input(name="ObjectiveFilter")
class ObjectiveFilter:
    statuses: list[ObjectiveStatus] | None = None
    owner: str | None = strawberry.field(default=None, description="Exactly this owner.")
    off_target: bool | None = strawberry.field(
        default=None, description="true: only those whose latest value misses the target."
    )
    due_before: date | None = None

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = [("status", s.value) for s in self.statuses or []]
        if self.owner is not None:
            out.append(("owner", self.owner))
        if self.off_target is not None:
            out.append(("off_target", str(self.off_target).lower()))
        if self.due_before is not None:
            out.append(("due_before", self.due_before.isoformat()))
        return out


@strawberry.input(
    name="ObjectiveMeasurementFilter", description="Which measurements of an objective to list."
)
class ObjectiveMeasurementFilter:
    since: date | None = strawberry.field(default=None, description="Measured on or after.")
    until: date | None = strawberry.field(default=None, description="Measured on or before.")


@strawberry.input(name="ManagementReviewFilter", description="Which management reviews to list.")
class ManagementReviewFilter:
    statuses: list[ManagementReviewStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )


@strawberry.input(name="ManagementReviewActionFilter")
class ManagementReviewActionFilter:
    statuses: list[ManagementReviewActionStatus] | None = None
    overdue: bool | None = strawberry.field(default=None, description="true: open and past due.")
    owner: str | None = None

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = [("status", s.value) for s in self.statuses or []]
        if self.overdue is not None:
            out.append(("overdue", str(self.overdue).lower()))
        if self.owner is not None:
            out.append(("owner", self.owner))
        return out


@strawberry.input(name="CreateObjectiveInput")
class CreateObjectiveInput:
    title: str
    measure: str = strawberry.field(description="What is measured.")
    target_value: float
    direction: ObjectiveDirection
    owner: str
    due_date: date
    description: str = ""
    clauses: list[str] = strawberry.field(default_factory=list, description="e.g. `6.2`.")
    controls: list[str] = strawberry.field(default_factory=list, description="e.g. `A.6.2.6`.")
    unit: str = ""
    baseline: float | None = None
    idempotency_key: str | None = None


OBJECTIVE_FIELDS = (
    "title",
    "description",
    "clauses",
    "controls",
    "measure",
    "unit",
    "target_value",
    "direction",
    "baseline",
    "owner",
    "due_date",
    "status",
)


@strawberry.input(
    name="UpdateObjectiveInput",
    description="A change to an objective; omitted fields keep their value. A new target or "
    "direction re-evaluates `onTarget`.",
)
class UpdateObjectiveInput:
    id: strawberry.ID = strawberry.field(description="An Objective ID (or UUID).")
    expected_version: int
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    clauses: list[str] | None = strawberry.UNSET
    controls: list[str] | None = strawberry.UNSET
    measure: str | None = strawberry.UNSET
    unit: str | None = strawberry.UNSET
    target_value: float | None = strawberry.UNSET
    direction: ObjectiveDirection | None = strawberry.UNSET
    baseline: float | None = strawberry.UNSET
    owner: str | None = strawberry.UNSET
    due_date: date | None = strawberry.UNSET
    status: ObjectiveStatus | None = strawberry.field(
        default=strawberry.UNSET, description="`WITHDRAWN`, `ACHIEVED`, `MISSED` or `ACTIVE`."
    )


@strawberry.input(name="RecordMeasurementInput")
class RecordMeasurementInput:
    objective_id: strawberry.ID = strawberry.field(description="An Objective ID (or UUID).")
    value: float
    measured_on: date | None = strawberry.field(
        default=None, description="Default today (UTC); not in the future."
    )
    note: str = ""
    idempotency_key: str | None = None


@strawberry.input(name="ManagementReviewNoteInput", description="Free text for one input.")
class ManagementReviewNoteInput:
    section: ManagementReviewSection
    notes: str


def _notes(notes: list[ManagementReviewNoteInput]) -> dict[str, str]:
    return {n.section.value: n.notes for n in notes}


@strawberry.input(name="CreateManagementReviewInput")
class CreateManagementReviewInput:
    title: str
    review_date: date
    attendees: list[str] = strawberry.field(default_factory=list)
    notes: list[ManagementReviewNoteInput] = strawberry.field(default_factory=list)
    prefill: bool = strawberry.field(
        default=True,
        description="Fill the automatic part of each input from the data as of the review date.",
    )
    idempotency_key: str | None = None


@strawberry.input(
    name="UpdateManagementReviewInput",
    description="Annotate a review: `notes` merge by section, `decisions` replaces the list.",
)
class UpdateManagementReviewInput:
    id: strawberry.ID = strawberry.field(description="A ManagementReview ID (or UUID).")
    expected_version: int
    title: str | None = strawberry.UNSET
    review_date: date | None = strawberry.UNSET
    attendees: list[str] | None = strawberry.UNSET
    notes: list[ManagementReviewNoteInput] | None = strawberry.UNSET
    decisions: list[str] | None = strawberry.UNSET


@strawberry.input(name="PrefillManagementReviewInput")
class PrefillManagementReviewInput:
    id: strawberry.ID = strawberry.field(description="A ManagementReview ID (or UUID).")
    expected_version: int = strawberry.field(description="The review's `version`.")


@strawberry.input(name="HoldManagementReviewInput")
class HoldManagementReviewInput:
    id: strawberry.ID = strawberry.field(description="A ManagementReview ID (or UUID).")
    expected_version: int = strawberry.field(description="The review's `version`.")
    held_on: date | None = strawberry.field(default=None, description="Default today (UTC).")
    attendees: list[str] | None = strawberry.field(
        default=None, description="Who attended (at least one); replaces the list when given."
    )
    decisions: list[str] | None = None


@strawberry.input(name="CloseManagementReviewInput")
class CloseManagementReviewInput:
    id: strawberry.ID = strawberry.field(description="A ManagementReview ID (or UUID).")
    expected_version: int = strawberry.field(description="The review's `version`.")
    decisions: list[str] | None = strawberry.field(
        default=None, description="The final decisions; replaces the list when given."
    )


@strawberry.input(name="AddManagementReviewActionInput")
class AddManagementReviewActionInput:
    review_id: strawberry.ID = strawberry.field(description="A ManagementReview ID (or UUID).")
    title: str
    owner: str
    due_date: date
    description: str = ""
    idempotency_key: str | None = None


@strawberry.input(name="UpdateManagementReviewActionInput")
class UpdateManagementReviewActionInput:
    id: strawberry.ID = strawberry.field(description="A ManagementReviewAction ID (or UUID).")
    expected_version: int
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    owner: str | None = strawberry.UNSET
    due_date: date | None = strawberry.UNSET
    status: ManagementReviewActionStatus | None = strawberry.field(
        default=strawberry.UNSET, description="`DONE` or `CANCELLED` ends tracking; `OPEN` reopens."
    )


@strawberry.type(name="ObjectivePayload")
class ObjectivePayload:
    objective: Objective | None
    errors: list[UserError]


@strawberry.type(name="RecordMeasurementPayload")
class RecordMeasurementPayload:
    measurement: ObjectiveMeasurement | None
    objective: Objective | None = strawberry.field(
        description="The objective after the measurement (its new latest value and onTarget)."
    )
    errors: list[UserError]


@strawberry.type(name="ManagementReviewPayload")
class ManagementReviewPayload:
    management_review: ManagementReview | None
    errors: list[UserError]


@strawberry.type(name="ManagementReviewActionPayload")
class ManagementReviewActionPayload:
    action: ManagementReviewAction | None
    errors: list[UserError]


def _review(
    found: UpstreamManagementReview | None, errors: list[UserError]
) -> ManagementReviewPayload:
    return ManagementReviewPayload(
        management_review=ManagementReview.from_upstream(found) if found else None, errors=errors
    )


def _review_action(
    found: UpstreamReviewAction | None, errors: list[UserError]
) -> ManagementReviewActionPayload:
    return ManagementReviewActionPayload(
        action=ManagementReviewAction.from_upstream(found) if found else None, errors=errors
    )


def _optional(**fields: object) -> dict[str, object]:
    return {k: rest(v) for k, v in fields.items() if v is not None}


# --- Query and Mutation ----------------------------------------------------------------------


@strawberry.type
class ObjectivesQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"AI objectives, oldest first; with `latestMeasurements`, a page costs two "
        f"upstream calls. `first` is at most {MAX_PAGE_SIZE}."
    )
    async def objectives(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ObjectiveFilter | None = None,
    ) -> ObjectiveConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.objectives.objectives(
            limit=start.skip + first,
            after=start.upstream,
            filters=filter.params() if filter else (),
        )
        for item in page.items:
            info.context.loaders.objectives.prime(item.id, item)
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, Objective.from_upstream
        )
        return ObjectiveConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="managementReviews",
        description=f"Management reviews, oldest first. `first` is at most {MAX_PAGE_SIZE}.",
    )
    async def management_reviews(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ManagementReviewFilter | None = None,
        statuses: Annotated[
            list[ManagementReviewStatus] | None,
            strawberry.argument(deprecation_reason="Use filter.statuses"),
        ] = None,
    ) -> ManagementReviewConnection:
        check_page_size(first)
        statuses = merge_filter_argument(
            filter.statuses if filter else None, statuses, name="statuses"
        )
        start = Position.decode(after)
        page = await info.context.clients.objectives.reviews(
            limit=start.skip + first,
            after=start.upstream,
            filters=[("status", s.value) for s in statuses or []],
        )
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, ManagementReview.from_upstream
        )
        return ManagementReviewConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="managementReviewActions",
        description=f"Track the actions of every management review (open, overdue, by owner), "
        f"oldest first. `first` is at most {MAX_PAGE_SIZE}.",
    )
    async def management_review_actions(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ManagementReviewActionFilter | None = None,
    ) -> ManagementReviewActionConnection:
        return await _action_connection(info, first, after, filter.params() if filter else [])


@strawberry.type
class ObjectivesMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createObjective",
        description="Set an AI objective (roles: admin, manager, risk_owner, contributor); "
        "unknown clauses or controls are a `ValidationError`.",
    )
    async def create_objective(self, info: Info, input: CreateObjectiveInput) -> ObjectivePayload:
        body = {
            "title": input.title,
            "description": input.description,
            "clauses": input.clauses,
            "controls": input.controls,
            "measure": input.measure,
            "unit": input.unit,
            "target_value": input.target_value,
            "direction": input.direction.value,
            "baseline": input.baseline,
            "owner": input.owner,
            "due_date": input.due_date.isoformat(),
        }
        found, errors = await attempt(
            info.context.clients.objectives.create_objective(
                body, idempotency_key=input.idempotency_key
            )
        )
        return ObjectivePayload(
            objective=Objective.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateObjective",
        description="Change an objective; a stale `expectedVersion` is a `ConflictError`.",
    )
    async def update_objective(self, info: Info, input: UpdateObjectiveInput) -> ObjectivePayload:
        found, errors = await attempt(
            lambda: info.context.clients.objectives.update_objective(
                parse_node_id(input.id, "Objective"),
                sent(input, OBJECTIVE_FIELDS),
                expected_version=input.expected_version,
            ),
            kind="Objective",
            resource_id=input.id,
        )
        return ObjectivePayload(
            objective=Objective.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="recordMeasurement",
        description="Record a measurement of an objective (9.1); a move off target emits "
        "`objective.off_target`. A withdrawn objective is a `ConflictError`.",
    )
    async def record_measurement(
        self, info: Info, input: RecordMeasurementInput
    ) -> RecordMeasurementPayload:
        objective_id = parse_node_id(input.objective_id, "Objective", field="objectiveId")
        body = {
            "value": input.value,
            "note": input.note,
            **_optional(measured_on=input.measured_on),
        }
        found, errors = await attempt(
            info.context.clients.objectives.record_measurement(
                objective_id, body, idempotency_key=input.idempotency_key
            ),
            kind="Objective",
            resource_id=input.objective_id,
        )
        if found is None:
            return RecordMeasurementPayload(measurement=None, objective=None, errors=errors)
        objective = await info.context.loaders.objectives.load(objective_id)
        return RecordMeasurementPayload(
            measurement=ObjectiveMeasurement.from_upstream(found),
            objective=Objective.from_upstream(objective) if objective else None,
            errors=[],
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createManagementReview",
        description="Plan a management review (editors); with `prefill` its inputs are filled "
        "from the data as of the review date.",
    )
    async def create_management_review(
        self, info: Info, input: CreateManagementReviewInput
    ) -> ManagementReviewPayload:
        body = {
            "title": input.title,
            "review_date": input.review_date.isoformat(),
            "attendees": input.attendees,
            "notes": _notes(input.notes),
            "prefill": input.prefill,
        }
        found, errors = await attempt(
            info.context.clients.objectives.create_review(
                body, idempotency_key=input.idempotency_key
            )
        )
        return _review(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateManagementReview",
        description="Annotate or change a review (editors); a closed one is a `ConflictError`.",
    )
    async def update_management_review(
        self, info: Info, input: UpdateManagementReviewInput
    ) -> ManagementReviewPayload:
        body = sent(input, ("title", "review_date", "attendees", "decisions"))
        if input.notes is not strawberry.UNSET:
            body["notes"] = None if input.notes is None else _notes(input.notes)
        found, errors = await attempt(
            lambda: info.context.clients.objectives.update_review(
                parse_node_id(input.id, "ManagementReview"),
                body,
                expected_version=input.expected_version,
            ),
            kind="ManagementReview",
            resource_id=input.id,
        )
        return _review(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="prefillManagementReview",
        description="Pre-fill the inputs again from the data as of the review date (editors).",
    )
    async def prefill_management_review(
        self, info: Info, input: PrefillManagementReviewInput
    ) -> ManagementReviewPayload:
        found, errors = await attempt(
            lambda: info.context.clients.objectives.transition_review(
                parse_node_id(input.id, "ManagementReview"),
                "prefill",
                None,
                expected_version=input.expected_version,
            ),
            kind="ManagementReview",
            resource_id=input.id,
        )
        return _review(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="holdManagementReview",
        description="Record that the review took place (roles: admin, manager).",
    )
    async def hold_management_review(
        self, info: Info, input: HoldManagementReviewInput
    ) -> ManagementReviewPayload:
        body = _optional(
            held_on=input.held_on, attendees=input.attendees, decisions=input.decisions
        )
        found, errors = await attempt(
            lambda: info.context.clients.objectives.transition_review(
                parse_node_id(input.id, "ManagementReview"),
                "hold",
                body,
                expected_version=input.expected_version,
            ),
            kind="ManagementReview",
            resource_id=input.id,
        )
        return _review(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="closeManagementReview",
        description="Close a held review's record (roles: admin, manager); its actions stay "
        "tracked.",
    )
    async def close_management_review(
        self, info: Info, input: CloseManagementReviewInput
    ) -> ManagementReviewPayload:
        found, errors = await attempt(
            lambda: info.context.clients.objectives.transition_review(
                parse_node_id(input.id, "ManagementReview"),
                "close",
                _optional(decisions=input.decisions),
                expected_version=input.expected_version,
            ),
            kind="ManagementReview",
            resource_id=input.id,
        )
        return _review(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="addManagementReviewAction",
        description="Record an action the review decided (editors); a closed review is a "
        "`ConflictError`.",
    )
    async def add_management_review_action(
        self, info: Info, input: AddManagementReviewActionInput
    ) -> ManagementReviewActionPayload:
        body = {
            "title": input.title,
            "description": input.description,
            "owner": input.owner,
            "due_date": input.due_date.isoformat(),
        }
        found, errors = await attempt(
            lambda: info.context.clients.objectives.add_review_action(
                parse_node_id(input.review_id, "ManagementReview", field="reviewId"),
                body,
                idempotency_key=input.idempotency_key,
            ),
            kind="ManagementReview",
            resource_id=input.review_id,
        )
        return _review_action(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateManagementReviewAction",
        description="Mark a review action done or cancelled, or change its owner or due date.",
    )
    async def update_management_review_action(
        self, info: Info, input: UpdateManagementReviewActionInput
    ) -> ManagementReviewActionPayload:
        found, errors = await attempt(
            lambda: info.context.clients.objectives.update_review_action(
                parse_node_id(input.id, "ManagementReviewAction"),
                sent(input, ("title", "description", "owner", "due_date", "status")),
                expected_version=input.expected_version,
            ),
            kind="ManagementReviewAction",
            resource_id=input.id,
        )
        return _review_action(found, errors)
