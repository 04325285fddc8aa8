"""The organisation's context (ISO/IEC 42001 4.1, 4.2): issues and interested parties.

(``gateway/schema/context.py`` is the per-request GraphQL context, hence this module's name.)
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

import strawberry
from strawberry import relay

from gateway.clients.context import (
    UpstreamAIRoles,
    UpstreamContextIssue,
    UpstreamInterestedParty,
)
from gateway.schema.context import Info
from gateway.schema.errors import UserError, attempt
from gateway.schema.ids import parse_node_id
from gateway.schema.improvement import resolve_nodes
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.db import utcnow

N = TypeVar("N", bound=relay.Node)


class _Item(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


ItemT = TypeVar("ItemT", bound=_Item)


def page_edges(
    items: Sequence[ItemT],
    next_cursor: str | None,
    start: Position,
    after: str | None,
    convert: Callable[[ItemT], N],
) -> tuple[list[relay.Edge[N]], relay.PageInfo]:
    """Relay edges over one upstream page that started at ``start`` (see ``pagination``)."""
    edges: list[relay.Edge[N]] = []
    for index, item in enumerate(items):
        is_last = index == len(items) - 1
        position = (
            Position(upstream=next_cursor)
            if is_last and next_cursor
            else Position(upstream=start.upstream, skip=start.skip + index + 1)
        )
        edges.append(relay.Edge(cursor=position.encode(), node=convert(item)))
    page_info = relay.PageInfo(
        has_next_page=next_cursor is not None,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return edges, page_info


@strawberry.enum(description="Whether an issue arises inside or outside the organisation.")
class ContextIssueKind(enum.Enum):
    INTERNAL = "internal"
    EXTERNAL = "external"


@strawberry.enum(description="The analysis framework an issue is tagged in.")
class ContextFramework(enum.Enum):
    PESTLE = "pestle"
    SWOT = "swot"


@strawberry.enum(
    description="PESTLE (political … environmental) or SWOT (strength … threat) category; it "
    "must belong to the issue's framework."
)
class ContextCategory(enum.Enum):
    POLITICAL = "political"
    ECONOMIC = "economic"
    SOCIAL = "social"
    TECHNOLOGICAL = "technological"
    LEGAL = "legal"
    ENVIRONMENTAL = "environmental"
    STRENGTH = "strength"
    WEAKNESS = "weakness"
    OPPORTUNITY = "opportunity"
    THREAT = "threat"


@strawberry.enum(description="What kind of interested party.")
class InterestedPartyType(enum.Enum):
    REGULATOR = "regulator"
    CUSTOMER = "customer"
    EMPLOYEE = "employee"
    SUPPLIER = "supplier"
    PARTNER = "partner"
    INVESTOR = "investor"
    PUBLIC = "public"
    OTHER = "other"


@strawberry.type(
    name="ContextIssue",
    description="An internal or external issue relevant to the AIMS (ISO/IEC 42001 4.1).",
)
class ContextIssue(relay.Node):
    issue_id: relay.NodeID[uuid.UUID]
    kind: ContextIssueKind
    framework: ContextFramework
    category: ContextCategory
    title: str
    description: str
    impact: str
    owner: str | None
    next_review_at: datetime | None
    review_overdue: bool = strawberry.field(description="The review date has passed.")
    version: int = strawberry.field(description="Increases by one on every change.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(
        cls, issue: UpstreamContextIssue, now: datetime | None = None
    ) -> ContextIssue:
        return cls(
            issue_id=issue.id,
            kind=ContextIssueKind(issue.kind),
            framework=ContextFramework(issue.framework),
            category=ContextCategory(issue.category),
            title=issue.title,
            description=issue.description,
            impact=issue.impact,
            owner=issue.owner,
            next_review_at=issue.next_review_at,
            review_overdue=_overdue(issue.next_review_at),
            version=issue.version,
            created_at=issue.created_at,
            updated_at=issue.updated_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ContextIssue | None]:
        return await resolve_nodes(
            info.context.loaders.context_issues,
            node_ids,
            ContextIssue.from_upstream,
            required,
            "context issue",
        )


def _overdue(next_review_at: datetime | None) -> bool:
    return next_review_at is not None and next_review_at < utcnow()


@strawberry.type(name="Requirement", description="A need or expectation of an interested party.")
class Requirement:
    text: str
    addressed: bool = strawberry.field(description="Whether the AIMS addresses it.")
    note: str


@strawberry.type(
    name="InterestedParty",
    description="Someone with requirements on the AIMS (ISO/IEC 42001 4.2).",
)
class InterestedParty(relay.Node):
    party_id: relay.NodeID[uuid.UUID]
    name: str
    type: InterestedPartyType
    description: str
    requirements: list[Requirement]
    owner: str | None
    next_review_at: datetime | None
    review_overdue: bool = strawberry.field(description="The review date has passed.")
    version: int = strawberry.field(description="Increases by one on every change.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, party: UpstreamInterestedParty) -> InterestedParty:
        return cls(
            party_id=party.id,
            name=party.name,
            type=InterestedPartyType(party.type),
            description=party.description,
            requirements=[
                Requirement(text=r.text, addressed=r.addressed, note=r.note)
                for r in party.requirements
            ],
            owner=party.owner,
            next_review_at=party.next_review_at,
            review_overdue=_overdue(party.next_review_at),
            version=party.version,
            created_at=party.created_at,
            updated_at=party.updated_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[InterestedParty | None]:
        return await resolve_nodes(
            info.context.loaders.interested_parties,
            node_ids,
            InterestedParty.from_upstream,
            required,
            "interested party",
        )


@strawberry.type(name="ContextIssueConnection", description="A page of context issues.")
class ContextIssueConnection(relay.Connection[ContextIssue]):
    pass


@strawberry.type(name="InterestedPartyConnection", description="A page of interested parties.")
class InterestedPartyConnection(relay.Connection[InterestedParty]):
    pass


@strawberry.input(name="ContextIssueFilter", description="Which context issues to list.")
class ContextIssueFilter:
    kind: ContextIssueKind | None = None
    framework: ContextFramework | None = None
    category: ContextCategory | None = None
    review_overdue: bool | None = strawberry.field(
        default=None, description="`true`: only those past their review date; `false`: the rest."
    )


@strawberry.input(name="InterestedPartyFilter", description="Which interested parties to list.")
class InterestedPartyFilter:
    type: InterestedPartyType | None = None
    review_overdue: bool | None = None
    unaddressed: bool | None = strawberry.field(
        default=None, description="`true`: only parties with a requirement not yet addressed."
    )


@strawberry.input(name="CreateContextIssueInput", description="A new context issue.")
class CreateContextIssueInput:
    kind: ContextIssueKind
    framework: ContextFramework
    category: ContextCategory
    title: str
    description: str = ""
    impact: str = ""
    owner: str | None = None
    next_review_at: datetime | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key when retrying: the issue is created once."
    )


@strawberry.input(name="RequirementInput")
class RequirementInput:
    text: str
    addressed: bool = False
    note: str = ""


@strawberry.input(name="CreateInterestedPartyInput", description="A new interested party.")
class CreateInterestedPartyInput:
    name: str
    type: InterestedPartyType
    description: str = ""
    requirements: list[RequirementInput] = strawberry.field(default_factory=list)
    owner: str | None = None
    next_review_at: datetime | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key when retrying: the party is created once."
    )


@strawberry.type(name="CreateContextIssuePayload")
class CreateContextIssuePayload:
    context_issue: ContextIssue | None = strawberry.field(
        description="The new issue; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing was created.")


@strawberry.type(name="CreateInterestedPartyPayload")
class CreateInterestedPartyPayload:
    interested_party: InterestedParty | None = strawberry.field(
        description="The new party; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing was created.")


@strawberry.input(
    name="UpdateContextIssueInput",
    description="A change to a context issue; omitted fields keep their value.",
)
class UpdateContextIssueInput:
    id: strawberry.ID = strawberry.field(description="A ContextIssue ID (or its UUID).")
    expected_version: int = strawberry.field(
        description="The version you read: a stale one is a `ConflictError`."
    )
    kind: ContextIssueKind | None = strawberry.UNSET
    framework: ContextFramework | None = strawberry.UNSET
    category: ContextCategory | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    impact: str | None = strawberry.UNSET
    owner: str | None = strawberry.field(default=strawberry.UNSET, description="null: no owner.")
    next_review_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="null: no review planned."
    )


@strawberry.input(
    name="UpdateInterestedPartyInput",
    description="A change to an interested party; omitted fields keep their value, "
    "`requirements` replaces the whole list.",
)
class UpdateInterestedPartyInput:
    id: strawberry.ID = strawberry.field(description="An InterestedParty ID (or its UUID).")
    expected_version: int = strawberry.field(
        description="The version you read: a stale one is a `ConflictError`."
    )
    name: str | None = strawberry.UNSET
    type: InterestedPartyType | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    requirements: list[RequirementInput] | None = strawberry.UNSET
    owner: str | None = strawberry.field(default=strawberry.UNSET, description="null: no owner.")
    next_review_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="null: no review planned."
    )


@strawberry.type(name="UpdateContextIssuePayload")
class UpdateContextIssuePayload:
    context_issue: ContextIssue | None = strawberry.field(
        description="The issue as changed; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing was changed.")


@strawberry.type(name="UpdateInterestedPartyPayload")
class UpdateInterestedPartyPayload:
    interested_party: InterestedParty | None = strawberry.field(
        description="The party as changed; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing was changed.")


@strawberry.enum(
    name="OrganisationAIRole",
    description="The organisation's role with respect to AI (ISO/IEC 42001 4.1, ISO/IEC 22989).",
)
class OrganisationAIRole(enum.Enum):
    PRODUCER = "producer"
    PROVIDER = "provider"
    CUSTOMER = "customer"
    PARTNER = "partner"


@strawberry.type(
    name="OrganisationAIRoles",
    description="The organisation's AI roles overall; version 0 until they are first set.",
)
class OrganisationAIRoles:
    roles: list[OrganisationAIRole]
    note: str
    next_review_at: datetime | None
    review_overdue: bool = strawberry.field(description="The review date has passed.")
    version: int = strawberry.field(
        description="Increases by one on every change; 0 until first set."
    )
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def from_upstream(cls, roles: UpstreamAIRoles) -> OrganisationAIRoles:
        return cls(
            roles=[OrganisationAIRole(r) for r in roles.roles],
            note=roles.note,
            next_review_at=roles.next_review_at,
            review_overdue=_overdue(roles.next_review_at),
            version=roles.version,
            updated_at=roles.updated_at,
            updated_by=roles.updated_by,
        )


@strawberry.input(
    name="SetOrganisationAIRolesInput",
    description="The organisation's AI roles, replacing the current ones.",
)
class SetOrganisationAIRolesInput:
    expected_version: int = strawberry.field(
        description="The version you read (0 before the roles are first set): a stale one is a "
        "`ConflictError`."
    )
    roles: list[OrganisationAIRole] = strawberry.field(description="Each role at most once.")
    note: str = ""
    next_review_at: datetime | None = None


@strawberry.type(name="SetOrganisationAIRolesPayload")
class SetOrganisationAIRolesPayload:
    organisation_ai_roles: OrganisationAIRoles | None = strawberry.field(
        name="organisationAiRoles",
        description="The roles as set; null when `errors` is not empty.",
    )
    errors: list[UserError] = strawberry.field(description="Why nothing was changed.")


def _value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _rest(value: Any) -> Any:
    """A GraphQL input value as the REST body holds it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _sent(input: object, fields: Sequence[str]) -> dict[str, Any]:
    """The REST patch of the ``fields`` the caller sent (null included, unset left out)."""
    return {
        f: _rest(getattr(input, f)) for f in fields if getattr(input, f) is not strawberry.UNSET
    }


