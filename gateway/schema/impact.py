"""AI system impact assessments (risk service; ISO/IEC 42001 6.1.4, A.5.2–A.5.5, EU AI Act
Art. 27): the assessments, the systems that need one, and the create/submit/approve workflow."""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import relay

from gateway.clients.impact import (
    ImpactAssessmentUpstream,
    RequiredAssessmentUpstream,
    UpstreamFundamentalRights,
    UpstreamImpact,
)
from gateway.clients.schemas import UpstreamPage
from gateway.schema.ai_systems import AISystem, parse_ai_system_id
from gateway.schema.arguments import ImpactAssessmentRequirementFilter, merge_filter_argument
from gateway.schema.context import Info
from gateway.schema.errors import UserError, attempt, user_errors
from gateway.schema.ids import parse_node_id, uuid_or_none
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.errors import DomainError, NotFound

INCOMPLETE = "impact-assessment-incomplete"


@strawberry.enum(description="Where an impact assessment is in its review workflow.")
class ImpactAssessmentStatus(enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@strawberry.enum(description="How severe a potential impact is.")
class ImpactSeverity(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@strawberry.enum(description="How likely a potential impact is.")
class ImpactLikelihood(enum.Enum):
    RARE = "rare"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    LIKELY = "likely"
    ALMOST_CERTAIN = "almost_certain"


@strawberry.enum(
    description="Why a system needs an impact assessment, each resting on the law (EU AI Act), "
    "the organisation's own policy, or ISO/IEC 42001."
)
class ImpactRequirementReason(enum.Enum):
    AFFECTS_INDIVIDUALS = strawberry.enum_value(
        "affects_individuals", description="ISO/IEC 42001 A.5.4: it affects individuals."
    )
    EU_AI_ACT_ART_27 = strawberry.enum_value(
        "eu_ai_act_art_27",
        description="Law: the current classification puts the Art. 27(1) fundamental rights "
        "impact assessment on the organisation.",
    )
    HIGH_RISK_POLICY = strawberry.enum_value(
        "high_risk_policy",
        description="Organisation policy (not law): a full assessment of every high-risk "
        "system (`require_impact_assessment_for_all_high_risk`).",
    )
    HIGH_RISK = strawberry.enum_value(
        "high_risk",
        deprecation_reason="A high tier alone is no longer a reason (EU AI Act Art. 27(1)); see "
        "EU_AI_ACT_ART_27 and HIGH_RISK_POLICY.",
    )
    SENSITIVE_SECTOR = strawberry.enum_value(
        "sensitive_sector", description="ISO/IEC 42001 A.5.2: a sensitive sector."
    )
    FUNDAMENTAL_RIGHTS_RISK = strawberry.enum_value(
        "fundamental_rights_risk",
        description="ISO/IEC 42001 A.5.4: a register risk flags fundamental rights.",
    )


@strawberry.type(description="A potential consequence of an AI system.")
class Impact:
    description: str
    severity: ImpactSeverity
    likelihood: ImpactLikelihood | None

    @classmethod
    def from_upstream(cls, item: UpstreamImpact) -> Impact:
        return cls(
            description=item.description,
            severity=ImpactSeverity(item.severity),
            likelihood=ImpactLikelihood(item.likelihood) if item.likelihood else None,
        )


@strawberry.type(description="A person or group the system affects, and how.")
class ImpactStakeholder:
    name: str
    how_affected: str


@strawberry.type(
    description="EU AI Act Art. 27(1)(a)–(f): what a deployer of a high-risk system assesses."
)
class FundamentalRightsAssessment:
    deployer_process: str | None
    period_and_frequency_of_use: str | None
    affected_person_categories: list[str]
    specific_risks_of_harm: list[Impact]
    human_oversight_measures: str | None
    measures_if_risks_materialise: str | None

    @classmethod
    def from_upstream(cls, fria: UpstreamFundamentalRights) -> FundamentalRightsAssessment:
        return cls(
            deployer_process=fria.deployer_process,
            period_and_frequency_of_use=fria.period_and_frequency_of_use,
            affected_person_categories=list(fria.affected_person_categories),
            specific_risks_of_harm=[Impact.from_upstream(i) for i in fria.specific_risks_of_harm],
            human_oversight_measures=fria.human_oversight_measures,
            measures_if_risks_materialise=fria.measures_if_risks_materialise,
        )


async def _ai_system(info: Info, system_id: uuid.UUID) -> AISystem | None:
    system = await info.context.loaders.inventory_systems.load(system_id)
    return AISystem.from_upstream(system) if system is not None else None


@strawberry.type(description="An AI system impact assessment (ISO/IEC 42001 6.1.4, A.5.2–A.5.5).")
class ImpactAssessment(relay.Node):
    assessment_id: relay.NodeID[uuid.UUID]
    system_id: uuid.UUID = strawberry.field(description="The register UUID of the AI system.")
    status: ImpactAssessmentStatus
    purpose: str | None
    stakeholders: list[ImpactStakeholder]
    legal_context: str | None
    social_context: str | None
    impacts_on_individuals: list[Impact]
    impacts_on_groups: list[Impact]
    impacts_on_society: list[Impact]
    fairness_and_bias: str | None
    mitigation_measures: list[str]
    human_oversight: str | None
    monitoring: str | None
    fundamental_rights: FundamentalRightsAssessment | None
    next_review_at: date | None
    version: int = strawberry.field(description="Increases by one on every change.")
    created_at: datetime
    updated_at: datetime
    created_by: str = strawberry.field(description="The author; may not approve it.")
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    superseded_by: uuid.UUID | None
    superseded_at: datetime | None
    returned_by: str | None = strawberry.field(description="Who last sent it back to draft.")
    returned_at: datetime | None
    return_reason: str | None = strawberry.field(description="Why it was last sent back.")
    rejected_by: str | None
    rejected_at: datetime | None
    rejection_reason: str | None
    withdrawn_by: str | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None

    @classmethod
    def from_upstream(cls, a: ImpactAssessmentUpstream) -> ImpactAssessment:
        def impacts(items: Sequence[UpstreamImpact]) -> list[Impact]:
            return [Impact.from_upstream(i) for i in items]

        fria = a.fundamental_rights
        return cls(
            assessment_id=a.id,
            system_id=a.system_id,
            status=ImpactAssessmentStatus(a.status),
            purpose=a.purpose,
            stakeholders=[
                ImpactStakeholder(name=s.name, how_affected=s.how_affected) for s in a.stakeholders
            ],
            legal_context=a.legal_context,
            social_context=a.social_context,
            impacts_on_individuals=impacts(a.impacts_on_individuals),
            impacts_on_groups=impacts(a.impacts_on_groups),
            impacts_on_society=impacts(a.impacts_on_society),
            fairness_and_bias=a.fairness_and_bias,
            mitigation_measures=list(a.mitigation_measures),
            human_oversight=a.human_oversight,
            monitoring=a.monitoring,
            fundamental_rights=FundamentalRightsAssessment.from_upstream(fria) if fria else None,
            next_review_at=a.next_review_at,
            version=a.version,
            created_at=a.created_at,
            updated_at=a.updated_at,
            created_by=a.created_by,
            submitted_by=a.submitted_by,
            submitted_at=a.submitted_at,
            approved_by=a.approved_by,
            approved_at=a.approved_at,
            superseded_by=a.superseded_by,
            superseded_at=a.superseded_at,
            returned_by=a.returned_by,
            returned_at=a.returned_at,
            return_reason=a.return_reason,
            rejected_by=a.rejected_by,
            rejected_at=a.rejected_at,
            rejection_reason=a.rejection_reason,
            withdrawn_by=a.withdrawn_by,
            withdrawn_at=a.withdrawn_at,
            withdrawal_reason=a.withdrawal_reason,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The assessed AI system; null when the register no longer has it."
    )
    async def ai_system(self, info: Info) -> AISystem | None:
        return await _ai_system(info, self.system_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ImpactAssessment | None]:
        ids = [uuid_or_none(i) for i in node_ids]
        wanted = [i for i in ids if i is not None]
        found = await info.context.clients.impact.assessments_by_ids(wanted) if wanted else []
        by_id = {a.id: a for a in found}
        nodes = [cls.from_upstream(by_id[i]) if i in by_id else None for i in ids]
        if required and any(n is None for n in nodes):
            raise NotFound("No such impact assessment in your organisation.")
        return nodes


@strawberry.type(description="An AI system that needs an impact assessment, and why.")
class ImpactAssessmentRequirement:
    system_id: uuid.UUID
    name: str
    lifecycle_stage: str
    reasons: list[ImpactRequirementReason]
    fundamental_rights_fields_required: bool = strawberry.field(
        description="EU AI Act Art. 27(1)(a)-(f) fields are needed before approval: Art. 27(1) "
        "binds the organisation (law), or its risk policy asks for a full assessment of every "
        "high-risk system (policy)."
    )
    has_current_assessment: bool = strawberry.field(
        description="An approved assessment whose review date has not passed."
    )
    approved_assessment_id: uuid.UUID | None
    next_review_at: date | None
    latest_assessment_id: uuid.UUID | None
    latest_status: ImpactAssessmentStatus | None

    @classmethod
    def from_upstream(cls, r: RequiredAssessmentUpstream) -> ImpactAssessmentRequirement:
        return cls(
            system_id=r.system_id,
            name=r.name,
            lifecycle_stage=r.lifecycle_stage,
            reasons=[ImpactRequirementReason(x) for x in r.reasons],
            fundamental_rights_fields_required=r.fundamental_rights_fields_required,
            has_current_assessment=r.has_current_assessment,
            approved_assessment_id=r.approved_assessment_id,
            next_review_at=r.next_review_at,
            latest_assessment_id=r.latest_assessment_id,
            latest_status=ImpactAssessmentStatus(r.latest_status) if r.latest_status else None,
        )

    @strawberry.field(description="The AI system.")  # type: ignore[untyped-decorator]
    async def ai_system(self, info: Info) -> AISystem | None:
        return await _ai_system(info, self.system_id)


@strawberry.type(description="A page of impact assessments.")
class ImpactAssessmentConnection(relay.Connection[ImpactAssessment]):
    pass


@strawberry.type(description="An AI system that needs an impact assessment, and its cursor.")
class ImpactAssessmentRequirementEdge:
    cursor: str
    node: ImpactAssessmentRequirement


@strawberry.type(description="A page of AI systems that need an impact assessment.")
class ImpactAssessmentRequirementConnection:
    edges: list[ImpactAssessmentRequirementEdge]
    page_info: relay.PageInfo


U = TypeVar("U")


def _positions(
    page: UpstreamPage[U], start: Position
) -> tuple[list[tuple[str, U]], relay.PageInfo]:
    """Each item of ``page`` after ``start`` with the Relay cursor that resumes after it."""
    items = page.items[start.skip :]
    out: list[tuple[str, U]] = []
    for index, item in enumerate(items):
        is_last = index == len(items) - 1
        position = (
            Position(upstream=page.next_cursor)
            if is_last and page.next_cursor
            else Position(upstream=start.upstream, skip=start.skip + index + 1)
        )
        out.append((position.encode(), item))
    info = relay.PageInfo(
        has_next_page=page.next_cursor is not None,
        has_previous_page=start.upstream is not None or start.skip > 0,
        start_cursor=out[0][0] if out else None,
        end_cursor=out[-1][0] if out else None,
    )
    return out, info


@strawberry.input(description="Which impact assessments to list.")
class ImpactAssessmentFilter:
    system_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="AISystem IDs or register UUIDs."
    )
    statuses: list[ImpactAssessmentStatus] | None = None


@strawberry.input(description="A potential consequence.")
class ImpactInput:
    description: str
    severity: ImpactSeverity
    likelihood: ImpactLikelihood | None = None


@strawberry.input(description="A person or group the system affects, and how.")
class ImpactStakeholderInput:
    name: str
    how_affected: str


@strawberry.input(description="EU AI Act Art. 27(1)(a)–(f).")
class FundamentalRightsAssessmentInput:
    deployer_process: str | None = None
    period_and_frequency_of_use: str | None = None
    affected_person_categories: list[str] = strawberry.field(default_factory=list)
    specific_risks_of_harm: list[ImpactInput] = strawberry.field(default_factory=list)
    human_oversight_measures: str | None = None
    measures_if_risks_materialise: str | None = None


@strawberry.input(description="A new impact assessment (draft); every part may follow later.")
class CreateImpactAssessmentInput:
    system_id: strawberry.ID = strawberry.field(description="AISystem ID or register UUID.")
    purpose: str | None = None
    stakeholders: list[ImpactStakeholderInput] = strawberry.field(default_factory=list)
    legal_context: str | None = None
    social_context: str | None = None
    impacts_on_individuals: list[ImpactInput] = strawberry.field(default_factory=list)
    impacts_on_groups: list[ImpactInput] = strawberry.field(default_factory=list)
    impacts_on_society: list[ImpactInput] = strawberry.field(default_factory=list)
    fairness_and_bias: str | None = None
    mitigation_measures: list[str] = strawberry.field(default_factory=list)
    human_oversight: str | None = None
    monitoring: str | None = None
    fundamental_rights: FundamentalRightsAssessmentInput | None = None
    next_review_at: date | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key when retrying: created once."
    )


