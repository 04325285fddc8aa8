"""Readiness for certification (evidence service): the verdict with its score, rules and blockers,
the status of each clause and applicable Annex A control, the remediation plan, and the
certification plan with its milestones.

The readiness report and SoA as documents a CEO can forward (``GET
/v1/exports/readiness-report.html``, ``/v1/exports/soa.html``) and the audit package are REST
downloads of the gateway, not GraphQL fields.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime

import strawberry
from strawberry import relay

from gateway.clients.readiness import (
    UpstreamBlocker,
    UpstreamCertificationPlan,
    UpstreamEvidenceSummary,
    UpstreamMilestone,
    UpstreamReadiness,
    UpstreamRemediationPlan,
    UpstreamSnapshot,
)
from gateway.schema.context import Info
from gateway.schema.errors import UserError
from gateway.schema.evidence import Evidence
from gateway.schema.ids import parse_node_id, uuid_or_none
from gateway.schema.improvement import attempt, load_all, plain_edges
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from shared.errors import NotFound


@strawberry.enum(name="ReadinessVerdict", description="The stage an organisation is ready for.")
class ReadinessVerdict(enum.Enum):
    NOT_READY = "not_ready"
    READY_FOR_STAGE_1 = "ready_for_stage_1"
    READY_FOR_STAGE_2 = "ready_for_stage_2"


@strawberry.enum(
    name="CertificationStage",
    description="Stage 1 (documents) or Stage 2 (operation) of a certification audit.",
)
class CertificationStage(enum.Enum):
    STAGE1 = "stage1"
    STAGE2 = "stage2"


@strawberry.enum(name="BlockerSeverity")
class BlockerSeverity(enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@strawberry.enum(name="ClauseReadinessStatus")
class ClauseReadinessStatus(enum.Enum):
    MET = "met"
    PARTIALLY_MET = "partially_met"
    NOT_MET = "not_met"


@strawberry.enum(name="ControlReadinessStatus")
class ControlReadinessStatus(enum.Enum):
    EVIDENCED = "evidenced"
    STALE = "stale"
    DRAFT = "draft"
    MISSING = "missing"


@strawberry.enum(
    name="EvidenceFreshness",
    description="`DUE_SOON`: review-by within 30 days; `STALE`: past it; `NONE`: no evidence.",
)
class EvidenceFreshness(enum.Enum):
    CURRENT = "current"
    DUE_SOON = "due_soon"
    STALE = "stale"
    NONE = "none"


@strawberry.enum(
    name="ReadinessSource",
    description="`LIVE`: computed now; `SNAPSHOT`: the stored snapshot current at the time asked, "
    "with the clause and control statuses as computed at its `asOf` (none in a snapshot taken "
    "before snapshots kept them).",
)
class ReadinessSource(enum.Enum):
    LIVE = "live"
    SNAPSHOT = "snapshot"


@strawberry.enum(name="MilestoneKind")
class MilestoneKind(enum.Enum):
    READINESS_ASSESSMENT = "readiness_assessment"
    REMEDIATION = "remediation"
    INTERNAL_AUDIT = "internal_audit"
    MANAGEMENT_REVIEW = "management_review"
    STAGE1_AUDIT = "stage1_audit"
    STAGE2_AUDIT = "stage2_audit"
    SURVEILLANCE_AUDIT_1 = "surveillance_audit_1"
    SURVEILLANCE_AUDIT_2 = "surveillance_audit_2"
    RECERTIFICATION_AUDIT = "recertification_audit"


@strawberry.enum(
    name="MilestoneStatus",
    description="`OVERDUE`: its planned end has passed and it is not done (emits "
    "`milestone.overdue`).",
)
class MilestoneStatus(enum.Enum):
    PLANNED = "planned"
    DONE = "done"
    OVERDUE = "overdue"


# --- Readiness -------------------------------------------------------------------------------


@strawberry.type(
    name="ReadinessEvidence", description="The evidence behind a status, with its freshness."
)
class ReadinessEvidence:
    approved: int = strawberry.field(description="Approved and in force (review-by not passed).")
    stale: int = strawberry.field(description="Approved but past review-by, or expired.")
    draft: int = strawberry.field(description="Draft or in review.")
    evidence_ids: list[uuid.UUID] = strawberry.field(description="Best first (at most 10).")
    review_by: date | None
    last_approved_at: datetime | None
    freshness: EvidenceFreshness

    @classmethod
    def from_upstream(cls, e: UpstreamEvidenceSummary) -> ReadinessEvidence:
        return cls(
            approved=e.approved,
            stale=e.stale,
            draft=e.draft,
            evidence_ids=list(e.evidence_ids),
            review_by=e.review_by,
            last_approved_at=e.last_approved_at,
            freshness=EvidenceFreshness(e.freshness),
        )

    @strawberry.field(description="The evidence items (batched).")  # type: ignore[untyped-decorator]
    async def items(self, info: Info) -> list[Evidence]:
        return await load_all(
            info.context.loaders.evidence, self.evidence_ids, Evidence.from_upstream
        )


@strawberry.type(name="ClauseReadiness", description="Where a clause (4.1–10.2) stands.")
class ClauseReadiness:
    clause: str
    title: str
    status: ClauseReadinessStatus
    reason: str
    evidence: ReadinessEvidence
    documented_information: list[str] = strawberry.field(
        description="The mandatory documented information of the clause."
    )


@strawberry.type(name="ControlReadiness", description="Where an applicable Annex A control stands.")
class ControlReadiness:
    control: str
    title: str
    status: ControlReadinessStatus
    applicability: str
    reason: str
    evidence: ReadinessEvidence


@strawberry.type(
    name="Blocker",
    description="What an auditor would raise: what to do, who owns it and where to fix it.",
)
class Blocker:
    key: str = strawberry.field(description="Stable identity: `code:subject`.")
    code: str
    title: str
    what_to_do: str
    owner: str
    where_to_fix: str = strawberry.field(description="The REST call or GraphQL mutation.")
    stage: CertificationStage = strawberry.field(description="The audit stage it blocks.")
    severity: BlockerSeverity
    subject: str | None = strawberry.field(description="What it is about.")
    count: int = strawberry.field(description="How many items it stands for.")
    subject_ids: list[str] = strawberry.field(description="The first items (at most 10).")

    @classmethod
    def from_upstream(cls, b: UpstreamBlocker) -> Blocker:
        return cls(
            key=b.key,
            code=b.code,
            title=b.title,
            what_to_do=b.what_to_do,
            owner=b.owner,
            where_to_fix=b.where_to_fix,
            stage=CertificationStage(b.stage),
            severity=BlockerSeverity(b.severity),
            subject=b.subject,
            count=b.count,
            subject_ids=list(b.subject_ids),
        )


@strawberry.type(name="ReadinessRule", description="A rule the verdict was decided by.")
class ReadinessRule:
    id: str
    stage: CertificationStage
    description: str
    passed: bool
    blocker_codes: list[str]


@strawberry.type(name="BlockerCount")
class BlockerCount:
    code: str
    count: int


def _counts(counts: dict[str, int]) -> list[BlockerCount]:
    return [BlockerCount(code=c, count=n) for c, n in sorted(counts.items())]


@strawberry.type(
    name="Readiness",
    description="Are we ready for certification, and what stands in the way? The verdict, the "
    "score, the rules that decided it, the blockers, and each clause and applicable control. "
    "As a document a CEO can forward: `GET /v1/exports/readiness-report.html` (REST).",
)
class Readiness:
    source: ReadinessSource
    as_of: datetime = strawberry.field(description="The time this readiness is as of.")
    as_of_date: date = strawberry.field(description="The day due dates are compared with.")
    snapshot_id: uuid.UUID | None
    verdict: ReadinessVerdict
    verdict_label: str = strawberry.field(
        description="`not ready`, `ready for Stage 1`, `ready for Stage 2`."
    )
    verdict_reason: str
    score: int = strawberry.field(description="0–100.")
    rules: list[ReadinessRule]
    blocker_counts: list[BlockerCount] = strawberry.field(description="By blocker code.")
    blockers_total: int
    blockers: list[Blocker] = strawberry.field(description="Stage 1 first, then by severity.")
    clauses: list[ClauseReadiness] = strawberry.field(
        description="On a snapshot, as computed at its `asOf` (empty in one taken before "
        "snapshots kept them)."
    )
    controls: list[ControlReadiness] = strawberry.field(
        description="The applicable Annex A controls; on a snapshot, as computed at its `asOf`."
    )

    @classmethod
    def from_upstream(cls, r: UpstreamReadiness) -> Readiness:
        return cls(
            source=ReadinessSource(r.source),
            as_of=r.as_of,
            as_of_date=r.as_of_date,
            snapshot_id=r.snapshot_id,
            verdict=ReadinessVerdict(r.verdict),
            verdict_label=r.verdict_label,
            verdict_reason=r.verdict_reason,
            score=r.score,
            rules=[
                ReadinessRule(
                    id=rule.id,
                    stage=CertificationStage(rule.stage),
                    description=rule.description,
                    passed=rule.passed,
                    blocker_codes=list(rule.blocker_codes),
                )
                for rule in r.rules
            ],
            blocker_counts=_counts(r.blocker_counts),
            blockers_total=r.blockers_total,
            blockers=[Blocker.from_upstream(b) for b in r.blockers],
            clauses=[
                ClauseReadiness(
                    clause=c.clause,
                    title=c.title,
                    status=ClauseReadinessStatus(c.status),
                    reason=c.reason,
                    evidence=ReadinessEvidence.from_upstream(c.evidence),
                    documented_information=list(c.documented_information),
                )
                for c in r.clauses
            ],
            controls=[
                ControlReadiness(
                    control=c.control,
                    title=c.title,
                    status=ControlReadinessStatus(c.status),
                    applicability=c.applicability,
                    reason=c.reason,
                    evidence=ReadinessEvidence.from_upstream(c.evidence),
                )
                for c in r.controls
            ],
        )


@strawberry.type(name="ReadinessSnapshot", description="A stored readiness, kept on change.")
class ReadinessSnapshot:
    id: uuid.UUID
    number: int
    computed_at: datetime
    as_of: date
    score: int
    verdict: ReadinessVerdict
    blocker_counts: list[BlockerCount]
    blockers_total: int
    trigger: str

    @classmethod
    def from_upstream(cls, s: UpstreamSnapshot) -> ReadinessSnapshot:
        return cls(
            id=s.id,
            number=s.number,
            computed_at=s.computed_at,
            as_of=s.as_of,
            score=s.score,
            verdict=ReadinessVerdict(s.verdict),
            blocker_counts=_counts(s.blocker_counts),
            blockers_total=s.blockers_total,
            trigger=s.trigger,
        )


@strawberry.type(name="ReadinessSnapshotEdge")
class ReadinessSnapshotEdge:
    cursor: str
    node: ReadinessSnapshot


@strawberry.type(name="ReadinessSnapshotConnection", description="Snapshots, newest first.")
class ReadinessSnapshotConnection:
    page_info: relay.PageInfo
    edges: list[ReadinessSnapshotEdge]


@strawberry.type(name="RemediationTask", description="A blocker turned into a task.")
class RemediationTask:
    priority: int = strawberry.field(description="1 = first.")
    blocker_key: str
    code: str
    title: str
    what_to_do: str
    owner: str
    where_to_fix: str
    stage: CertificationStage
    severity: BlockerSeverity
    count: int
    due_date: date
    due_basis: str = strawberry.field(description="Where the due date comes from.")
    late: bool


@strawberry.type(
    name="RemediationPlan",
    description="The blockers as prioritised tasks with owners and due dates, what blocks "
    "Stage 1 first.",
)
class RemediationPlan:
    as_of: datetime
    verdict: ReadinessVerdict
    score: int
    tasks: list[RemediationTask]
    count: int
    target_reachable: bool | None = strawberry.field(
        description="Whether the certification target can still be met (null: no plan)."
    )
    target_reason: str | None

    @classmethod
    def from_upstream(cls, p: UpstreamRemediationPlan) -> RemediationPlan:
        return cls(
            as_of=p.as_of,
            verdict=ReadinessVerdict(p.verdict),
            score=p.score,
            tasks=[
                RemediationTask(
                    priority=t.priority,
                    blocker_key=t.blocker_key,
                    code=t.code,
                    title=t.title,
                    what_to_do=t.what_to_do,
                    owner=t.owner,
                    where_to_fix=t.where_to_fix,
                    stage=CertificationStage(t.stage),
                    severity=BlockerSeverity(t.severity),
                    count=t.count,
                    due_date=t.due_date,
                    due_basis=t.due_basis,
                    late=t.late,
                )
                for t in p.tasks
            ],
            count=p.count,
            target_reachable=p.target_reachable,
            target_reason=p.target_reason,
        )


# --- Certification plan ----------------------------------------------------------------------


@strawberry.type(
    name="Milestone",
    description="A step of the certification timeline: readiness assessment, remediation, "
    "internal audit, management review, Stage 1, Stage 2, surveillance, recertification.",
)
class Milestone(relay.Node):
    milestone_id: relay.NodeID[uuid.UUID]
    plan_id: uuid.UUID
    kind: MilestoneKind
    ordinal: int
    title: str
    planned_start: date
    planned_end: date
    done_on: date | None
    status: MilestoneStatus
    version: int = strawberry.field(description="Send it as `expectedVersion` to mark it done.")

    @classmethod
    def from_upstream(cls, m: UpstreamMilestone) -> Milestone:
        return cls(
            milestone_id=m.id,
            plan_id=m.plan_id,
            kind=MilestoneKind(m.kind),
            ordinal=m.ordinal,
            title=m.title,
            planned_start=m.planned_start,
            planned_end=m.planned_end,
            done_on=m.done_on,
            status=MilestoneStatus(m.status),
            version=m.version,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Milestone | None]:
        ids = [uuid_or_none(i) for i in node_ids]
        plan = await info.context.loaders.certification_plan.load(None)
        by_id = {m.id: m for m in plan.milestones} if plan else {}
        nodes = [Milestone.from_upstream(by_id[i]) if i in by_id else None for i in ids]
        if required and any(n is None for n in nodes):
            raise NotFound("No such milestone in your organisation.")
        return nodes


@strawberry.type(name="CertificationPlanOptions", description="The durations planned with.")
class CertificationPlanOptions:
    readiness_weeks: int
    remediation_months: int
    internal_audit_days: int
    management_review_days: int
    stage1_days: int
    stage2_days: int
    days_audit_to_review: int
    days_review_to_stage1: int
    days_stage1_to_stage2: int
    surveillance_days: int
    recertification_days: int


@strawberry.enum(name="CertificationTarget", description="The audit the target date is for.")
class CertificationTarget(enum.Enum):
    STAGE1 = "stage1"
    STAGE2 = "stage2"


@strawberry.type(
    name="CertificationPlan",
    description="The certification timeline planned backwards from a target date, and whether "
    "the target is still reachable.",
)
class CertificationPlan:
    id: uuid.UUID
    version: int = strawberry.field(description="Send it as `expectedVersion` to replace it.")
    target: CertificationTarget
    target_date: date
    options: CertificationPlanOptions
    aims_lead: str | None
    certification_body: str | None
    stage2_start: date
    reachable: bool = strawberry.field(description="Whether the target can still be met.")
    compressed: bool = strawberry.field(description="The plan had to use minimum durations.")
    reason: str
    earliest_stage2_start: date
    milestones: list[Milestone]
    created_at: datetime
    updated_at: datetime
    updated_by: str

    @classmethod
    def from_upstream(cls, p: UpstreamCertificationPlan) -> CertificationPlan:
        o = p.options
        return cls(
            id=p.id,
            version=p.version,
            target=CertificationTarget(p.target),
            target_date=p.target_date,
            options=CertificationPlanOptions(
                readiness_weeks=o.readiness_weeks,
                remediation_months=o.remediation_months,
                internal_audit_days=o.internal_audit_days,
                management_review_days=o.management_review_days,
                stage1_days=o.stage1_days,
                stage2_days=o.stage2_days,
                days_audit_to_review=o.days_audit_to_review,
                days_review_to_stage1=o.days_review_to_stage1,
                days_stage1_to_stage2=o.days_stage1_to_stage2,
                surveillance_days=o.surveillance_days,
                recertification_days=o.recertification_days,
            ),
            aims_lead=p.aims_lead,
            certification_body=p.certification_body,
            stage2_start=p.stage2_start,
            reachable=p.reachable,
            compressed=p.compressed,
            reason=p.reason,
            earliest_stage2_start=p.earliest_stage2_start,
            milestones=[Milestone.from_upstream(m) for m in p.milestones],
            created_at=p.created_at,
            updated_at=p.updated_at,
            updated_by=p.updated_by,
        )


# --- Inputs and payloads ---------------------------------------------------------------------


@strawberry.input(
    name="CertificationPlanOptionsInput", description="Durations; omitted ones take defaults."
)
class CertificationPlanOptionsInput:
    readiness_weeks: int | None = strawberry.field(default=None, description="4–8 (default 6).")
    remediation_months: int | None = strawberry.field(default=None, description="3–6 (default 4).")
    internal_audit_days: int | None = None
    management_review_days: int | None = None
    stage1_days: int | None = strawberry.field(default=None, description="1–5 (default 2).")
    stage2_days: int | None = strawberry.field(default=None, description="3–60 (default 5).")
    days_audit_to_review: int | None = None
    days_review_to_stage1: int | None = None
    days_stage1_to_stage2: int | None = None
    surveillance_days: int | None = None
    recertification_days: int | None = None


PLAN_OPTIONS = (
    "readiness_weeks",
    "remediation_months",
    "internal_audit_days",
    "management_review_days",
    "stage1_days",
    "stage2_days",
    "days_audit_to_review",
    "days_review_to_stage1",
    "days_stage1_to_stage2",
    "surveillance_days",
    "recertification_days",
)


@strawberry.input(name="SetCertificationPlanInput")
class SetCertificationPlanInput:
    target_date: date = strawberry.field(description="Start of the targeted audit.")
    target: CertificationTarget = CertificationTarget.STAGE2
    options: CertificationPlanOptionsInput | None = None
    aims_lead: str | None = strawberry.field(
        default=None, description="Owner of tasks nobody else owns."
    )
    certification_body: str | None = None
    expected_version: int | None = strawberry.field(
        default=None,
        description="Required to replace an existing plan (its `version`); a stale one is a "
        "`ConflictError`.",
    )


@strawberry.input(name="MarkMilestoneDoneInput")
class MarkMilestoneDoneInput:
    id: strawberry.ID = strawberry.field(description="A Milestone ID (or UUID).")
    expected_version: int = strawberry.field(description="The milestone's `version`.")
    done: bool = strawberry.field(default=True, description="false: not done after all.")
    done_on: date | None = strawberry.field(default=None, description="Default today (UTC).")


@strawberry.type(name="ReadinessPayload")
class ReadinessPayload:
    readiness: Readiness | None
    errors: list[UserError]


@strawberry.type(name="CertificationPlanPayload")
class CertificationPlanPayload:
    certification_plan: CertificationPlan | None
    errors: list[UserError]


@strawberry.type(name="MilestonePayload")
class MilestonePayload:
    milestone: Milestone | None
    errors: list[UserError]


# --- Query and Mutation ----------------------------------------------------------------------


@strawberry.type
class ReadinessQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Readiness now (`source: LIVE`) or, with `asOf` (a day `2026-10-01` or an "
        "ISO 8601 time), the snapshot current then (an error when there is none). The readiness "
        "report as HTML is `GET /v1/exports/readiness-report.html`."
    )
    async def readiness(self, info: Info, as_of: str | None = None) -> Readiness:
        return Readiness.from_upstream(await info.context.clients.readiness.readiness(as_of))

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="readinessHistory",
        description=f"Stored readiness snapshots, newest first. `first` is at most "
        f"{MAX_PAGE_SIZE}.",
    )
    async def readiness_history(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> ReadinessSnapshotConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.readiness.history(
            limit=start.skip + first, after=start.upstream
        )
        edges, page_info = plain_edges(page.items[start.skip :], page.next_cursor, start, after)
        return ReadinessSnapshotConnection(
            page_info=page_info,
            edges=[
                ReadinessSnapshotEdge(cursor=c, node=ReadinessSnapshot.from_upstream(s))
                for c, s in edges
            ],
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="remediationPlan",
        description="The blockers as prioritised tasks with owners and due dates.",
    )
    async def remediation_plan(self, info: Info) -> RemediationPlan:
        found = await info.context.clients.readiness.remediation_plan()
        return RemediationPlan.from_upstream(found)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="certificationPlan",
        description="The certification plan and its milestones; null until one is set.",
    )
    async def certification_plan(self, info: Info) -> CertificationPlan | None:
        try:
            found = await info.context.clients.readiness.certification_plan()
        except NotFound:
            return None
        return CertificationPlan.from_upstream(found)


@strawberry.type
class ReadinessMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="recomputeReadiness",
        description="Recompute readiness now (editors), emitting `readiness.changed` when the "
        "verdict, score or blockers changed.",
    )
    async def recompute_readiness(self, info: Info) -> ReadinessPayload:
        found, errors = await attempt(info.context.clients.readiness.recompute())
        return ReadinessPayload(
            readiness=Readiness.from_upstream(found) if found else None, errors=errors
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="setCertificationPlan",
        description="Set the certification target (roles: admin, manager); milestones are "
        "planned backwards from it and keep their done dates. `reachable: false` says when the "
        "target can no longer be met.",
    )
    async def set_certification_plan(
        self, info: Info, input: SetCertificationPlanInput
    ) -> CertificationPlanPayload:
        body: dict[str, object] = {
            "target_date": input.target_date.isoformat(),
            "target": input.target.value,
            "aims_lead": input.aims_lead,
            "certification_body": input.certification_body,
        }
        if input.options is not None:
            options = input.options
            body["options"] = {
                f: getattr(options, f) for f in PLAN_OPTIONS if getattr(options, f) is not None
            }
        found, errors = await attempt(
            info.context.clients.readiness.set_certification_plan(
                body, expected_version=input.expected_version
            )
        )
        return CertificationPlanPayload(
            certification_plan=CertificationPlan.from_upstream(found) if found else None,
            errors=errors,
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="markMilestoneDone",
        description="Mark a milestone done, or with `done: false` not done (roles: admin, "
        "manager).",
    )
    async def mark_milestone_done(
        self, info: Info, input: MarkMilestoneDoneInput
    ) -> MilestonePayload:
        done_on = (input.done_on or datetime.now(UTC).date()) if input.done else None
        found, errors = await attempt(
            lambda: info.context.clients.readiness.update_milestone(
                parse_node_id(input.id, "Milestone"),
                done_on,
                expected_version=input.expected_version,
            ),
            kind="Milestone",
            resource_id=input.id,
        )
        return MilestonePayload(
            milestone=Milestone.from_upstream(found) if found else None, errors=errors
        )