ISSUE_FIELDS = (
    "kind",
    "framework",
    "category",
    "title",
    "description",
    "impact",
    "owner",
    "next_review_at",
)
PARTY_FIELDS = ("name", "type", "description", "owner", "next_review_at")


@strawberry.type
class ContextQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        name="contextIssues",
        description=f"Internal and external issues (4.1), oldest first. `first` is at most "
        f"{MAX_PAGE_SIZE}.",
    )
    async def context_issues(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ContextIssueFilter | None = None,
    ) -> ContextIssueConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.context.list_issues(
            limit=start.skip + first,
            after=start.upstream,
            kind=_value(filter.kind) if filter else None,
            framework=_value(filter.framework) if filter else None,
            category=_value(filter.category) if filter else None,
            review_overdue=filter.review_overdue if filter else None,
        )
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, ContextIssue.from_upstream
        )
        return ContextIssueConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="interestedParties",
        description=f"Interested parties and their requirements (4.2), oldest first. `first` is "
        f"at most {MAX_PAGE_SIZE}.",
    )
    async def interested_parties(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: InterestedPartyFilter | None = None,
    ) -> InterestedPartyConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.context.list_parties(
            limit=start.skip + first,
            after=start.upstream,
            type=_value(filter.type) if filter else None,
            review_overdue=filter.review_overdue if filter else None,
            unaddressed=filter.unaddressed if filter else None,
        )
        edges, page_info = page_edges(
            page.items[start.skip :],
            page.next_cursor,
            start,
            after,
            InterestedParty.from_upstream,
        )
        return InterestedPartyConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="organisationAiRoles",
        description="The organisation's AI roles overall (producer, provider, customer, partner).",
    )
    async def organisation_ai_roles(self, info: Info) -> OrganisationAIRoles:
        return OrganisationAIRoles.from_upstream(await info.context.clients.context.ai_roles())