@strawberry.input(
    name="UpdateImpactAssessmentInput",
    description="Change a draft assessment; omitted fields keep their value, a list sent "
    "replaces the whole list.",
)
class UpdateImpactAssessmentInput:
    id: strawberry.ID = strawberry.field(description="An ImpactAssessment ID (or UUID).")
    expected_version: int = strawberry.field(description="The version you read.")
    purpose: str | None = strawberry.UNSET
    stakeholders: list[ImpactStakeholderInput] | None = strawberry.UNSET
    legal_context: str | None = strawberry.UNSET
    social_context: str | None = strawberry.UNSET
    impacts_on_individuals: list[ImpactInput] | None = strawberry.UNSET
    impacts_on_groups: list[ImpactInput] | None = strawberry.UNSET
    impacts_on_society: list[ImpactInput] | None = strawberry.UNSET
    fairness_and_bias: str | None = strawberry.UNSET
    mitigation_measures: list[str] | None = strawberry.UNSET
    human_oversight: str | None = strawberry.UNSET
    monitoring: str | None = strawberry.UNSET
    fundamental_rights: FundamentalRightsAssessmentInput | None = strawberry.UNSET
    next_review_at: date | None = strawberry.UNSET


def _update_body(i: UpdateImpactAssessmentInput) -> dict[str, Any]:
    """The REST body of the fields sent (a full create body, filtered to them)."""
    full = _create_body(
        CreateImpactAssessmentInput(
            system_id=strawberry.ID(""),
            **{
                name: value
                for name in _UPDATE_FIELDS
                if (value := getattr(i, name)) is not strawberry.UNSET and value is not None
            },
        ),
        uuid.UUID(int=0),
    )
    return {
        name: full[name] if getattr(i, name) is not None else None
        for name in _UPDATE_FIELDS
        if getattr(i, name) is not strawberry.UNSET
    }


