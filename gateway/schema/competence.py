"""Competence and awareness (ISO/IEC 42001 7.2, 7.3; evidence service): people, competences,
AIMS roles and who holds them, trainings with their evaluation, role gaps and awareness."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Protocol, TypeVar

import strawberry
from strawberry import relay

from gateway.clients.competence import (
    UpstreamAIMSRole,
    UpstreamAssignment,
    UpstreamAwareness,
    UpstreamCompetence,
    UpstreamPerson,
    UpstreamRoleGap,
    UpstreamTraining,
)
from gateway.clients.schemas import UpstreamPage
from gateway.loaders.base import ByIdLoader
from gateway.loaders.children import ChildrenKey
from gateway.schema.arguments import merge_filter_argument
from gateway.schema.context import Info
from gateway.schema.embedded_pages import slice_page
from gateway.schema.errors import UserError, attempt
from gateway.schema.evidence import Evidence, load_evidence
from gateway.schema.ids import parse_node_id, uuid_or_none
from gateway.schema.organisation_context import page_edges
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.errors import NotFound


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


U = TypeVar("U", bound=_HasId)
N = TypeVar("N")


@strawberry.enum(description="How a training's effectiveness was evaluated.")
class EvaluationMethod(enum.Enum):
    TEST = "test"
    OBSERVATION = "observation"
    REVIEW = "review"
    OTHER = "other"


@strawberry.enum(description="Whether a training made the person competent (7.2 c).")
class EvaluationResult(enum.Enum):
    EFFECTIVE = "effective"
    PARTIALLY_EFFECTIVE = "partially_effective"
    NOT_EFFECTIVE = "not_effective"
    PENDING = "pending"


@strawberry.enum(description="Why a person does not hold a competence today.")
class CompetenceGapReason(enum.Enum):
    NEVER_TRAINED = "never_trained"
    EXPIRED = "expired"
    EVALUATED_NOT_EFFECTIVE = "evaluated_not_effective"
    EVALUATED_PARTIALLY_EFFECTIVE = "evaluated_partially_effective"
    EVALUATION_PENDING = "evaluation_pending"
    COMPLETED_IN_FUTURE = "completed_in_future"


async def _nodes(
    loader: ByIdLoader[U],
    node_ids: Iterable[str],
    convert: Callable[[U], N],
    required: bool,
    what: str,
) -> list[N | None]:
    ids = [uuid_or_none(i) for i in node_ids]
    found = await loader.load_many([i for i in ids if i is not None])
    by_id = {f.id: f for f in found if f is not None}
    nodes = [convert(by_id[i]) if i is not None and i in by_id else None for i in ids]
    if required and any(n is None for n in nodes):
        raise NotFound(f"No such {what} in your organisation.")
    return nodes


@strawberry.type(name="Person", description="Someone whose competence the AIMS relies on.")
class Person(relay.Node):
    person_id: relay.NodeID[uuid.UUID]
    name: str
    email: str | None
    department: str | None
    job_title: str | None
    active: bool = strawberry.field(description="False once they have left: no role, no count.")
    external_ref: str | None = strawberry.field(description="HR system id.")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, p: UpstreamPerson) -> Person:
        return cls(
            person_id=p.id,
            name=p.name,
            email=p.email,
            department=p.department,
            job_title=p.job_title,
            active=p.active,
            external_ref=p.external_ref,
            version=p.version,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The person's trainings. One upstream call per person: ask for it on one "
        f"person, or use `trainings(filter: {{personIds}})` for many. `first` is at most "
        f"{MAX_PAGE_SIZE}."
    )
    async def trainings(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> TrainingConnection:
        check_page_size(first)
        if after is None:
            # The first page of every person on a page of people: one call together.
            found = await info.context.loaders.person_trainings.load(
                ChildrenKey(self.person_id, first)
            )
            first_page = _training_connection(
                info, UpstreamPage[UpstreamTraining](items=found.items), Position(), None
            )
            first_page.page_info.has_next_page = found.has_next
            return first_page
        start = Position.decode(after)
        page = await info.context.clients.competence.person_trainings(
            self.person_id, limit=start.skip + first, after=start.upstream
        )
        return _training_connection(info, page, start, after)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Person | None]:
        return await _nodes(
            info.context.loaders.people, node_ids, Person.from_upstream, required, "person"
        )


@strawberry.type(name="Competence", description="A competence the AIMS needs (7.2).")
class Competence(relay.Node):
    competence_id: relay.NodeID[uuid.UUID]
    name: str
    description: str
    validity_months: int | None = strawberry.field(
        description="How long a training stays valid; null: forever."
    )
    awareness: bool = strawberry.field(
        description="An awareness topic (7.3) every active person must hold."
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, c: UpstreamCompetence) -> Competence:
        return cls(
            competence_id=c.id,
            name=c.name,
            description=c.description,
            validity_months=c.validity_months,
            awareness=c.awareness,
            version=c.version,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Competence | None]:
        return await _nodes(
            info.context.loaders.competences,
            node_ids,
            Competence.from_upstream,
            required,
            "competence",
        )


async def _people(info: Info, ids: Sequence[uuid.UUID]) -> list[Person]:
    found = await info.context.loaders.people.load_many(list(ids))
    return [Person.from_upstream(p) for p in found if p is not None]


async def _competences(info: Info, ids: Sequence[uuid.UUID]) -> list[Competence]:
    found = await info.context.loaders.competences.load_many(list(ids))
    return [Competence.from_upstream(c) for c in found if c is not None]


@strawberry.type(name="AIMSRoleAssignment", description="A person holding a role over a period.")
class AIMSRoleAssignment:
    id: uuid.UUID
    role_id: uuid.UUID
    person_id: uuid.UUID
    since: date
    until: date | None = strawberry.field(description="Last day held; null: open.")
    current: bool = strawberry.field(description="Whether the person holds the role today.")
    created_by: str
    created_at: datetime

    @classmethod
    def from_upstream(cls, a: UpstreamAssignment) -> AIMSRoleAssignment:
        return cls(
            id=a.id,
            role_id=a.role_id,
            person_id=a.person_id,
            since=a.since,
            until=a.until,
            current=a.current,
            created_by=a.created_by,
            created_at=a.created_at,
        )

    @strawberry.field(description="The person (batched).")  # type: ignore[untyped-decorator]
    async def person(self, info: Info) -> Person | None:
        found = await info.context.loaders.people.load(self.person_id)
        return Person.from_upstream(found) if found is not None else None


@strawberry.type(name="AIMSRoleAssignmentEdge")
class AIMSRoleAssignmentEdge:
    cursor: str
    node: AIMSRoleAssignment


@strawberry.type(name="AIMSRoleAssignmentConnection", description="Who holds and held a role.")
class AIMSRoleAssignmentConnection:
    page_info: relay.PageInfo
    edges: list[AIMSRoleAssignmentEdge]


@strawberry.type(name="AIMSRole", description="A role of the AIMS and what it requires (5.3).")
class AIMSRole(relay.Node):
    role_id: relay.NodeID[uuid.UUID]
    name: str
    description: str
    responsibilities: str
    required_competence_ids: list[uuid.UUID]
    holder_ids: list[uuid.UUID] = strawberry.field(description="People holding it today.")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, r: UpstreamAIMSRole) -> AIMSRole:
        return cls(
            role_id=r.id,
            name=r.name,
            description=r.description,
            responsibilities=r.responsibilities,
            required_competence_ids=list(r.required_competence_ids),
            holder_ids=list(r.holder_ids),
            version=r.version,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )

    @strawberry.field(description="What its holders must be competent in (batched).")  # type: ignore[untyped-decorator]
    async def required_competences(self, info: Info) -> list[Competence]:
        return await _competences(info, self.required_competence_ids)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="People holding the role today (batched).",
        deprecation_reason="Use holdersConnection: the people holding a role grow, this list "
        "has no paging.",
    )
    async def holders(self, info: Info) -> list[Person]:
        return await _people(info, self.holder_ids)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="holdersConnection",
        description=f"People holding the role today, in `holderIds` order. The role document "
        f"carries their ids; the gateway pages over them and loads only the page's people, "
        f"those of every role on a page of roles in one upstream call (batched). `first` is at "
        f"most {MAX_PAGE_SIZE}.",
    )
    async def holders_connection(
        self, info: Info, first: int = 10, after: str | None = None
    ) -> PersonConnection:
        pairs, page_info = slice_page(self.holder_ids, first, after, lambda i: i)
        found = await info.context.loaders.people.load_many([i for _, i in pairs])
        return PersonConnection(
            page_info=page_info,
            edges=[
                relay.Edge(cursor=cursor, node=Person.from_upstream(person))
                for (cursor, _), person in zip(pairs, found, strict=True)
                if person is not None
            ],
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Who holds and held the role (one upstream call per role)."
    )
    async def assignments(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> AIMSRoleAssignmentConnection:
        check_page_size(first)
        if after is None:
            # The first page of every role on a page of roles: one call together.
            found = await info.context.loaders.role_assignments.load(
                ChildrenKey(self.role_id, first)
            )
            edges, page_info = _plain_edges(
                UpstreamPage[UpstreamAssignment](items=found.items), Position(), None
            )
            page_info.has_next_page = found.has_next
        else:
            start = Position.decode(after)
            page = await info.context.clients.competence.assignments(
                self.role_id, limit=start.skip + first, after=start.upstream
            )
            edges, page_info = _plain_edges(page, start, after)
        return AIMSRoleAssignmentConnection(
            page_info=page_info,
            edges=[
                AIMSRoleAssignmentEdge(cursor=c, node=AIMSRoleAssignment.from_upstream(a))
                for c, a in edges
            ],
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AIMSRole | None]:
        return await _nodes(
            info.context.loaders.aims_roles, node_ids, AIMSRole.from_upstream, required, "role"
        )


@strawberry.type(name="Training", description="A training a person completed for a competence.")
class Training(relay.Node):
    training_id: relay.NodeID[uuid.UUID]
    person_id: uuid.UUID
    competence_id: uuid.UUID
    title: str
    provider: str | None
    completed_at: date
    expires_at: date | None = strawberry.field(description="First day no longer valid.")
    evidence_item_id: uuid.UUID | None = strawberry.field(
        description="The evidence item holding the certificate."
    )
    evaluation_method: EvaluationMethod | None
    evaluation_result: EvaluationResult
    evaluated_at: date | None
    evaluated_by: str | None
    evaluation_notes: str
    valid: bool = strawberry.field(
        description="It gives its competence today (not expired, evaluated effective)."
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, t: UpstreamTraining) -> Training:
        return cls(
            training_id=t.id,
            person_id=t.person_id,
            competence_id=t.competence_id,
            title=t.title,
            provider=t.provider,
            completed_at=t.completed_at,
            expires_at=t.expires_at,
            evidence_item_id=t.evidence_item_id,
            evaluation_method=(
                EvaluationMethod(t.evaluation_method) if t.evaluation_method else None
            ),
            evaluation_result=EvaluationResult(t.evaluation_result),
            evaluated_at=t.evaluated_at,
            evaluated_by=t.evaluated_by,
            evaluation_notes=t.evaluation_notes,
            valid=t.valid,
            version=t.version,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )

    @strawberry.field(description="The person trained (batched).")  # type: ignore[untyped-decorator]
    async def person(self, info: Info) -> Person | None:
        found = await info.context.loaders.people.load(self.person_id)
        return Person.from_upstream(found) if found is not None else None

    @strawberry.field(description="The competence it gives (batched).")  # type: ignore[untyped-decorator]
    async def competence(self, info: Info) -> Competence | None:
        found = await info.context.loaders.competences.load(self.competence_id)
        return Competence.from_upstream(found) if found is not None else None

    @strawberry.field(description="The certificate's evidence item (batched).")  # type: ignore[untyped-decorator]
    async def evidence(self, info: Info) -> Evidence | None:
        if self.evidence_item_id is None:
            return None
        return await load_evidence(info, self.evidence_item_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Training | None]:
        return await _nodes(
            info.context.loaders.trainings, node_ids, Training.from_upstream, required, "training"
        )


@strawberry.type(name="PersonConnection", description="A page of people.")
class PersonConnection(relay.Connection[Person]):
    pass


@strawberry.type(name="CompetenceConnection", description="A page of competences.")
class CompetenceConnection(relay.Connection[Competence]):
    pass


@strawberry.type(name="AIMSRoleConnection", description="A page of AIMS roles.")
class AIMSRoleConnection(relay.Connection[AIMSRole]):
    pass


@strawberry.type(name="TrainingConnection", description="A page of trainings.")
class TrainingConnection(relay.Connection[Training]):
    pass


def _plain_edges(
    page: UpstreamPage[Any], start: Position, after: str | None
) -> tuple[list[tuple[str, Any]], relay.PageInfo]:
    """(cursor, item) pairs of a page read from ``start`` (see ``pagination``)."""
    items = list(page.items)[start.skip :]
    out: list[tuple[str, Any]] = []
    for index, item in enumerate(items):
        is_last = index == len(items) - 1
        position = (
            Position(upstream=page.next_cursor)
            if is_last and page.next_cursor
            else Position(upstream=start.upstream, skip=start.skip + index + 1)
        )
        out.append((position.encode(), item))
    return out, relay.PageInfo(
        has_next_page=page.next_cursor is not None,
        has_previous_page=after is not None,
        start_cursor=out[0][0] if out else None,
        end_cursor=out[-1][0] if out else None,
    )


def _training_connection(
    info: Info, page: UpstreamPage[UpstreamTraining], start: Position, after: str | None
) -> TrainingConnection:
    for item in page.items:
        info.context.loaders.trainings.prime(item.id, item)
    edges, page_info = page_edges(
        page.items[start.skip :], page.next_cursor, start, after, Training.from_upstream
    )
    return TrainingConnection(edges=edges, page_info=page_info)


# --- Gaps and awareness -----------------------------------------------------------------------


@strawberry.type(name="CompetenceHolderGap", description="A holder lacking a competence.")
class CompetenceHolderGap:
    person_id: uuid.UUID
    person_name: str
    competence_id: uuid.UUID
    competence_name: str
    reason: CompetenceGapReason
    expired_on: date | None
    detail: str


@strawberry.type(name="CompetenceHolderGapEdge")
class CompetenceHolderGapEdge:
    cursor: str
    node: CompetenceHolderGap


@strawberry.type(name="CompetenceHolderGapConnection", description="A page of holders' gaps.")
class CompetenceHolderGapConnection:
    page_info: relay.PageInfo
    edges: list[CompetenceHolderGapEdge]
    total_count: int = strawberry.field(description="Items in the whole list, every page.")


_EMBEDDED = " paged by the gateway over that one upstream answer (no extra upstream call per page)."


@strawberry.type(
    name="CompetenceRoleGap",
    description="A role whose holders lack a required competence, or that no one holds.",
)
class CompetenceRoleGap:
    role_id: uuid.UUID
    role_name: str
    holder_count: int
    no_holders: bool
    detail: str | None
    gaps: list[CompetenceHolderGap] = strawberry.field(
        deprecation_reason="Use gapsConnection: a role's holders grow, this list has no paging."
    )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="gapsConnection",
        description="The holders lacking a required competence, one edge per holder and "
        "competence. Part of the role's row of the upstream gap report;" + _EMBEDDED,
    )
    def gaps_connection(
        self, first: int = 10, after: str | None = None
    ) -> CompetenceHolderGapConnection:
        pairs, page_info = slice_page(self.gaps, first, after, lambda g: g)
        return CompetenceHolderGapConnection(
            page_info=page_info,
            edges=[CompetenceHolderGapEdge(cursor=c, node=n) for c, n in pairs],
            total_count=len(self.gaps),
        )

    @classmethod
    def from_upstream(cls, g: UpstreamRoleGap) -> CompetenceRoleGap:
        return cls(
            role_id=g.role_id,
            role_name=g.role_name,
            holder_count=g.holder_count,
            no_holders=g.no_holders,
            detail=g.detail,
            gaps=[
                CompetenceHolderGap(
                    person_id=h.person_id,
                    person_name=h.person_name,
                    competence_id=h.competence_id,
                    competence_name=h.competence_name,
                    reason=CompetenceGapReason(h.reason),
                    expired_on=h.expired_on,
                    detail=h.detail,
                )
                for h in g.gaps
            ],
        )

    @strawberry.field(description="The role (batched).")  # type: ignore[untyped-decorator]
    async def role(self, info: Info) -> AIMSRole | None:
        found = await info.context.loaders.aims_roles.load(self.role_id)
        return AIMSRole.from_upstream(found) if found is not None else None


@strawberry.type(name="CompetenceRoleGapEdge")
class CompetenceRoleGapEdge:
    cursor: str
    node: CompetenceRoleGap


@strawberry.type(
    name="CompetenceGapConnection",
    description="Roles with a gap, by role. A page scans `first` roles and may hold fewer: "
    "follow `endCursor` while `hasNextPage`.",
)
class CompetenceGapConnection:
    as_of: date = strawberry.field(description="The day evaluated.")
    page_info: relay.PageInfo
    edges: list[CompetenceRoleGapEdge]


@strawberry.type(name="AwarenessMissingTopic")
class AwarenessMissingTopic:
    competence_id: uuid.UUID
    competence_name: str
    reason: CompetenceGapReason
    expired_on: date | None


@strawberry.type(name="PersonMissingAwareness")
class PersonMissingAwareness:
    person_id: uuid.UUID
    person_name: str
    missing: list[AwarenessMissingTopic]


@strawberry.type(name="DepartmentAwareness")
class DepartmentAwareness:
    department: str | None = strawberry.field(description="null: people without a department.")
    people: int = strawberry.field(description="Active people of the department.")
    covered: int = strawberry.field(description="Of them, those holding every awareness topic.")
    coverage: float = strawberry.field(description="covered ÷ people (1.0 when people is 0).")
    missing: list[PersonMissingAwareness] = strawberry.field(
        deprecation_reason="Use missingConnection: a department's people grow, this list has no "
        "paging."
    )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="missingConnection",
        description="The department's active people lacking an awareness topic, with what "
        "each lacks. Part of the upstream awareness report;" + _EMBEDDED,
    )
    def missing_connection(
        self, first: int = 10, after: str | None = None
    ) -> PersonMissingAwarenessConnection:
        pairs, page_info = slice_page(self.missing, first, after, lambda p: p)
        return PersonMissingAwarenessConnection(
            page_info=page_info,
            edges=[PersonMissingAwarenessEdge(cursor=c, node=n) for c, n in pairs],
            total_count=len(self.missing),
        )


@strawberry.type(name="PersonMissingAwarenessEdge")
class PersonMissingAwarenessEdge:
    cursor: str
    node: PersonMissingAwareness


@strawberry.type(
    name="PersonMissingAwarenessConnection", description="A page of people lacking awareness."
)
class PersonMissingAwarenessConnection:
    page_info: relay.PageInfo
    edges: list[PersonMissingAwarenessEdge]
    total_count: int = strawberry.field(description="Items in the whole list, every page.")


@strawberry.type(name="DepartmentAwarenessEdge")
class DepartmentAwarenessEdge:
    cursor: str
    node: DepartmentAwareness


@strawberry.type(
    name="DepartmentAwarenessConnection", description="A page of departments' awareness."
)
class DepartmentAwarenessConnection:
    page_info: relay.PageInfo
    edges: list[DepartmentAwarenessEdge]
    total_count: int = strawberry.field(description="Items in the whole list, every page.")


@strawberry.type(name="AwarenessReport", description="Awareness coverage by department (7.3).")
class AwarenessReport:
    as_of: date
    topics: list[Competence] = strawberry.field(description="Competences flagged `awareness`.")
    people: int
    covered: int
    coverage: float
    departments: list[DepartmentAwareness] = strawberry.field(
        deprecation_reason="Use departmentsConnection: departments grow, this list has no paging."
    )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="departmentsConnection",
        description="Coverage per department, in the upstream report's order. The report is "
        "computed upstream in one call;" + _EMBEDDED,
    )
    def departments_connection(
        self, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> DepartmentAwarenessConnection:
        pairs, page_info = slice_page(self.departments, first, after, lambda d: d)
        return DepartmentAwarenessConnection(
            page_info=page_info,
            edges=[DepartmentAwarenessEdge(cursor=c, node=n) for c, n in pairs],
            total_count=len(self.departments),
        )

    @classmethod
    def from_upstream(cls, a: UpstreamAwareness) -> AwarenessReport:
        return cls(
            as_of=a.as_of,
            topics=[Competence.from_upstream(c) for c in a.topics],
            people=a.people,
            covered=a.covered,
            coverage=a.coverage,
            departments=[
                DepartmentAwareness(
                    department=d.department,
                    people=d.people,
                    covered=d.covered,
                    coverage=d.coverage,
                    missing=[
                        PersonMissingAwareness(
                            person_id=p.person_id,
                            person_name=p.person_name,
                            missing=[
                                AwarenessMissingTopic(
                                    competence_id=m.competence_id,
                                    competence_name=m.competence_name,
                                    reason=CompetenceGapReason(m.reason),
                                    expired_on=m.expired_on,
                                )
                                for m in p.missing
                            ],
                        )
                        for p in d.missing
                    ],
                )
                for d in a.departments
            ],
        )


# --- Inputs and payloads ----------------------------------------------------------------------


@strawberry.input(name="PersonFilter")
class PersonFilter:
    department: str | None = strawberry.field(default=None, description="Exactly this one.")
    active: bool | None = None


@strawberry.input(name="CompetenceFilter", description="Which competences to list.")
class CompetenceFilter:
    awareness: bool | None = strawberry.field(
        default=None, description="Only awareness topics (true) or only the others (false)."
    )


@strawberry.input(name="TrainingFilter")
class TrainingFilter:
    person_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="People (IDs or UUIDs)."
    )
    competence_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Competences (IDs or UUIDs)."
    )
    expiring_before: date | None = strawberry.field(
        default=None, description="Only those with an expiry date before this day."
    )

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = [
            ("person_id", str(parse_node_id(v, "Person", field="personIds")))
            for v in self.person_ids or []
        ]
        out += [
            ("competence_id", str(parse_node_id(v, "Competence", field="competenceIds")))
            for v in self.competence_ids or []
        ]
        if self.expiring_before is not None:
            out.append(("expiring_before", self.expiring_before.isoformat()))
        return out


@strawberry.input(name="CreatePersonInput")
class CreatePersonInput:
    name: str
    email: str | None = None
    department: str | None = None
    job_title: str | None = None
    active: bool = True
    external_ref: str | None = strawberry.field(default=None, description="HR system id.")
    idempotency_key: str | None = None


@strawberry.input(
    name="UpdatePersonInput",
    description="A change to a person; omitted fields keep their value, null clears one.",
)
class UpdatePersonInput:
    id: strawberry.ID = strawberry.field(description="A Person ID (or UUID).")
    expected_version: int
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    department: str | None = strawberry.UNSET
    job_title: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    external_ref: str | None = strawberry.UNSET


@strawberry.input(name="CreateCompetenceInput")
class CreateCompetenceInput:
    name: str
    description: str = ""
    validity_months: int | None = strawberry.field(
        default=None, description="How long a training stays valid (1–600); null: forever."
    )
    awareness: bool = False
    idempotency_key: str | None = None


@strawberry.input(
    name="UpdateCompetenceInput",
    description="A change to a competence; a new `validityMonths` applies to trainings recorded "
    "afterwards.",
)
class UpdateCompetenceInput:
    id: strawberry.ID = strawberry.field(description="A Competence ID (or UUID).")
    expected_version: int
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    validity_months: int | None = strawberry.field(
        default=strawberry.UNSET, description="null: valid forever."
    )
    awareness: bool | None = strawberry.UNSET


@strawberry.input(name="CreateAIMSRoleInput")
class CreateAIMSRoleInput:
    name: str
    description: str = ""
    responsibilities: str = ""
    required_competence_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    idempotency_key: str | None = None


@strawberry.input(
    name="UpdateAIMSRoleInput",
    description="A change to an AIMS role; `requiredCompetenceIds` replaces the whole set.",
)
class UpdateAIMSRoleInput:
    id: strawberry.ID = strawberry.field(description="An AIMSRole ID (or UUID).")
    expected_version: int
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    responsibilities: str | None = strawberry.UNSET
    required_competence_ids: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.input(name="DeletePersonInput")
class DeletePersonInput:
    id: strawberry.ID = strawberry.field(description="A Person ID (or UUID).")
    expected_version: int


@strawberry.input(name="DeleteCompetenceInput")
class DeleteCompetenceInput:
    id: strawberry.ID = strawberry.field(description="A Competence ID (or UUID).")
    expected_version: int


@strawberry.input(name="DeleteAIMSRoleInput")
class DeleteAIMSRoleInput:
    id: strawberry.ID = strawberry.field(description="An AIMSRole ID (or UUID).")
    expected_version: int


@strawberry.input(name="AssignAIMSRoleInput")
class AssignAIMSRoleInput:
    role_id: strawberry.ID = strawberry.field(description="An AIMSRole ID (or UUID).")
    person_id: strawberry.ID = strawberry.field(description="A Person ID (or UUID).")
    since: date | None = strawberry.field(default=None, description="Default today.")
    until: date | None = strawberry.field(default=None, description="Null: open.")
    idempotency_key: str | None = None


@strawberry.input(name="UnassignAIMSRoleInput")
class UnassignAIMSRoleInput:
    role_id: strawberry.ID
    person_id: strawberry.ID


@strawberry.input(name="RecordTrainingInput")
class RecordTrainingInput:
    person_id: strawberry.ID
    competence_id: strawberry.ID
    title: str
    completed_at: date = strawberry.field(description="Not in the future.")
    provider: str | None = None
    expires_at: date | None = strawberry.field(
        default=None, description="Default: completion + the competence's validity."
    )
    evidence_item_id: strawberry.ID | None = strawberry.field(
        default=None, description="The Evidence holding the certificate (ID or UUID)."
    )
    evaluation_method: EvaluationMethod | None = None
    evaluation_result: EvaluationResult = EvaluationResult.PENDING
    evaluated_at: date | None = None
    evaluated_by: str | None = None
    evaluation_notes: str = ""
    idempotency_key: str | None = None


@strawberry.input(
    name="UpdateTrainingInput",
    description="Record the evaluation of effectiveness, or correct a training.",
)
class UpdateTrainingInput:
    id: strawberry.ID = strawberry.field(description="A Training ID (or UUID).")
    expected_version: int
    title: str | None = strawberry.UNSET
    provider: str | None = strawberry.UNSET
    completed_at: date | None = strawberry.UNSET
    expires_at: date | None = strawberry.UNSET
    evaluation_method: EvaluationMethod | None = strawberry.UNSET
    evaluation_result: EvaluationResult | None = strawberry.UNSET
    evaluated_at: date | None = strawberry.UNSET
    evaluated_by: str | None = strawberry.UNSET
    evaluation_notes: str | None = strawberry.UNSET


@strawberry.type(name="PersonPayload")
class PersonPayload:
    person: Person | None
    errors: list[UserError]


@strawberry.type(name="DeletePersonPayload")
class DeletePersonPayload:
    deleted_person_id: strawberry.ID | None = strawberry.field(
        description="The deleted person's ID; null when `errors` is not empty."
    )
    errors: list[UserError]


@strawberry.type(name="DeleteCompetencePayload")
class DeleteCompetencePayload:
    deleted_competence_id: strawberry.ID | None = strawberry.field(
        description="The deleted competence's ID; null when `errors` is not empty."
    )
    errors: list[UserError]


@strawberry.type(name="DeleteAIMSRolePayload")
class DeleteAIMSRolePayload:
    deleted_aims_role_id: strawberry.ID | None = strawberry.field(
        name="deletedAIMSRoleId",
        description="The deleted role's ID; null when `errors` is not empty.",
    )
    errors: list[UserError]


@strawberry.type(name="CompetencePayload")
class CompetencePayload:
    competence: Competence | None
    errors: list[UserError]


@strawberry.type(name="AIMSRolePayload")
class AIMSRolePayload:
    aims_role: AIMSRole | None = strawberry.field(name="aimsRole")
    errors: list[UserError]


@strawberry.type(name="AIMSRoleAssignmentPayload")
class AIMSRoleAssignmentPayload:
    assignment: AIMSRoleAssignment | None
    errors: list[UserError]


@strawberry.type(name="UnassignAIMSRolePayload")
class UnassignAIMSRolePayload:
    ok: bool = strawberry.field(description="The assignment ended (yesterday).")
    errors: list[UserError]


@strawberry.type(name="TrainingPayload")
class TrainingPayload:
    training: Training | None
    errors: list[UserError]


def _rest(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sent(input: object, fields: Sequence[str]) -> dict[str, Any]:
    return {
        f: _rest(getattr(input, f)) for f in fields if getattr(input, f) is not strawberry.UNSET
    }


PERSON_FIELDS = ("name", "email", "department", "job_title", "active", "external_ref")
TRAINING_FIELDS = (
    "title",
    "provider",
    "completed_at",
    "expires_at",
    "evaluation_method",
    "evaluation_result",
    "evaluated_at",
    "evaluated_by",
    "evaluation_notes",
)


@strawberry.type
class CompetenceQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"People, oldest first. `first` is at most {MAX_PAGE_SIZE}."
    )
    async def people(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: PersonFilter | None = None,
    ) -> PersonConnection:
        check_page_size(first)
        start = Position.decode(after)
        filters: list[tuple[str, str | int]] = []
        if filter and filter.department is not None:
            filters.append(("department", filter.department))
        if filter and filter.active is not None:
            filters.append(("active", str(filter.active).lower()))
        page = await info.context.clients.competence.people(
            limit=start.skip + first, after=start.upstream, filters=filters
        )
        for item in page.items:
            info.context.loaders.people.prime(item.id, item)
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, Person.from_upstream
        )
        return PersonConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"Competences, oldest first. `first` is at most {MAX_PAGE_SIZE}."
    )
    async def competences(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: CompetenceFilter | None = None,
        awareness: Annotated[
            bool | None, strawberry.argument(deprecation_reason="Use filter.awareness")
        ] = None,
    ) -> CompetenceConnection:
        check_page_size(first)
        awareness = merge_filter_argument(
            filter.awareness if filter else None, awareness, name="awareness"
        )
        start = Position.decode(after)
        filters: list[tuple[str, str | int]] = []
        if awareness is not None:
            filters.append(("awareness", str(awareness).lower()))
        page = await info.context.clients.competence.competences(
            limit=start.skip + first, after=start.upstream, filters=filters
        )
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, Competence.from_upstream
        )
        return CompetenceConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aimsRoles",
        description=f"AIMS roles, oldest first. `first` is at most {MAX_PAGE_SIZE}.",
    )
    async def aims_roles(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> AIMSRoleConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.competence.roles(
            limit=start.skip + first, after=start.upstream
        )
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, AIMSRole.from_upstream
        )
        return AIMSRoleConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"Trainings, oldest first. `first` is at most {MAX_PAGE_SIZE}."
    )
    async def trainings(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: TrainingFilter | None = None,
    ) -> TrainingConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.competence.trainings(
            limit=start.skip + first,
            after=start.upstream,
            filters=filter.params() if filter else (),
        )
        return _training_connection(info, page, start, after)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="competenceGaps",
        description="Roles whose holders lack a required competence, or that no one holds (7.2).",
    )
    async def competence_gaps(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> CompetenceGapConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.competence.gaps(
            limit=start.skip + first, after=start.upstream
        )
        edges, page_info = _plain_edges(page, start, after)
        return CompetenceGapConnection(
            as_of=page.as_of,
            page_info=page_info,
            edges=[
                CompetenceRoleGapEdge(cursor=c, node=CompetenceRoleGap.from_upstream(g))
                for c, g in edges
            ],
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="competenceAwareness",
        description="Awareness coverage by department (7.3), optionally of one department.",
    )
    async def competence_awareness(
        self, info: Info, department: str | None = None
    ) -> AwarenessReport:
        found = await info.context.clients.competence.awareness(department)
        return AwarenessReport.from_upstream(found)


@strawberry.type
class CompetenceMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createPerson",
        description="Record a person (roles: admin, manager, risk_owner, contributor).",
    )
    async def create_person(self, info: Info, input: CreatePersonInput) -> PersonPayload:
        body = _sent(input, PERSON_FIELDS)
        found, errors = await attempt(
            info.context.clients.competence.create_person(
                body, idempotency_key=input.idempotency_key
            )
        )
        return PersonPayload(person=Person.from_upstream(found) if found else None, errors=errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updatePerson",
        description="Change a person; `active: false` when someone leaves. A stale "
        "`expectedVersion` is a `ConflictError`.",
    )
    async def update_person(self, info: Info, input: UpdatePersonInput) -> PersonPayload:
        found, errors = await attempt(
            lambda: info.context.clients.competence.update_person(
                parse_node_id(input.id, "Person"),
                _sent(input, PERSON_FIELDS),
                expected_version=input.expected_version,
            ),
            kind="Person",
            resource_id=input.id,
        )
        return PersonPayload(person=Person.from_upstream(found) if found else None, errors=errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createCompetence", description="Define a competence or awareness topic."
    )
    async def create_competence(
        self, info: Info, input: CreateCompetenceInput
    ) -> CompetencePayload:
        body = _sent(input, ("name", "description", "validity_months", "awareness"))
        found, errors = await attempt(
            info.context.clients.competence.create_competence(
                body, idempotency_key=input.idempotency_key
            )
        )
        return CompetencePayload(
            competence=Competence.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="deletePerson",
        description="Delete a person recorded by mistake (roles: admin, manager); someone with "
        "trainings or role assignments on record is a `ConflictError`: deactivate them instead.",
    )
    async def delete_person(self, info: Info, input: DeletePersonInput) -> DeletePersonPayload:
        person_id = parse_node_id(input.id, "Person")
        _, errors = await attempt(
            info.context.clients.competence.delete_person(
                person_id, expected_version=input.expected_version
            ),
            kind="Person",
            resource_id=input.id,
        )
        if errors:
            return DeletePersonPayload(deleted_person_id=None, errors=errors)
        global_id = relay.GlobalID("Person", str(person_id))
        return DeletePersonPayload(deleted_person_id=strawberry.ID(str(global_id)), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="deleteCompetence",
        description="Delete a competence recorded by mistake (roles: admin, manager); one that "
        "trainings or roles refer to is a `ConflictError`.",
    )
    async def delete_competence(
        self, info: Info, input: DeleteCompetenceInput
    ) -> DeleteCompetencePayload:
        competence_id = parse_node_id(input.id, "Competence")
        _, errors = await attempt(
            info.context.clients.competence.delete_competence(
                competence_id, expected_version=input.expected_version
            ),
            kind="Competence",
            resource_id=input.id,
        )
        if errors:
            return DeleteCompetencePayload(deleted_competence_id=None, errors=errors)
        global_id = relay.GlobalID("Competence", str(competence_id))
        return DeleteCompetencePayload(
            deleted_competence_id=strawberry.ID(str(global_id)), errors=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="deleteAIMSRole",
        description="Delete an AIMS role recorded by mistake (roles: admin, manager); a role "
        "with assignments on record is a `ConflictError`.",
    )
    async def delete_aims_role(
        self, info: Info, input: DeleteAIMSRoleInput
    ) -> DeleteAIMSRolePayload:
        role_id = parse_node_id(input.id, "AIMSRole")
        _, errors = await attempt(
            info.context.clients.competence.delete_role(
                role_id, expected_version=input.expected_version
            ),
            kind="AIMSRole",
            resource_id=input.id,
        )
        if errors:
            return DeleteAIMSRolePayload(deleted_aims_role_id=None, errors=errors)
        global_id = relay.GlobalID("AIMSRole", str(role_id))
        return DeleteAIMSRolePayload(deleted_aims_role_id=strawberry.ID(str(global_id)), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateCompetence",
        description="Change a competence; a stale `expectedVersion` is a `ConflictError`.",
    )
    async def update_competence(
        self, info: Info, input: UpdateCompetenceInput
    ) -> CompetencePayload:
        found, errors = await attempt(
            lambda: info.context.clients.competence.update_competence(
                parse_node_id(input.id, "Competence"),
                _sent(input, ("name", "description", "validity_months", "awareness")),
                expected_version=input.expected_version,
            ),
            kind="Competence",
            resource_id=input.id,
        )
        return CompetencePayload(
            competence=Competence.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createAIMSRole", description="Define an AIMS role and what it requires."
    )
    async def create_aims_role(self, info: Info, input: CreateAIMSRoleInput) -> AIMSRolePayload:
        body = {
            "name": input.name,
            "description": input.description,
            "responsibilities": input.responsibilities,
            "required_competence_ids": [
                str(parse_node_id(c, "Competence", field="requiredCompetenceIds"))
                for c in input.required_competence_ids
            ],
        }
        found, errors = await attempt(
            info.context.clients.competence.create_role(body, idempotency_key=input.idempotency_key)
        )
        return AIMSRolePayload(
            aims_role=AIMSRole.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateAIMSRole",
        description="Change an AIMS role; a stale `expectedVersion` is a `ConflictError`.",
    )
    async def update_aims_role(self, info: Info, input: UpdateAIMSRoleInput) -> AIMSRolePayload:
        body = _sent(input, ("name", "description", "responsibilities"))
        if input.required_competence_ids is not strawberry.UNSET:
            body["required_competence_ids"] = (
                None
                if input.required_competence_ids is None
                else [
                    str(parse_node_id(c, "Competence", field="requiredCompetenceIds"))
                    for c in input.required_competence_ids
                ]
            )
        found, errors = await attempt(
            lambda: info.context.clients.competence.update_role(
                parse_node_id(input.id, "AIMSRole"), body, expected_version=input.expected_version
            ),
            kind="AIMSRole",
            resource_id=input.id,
        )
        return AIMSRolePayload(
            aims_role=AIMSRole.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="assignAIMSRole",
        description="Assign a person to an AIMS role; overlapping an existing assignment is a "
        "`ConflictError`.",
    )
    async def assign_aims_role(
        self, info: Info, input: AssignAIMSRoleInput
    ) -> AIMSRoleAssignmentPayload:
        body = {
            "person_id": str(parse_node_id(input.person_id, "Person", field="personId")),
            "since": _rest(input.since),
            "until": _rest(input.until),
        }
        found, errors = await attempt(
            lambda: info.context.clients.competence.assign(
                parse_node_id(input.role_id, "AIMSRole", field="roleId"),
                body,
                idempotency_key=input.idempotency_key,
            ),
            kind="AIMSRole",
            resource_id=input.role_id,
        )
        return AIMSRoleAssignmentPayload(
            assignment=AIMSRoleAssignment.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="unassignAIMSRole",
        description="End a person's assignment to a role (it ends yesterday, and stays on record).",
    )
    async def unassign_aims_role(
        self, info: Info, input: UnassignAIMSRoleInput
    ) -> UnassignAIMSRolePayload:
        _, errors = await attempt(
            lambda: info.context.clients.competence.unassign(
                parse_node_id(input.role_id, "AIMSRole", field="roleId"),
                parse_node_id(input.person_id, "Person", field="personId"),
            )
        )
        return UnassignAIMSRolePayload(ok=not errors, errors=errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="recordTraining",
        description="Record a completed training (roles: admin, manager, risk_owner, contributor).",
    )
    async def record_training(self, info: Info, input: RecordTrainingInput) -> TrainingPayload:
        body = {
            "person_id": str(parse_node_id(input.person_id, "Person", field="personId")),
            "competence_id": str(
                parse_node_id(input.competence_id, "Competence", field="competenceId")
            ),
            "title": input.title,
            "provider": input.provider,
            "completed_at": input.completed_at.isoformat(),
            "expires_at": _rest(input.expires_at),
            "evidence_item_id": (
                str(parse_node_id(input.evidence_item_id, "Evidence", field="evidenceItemId"))
                if input.evidence_item_id is not None
                else None
            ),
            "evaluation_method": _rest(input.evaluation_method),
            "evaluation_result": input.evaluation_result.value,
            "evaluated_at": _rest(input.evaluated_at),
            "evaluated_by": input.evaluated_by,
            "evaluation_notes": input.evaluation_notes,
        }
        found, errors = await attempt(
            info.context.clients.competence.record_training(
                body, idempotency_key=input.idempotency_key
            )
        )
        return TrainingPayload(
            training=Training.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateTraining",
        description="Record a training's evaluation of effectiveness, or correct it; a stale "
        "`expectedVersion` is a `ConflictError`.",
    )
    async def update_training(self, info: Info, input: UpdateTrainingInput) -> TrainingPayload:
        found, errors = await attempt(
            lambda: info.context.clients.competence.update_training(
                parse_node_id(input.id, "Training"),
                _sent(input, TRAINING_FIELDS),
                expected_version=input.expected_version,
            ),
            kind="Training",
            resource_id=input.id,
        )
        return TrainingPayload(
            training=Training.from_upstream(found) if found else None, errors=errors
        )
