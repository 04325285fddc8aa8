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
    CrosswalkClause,
    CrosswalkControl,
    SoAArticleRef,
    SoAControl,
    SoADiff,
    SoAEntry,
    SoAIssue,
    SoAVersionInfo,
)
from gateway.clients.soa import (
    EUAIActCrosswalk as UpstreamEUAIActCrosswalk,
)
from gateway.clients.soa import (
    NistCrosswalk as UpstreamNistCrosswalk,
)
from gateway.schema.ai_systems import AIRole
from gateway.schema.context import Info
from gateway.schema.errors import UserError, attempt, user_errors
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


@strawberry.type(
    name="EUAIActArticle",
    description="An EU AI Act article related by the editorial crosswalk: guidance, not legal "
    "advice.",
)
class EUAIActArticle:
    article: str = strawberry.field(description="The article number, e.g. `26`.")
    title: str
    citation: str = strawberry.field(description="E.g. `Art. 26`.")
    roles: list[str] = strawberry.field(
        description="The operators the article binds (provider, deployer, …)."
    )
    guidance: bool = strawberry.field(
        description="Always true: an editorial crosswalk, not legal advice."
    )

    @classmethod
    def from_upstream(cls, a: SoAArticleRef) -> EUAIActArticle:
        return cls(
            article=a.article,
            title=a.title,
            citation=a.citation or f"Art. {a.article}",
            roles=list(a.roles),
            guidance=True,
        )


@strawberry.type(
    name="RelatedEUAIAct",
    description="The EU AI Act articles the editorial crosswalk relates to a control: guidance, "
    "not legal advice and never evidence of conformity.",
)
class RelatedEUAIAct:
    guidance: bool = strawberry.field(description="Always true.")
    notice: str = strawberry.field(description="What the crosswalk is, for a person to read.")
    articles: list[EUAIActArticle]


@strawberry.type(name="CrosswalkClause", description="An ISO/IEC 42001 clause (4 to 10).")
class CrosswalkClauseType:
    id: str = strawberry.field(description="E.g. `6.1.4`.")
    title: str

    @classmethod
    def from_upstream(cls, c: CrosswalkClause) -> CrosswalkClauseType:
        return cls(id=c.id, title=c.title)


@strawberry.type(name="CrosswalkControl", description="An Annex A control a crosswalk names.")
class CrosswalkControlType:
    id: str = strawberry.field(description="E.g. `A.6.2.8`.")
    title: str

    @classmethod
    def from_upstream(cls, c: CrosswalkControl) -> CrosswalkControlType:
        return cls(id=c.id, title=c.title)


@strawberry.type(
    name="EUAIActMapping", description="One article of the EU AI Act ↔ ISO/IEC 42001 crosswalk."
)
class EUAIActMapping:
    article: str
    citation: str
    title: str
    roles: list[str] = strawberry.field(description="The operators the article binds.")
    clauses: list[CrosswalkClauseType]
    controls: list[CrosswalkControlType]


@strawberry.type(
    name="EUAIActNoCounterpart",
    description="Articles with no management-system counterpart, and why.",
)
class EUAIActNoCounterpart:
    citation: str
    articles: list[str]
    why: str


@strawberry.type(
    name="EUAIActCrosswalkFilter", description="The filter applied, normalised (null: not used)."
)
class EUAIActCrosswalkFilter:
    control: str | None
    article: str | None
    clause: str | None
    role: str | None