_UPDATE_FIELDS = (
    "purpose",
    "stakeholders",
    "legal_context",
    "social_context",
    "impacts_on_individuals",
    "impacts_on_groups",
    "impacts_on_society",
    "fairness_and_bias",
    "mitigation_measures",
    "human_oversight",
    "monitoring",
    "fundamental_rights",
    "next_review_at",
)


def _impact_body(item: ImpactInput) -> dict[str, Any]:
    return {
        "description": item.description,
        "severity": item.severity.value,
        "likelihood": item.likelihood.value if item.likelihood else None,
    }


def _create_body(i: CreateImpactAssessmentInput, system_id: uuid.UUID) -> dict[str, Any]:
    fria = i.fundamental_rights
    return {
        "system_id": str(system_id),
        "purpose": i.purpose,
        "stakeholders": [{"name": s.name, "how_affected": s.how_affected} for s in i.stakeholders],
        "legal_context": i.legal_context,
        "social_context": i.social_context,
        "impacts_on_individuals": [_impact_body(x) for x in i.impacts_on_individuals],
        "impacts_on_groups": [_impact_body(x) for x in i.impacts_on_groups],
        "impacts_on_society": [_impact_body(x) for x in i.impacts_on_society],
        "fairness_and_bias": i.fairness_and_bias,
        "mitigation_measures": list(i.mitigation_measures),
        "human_oversight": i.human_oversight,
        "monitoring": i.monitoring,
        "fundamental_rights": None
        if fria is None
        else {
            "deployer_process": fria.deployer_process,
            "period_and_frequency_of_use": fria.period_and_frequency_of_use,
            "affected_person_categories": list(fria.affected_person_categories),
            "specific_risks_of_harm": [_impact_body(x) for x in fria.specific_risks_of_harm],
            "human_oversight_measures": fria.human_oversight_measures,
            "measures_if_risks_materialise": fria.measures_if_risks_materialise,
        },
        "next_review_at": i.next_review_at.isoformat() if i.next_review_at else None,
    }