@strawberry.type
class ContextMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createContextIssue",
        description="Record an internal or external issue (roles: admin, manager, risk_owner, "
        "contributor).",
    )
    async def create_context_issue(
        self, info: Info, input: CreateContextIssueInput
    ) -> CreateContextIssuePayload:
        body = {
            "kind": input.kind.value,
            "framework": input.framework.value,
            "category": input.category.value,
            "title": input.title,
            "description": input.description,
            "impact": input.impact,
            "owner": input.owner,
            "next_review_at": input.next_review_at.isoformat() if input.next_review_at else None,
        }
        created, errors = await attempt(
            info.context.clients.context.create_issue(body, idempotency_key=input.idempotency_key)
        )
        if created is None:
            return CreateContextIssuePayload(context_issue=None, errors=errors)
        return CreateContextIssuePayload(
            context_issue=ContextIssue.from_upstream(created), errors=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createInterestedParty",
        description="Record an interested party and its requirements (roles: admin, manager, "
        "risk_owner, contributor).",
    )
    async def create_interested_party(
        self, info: Info, input: CreateInterestedPartyInput
    ) -> CreateInterestedPartyPayload:
        body = {
            "name": input.name,
            "type": input.type.value,
            "description": input.description,
            "requirements": [
                {"text": r.text, "addressed": r.addressed, "note": r.note}
                for r in input.requirements
            ],
            "owner": input.owner,
            "next_review_at": input.next_review_at.isoformat() if input.next_review_at else None,
        }
        created, errors = await attempt(
            info.context.clients.context.create_party(body, idempotency_key=input.idempotency_key)
        )
        if created is None:
            return CreateInterestedPartyPayload(interested_party=None, errors=errors)
        return CreateInterestedPartyPayload(
            interested_party=InterestedParty.from_upstream(created), errors=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateContextIssue",
        description="Change a context issue (roles: admin, manager, risk_owner, contributor); "
        "a stale `expectedVersion` is a `ConflictError`.",
    )
    async def update_context_issue(
        self, info: Info, input: UpdateContextIssueInput
    ) -> UpdateContextIssuePayload:
        updated, errors = await attempt(
            lambda: info.context.clients.context.update_issue(
                parse_node_id(input.id, "ContextIssue"),
                _sent(input, ISSUE_FIELDS),
                expected_version=input.expected_version,
            ),
            kind="ContextIssue",
            resource_id=input.id,
        )
        if updated is None:
            return UpdateContextIssuePayload(context_issue=None, errors=errors)
        return UpdateContextIssuePayload(
            context_issue=ContextIssue.from_upstream(updated), errors=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateInterestedParty",
        description="Change an interested party (roles: admin, manager, risk_owner, "
        "contributor); a stale `expectedVersion` is a `ConflictError`.",
    )
    async def update_interested_party(
        self, info: Info, input: UpdateInterestedPartyInput
    ) -> UpdateInterestedPartyPayload:
        body = _sent(input, PARTY_FIELDS)
        if input.requirements is not strawberry.UNSET:
            body["requirements"] = (
                None
                if input.requirements is None
                else [
                    {"text": r.text, "addressed": r.addressed, "note": r.note}
                    for r in input.requirements
                ]
            )
        updated, errors = await attempt(
            lambda: info.context.clients.context.update_party(
                parse_node_id(input.id, "InterestedParty"),
                body,
                expected_version=input.expected_version,
            ),
            kind="InterestedParty",
            resource_id=input.id,
        )
        if updated is None:
            return UpdateInterestedPartyPayload(interested_party=None, errors=errors)
        return UpdateInterestedPartyPayload(
            interested_party=InterestedParty.from_upstream(updated), errors=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="setOrganisationAiRoles",
        description="Set the organisation's AI roles (roles: admin, manager, risk_owner, "
        "contributor); a stale `expectedVersion` is a `ConflictError`.",
    )
    async def set_organisation_ai_roles(
        self, info: Info, input: SetOrganisationAIRolesInput
    ) -> SetOrganisationAIRolesPayload:
        body = {
            "roles": [r.value for r in input.roles],
            "note": input.note,
            "next_review_at": _rest(input.next_review_at),
        }
        roles, errors = await attempt(
            info.context.clients.context.set_ai_roles(body, expected_version=input.expected_version)
        )
        if roles is None:
            return SetOrganisationAIRolesPayload(organisation_ai_roles=None, errors=errors)
        return SetOrganisationAIRolesPayload(
            organisation_ai_roles=OrganisationAIRoles.from_upstream(roles), errors=[]
        )