@strawberry.type(
    name="EUAIActCrosswalk",
    description="The editorial EU AI Act ↔ ISO/IEC 42001 crosswalk, queried either way: "
    "guidance, never evidence of conformity with the Act.",
)
class EUAIActCrosswalkType:
    guidance: bool = strawberry.field(description="Always true.")
    notice: str
    status: str = strawberry.field(description="The crosswalk's own statement of what it is.")
    filter: EUAIActCrosswalkFilter
    items: list[EUAIActMapping]
    no_counterpart: list[EUAIActNoCounterpart] = strawberry.field(
        description="Articles (asked for, or all when unfiltered) with no ISO/IEC 42001 "
        "counterpart."
    )

    @classmethod
    def from_upstream(cls, c: UpstreamEUAIActCrosswalk) -> EUAIActCrosswalkType:
        return cls(
            guidance=True,
            notice=c.notice,
            status=c.status,
            filter=EUAIActCrosswalkFilter(
                control=c.query.get("control"),
                article=c.query.get("article"),
                clause=c.query.get("clause"),
                role=c.query.get("role"),
            ),
            items=[
                EUAIActMapping(
                    article=m.article,
                    citation=m.citation,
                    title=m.title,
                    roles=list(m.roles),
                    clauses=[CrosswalkClauseType.from_upstream(x) for x in m.clauses],
                    controls=[CrosswalkControlType.from_upstream(x) for x in m.controls],
                )
                for m in c.items
            ],
            no_counterpart=[
                EUAIActNoCounterpart(citation=n.citation, articles=list(n.articles), why=n.why)
                for n in c.no_counterpart
            ],
        )


@strawberry.enum(name="NistIsoRefType", description="What the ISO side of a NIST pair names.")
class NistIsoRefType(enum.Enum):
    CLAUSE = strawberry.enum_value("clause", description="A main clause (4 to 10).")
    ANNEX_B_GUIDANCE = strawberry.enum_value(
        "annex_b_guidance", description="Annex B guidance of an Annex A control."
    )


@strawberry.type(name="NistPair", description="One NIST AI RMF ↔ ISO/IEC 42001 pair.")
class NistPair:
    subcategory: NistSubcategory
    iso_ref: str = strawberry.field(description="As the crosswalk prints it, e.g. `B.6.2.6`.")
    iso_ref_type: NistIsoRefType
    clause: CrosswalkClauseType | None
    control: CrosswalkControlType | None


@strawberry.type(name="NistCrosswalkFilter", description="The filter applied, normalised.")
class NistCrosswalkFilter:
    subcategory: str | None
    control: str | None
    clause: str | None


@strawberry.type(
    name="NistCrosswalk",
    description="The NIST AI RMF ↔ ISO/IEC 42001 crosswalk, clause-level pairs included.",
)
class NistCrosswalkType:
    note: str
    filter: NistCrosswalkFilter
    items: list[NistPair]

    @classmethod
    def from_upstream(cls, c: UpstreamNistCrosswalk) -> NistCrosswalkType:
        return cls(
            note=c.note,
            filter=NistCrosswalkFilter(
                subcategory=c.query.get("subcategory"),
                control=c.query.get("control"),
                clause=c.query.get("clause"),
            ),
            items=[
                NistPair(
                    subcategory=NistSubcategory(id=p.subcategory.id, title=p.subcategory.title),
                    iso_ref=p.iso_ref,
                    iso_ref_type=NistIsoRefType(p.iso_ref_type),
                    clause=CrosswalkClauseType.from_upstream(p.clause) if p.clause else None,
                    control=CrosswalkControlType.from_upstream(p.control) if p.control else None,
                )
                for p in c.items
            ],
        )


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
        description="EU AI Act articles related to the control by the editorial crosswalk: "
        "guidance, not legal advice.",
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
                EUAIActArticle.from_upstream(a) for a in (crosswalk.eu_ai_act if crosswalk else [])
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
    ) -> Annotated[EvidenceConnection, strawberry.lazy("gateway.schema.evidence")] | None:
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
    related_eu_ai_act: RelatedEUAIAct | None = strawberry.field(
        name="relatedEuAiAct",
        description="EU AI Act articles related to the control by the editorial crosswalk "
        "(guidance, not legal advice; always the packaged crosswalk, also in old versions).",
    )

    @classmethod
    def from_upstream(cls, e: SoAEntry) -> SoAEntryType:
        related = e.related_eu_ai_act
        return cls(
            related_eu_ai_act=RelatedEUAIAct(
                guidance=True,
                notice=related.notice,
                articles=[EUAIActArticle.from_upstream(a) for a in related.articles],
            )
            if related
            else None,
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


@strawberry.type(
    name="SoAProposal", description="What proposing SoA defaults considered and changed."
)
class SoAProposal:
    roles: list[AIRole] = strawberry.field(description="The AI roles the proposal used.")
    roles_from: str = strawberry.field(
        description="`request`, or `inventory` (organisation-level roles and the roles of "
        "in-scope, live systems)."
    )
    organisation_roles: list[AIRole] = strawberry.field(
        description="The organisation-level AI roles the inventory holds."
    )
    systems_considered: list[uuid.UUID] = strawberry.field(
        description="In-scope, live systems whose roles, data and vendors count."
    )
    processes_data: bool
    operates_systems: bool = strawberry.field(
        description="An in-scope system is live: operation and monitoring (A.6.2.6) and event "
        "logs (A.6.2.8) stay applicable."
    )
    has_suppliers: bool = strawberry.field(
        description="An in-scope, live system has a vendor or is built by a third party: "
        "A.10.3 stays applicable."
    )
    proposed: list[str] = strawberry.field(
        description="Controls whose proposal was created or refreshed."
    )
    kept_decided: list[str] = strawberry.field(
        description="Decided controls the proposal left alone."
    )
    entries: list[SoAEntryType]


@strawberry.type(name="ProposeSoAEntriesPayload")
class ProposeSoAEntriesPayload:
    proposal: SoAProposal | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError]