@strawberry.type(description="One item approval still needs.")
class MissingField:
    field: list[str] = strawberry.field(description='Path, e.g. `["fundamentalRights", …]`.')
    message: str


@strawberry.type(
    description="The assessment cannot be submitted or approved yet; `missing` lists every item "
    "it needs."
)
class ImpactAssessmentIncompleteError(UserError):
    missing: list[MissingField]


@strawberry.type
class ImpactAssessmentPayload:
    impact_assessment: ImpactAssessment | None = strawberry.field(
        description="The assessment after the change; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class ApproveImpactAssessmentPayload:
    impact_assessment: ImpactAssessment | None = strawberry.field(
        description="The approved assessment; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was not approved (an `ImpactAssessmentIncompleteError` lists every "
        "missing item); empty on success."
    )


_CAMEL = re.compile(r"_([a-z0-9])")


def _path(location: Any) -> list[str]:
    parts = [str(p) for p in location] if isinstance(location, list) else []
    if parts and parts[0] == "body":
        parts = parts[1:]
    return [_CAMEL.sub(lambda m: m.group(1).upper(), p) for p in parts]


def _incomplete(error: DomainError) -> ImpactAssessmentIncompleteError:
    return ImpactAssessmentIncompleteError(
        message=error.detail,
        code=error.code,
        missing=[
            MissingField(field=_path(e.get("location")), message=str(e.get("message", "")))
            for e in error.errors or []
        ],
    )


def _impact_errors(
    error: DomainError, *, kind: str | None = None, resource_id: object = None
) -> list[UserError] | None:
    """:func:`user_errors`, and one ``ImpactAssessmentIncompleteError`` for an incomplete one."""
    if error.code == INCOMPLETE:
        return [_incomplete(error)]
    return user_errors(error, kind=kind, resource_id=resource_id)


def parse_assessment_id(value: str) -> uuid.UUID:
    """An ImpactAssessment's global ID, or the risk service's own UUID."""
    return parse_node_id(value, "ImpactAssessment")


@strawberry.type
class ImpactAssessmentQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        name="impactAssessments",
        description=f"The organisation's impact assessments, oldest first. `first` is at most "
        f"{MAX_PAGE_SIZE}.",
    )
    async def impact_assessments(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ImpactAssessmentFilter | None = None,
    ) -> ImpactAssessmentConnection:
        check_page_size(first)
        start = Position.decode(after)
        system_ids = [parse_ai_system_id(i) for i in (filter.system_ids or [])] if filter else []
        statuses = [s.value for s in (filter.statuses or [])] if filter else []
        page = await info.context.clients.impact.list_assessments(
            limit=start.skip + first,
            after=start.upstream,
            system_ids=system_ids,
            statuses=statuses,
        )
        items, page_info = _positions(page, start)
        edges = [relay.Edge(cursor=c, node=ImpactAssessment.from_upstream(a)) for c, a in items]
        return ImpactAssessmentConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="impactAssessmentsRequired",
        description="AI systems that need an impact assessment (they affect individuals, owe the "
        "EU AI Act Art. 27(1) assessment, fall under the organisation's high-risk policy, work "
        "in a sensitive sector or carry a fundamental-rights risk), with the reasons. "
        "`filter: {missing: true}` keeps those without an approved, current assessment.",
    )
    async def impact_assessments_required(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ImpactAssessmentRequirementFilter | None = None,
        missing: Annotated[
            bool, strawberry.argument(deprecation_reason="Use filter.missing")
        ] = False,
    ) -> ImpactAssessmentRequirementConnection:
        # The deprecated argument's `false` is its default, so only its `true` counts as given.
        missing = bool(
            merge_filter_argument(
                filter.missing if filter else None, missing or None, name="missing"
            )
        )
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.impact.required(
            limit=start.skip + first, after=start.upstream, missing=missing
        )
        items, page_info = _positions(page, start)
        edges = [
            ImpactAssessmentRequirementEdge(
                cursor=c, node=ImpactAssessmentRequirement.from_upstream(r)
            )
            for c, r in items
        ]
        return ImpactAssessmentRequirementConnection(edges=edges, page_info=page_info)


