"""Internal audit (ISO/IEC 42001 9.2) and nonconformity and corrective action (10.2); evidence
service: audit programmes with their coverage, audits, findings, nonconformities and corrective
actions, and the mutations of the audit cycle.

The audit package (``GET /v1/exports/audit-package``) and the OSCAL assessment results and plan
of action and milestones (``/v1/exports/oscal/assessment-results``, ``/v1/exports/oscal/poam``)
are REST downloads of the gateway, not GraphQL fields.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from gateway.clients.audits import (
    UpstreamAudit,
    UpstreamCorrectiveAction,
    UpstreamCoverage,
    UpstreamFinding,
    UpstreamNonconformity,
    UpstreamProgramme,
)
from gateway.loaders.children import ChildrenKey
from gateway.schema.context import Info
from gateway.schema.errors import UserError
from gateway.schema.evidence import Evidence
from gateway.schema.ids import parse_node_id, uuid_or_none
from gateway.schema.improvement import attempt, load_all, resolve_nodes, rest, sent
from gateway.schema.organisation_context import page_edges
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.errors import NotFound

if TYPE_CHECKING:
    from gateway.schema.ai_systems import AISystem


@strawberry.enum(name="AuditStatus", description="planned → in_progress → completed; or cancelled.")
class AuditStatus(enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@strawberry.enum(name="FindingKind", description="What an audit found.")
class FindingKind(enum.Enum):
    MAJOR_NONCONFORMITY = "major_nonconformity"
    MINOR_NONCONFORMITY = "minor_nonconformity"
    OBSERVATION = "observation"
    OPPORTUNITY_FOR_IMPROVEMENT = "opportunity_for_improvement"


@strawberry.enum(name="FindingStatus")
class FindingStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


@strawberry.enum(name="FindingTargetType", description="What a finding can be linked to.")
class FindingTargetType(enum.Enum):
    CLAUSE = "clause"
    CONTROL = "control"
    SYSTEM = "system"
    RISK = "risk"
    EVIDENCE = "evidence"


@strawberry.enum(name="NonconformitySeverity")
class NonconformitySeverity(enum.Enum):
    MAJOR = "major"
    MINOR = "minor"


@strawberry.enum(
    name="NonconformityStatus",
    description="open → correction_done → action_planned → awaiting_verification → closed.",
)
class NonconformityStatus(enum.Enum):
    OPEN = "open"
    CORRECTION_DONE = "correction_done"
    ACTION_PLANNED = "action_planned"
    AWAITING_VERIFICATION = "awaiting_verification"
    CLOSED = "closed"


@strawberry.enum(
    name="CorrectiveActionStatus",
    description="planned → implemented → verified_effective (or verified_ineffective, then "
    "implemented again) → closed with its nonconformity.",
)
class CorrectiveActionStatus(enum.Enum):
    PLANNED = "planned"
    IMPLEMENTED = "implemented"
    VERIFIED_EFFECTIVE = "verified_effective"
    VERIFIED_INEFFECTIVE = "verified_ineffective"
    CLOSED = "closed"


@strawberry.enum(name="VerificationMethod", description="How effectiveness was verified.")
class VerificationMethod(enum.Enum):
    FOLLOW_UP_AUDIT = "follow_up_audit"
    RECORD_REVIEW = "record_review"
    OBSERVATION = "observation"
    TEST = "test"
    OTHER = "other"


@strawberry.enum(name="VerificationResult")
class VerificationResult(enum.Enum):
    EFFECTIVE = "effective"
    INEFFECTIVE = "ineffective"


# --- Programmes ------------------------------------------------------------------------------


@strawberry.type(
    name="CoverageGap", description="A clause or control no audit of the cycle covers."
)
class CoverageGap:
    id: str
    title: str


@strawberry.type(
    name="AuditCoverage",
    description="Which assessable clauses (4.1–10.2) and applicable Annex A controls the "
    "programme's audits (all but cancelled ones) cover, and the gaps.",
)
class AuditCoverage:
    audits_counted: int
    controls_basis: str = strawberry.field(
        description="`soa`: applicable = included in the current approved SoA; "
        "`no_approved_soa`: every Annex A control counts."
    )
    soa_number: int | None
    clauses_assessable: int
    clauses_covered: int
    controls_applicable: int
    controls_covered: int
    clause_gaps: list[CoverageGap]
    control_gaps: list[CoverageGap]
    complete: bool = strawberry.field(description="Every clause and applicable control covered.")

    @classmethod
    def from_upstream(cls, c: UpstreamCoverage) -> AuditCoverage:
        return cls(
            audits_counted=c.audits_counted,
            controls_basis=c.controls_basis,
            soa_number=c.soa_number,
            clauses_assessable=c.clauses_assessable,
            clauses_covered=c.clauses_covered,
            controls_applicable=c.controls_applicable,
            controls_covered=c.controls_covered,
            clause_gaps=[CoverageGap(id=g.id, title=g.title) for g in c.clause_gaps],
            control_gaps=[CoverageGap(id=g.id, title=g.title) for g in c.control_gaps],
            complete=c.complete,
        )


@strawberry.type(
    name="AuditProgramme",
    description="The internal audits planned over a cycle (9.2.2), which should cover every "
    "clause and applicable Annex A control at least once.",
)
class AuditProgramme(relay.Node):
    programme_id: relay.NodeID[uuid.UUID]
    title: str
    description: str
    period_start: date
    period_end: date = strawberry.field(description="Last day of the cycle (inclusive).")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, p: UpstreamProgramme) -> AuditProgramme:
        return cls(
            programme_id=p.id,
            title=p.title,
            description=p.description,
            period_start=p.period_start,
            period_end=p.period_end,
            version=p.version,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Coverage and gaps of the cycle. Batched: a page of programmes asks for "
        "the coverage of all of them at once."
    )
    async def coverage(self, info: Info) -> AuditCoverage:
        found = await info.context.loaders.programme_coverage.load(self.programme_id)
        if found is None:
            raise NotFound("No such audit programme in your organisation.")
        return AuditCoverage.from_upstream(found)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The programme's audits, oldest first (one upstream call per programme). "
        f"`first` is at most {MAX_PAGE_SIZE}."
    )
    async def audits(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> AuditConnection:
        if after is None:
            # The first page of every programme on a page of programmes: one call together.
            check_page_size(first)
            found = await info.context.loaders.audits_by_programme.load(
                ChildrenKey(self.programme_id, first)
            )
            for item in found.items:
                info.context.loaders.audits.prime(item.id, item)
            edges, page_info = page_edges(found.items, None, Position(), None, Audit.from_upstream)
            page_info.has_next_page = found.has_next
            return AuditConnection(edges=edges, page_info=page_info)
        return await _audit_connection(
            info, first, after, [("programme_id", str(self.programme_id))]
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AuditProgramme | None]:
        return await resolve_nodes(
            info.context.loaders.audit_programmes,
            node_ids,
            AuditProgramme.from_upstream,
            required,
            "audit programme",
        )


# --- Audits ----------------------------------------------------------------------------------


@strawberry.type(
    name="Audit",
    description="An internal audit (9.2): scope, criteria, dates, auditors, the evidence sampled "
    "and its findings. For an auditor, the audit package (`GET /v1/exports/audit-package`) and "
    "the OSCAL assessment results (`GET /v1/exports/oscal/assessment-results`) are REST "
    "downloads.",
)
class Audit(relay.Node):
    audit_id: relay.NodeID[uuid.UUID]
    programme_id: uuid.UUID | None
    title: str
    criteria: str
    status: AuditStatus
    planned_start: date
    planned_end: date
    started_on: date | None
    completed_on: date | None
    cancelled_at: datetime | None
    clauses: list[str] = strawberry.field(
        description="Clauses in scope, e.g. `8.4` (`9` = all 9.x)."
    )
    controls: list[str] = strawberry.field(description="Annex A controls in scope.")
    system_ids: list[uuid.UUID] = strawberry.field(description="AI systems in scope.")
    lead_auditor: str
    auditors: list[str]
    evidence_sampled_ids: list[uuid.UUID]
    conclusion: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, a: UpstreamAudit) -> Audit:
        return cls(
            audit_id=a.id,
            programme_id=a.programme_id,
            title=a.title,
            criteria=a.criteria,
            status=AuditStatus(a.status),
            planned_start=a.planned_start,
            planned_end=a.planned_end,
            started_on=a.started_on,
            completed_on=a.completed_on,
            cancelled_at=a.cancelled_at,
            clauses=list(a.clauses),
            controls=list(a.controls),
            system_ids=[i for i in (uuid_or_none(s) for s in a.systems) if i is not None],
            lead_auditor=a.lead_auditor,
            auditors=list(a.auditors),
            evidence_sampled_ids=[
                i for i in (uuid_or_none(s) for s in a.evidence_sampled) if i is not None
            ],
            conclusion=a.conclusion,
            version=a.version,
            created_at=a.created_at,
            updated_at=a.updated_at,
        )

    @strawberry.field(description="Its programme (batched).")  # type: ignore[untyped-decorator]
    async def programme(self, info: Info) -> AuditProgramme | None:
        if self.programme_id is None:
            return None
        found = await info.context.loaders.audit_programmes.load(self.programme_id)
        return AuditProgramme.from_upstream(found) if found is not None else None

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Every finding of the audit, oldest first, optionally of some kinds. Batched: "
        "a page of audits asks for all their findings at once."
    )
    async def findings(self, info: Info, kinds: list[FindingKind] | None = None) -> list[Finding]:
        found = await info.context.loaders.findings_by_audit.load(self.audit_id)
        wanted = {k.value for k in kinds} if kinds else None
        for item in found:
            info.context.loaders.findings.prime(item.id, item)
        return [Finding.from_upstream(f) for f in found if wanted is None or f.kind in wanted]

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aiSystems", description="The AI systems in scope (batched)."
    )
    async def ai_systems(
        self, info: Info
    ) -> list[Annotated[AISystem, strawberry.lazy("gateway.schema.ai_systems")]]:
        from gateway.schema.ai_systems import AISystem

        return await load_all(
            info.context.loaders.inventory_systems, self.system_ids, AISystem.from_upstream
        )

    @strawberry.field(description="The evidence items sampled (batched).")  # type: ignore[untyped-decorator]
    async def evidence_sampled(self, info: Info) -> list[Evidence]:
        return await load_all(
            info.context.loaders.evidence, self.evidence_sampled_ids, Evidence.from_upstream
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Audit | None]:
        return await resolve_nodes(
            info.context.loaders.audits, node_ids, Audit.from_upstream, required, "audit"
        )


@strawberry.type(name="FindingLink", description="What a finding concerns.")
class FindingLink:
    target_type: FindingTargetType
    target_id: str = strawberry.field(
        description="A clause (`9.2`), an Annex A control (`A.6.2.8`), or a system's, risk's or "
        "evidence item's UUID."
    )


@strawberry.type(
    name="Finding",
    description="What an audit found: a major or minor nonconformity (which opens a "
    "Nonconformity), an observation or an opportunity for improvement.",
)
class Finding(relay.Node):
    finding_id: relay.NodeID[uuid.UUID]
    audit_id: uuid.UUID
    kind: FindingKind
    title: str
    description: str
    status: FindingStatus = strawberry.field(
        description="A nonconformity finding closes with its nonconformity."
    )
    links: list[FindingLink]
    nonconformity_id: uuid.UUID | None
    raised_by: str
    raised_at: datetime
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, f: UpstreamFinding) -> Finding:
        return cls(
            finding_id=f.id,
            audit_id=f.audit_id,
            kind=FindingKind(f.kind),
            title=f.title,
            description=f.description,
            status=FindingStatus(f.status),
            links=[
                FindingLink(
                    target_type=FindingTargetType(link.target_type), target_id=link.target_id
                )
                for link in f.links
            ],
            nonconformity_id=f.nonconformity_id,
            raised_by=f.raised_by,
            raised_at=f.raised_at,
            closed_at=f.closed_at,
            version=f.version,
            created_at=f.created_at,
            updated_at=f.updated_at,
        )

    @strawberry.field(description="The audit that raised it (batched).")  # type: ignore[untyped-decorator]
    async def audit(self, info: Info) -> Audit | None:
        found = await info.context.loaders.audits.load(self.audit_id)
        return Audit.from_upstream(found) if found is not None else None

    @strawberry.field(description="The nonconformity it opened (batched).")  # type: ignore[untyped-decorator]
    async def nonconformity(self, info: Info) -> Nonconformity | None:
        if self.nonconformity_id is None:
            return None
        found = await info.context.loaders.nonconformities.load(self.nonconformity_id)
        return Nonconformity.from_upstream(found) if found is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Finding | None]:
        return await resolve_nodes(
            info.context.loaders.findings, node_ids, Finding.from_upstream, required, "finding"
        )


# --- Nonconformities and corrective actions ---------------------------------------------------


@strawberry.type(name="RootCauseWhy", description='One step of a "5 whys" root cause analysis.')
class RootCauseWhy:
    why: str
    because: str


@strawberry.type(
    name="Nonconformity",
    description="A nonconformity (10.2): its correction, root cause (5 whys), corrective actions "
    "and closure, which needs every action verified effective.",
)
class Nonconformity(relay.Node):
    nonconformity_id: relay.NodeID[uuid.UUID]
    finding_id: uuid.UUID | None = strawberry.field(description="Null: found outside an audit.")
    severity: NonconformitySeverity
    title: str
    description: str
    status: NonconformityStatus
    owner: str | None
    due_date: date | None
    correction: str | None = strawberry.field(description="What was done at once (10.2 a).")
    correction_done_on: date | None
    root_cause_whys: list[RootCauseWhy]
    root_cause: str | None
    actions_total: int
    actions_verified_effective: int
    close_blockers: list[str] = strawberry.field(
        description="What must still be recorded before it may close (empty: it may close)."
    )
    closed_at: datetime | None
    closed_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, n: UpstreamNonconformity) -> Nonconformity:
        return cls(
            nonconformity_id=n.id,
            finding_id=n.finding_id,
            severity=NonconformitySeverity(n.severity),
            title=n.title,
            description=n.description,
            status=NonconformityStatus(n.status),
            owner=n.owner,
            due_date=n.due_date,
            correction=n.correction,
            correction_done_on=n.correction_done_on,
            root_cause_whys=[RootCauseWhy(why=w.why, because=w.because) for w in n.root_cause_whys],
            root_cause=n.root_cause,
            actions_total=n.actions_total,
            actions_verified_effective=n.actions_verified_effective,
            close_blockers=list(n.close_blockers),
            closed_at=n.closed_at,
            closed_by=n.closed_by,
            version=n.version,
            created_at=n.created_at,
            updated_at=n.updated_at,
        )

    @strawberry.field(description="The audit finding that opened it (batched).")  # type: ignore[untyped-decorator]
    async def finding(self, info: Info) -> Finding | None:
        if self.finding_id is None:
            return None
        found = await info.context.loaders.findings.load(self.finding_id)
        return Finding.from_upstream(found) if found is not None else None

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Every corrective action, oldest first. Batched: a page of nonconformities "
        "asks for all their actions at once."
    )
    async def actions(self, info: Info) -> list[CorrectiveAction]:
        found = await info.context.loaders.actions_by_nonconformity.load(self.nonconformity_id)
        for item in found:
            info.context.loaders.corrective_actions.prime(item.id, item)
        return [CorrectiveAction.from_upstream(a) for a in found]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Nonconformity | None]:
        return await resolve_nodes(
            info.context.loaders.nonconformities,
            node_ids,
            Nonconformity.from_upstream,
            required,
            "nonconformity",
        )


@strawberry.type(
    name="CorrectiveAction",
    description="An action removing a nonconformity's cause (10.2 c), verified effective by a "
    "follow-up (10.2 d) before the nonconformity may close. As an OSCAL plan of action and "
    "milestones: `GET /v1/exports/oscal/poam` (REST).",
)
class CorrectiveAction(relay.Node):
    action_id: relay.NodeID[uuid.UUID]
    nonconformity_id: uuid.UUID
    description: str
    owner: str
    due_date: date
    status: CorrectiveActionStatus
    overdue: bool = strawberry.field(
        description="The due date has passed and it is not verified effective."
    )
    implemented_at: datetime | None
    implemented_by: str | None
    implementation_notes: str
    verified_at: datetime | None
    verified_on: date | None
    verified_by: str | None
    verification_method: VerificationMethod | None
    verification_notes: str
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, a: UpstreamCorrectiveAction) -> CorrectiveAction:
        return cls(
            action_id=a.id,
            nonconformity_id=a.nonconformity_id,
            description=a.description,
            owner=a.owner,
            due_date=a.due_date,
            status=CorrectiveActionStatus(a.status),
            overdue=a.overdue,
            implemented_at=a.implemented_at,
            implemented_by=a.implemented_by,
            implementation_notes=a.implementation_notes,
            verified_at=a.verified_at,
            verified_on=a.verified_on,
            verified_by=a.verified_by,
            verification_method=(
                VerificationMethod(a.verification_method) if a.verification_method else None
            ),
            verification_notes=a.verification_notes,
            closed_at=a.closed_at,
            version=a.version,
            created_at=a.created_at,
            updated_at=a.updated_at,
        )

    @strawberry.field(description="The nonconformity it corrects (batched).")  # type: ignore[untyped-decorator]
    async def nonconformity(self, info: Info) -> Nonconformity | None:
        found = await info.context.loaders.nonconformities.load(self.nonconformity_id)
        return Nonconformity.from_upstream(found) if found is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CorrectiveAction | None]:
        return await resolve_nodes(
            info.context.loaders.corrective_actions,
            node_ids,
            CorrectiveAction.from_upstream,
            required,
            "corrective action",
        )


# --- Connections -----------------------------------------------------------------------------


@strawberry.type(name="AuditProgrammeConnection", description="A page of audit programmes.")
class AuditProgrammeConnection(relay.Connection[AuditProgramme]):
    pass


@strawberry.type(name="AuditConnection", description="A page of internal audits.")
class AuditConnection(relay.Connection[Audit]):
    pass


@strawberry.type(name="FindingConnection", description="A page of audit findings.")
class FindingConnection(relay.Connection[Finding]):
    pass


@strawberry.type(name="NonconformityConnection", description="A page of nonconformities.")
class NonconformityConnection(relay.Connection[Nonconformity]):
    pass


@strawberry.type(name="CorrectiveActionConnection", description="A page of corrective actions.")
class CorrectiveActionConnection(relay.Connection[CorrectiveAction]):
    pass


async def _audit_connection(
    info: Info, first: int, after: str | None, filters: list[tuple[str, str | int]]
) -> AuditConnection:
    check_page_size(first)
    start = Position.decode(after)
    page = await info.context.clients.audits.audits(
        limit=start.skip + first, after=start.upstream, filters=filters
    )
    for item in page.items:
        info.context.loaders.audits.prime(item.id, item)
    edges, page_info = page_edges(
        page.items[start.skip :], page.next_cursor, start, after, Audit.from_upstream
    )
    return AuditConnection(edges=edges, page_info=page_info)


# --- Filters ---------------------------------------------------------------------------------


@strawberry.input(name="AuditFilter")
class AuditFilter:
    programme_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="AuditProgramme IDs (or UUIDs)."
    )
    statuses: list[AuditStatus] | None = None

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = [
            ("programme_id", str(parse_node_id(v, "AuditProgramme", field="programmeIds")))
            for v in self.programme_ids or []
        ]
        out += [("status", s.value) for s in self.statuses or []]
        return out


@strawberry.input(name="FindingFilter")
class FindingFilter:
    audit_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Audit IDs (or UUIDs)."
    )
    kinds: list[FindingKind] | None = None
    statuses: list[FindingStatus] | None = None
    target: str | None = strawberry.field(
        default=None, description="Findings linked to `<type>:<id>`, e.g. `clause:9.2`."
    )

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = [
            ("audit_id", str(parse_node_id(v, "Audit", field="auditIds")))
            for v in self.audit_ids or []
        ]
        out += [("kind", k.value) for k in self.kinds or []]
        out += [("status", s.value) for s in self.statuses or []]
        if self.target is not None:
            out.append(("target", self.target))
        return out


@strawberry.input(name="NonconformityFilter")
class NonconformityFilter:
    statuses: list[NonconformityStatus] | None = None
    severities: list[NonconformitySeverity] | None = None
    owner: str | None = strawberry.field(default=None, description="Owned by (ignoring case).")

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = [("status", s.value) for s in self.statuses or []]
        out += [("severity", s.value) for s in self.severities or []]
        if self.owner is not None:
            out.append(("owner", self.owner))
        return out


@strawberry.input(name="CorrectiveActionFilter")
class CorrectiveActionFilter:
    nonconformity_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Nonconformity IDs (or UUIDs)."
    )
    statuses: list[CorrectiveActionStatus] | None = None
    overdue: bool | None = strawberry.field(
        default=None, description="true: due date passed and not verified effective."
    )
    owner: str | None = None

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = [
            ("nonconformity_id", str(parse_node_id(v, "Nonconformity", field="nonconformityIds")))
            for v in self.nonconformity_ids or []
        ]
        out += [("status", s.value) for s in self.statuses or []]
        if self.overdue is not None:
            out.append(("overdue", str(self.overdue).lower()))
        if self.owner is not None:
            out.append(("owner", self.owner))
        return out


# --- Inputs ----------------------------------------------------------------------------------


@strawberry.input(name="CreateAuditProgrammeInput")
class CreateAuditProgrammeInput:
    title: str
    period_start: date
    period_end: date = strawberry.field(description="Last day of the cycle (inclusive).")
    description: str = ""
    idempotency_key: str | None = None


@strawberry.input(
    name="UpdateAuditProgrammeInput",
    description="A change to a programme; omitted fields keep their value.",
)
class UpdateAuditProgrammeInput:
    id: strawberry.ID = strawberry.field(description="An AuditProgramme ID (or UUID).")
    expected_version: int
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    period_start: date | None = strawberry.UNSET
    period_end: date | None = strawberry.UNSET


@strawberry.input(name="PlanAuditInput")
class PlanAuditInput:
    title: str
    planned_start: date
    planned_end: date
    lead_auditor: str = strawberry.field(description="E-mail address or subject.")
    programme_id: strawberry.ID | None = strawberry.field(
        default=None, description="An AuditProgramme ID (or UUID)."
    )
    criteria: str = ""
    clauses: list[str] = strawberry.field(default_factory=list)
    controls: list[str] = strawberry.field(default_factory=list)
    system_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="AISystem IDs (or UUIDs)."
    )
    auditors: list[str] = strawberry.field(default_factory=list)
    evidence_sampled_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Evidence IDs (or UUIDs)."
    )
    idempotency_key: str | None = None


@strawberry.input(
    name="UpdateAuditInput",
    description="A change to a planned or in-progress audit; lists replace the whole list.",
)
class UpdateAuditInput:
    id: strawberry.ID = strawberry.field(description="An Audit ID (or UUID).")
    expected_version: int
    title: str | None = strawberry.UNSET
    criteria: str | None = strawberry.UNSET
    planned_start: date | None = strawberry.UNSET
    planned_end: date | None = strawberry.UNSET
    clauses: list[str] | None = strawberry.UNSET
    controls: list[str] | None = strawberry.UNSET
    system_ids: list[strawberry.ID] | None = strawberry.UNSET
    lead_auditor: str | None = strawberry.UNSET
    auditors: list[str] | None = strawberry.UNSET
    evidence_sampled_ids: list[strawberry.ID] | None = strawberry.UNSET
    conclusion: str | None = strawberry.UNSET


@strawberry.input(name="AuditTransitionInput")
class AuditTransitionInput:
    id: strawberry.ID = strawberry.field(description="An Audit ID (or UUID).")
    expected_version: int | None = strawberry.field(
        default=None, description="When given, a stale version is a `ConflictError`."
    )
    started_on: date | None = strawberry.field(
        default=None,
        description="`startAudit` only: the day the audit began, when recorded late (default "
        "today, UTC; not in the future). `cancelAudit` does not read it.",
    )


@strawberry.input(name="CompleteAuditInput")
class CompleteAuditInput:
    id: strawberry.ID = strawberry.field(description="An Audit ID (or UUID).")
    expected_version: int | None = None
    completed_on: date | None = strawberry.field(default=None, description="Default today (UTC).")
    conclusion: str | None = None


@strawberry.input(name="FindingLinkInput")
class FindingLinkInput:
    target_type: FindingTargetType
    target_id: str = strawberry.field(
        description="A clause (`9.2`), a control (`A.6.2.8`), or a system's, risk's or evidence "
        "item's UUID."
    )


@strawberry.input(name="RaiseFindingInput")
class RaiseFindingInput:
    audit_id: strawberry.ID = strawberry.field(description="An Audit ID (or UUID).")
    kind: FindingKind
    title: str
    links: list[FindingLinkInput] = strawberry.field(description="At least one.")
    description: str = ""
    idempotency_key: str | None = None


@strawberry.input(name="UpdateFindingInput")
class UpdateFindingInput:
    id: strawberry.ID = strawberry.field(description="A Finding ID (or UUID).")
    expected_version: int
    kind: FindingKind | None = strawberry.field(
        default=strawberry.UNSET,
        description="An observation may become a nonconformity (which opens one), not back.",
    )
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    links: list[FindingLinkInput] | None = strawberry.UNSET
    status: FindingStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="Observations and opportunities only; a nonconformity finding closes with "
        "its nonconformity.",
    )


@strawberry.input(name="RecordNonconformityInput")
class RecordNonconformityInput:
    title: str
    severity: NonconformitySeverity
    description: str = ""
    owner: str | None = None
    due_date: date | None = None
    idempotency_key: str | None = None


@strawberry.input(name="RootCauseWhyInput")
class RootCauseWhyInput:
    why: str
    because: str


@strawberry.input(
    name="UpdateNonconformityInput",
    description="Record the correction (10.2 a), the root cause as 5 whys (10.2 b), the owner "
    "and due date; omitted fields keep their value, `rootCauseWhys` replaces the list.",
)
class UpdateNonconformityInput:
    id: strawberry.ID = strawberry.field(description="A Nonconformity ID (or UUID).")
    expected_version: int
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    severity: NonconformitySeverity | None = strawberry.UNSET
    owner: str | None = strawberry.UNSET
    due_date: date | None = strawberry.UNSET
    correction: str | None = strawberry.UNSET
    correction_done_on: date | None = strawberry.UNSET
    root_cause_whys: list[RootCauseWhyInput] | None = strawberry.UNSET
    root_cause: str | None = strawberry.UNSET


@strawberry.input(name="CloseNonconformityInput")
class CloseNonconformityInput:
    id: strawberry.ID = strawberry.field(description="A Nonconformity ID (or UUID).")
    expected_version: int | None = None
    notes: str = ""


@strawberry.input(name="AddCorrectiveActionInput")
class AddCorrectiveActionInput:
    nonconformity_id: strawberry.ID = strawberry.field(description="A Nonconformity ID (or UUID).")
    description: str
    owner: str
    due_date: date
    idempotency_key: str | None = None


@strawberry.input(name="UpdateCorrectiveActionInput")
class UpdateCorrectiveActionInput:
    id: strawberry.ID = strawberry.field(description="A CorrectiveAction ID (or UUID).")
    expected_version: int
    description: str | None = strawberry.UNSET
    owner: str | None = strawberry.UNSET
    due_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="A new due date re-arms the overdue notice."
    )


@strawberry.input(name="ImplementCorrectiveActionInput")
class ImplementCorrectiveActionInput:
    id: strawberry.ID = strawberry.field(description="A CorrectiveAction ID (or UUID).")
    expected_version: int | None = None
    notes: str = ""


@strawberry.input(
    name="VerifyCorrectiveActionInput",
    description="The follow-up verifying effectiveness; you are the verifier and must be neither "
    "the action's owner nor whoever implemented it.",
)
class VerifyCorrectiveActionInput:
    id: strawberry.ID = strawberry.field(description="A CorrectiveAction ID (or UUID).")
    result: VerificationResult
    method: VerificationMethod
    expected_version: int | None = None
    verified_on: date | None = strawberry.field(default=None, description="Default today (UTC).")
    notes: str = ""


# --- Payloads --------------------------------------------------------------------------------


@strawberry.type(name="AuditProgrammePayload")
class AuditProgrammePayload:
    audit_programme: AuditProgramme | None
    errors: list[UserError]


@strawberry.type(name="AuditPayload")
class AuditPayload:
    audit: Audit | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="`AuditorNotIndependentError` with every reason, `ForbiddenError`, "
        "`ConflictError`, `ValidationError`, `NotFoundError`; empty on success."
    )


@strawberry.type(name="FindingPayload")
class FindingPayload:
    finding: Finding | None
    errors: list[UserError]


@strawberry.type(name="NonconformityPayload")
class NonconformityPayload:
    nonconformity: Nonconformity | None = strawberry.field(
        description="Null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="Closing too early is a `VerificationRequiredError` listing what is missing."
    )


@strawberry.type(name="CorrectiveActionPayload")
class CorrectiveActionPayload:
    corrective_action: CorrectiveAction | None
    errors: list[UserError]


def _links(links: list[FindingLinkInput]) -> list[dict[str, str]]:
    return [{"target_type": link.target_type.value, "target_id": link.target_id} for link in links]


def _ids(values: list[strawberry.ID], type_name: str, field: str) -> list[str]:
    return [str(parse_node_id(v, type_name, field=field)) for v in values]


def _audit(found: UpstreamAudit | None, errors: list[UserError]) -> AuditPayload:
    return AuditPayload(audit=Audit.from_upstream(found) if found else None, errors=errors)


def _nonconformity(
    found: UpstreamNonconformity | None, errors: list[UserError]
) -> NonconformityPayload:
    return NonconformityPayload(
        nonconformity=Nonconformity.from_upstream(found) if found else None, errors=errors
    )


def _action(
    found: UpstreamCorrectiveAction | None, errors: list[UserError]
) -> CorrectiveActionPayload:
    return CorrectiveActionPayload(
        corrective_action=CorrectiveAction.from_upstream(found) if found else None, errors=errors
    )


# --- Query and Mutation ----------------------------------------------------------------------


@strawberry.type
class AuditCycleQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        name="auditProgrammes",
        description=f"Internal audit programmes, oldest first. `first` is at most {MAX_PAGE_SIZE}.",
    )
    async def audit_programmes(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> AuditProgrammeConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.audits.programmes(
            limit=start.skip + first, after=start.upstream
        )
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, AuditProgramme.from_upstream
        )
        return AuditProgrammeConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"Internal audits, oldest first. A page with its findings (and their "
        f"nonconformities and actions) costs a constant number of upstream calls. `first` is at "
        f"most {MAX_PAGE_SIZE}."
    )
    async def audits(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: AuditFilter | None = None,
    ) -> AuditConnection:
        return await _audit_connection(info, first, after, filter.params() if filter else [])

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"Audit findings, oldest first. `first` is at most {MAX_PAGE_SIZE}."
    )
    async def findings(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: FindingFilter | None = None,
    ) -> FindingConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.audits.findings(
            limit=start.skip + first,
            after=start.upstream,
            filters=filter.params() if filter else (),
        )
        for item in page.items:
            info.context.loaders.findings.prime(item.id, item)
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, Finding.from_upstream
        )
        return FindingConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"Nonconformities, from audits or recorded directly, oldest first. `first` is "
        f"at most {MAX_PAGE_SIZE}."
    )
    async def nonconformities(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: NonconformityFilter | None = None,
    ) -> NonconformityConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.audits.nonconformities(
            limit=start.skip + first,
            after=start.upstream,
            filters=filter.params() if filter else (),
        )
        for item in page.items:
            info.context.loaders.nonconformities.prime(item.id, item)
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, Nonconformity.from_upstream
        )
        return NonconformityConnection(edges=edges, page_info=page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="correctiveActions",
        description=f"Corrective actions, oldest first (`filter: {{overdue: true}}` lists the "
        f"overdue ones). `first` is at most {MAX_PAGE_SIZE}.",
    )
    async def corrective_actions(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: CorrectiveActionFilter | None = None,
    ) -> CorrectiveActionConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.audits.corrective_actions(
            limit=start.skip + first,
            after=start.upstream,
            filters=filter.params() if filter else (),
        )
        edges, page_info = page_edges(
            page.items[start.skip :],
            page.next_cursor,
            start,
            after,
            CorrectiveAction.from_upstream,
        )
        return CorrectiveActionConnection(edges=edges, page_info=page_info)


@strawberry.type
class AuditCycleMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createAuditProgramme",
        description="Create an internal audit programme for a cycle (roles: admin, manager).",
    )
    async def create_audit_programme(
        self, info: Info, input: CreateAuditProgrammeInput
    ) -> AuditProgrammePayload:
        body = {
            "title": input.title,
            "description": input.description,
            "period_start": input.period_start.isoformat(),
            "period_end": input.period_end.isoformat(),
        }
        found, errors = await attempt(
            info.context.clients.audits.create_programme(
                body, idempotency_key=input.idempotency_key
            )
        )
        return AuditProgrammePayload(
            audit_programme=AuditProgramme.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateAuditProgramme",
        description="Change a programme (roles: admin, manager); its period must still hold its "
        "audits (`ConflictError` `programme-has-audits`).",
    )
    async def update_audit_programme(
        self, info: Info, input: UpdateAuditProgrammeInput
    ) -> AuditProgrammePayload:
        found, errors = await attempt(
            lambda: info.context.clients.audits.update_programme(
                parse_node_id(input.id, "AuditProgramme"),
                sent(input, ("title", "description", "period_start", "period_end")),
                expected_version=input.expected_version,
            ),
            kind="AuditProgramme",
            resource_id=input.id,
        )
        return AuditProgrammePayload(
            audit_programme=AuditProgramme.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="planAudit",
        description="Plan an internal audit (roles: admin, manager; auditors conduct audits but "
        "do not plan them). An auditor who owns a system, control or process in scope is "
        "refused with an `AuditorNotIndependentError` listing every reason.",
    )
    async def plan_audit(self, info: Info, input: PlanAuditInput) -> AuditPayload:
        body = {
            "programme_id": (
                str(parse_node_id(input.programme_id, "AuditProgramme", field="programmeId"))
                if input.programme_id is not None
                else None
            ),
            "title": input.title,
            "criteria": input.criteria,
            "planned_start": input.planned_start.isoformat(),
            "planned_end": input.planned_end.isoformat(),
            "clauses": input.clauses,
            "controls": input.controls,
            "systems": _ids(input.system_ids, "AISystem", "systemIds"),
            "lead_auditor": input.lead_auditor,
            "auditors": input.auditors,
            "evidence_sampled": _ids(input.evidence_sampled_ids, "Evidence", "evidenceSampledIds"),
        }
        found, errors = await attempt(
            info.context.clients.audits.create_audit(body, idempotency_key=input.idempotency_key)
        )
        return _audit(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateAudit",
        description="Change a planned or in-progress audit (roles: admin, manager); a new scope "
        "or team is checked for independence again.",
    )
    async def update_audit(self, info: Info, input: UpdateAuditInput) -> AuditPayload:
        body = sent(
            input,
            (
                "title",
                "criteria",
                "planned_start",
                "planned_end",
                "clauses",
                "controls",
                "lead_auditor",
                "auditors",
                "conclusion",
            ),
        )
        if input.system_ids is not strawberry.UNSET:
            body["systems"] = (
                None
                if input.system_ids is None
                else _ids(input.system_ids, "AISystem", "systemIds")
            )
        if input.evidence_sampled_ids is not strawberry.UNSET:
            body["evidence_sampled"] = (
                None
                if input.evidence_sampled_ids is None
                else _ids(input.evidence_sampled_ids, "Evidence", "evidenceSampledIds")
            )
        found, errors = await attempt(
            lambda: info.context.clients.audits.update_audit(
                parse_node_id(input.id, "Audit"), body, expected_version=input.expected_version
            ),
            kind="Audit",
            resource_id=input.id,
        )
        return _audit(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="startAudit",
        description="Start a planned audit (roles: admin, manager); independence is checked again.",
    )
    async def start_audit(self, info: Info, input: AuditTransitionInput) -> AuditPayload:
        found, errors = await attempt(
            lambda: info.context.clients.audits.transition_audit(
                parse_node_id(input.id, "Audit"),
                "start",
                {"started_on": input.started_on.isoformat()} if input.started_on else None,
                expected_version=input.expected_version,
            ),
            kind="Audit",
            resource_id=input.id,
        )
        return _audit(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="completeAudit", description="Complete an audit in progress (roles: admin, manager)."
    )
    async def complete_audit(self, info: Info, input: CompleteAuditInput) -> AuditPayload:
        body: dict[str, str] = {}
        if input.completed_on is not None:
            body["completed_on"] = input.completed_on.isoformat()
        if input.conclusion is not None:
            body["conclusion"] = input.conclusion
        found, errors = await attempt(
            lambda: info.context.clients.audits.transition_audit(
                parse_node_id(input.id, "Audit"),
                "complete",
                body,
                expected_version=input.expected_version,
            ),
            kind="Audit",
            resource_id=input.id,
        )
        return _audit(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="cancelAudit",
        description="Cancel a planned or running audit (roles: admin, manager); it no longer "
        "counts towards its programme's coverage.",
    )
    async def cancel_audit(self, info: Info, input: AuditTransitionInput) -> AuditPayload:
        found, errors = await attempt(
            lambda: info.context.clients.audits.transition_audit(
                parse_node_id(input.id, "Audit"), "cancel", expected_version=input.expected_version
            ),
            kind="Audit",
            resource_id=input.id,
        )
        return _audit(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="raiseFinding",
        description="Raise a finding on an audit in progress or completed (roles: editors and "
        "auditors). A major or minor nonconformity opens its Nonconformity at once.",
    )
    async def raise_finding(self, info: Info, input: RaiseFindingInput) -> FindingPayload:
        body = {
            "kind": input.kind.value,
            "title": input.title,
            "description": input.description,
            "links": _links(input.links),
        }
        found, errors = await attempt(
            lambda: info.context.clients.audits.raise_finding(
                parse_node_id(input.audit_id, "Audit", field="auditId"),
                body,
                idempotency_key=input.idempotency_key,
            ),
            kind="Audit",
            resource_id=input.audit_id,
        )
        return FindingPayload(
            finding=Finding.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateFinding", description="Change a finding (roles: editors and auditors)."
    )
    async def update_finding(self, info: Info, input: UpdateFindingInput) -> FindingPayload:
        body = sent(input, ("kind", "title", "description", "status"))
        if input.links is not strawberry.UNSET:
            body["links"] = None if input.links is None else _links(input.links)
        found, errors = await attempt(
            lambda: info.context.clients.audits.update_finding(
                parse_node_id(input.id, "Finding"), body, expected_version=input.expected_version
            ),
            kind="Finding",
            resource_id=input.id,
        )
        return FindingPayload(
            finding=Finding.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="recordNonconformity",
        description="Record a nonconformity found outside an audit (an incident, a complaint); "
        "audit findings open theirs automatically.",
    )
    async def record_nonconformity(
        self, info: Info, input: RecordNonconformityInput
    ) -> NonconformityPayload:
        body = {
            "title": input.title,
            "description": input.description,
            "severity": input.severity.value,
            "owner": input.owner,
            "due_date": rest(input.due_date),
        }
        found, errors = await attempt(
            info.context.clients.audits.create_nonconformity(
                body, idempotency_key=input.idempotency_key
            )
        )
        return _nonconformity(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateNonconformity",
        description="Record the correction, the root cause (5 whys), owner and due date; a "
        "closed nonconformity no longer changes (`ConflictError`).",
    )
    async def update_nonconformity(
        self, info: Info, input: UpdateNonconformityInput
    ) -> NonconformityPayload:
        body = sent(
            input,
            (
                "title",
                "description",
                "severity",
                "owner",
                "due_date",
                "correction",
                "correction_done_on",
                "root_cause",
            ),
        )
        if input.root_cause_whys is not strawberry.UNSET:
            body["root_cause_whys"] = (
                None
                if input.root_cause_whys is None
                else [{"why": w.why, "because": w.because} for w in input.root_cause_whys]
            )
        found, errors = await attempt(
            lambda: info.context.clients.audits.update_nonconformity(
                parse_node_id(input.id, "Nonconformity"),
                body,
                expected_version=input.expected_version,
            ),
            kind="Nonconformity",
            resource_id=input.id,
        )
        return _nonconformity(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="closeNonconformity",
        description="Close a nonconformity (roles: admin, manager). Refused with a "
        "`VerificationRequiredError` listing what is missing until the correction and root "
        "cause are recorded and every corrective action is verified effective.",
    )
    async def close_nonconformity(
        self, info: Info, input: CloseNonconformityInput
    ) -> NonconformityPayload:
        found, errors = await attempt(
            lambda: info.context.clients.audits.close_nonconformity(
                parse_node_id(input.id, "Nonconformity"),
                {"notes": input.notes},
                expected_version=input.expected_version,
            ),
            kind="Nonconformity",
            resource_id=input.id,
        )
        return _nonconformity(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="addCorrectiveAction",
        description="Plan a corrective action for a nonconformity (editors); once its due date "
        "passes unverified it is overdue and `corrective_action.overdue` is emitted.",
    )
    async def add_corrective_action(
        self, info: Info, input: AddCorrectiveActionInput
    ) -> CorrectiveActionPayload:
        body = {
            "description": input.description,
            "owner": input.owner,
            "due_date": input.due_date.isoformat(),
        }
        found, errors = await attempt(
            lambda: info.context.clients.audits.add_action(
                parse_node_id(input.nonconformity_id, "Nonconformity", field="nonconformityId"),
                body,
                idempotency_key=input.idempotency_key,
            ),
            kind="Nonconformity",
            resource_id=input.nonconformity_id,
        )
        return _action(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateCorrectiveAction",
        description="Change an action's description, owner or due date (editors).",
    )
    async def update_corrective_action(
        self, info: Info, input: UpdateCorrectiveActionInput
    ) -> CorrectiveActionPayload:
        found, errors = await attempt(
            lambda: info.context.clients.audits.update_action(
                parse_node_id(input.id, "CorrectiveAction"),
                sent(input, ("description", "owner", "due_date")),
                expected_version=input.expected_version,
            ),
            kind="CorrectiveAction",
            resource_id=input.id,
        )
        return _action(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="implementCorrectiveAction",
        description="Mark an action implemented (editors), from planned or after rework.",
    )
    async def implement_corrective_action(
        self, info: Info, input: ImplementCorrectiveActionInput
    ) -> CorrectiveActionPayload:
        found, errors = await attempt(
            lambda: info.context.clients.audits.transition_action(
                parse_node_id(input.id, "CorrectiveAction"),
                "implement",
                {"notes": input.notes},
                expected_version=input.expected_version,
            ),
            kind="CorrectiveAction",
            resource_id=input.id,
        )
        return _action(found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="verifyCorrectiveAction",
        description="Record the follow-up verifying an action's effectiveness (editors and "
        "auditors); a verifier who owns or implemented the action is a `ConflictError` "
        "(`verifier-not-independent`).",
    )
    async def verify_corrective_action(
        self, info: Info, input: VerifyCorrectiveActionInput
    ) -> CorrectiveActionPayload:
        body = {
            "result": input.result.value,
            "method": input.method.value,
            "verified_on": rest(input.verified_on),
            "notes": input.notes,
        }
        found, errors = await attempt(
            lambda: info.context.clients.audits.transition_action(
                parse_node_id(input.id, "CorrectiveAction"),
                "verify",
                body,
                expected_version=input.expected_version,
            ),
            kind="CorrectiveAction",
            resource_id=input.id,
        )
        return _action(found, errors)