@strawberry.type(name="AcceptSoAProposalsPayload")
class AcceptSoAProposalsPayload:
    accepted: list[str] = strawberry.field(description="Proposals that became decisions.")
    not_proposed: list[str] = strawberry.field(
        description="Asked-for controls that were not proposed (decided or undecided): unchanged."
    )
    entries: list[SoAEntryType] = strawberry.field(description="The entries after the change.")
    errors: list[UserError]


@strawberry.type(name="CreateSoAVersionPayload")
class CreateSoAVersionPayload:
    version: SoAVersion | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError]


@strawberry.type(
    name="SoACheck", description="Whether the SoA could be approved now, and what to look at."
)
class SoACheckType:
    consistent: bool = strawberry.field(
        description="No inconsistency that would refuse an approval."
    )
    inconsistencies: list[SoAIssueType] = strawberry.field(
        description="What refuses an approval (e.g. a control excluded that a risk relies on)."
    )
    flags: list[SoAIssueType] = strawberry.field(description="Worth a look; refuse nothing.")


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
        name="euAiActCrosswalk",
        description="The editorial EU AI Act ↔ ISO/IEC 42001 crosswalk, either way: the "
        'articles of a control (`control: "A.6.2.8"`) or clause, the controls and clauses of '
        'an article (`article: "Art. 26"`), optionally of one operator `role`. Filters '
        "combine; none lists it whole. Guidance, not legal advice.",
    )
    async def eu_ai_act_crosswalk(
        self,
        info: Info,
        control: str | None = None,
        article: str | None = None,
        clause: str | None = None,
        role: str | None = None,
    ) -> EUAIActCrosswalkType:
        found = await info.context.clients.soa.eu_ai_act_crosswalk(
            control=control, article=article, clause=clause, role=role
        )
        return EUAIActCrosswalkType.from_upstream(found)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="nistCrosswalk",
        description="The NIST AI RMF ↔ ISO/IEC 42001 pairs, either way: of a subcategory "
        '(`subcategory: "GOVERN 1.3"`), an Annex A control or a clause (sub-clauses '
        "included). Pairs naming a main clause reach no control and are kept as such.",
    )
    async def nist_crosswalk(
        self,
        info: Info,
        subcategory: str | None = None,
        control: str | None = None,
        clause: str | None = None,
    ) -> NistCrosswalkType:
        found = await info.context.clients.soa.nist_crosswalk(
            subcategory=subcategory, control=control, clause=clause
        )
        return NistCrosswalkType.from_upstream(found)

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

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="soaCheck",
        description="Inconsistencies of the current SoA (which would refuse an approval) and "
        "flags worth a look.",
    )
    async def soa_check(self, info: Info) -> SoACheckType:
        found = await info.context.clients.soa.check()
        return SoACheckType(
            consistent=found.consistent,
            inconsistencies=[SoAIssueType.from_upstream(i) for i in found.inconsistencies],
            flags=[SoAIssueType.from_upstream(i) for i in found.flags],
        )


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
            # Not `attempt`: the risks relying on the control are read from the error itself.
            errors = user_errors(error, kind="SoAEntry", resource_id=input.control_id)
            if errors is None:
                raise
            risks = [uuid.UUID(str(r)) for r in _extension_list(error, "risks")]
            return DecideControlPayload(entry=None, errors=errors, relied_on_by=risks)
        return DecideControlPayload(
            entry=SoAEntryType.from_upstream(entry), errors=[], relied_on_by=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="proposeSoAEntries",
        description="Propose SoA defaults from the organisation's AI roles (roles: admin, "
        "manager, risk_owner); never overwrites a decision. Without `roles`, the inventory's "
        "organisation-level roles and the roles of in-scope, live systems are used.",
    )
    async def propose_soa_entries(
        self, info: Info, roles: list[AIRole] | None = None
    ) -> ProposeSoAEntriesPayload:
        found, errors = await attempt(
            info.context.clients.soa.propose(
                [r.value for r in roles] if roles is not None else None
            )
        )
        if found is None:
            return ProposeSoAEntriesPayload(proposal=None, errors=errors)
        proposal = SoAProposal(
            roles=[AIRole(r) for r in found.roles],
            roles_from=found.roles_from,
            organisation_roles=[AIRole(r) for r in found.organisation_roles],
            systems_considered=list(found.systems_considered),
            processes_data=found.processes_data,
            operates_systems=found.operates_systems,
            has_suppliers=found.has_suppliers,
            proposed=list(found.proposed),
            kept_decided=list(found.kept_decided),
            entries=[SoAEntryType.from_upstream(e) for e in found.items],
        )
        return ProposeSoAEntriesPayload(proposal=proposal, errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="acceptSoAProposals",
        description="Accept proposed SoA entries as they stand, each becoming your decision "
        "(roles: admin, manager, risk_owner): all that are still only proposed, or those in "
        "`controlIds`. A version cannot be approved while an entry is only proposed.",
    )
    async def accept_soa_proposals(
        self, info: Info, control_ids: list[str] | None = None
    ) -> AcceptSoAProposalsPayload:
        found, errors = await attempt(info.context.clients.soa.accept_proposals(control_ids))
        if found is None:
            return AcceptSoAProposalsPayload(
                accepted=[], not_proposed=[], entries=[], errors=errors
            )
        return AcceptSoAProposalsPayload(
            accepted=list(found.accepted),
            not_proposed=list(found.not_proposed),
            entries=[SoAEntryType.from_upstream(e) for e in found.items],
            errors=[],
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createSoAVersion",
        description="Snapshot the current SoA entries as a draft version (roles: admin, "
        "manager, risk_owner), to be approved with `approveSoAVersion`.",
    )
    async def create_soa_version(
        self, info: Info, note: str | None = None
    ) -> CreateSoAVersionPayload:
        version, errors = await attempt(info.context.clients.soa.create_version(note))
        if version is None:
            return CreateSoAVersionPayload(version=None, errors=errors)
        return CreateSoAVersionPayload(version=SoAVersion.from_upstream(version), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="approveSoAVersion",
        description="Approve a draft SoA version (roles: admin, manager); the previous approved "
        "version is superseded and `soa.changed` is emitted. Refusals list every reason.",
    )
    async def approve_soa_version(self, info: Info, id: str) -> ApproveSoAVersionPayload:
        try:
            version = await info.context.clients.soa.approve(id)
        except DomainError as error:
            # Not `attempt`: the refusal's reasons are read from the error itself.
            errors = user_errors(error, kind="SoAVersion", resource_id=id)
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