@strawberry.type
class ImpactAssessmentMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createImpactAssessment",
        description="Start an impact assessment of an AI system as a draft (roles: admin, "
        "manager, risk_owner, contributor).",
    )
    async def create_impact_assessment(
        self, info: Info, input: CreateImpactAssessmentInput
    ) -> ImpactAssessmentPayload:
        created, errors = await attempt(
            lambda: info.context.clients.impact.create(
                _create_body(input, parse_ai_system_id(input.system_id)),
                idempotency_key=input.idempotency_key,
            ),
            mapping=_impact_errors,
        )
        if created is None:
            return ImpactAssessmentPayload(impact_assessment=None, errors=errors)
        return ImpactAssessmentPayload(
            impact_assessment=ImpactAssessment.from_upstream(created), errors=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateImpactAssessment",
        description="Change a draft impact assessment (roles: admin, manager, risk_owner, "
        "contributor); a stale `expectedVersion` is a `ConflictError`, a submitted one too.",
    )
    async def update_impact_assessment(
        self, info: Info, input: UpdateImpactAssessmentInput
    ) -> ImpactAssessmentPayload:
        updated, errors = await attempt(
            lambda: info.context.clients.impact.update(
                parse_assessment_id(input.id),
                _update_body(input),
                expected_version=input.expected_version,
            ),
            kind="ImpactAssessment",
            resource_id=input.id,
            mapping=_impact_errors,
        )
        if updated is None:
            return ImpactAssessmentPayload(impact_assessment=None, errors=errors)
        return ImpactAssessmentPayload(
            impact_assessment=ImpactAssessment.from_upstream(updated), errors=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="submitImpactAssessment",
        description="Submit a draft for review (roles: admin, manager, risk_owner, contributor). "
        "Refused while incomplete with one `ImpactAssessmentIncompleteError` listing every "
        "missing item (as `approveImpactAssessment`).",
    )
    async def submit_impact_assessment(
        self, info: Info, id: strawberry.ID
    ) -> ImpactAssessmentPayload:
        return await _move(info, id, "submit", None)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="approveImpactAssessment",
        description="Approve an assessment in review (roles: admin, manager; not its author). "
        "Refused with every missing item listed; supersedes the system's previous approved "
        "assessment.",
    )
    async def approve_impact_assessment(
        self, info: Info, id: strawberry.ID
    ) -> ApproveImpactAssessmentPayload:
        moved = await _move(info, id, "approve", None)
        return ApproveImpactAssessmentPayload(
            impact_assessment=moved.impact_assessment, errors=moved.errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="sendBackImpactAssessment",
        description="Send an assessment in review back to draft (a reviewer or its author).",
    )
    async def send_back_impact_assessment(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> ImpactAssessmentPayload:
        return await _move(info, id, "send-back", {"reason": reason})

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="rejectImpactAssessment",
        description="Reject an assessment in review, with a reason (admin, manager; not its "
        "author).",
    )
    async def reject_impact_assessment(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> ImpactAssessmentPayload:
        return await _move(info, id, "reject", {"reason": reason})

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="withdrawImpactAssessment",
        description="Withdraw a draft or an assessment in review (a reviewer or its author).",
    )
    async def withdraw_impact_assessment(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> ImpactAssessmentPayload:
        return await _move(info, id, "withdraw", {"reason": reason})

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="reopenImpactAssessment",
        description="Reopen a rejected or withdrawn assessment as a draft.",
    )
    async def reopen_impact_assessment(
        self, info: Info, id: strawberry.ID
    ) -> ImpactAssessmentPayload:
        return await _move(info, id, "reopen", None)


async def _move(
    info: Info, id: strawberry.ID, action: str, body: dict[str, Any] | None
) -> ImpactAssessmentPayload:
    """A transition of the review flow (submit, approve, send-back, reject, withdraw, reopen)."""
    moved, errors = await attempt(
        lambda: info.context.clients.impact.transition(parse_assessment_id(id), action, body),
        kind="ImpactAssessment",
        resource_id=id,
        mapping=_impact_errors,
    )
    if moved is None:
        return ImpactAssessmentPayload(impact_assessment=None, errors=errors)
    return ImpactAssessmentPayload(
        impact_assessment=ImpactAssessment.from_upstream(moved), errors=[]
    )
