"""The Annex A control catalogue and the Statement of Applicability (risk service)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from gateway.clients.soa import (
    SoAControl,
    SoADiff,
    SoAEntry,
    SoAIssue,
    SoAVersionInfo,
)
from gateway.schema.context import Info
from gateway.schema.errors import UserError, user_errors
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, Position, check_page_size
from shared.errors import DomainError

if TYPE_CHECKING:
    from gateway.schema.evidence import EvidenceConnection


@strawberry.enum(description="How far an applicable control is implemented.")
class ImplementationStatus(enum.Enum):
    NOT_STARTED = "not_started"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    NOT_APPLICABLE = "not_applicable"


@strawberry.enum(name="SoADecision", description="Whether a line of the SoA is decided.")
class SoADecision(enum.Enum):
    UNDECIDED = "undecided"
    PROPOSED = "proposed"
    DECIDED = "decided"


@strawberry.enum(name="SoAVersionStatus", description="draft → approved → superseded.")
class SoAVersionStatus(enum.Enum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


@strawberry.type(description="A NIST AI RMF subcategory (shortened title).")
class NistSubcategory:
    id: str
    title: str


@strawberry.type(name="EUAIActArticle", description="An article of the EU AI Act.")
class EUAIActArticle:
    article: str
    title: str


@strawberry.type(
    description="An ISO/IEC 42001 Annex A control in our own short wording (not ISO text), "
    "with the crosswalk the reference data states."
)
class Control:
    id: str = strawberry.field(description="Annex A identifier, e.g. `A.6.2.6`.")
    title: str
    summary: str
    domain_id: str
    domain: str
    objective_id: str
    objective: str
    nist_subcategories: list[NistSubcategory] = strawberry.field(
        description="NIST AI RMF subcategories related to the control."
    )
    eu_ai_act_articles: list[EUAIActArticle] = strawberry.field(
        name="euAiActArticles",
        description="EU AI Act articles related to the control (the reference data states none).",
    )
    crosswalk_notes: list[str]

    @classmethod
    def from_upstream(cls, c: SoAControl) -> Control:
        crosswalk = c.crosswalk
        return cls(
            id=c.id,
            title=c.title,
            summary=c.summary,
            domain_id=c.domain_id,
            domain=c.domain,
            objective_id=c.objective_id,
            objective=c.objective,
            nist_subcategories=[
                NistSubcategory(id=s.id, title=s.title)
                for s in (crosswalk.nist_ai_rmf if crosswalk else [])
            ],
            eu_ai_act_articles=[
                EUAIActArticle(article=a.article, title=a.title)
                for a in (crosswalk.eu_ai_act if crosswalk else [])
            ],
            crosswalk_notes=list(crosswalk.notes if crosswalk else []),
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Evidence items linked to this control (evidence service), oldest first; "
        "the first page of every control in a list costs one upstream call together. `first` "
        "is at most 100."
    )
    async def evidence(
        self, info: Info, first: int = 10, after: str | None = None
    ) -> Annotated[EvidenceConnection, strawberry.lazy("gateway.schema.evidence")]:
        from gateway.schema.evidence import evidence_of_target

        return await evidence_of_target(info, "control", self.id, first, after)


@strawberry.type(
    name="SoAEntry",
    description="One line of the Statement of Applicability (ISO/IEC 42001 6.1.3).",
)
class SoAEntryType:
    control_id: str
    control_title: str
    domain_id: str
    applicable: bool | None = strawberry.field(description="Null while undecided.")
    justification: str | None = strawberry.field(description="Required for every exclusion.")
    implementation_status: ImplementationStatus | None
    owner: str | None
    notes: str | None
    decision: SoADecision
    proposal_reason: str | None
    selected_by_risks: list[uuid.UUID] = strawberry.field(
        description="Non-closed risks whose treatment relies on the control."
    )
    decided_by: str | None
    decided_at: datetime | None
    version: int = strawberry.field(description="Send as `expectedVersion` to decide.")
    updated_at: datetime | None

    @classmethod
    def from_upstream(cls, e: SoAEntry) -> SoAEntryType:
        return cls(
            control_id=e.control_id,
            control_title=e.control_title,
            domain_id=e.domain_id,
            applicable=e.applicable,
            justification=e.justification,
            implementation_status=(
                ImplementationStatus(e.implementation_status) if e.implementation_status else None
            ),
            owner=e.owner,
            notes=e.notes,
            decision=SoADecision(e.decision),
            proposal_reason=e.proposal_reason,
            selected_by_risks=list(e.selected_by_risks),
            decided_by=e.decided_by,
            decided_at=e.decided_at,
            version=e.version,
            updated_at=e.updated_at,
        )


@strawberry.type(name="SoAVersion", description="A numbered snapshot of the SoA.")
class SoAVersion:
    id: uuid.UUID
    number: int
    status: SoAVersionStatus
    note: str | None
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    approved_by: str | None
    superseded_at: datetime | None
    loaded_entries: strawberry.Private[list[SoAEntry] | None]

    @classmethod
    def from_upstream(cls, v: SoAVersionInfo) -> SoAVersion:
        return cls(
            id=v.id,
            number=v.number,
            status=SoAVersionStatus(v.status),
            note=v.note,
            created_at=v.created_at,
            created_by=v.created_by,
            approved_at=v.approved_at,
            approved_by=v.approved_by,
            superseded_at=v.superseded_at,
            loaded_entries=v.entries,
        )

    @strawberry.field(description="The 38 entries as they were when the version was drafted.")  # type: ignore[untyped-decorator]
    async def entries(self, info: Info) -> list[SoAEntryType]:
        entries = self.loaded_entries
        if entries is None:
            entries = (await info.context.clients.soa.version(str(self.id))).entries or []
        return [SoAEntryType.from_upstream(e) for e in entries]


@strawberry.type(name="SoAVersionEdge")
class SoAVersionEdge:
    cursor: str
    node: SoAVersion


@strawberry.type(name="SoAVersionConnection", description="SoA versions, newest first.")
class SoAVersionConnection:
    page_info: relay.PageInfo
    edges: list[SoAVersionEdge]


@strawberry.type(name="SoAFieldChange")
class SoAFieldChange:
    field: str
    before: JSON | None
    after: JSON | None


@strawberry.type(name="SoAEntryDiff")
class SoAEntryDiff:
    control_id: str
    changes: list[SoAFieldChange]


@strawberry.type(name="SoADiff", description="What changed between two SoA versions.")
class SoADiffType:
    from_version: int
    to_version: int
    changed: list[SoAEntryDiff]
    added: list[str]
    removed: list[str]

    @classmethod
    def from_upstream(cls, d: SoADiff) -> SoADiffType:
        return cls(
            from_version=d.from_version,
            to_version=d.to_version,
            changed=[
                SoAEntryDiff(
                    control_id=c.control_id,
                    changes=[
                        SoAFieldChange(field=name, before=ch.before, after=ch.after)
                        for name, ch in c.changes.items()
                    ],
                )
                for c in d.changed
            ],
            added=list(d.added),
            removed=list(d.removed),
        )


@strawberry.type(name="SoAIssue", description="Why an SoA version cannot be approved.")
class SoAIssueType:
    code: str
    message: str
    control_id: str | None
    risk_ids: list[uuid.UUID]

    @classmethod
    def from_upstream(cls, i: SoAIssue) -> SoAIssueType:
        return cls(
            code=i.code, message=i.message, control_id=i.control_id, risk_ids=list(i.risk_ids)
        )


@strawberry.input(description="Decide one control; omitted fields keep their value.")
class DecideControlInput:
    control_id: str
    expected_version: int = strawberry.field(
        description="The entry's `version` you read (0 for an undecided control)."
    )
    applicable: bool | None = strawberry.UNSET
    justification: str | None = strawberry.UNSET
    implementation_status: ImplementationStatus | None = strawberry.UNSET
    owner: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.type(name="DecideControlPayload")
class DecideControlPayload:
    entry: SoAEntryType | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError]
    relied_on_by: list[uuid.UUID] = strawberry.field(
        description="When an exclusion is refused: the risks whose treatment relies on it."
    )


@strawberry.type(name="ApproveSoAVersionPayload")
class ApproveSoAVersionPayload:
    version: SoAVersion | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError]
    reasons: list[SoAIssueType] = strawberry.field(
        description="Every reason an approval was refused (empty on success)."
    )


def _value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _extension_list(error: DomainError, key: str) -> list[Any]:
    value = error.extensions.get(key)
    return list(value) if isinstance(value, list) else []


@strawberry.type
class SoAQuery:
    @strawberry.field(description="The 38 Annex A controls, optionally of one domain (`A.6`).")  # type: ignore[untyped-decorator]
    async def controls(self, info: Info, domain: str | None = None) -> list[Control]:
        return [Control.from_upstream(c) for c in await info.context.clients.soa.controls(domain)]

    @strawberry.field(description="One Annex A control with its crosswalk.")  # type: ignore[untyped-decorator]
    async def control(self, info: Info, id: str) -> Control:
        return Control.from_upstream(await info.context.clients.soa.control(id))

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="soaEntries",
        description="The organisation's Statement of Applicability: one entry per control, in "
        "control order (38 at most, so not paginated).",
    )
    async def soa_entries(self, info: Info) -> list[SoAEntryType]:
        return [SoAEntryType.from_upstream(e) for e in await info.context.clients.soa.entries()]

    @strawberry.field(name="soaVersions", description="SoA versions, newest first.")  # type: ignore[untyped-decorator]
    async def soa_versions(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> SoAVersionConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.soa.versions(
            limit=start.skip + first, after=start.upstream
        )
        items = list(page.items)[start.skip :]
        edges: list[SoAVersionEdge] = []
        for index, item in enumerate(items):
            is_last = index == len(items) - 1
            position = (
                Position(upstream=page.next_cursor)
                if is_last and page.next_cursor
                else Position(upstream=start.upstream, skip=start.skip + index + 1)
            )
            edges.append(
                SoAVersionEdge(cursor=position.encode(), node=SoAVersion.from_upstream(item))
            )
        return SoAVersionConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.next_cursor is not None,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(name="soaVersion", description="One SoA version by id or number.")  # type: ignore[untyped-decorator]
    async def soa_version(self, info: Info, id: str) -> SoAVersion:
        return SoAVersion.from_upstream(await info.context.clients.soa.version(id))

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="soaDiff", description="What changed from version `from` to version `to`."
    )
    async def soa_diff(
        self,
        info: Info,
        from_: Annotated[str, strawberry.argument(name="from", description="Version id or number")],
        to: Annotated[str, strawberry.argument(description="Version id or number")],
    ) -> SoADiffType:
        return SoADiffType.from_upstream(await info.context.clients.soa.diff(from_, to))


@strawberry.type
class SoAMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="decideControl",
        description="Decide whether a control applies (roles: admin, manager, risk_owner). An "
        "exclusion needs a justification; excluding a control a risk treatment relies on is "
        "refused with a ConflictError and the risks in `reliedOnBy`.",
    )
    async def decide_control(self, info: Info, input: DecideControlInput) -> DecideControlPayload:
        body = {
            name: _value(getattr(input, name))
            for name in ("applicable", "justification", "implementation_status", "owner", "notes")
            if getattr(input, name) is not strawberry.UNSET
        }
        try:
            entry = await info.context.clients.soa.decide(
                input.control_id, body, expected_version=input.expected_version
            )
        except DomainError as error:
            errors = user_errors(error)
            if errors is None:
                raise
            risks = [uuid.UUID(str(r)) for r in _extension_list(error, "risks")]
            return DecideControlPayload(entry=None, errors=errors, relied_on_by=risks)
        return DecideControlPayload(
            entry=SoAEntryType.from_upstream(entry), errors=[], relied_on_by=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="approveSoAVersion",
        description="Approve a draft SoA version (roles: admin, manager); the previous approved "
        "version is superseded and `soa.changed` is emitted. Refusals list every reason.",
    )
    async def approve_soa_version(self, info: Info, id: str) -> ApproveSoAVersionPayload:
        try:
            version = await info.context.clients.soa.approve(id)
        except DomainError as error:
            errors = user_errors(error)
            if errors is None:
                raise
            reasons = [
                SoAIssueType.from_upstream(SoAIssue.model_validate(r))
                for r in _extension_list(error, "reasons")
            ]
            return ApproveSoAVersionPayload(version=None, errors=errors, reasons=reasons)
        return ApproveSoAVersionPayload(
            version=SoAVersion.from_upstream(version), errors=[], reasons=[]
        )
