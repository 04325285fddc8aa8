"""Readiness use cases: gather the facts, assess them, keep snapshots and announce changes, turn
blockers into a remediation plan, and keep the certification plan. Services flush, never
commit."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.documented.catalogue import catalogue
from services.evidence.documented.repository import DocumentedRepository
from services.evidence.documented.schemas import ItemSource
from services.evidence.documented.service import ItemFilter, list_documented
from services.evidence.readiness.errors import (
    CertificationPlanNotFound,
    InvalidPlan,
    MilestoneNotFound,
    NoSnapshot,
)
from services.evidence.readiness.events import (
    CERTIFICATION_PLAN_UPDATED,
    MILESTONE_OVERDUE,
    READINESS_CHANGED,
)
from services.evidence.readiness.models import (
    CertificationMilestone,
    CertificationPlan,
    ReadinessSnapshot,
)
from services.evidence.readiness.repository import ReadinessRepository, day_end
from services.evidence.readiness.rules import (
    SEVERITY_RANK,
    VERDICT_LABEL,
    Blocker,
    DocumentedFact,
    Readiness,
    ReadinessFacts,
    Severity,
    Stage,
    Verdict,
    annex_a_controls,
    assess,
    assessable_clauses,
    clause_of,
)
from services.evidence.readiness.schemas import (
    BlockerRead,
    CertificationPlanPut,
    CertificationPlanRead,
    ClauseStatusRead,
    ControlStatusRead,
    EvidenceSummary,
    MilestoneRead,
    MilestoneStatus,
    MilestoneUpdate,
    PlanOptionsBody,
    ReadinessChanged,
    ReadinessRead,
    RemediationPlanRead,
    RemediationTask,
    RiskData,
    RuleRead,
    SnapshotRead,
    Source,
)
from services.evidence.readiness.timeline import (
    MilestoneKind,
    PlanOptions,
    TargetKind,
    TimelinePlan,
    plan,
)
from services.evidence.reference import clause_ids
from shared.auth import Principal
from shared.db import utcnow
from shared.events import emit, make_event
from shared.http import check_version
from shared.scheduler import arm_debounced, set_timer

RECOMPUTE_TIMER = "readiness.recompute"
MILESTONE_TIMER = "certification.milestone"
RECOMPUTE_ENTITY = "org"
# Bursts of events cause at most one recompute per organisation per this interval.
DEBOUNCE = timedelta(seconds=2)
# The daily recompute (review-by and due dates pass with time, not only with events).
DAILY_AT = time(0, 5, tzinfo=UTC)
SNAPSHOT_BLOCKERS = 100
CHANGED_KEYS = 20
# Without a certification plan, tasks are due this many days from today, by severity.
DUE_DAYS = {Severity.CRITICAL: 30, Severity.HIGH: 60, Severity.MEDIUM: 90, Severity.LOW: 120}


def today() -> date:
    return utcnow().date()


# --- Facts --------------------------------------------------------------------------------------


def _tally_mapping() -> list[tuple[str, str, str, str]]:
    """(link target type, target id, kind, key): which links count for which clause/control."""
    out: list[tuple[str, str, str, str]] = []
    assessed = [cid for cid, _ in assessable_clauses()]
    for cid in assessed:
        for target in clause_ids():
            if clause_of(target, cid):
                out.append(("clause", target, "clause", cid))
    for item in catalogue():
        if item.source == "clause" and item.clause:
            for cid in assessed:
                if clause_of(item.clause, cid):
                    out.append(("documented_information", item.id, "clause", cid))
        if item.control and item.source in ("annex_a", "system"):
            out.append(("documented_information", item.id, "control", item.control))
    for cid, _ in annex_a_controls():
        out.append(("control", cid, "control", cid))
    return out


async def gather_facts(session: AsyncSession, as_of: date, *, cutoff: datetime) -> ReadinessFacts:
    """Everything :func:`rules.assess` needs, in a fixed number of statements."""
    repo = ReadinessRepository(session)
    documented = DocumentedRepository(session)
    scope = await documented.scope()
    soa = await documented.soa()
    di = await list_documented(session, as_of, ItemFilter(sources=frozenset({ItemSource.CLAUSE})))
    tallies = await repo.tallies(_tally_mapping(), as_of)
    ncs, nc_total = await repo.open_major_nonconformities()
    plan_row = await repo.plan()
    return ReadinessFacts(
        scope_number=scope.number if scope else None,
        soa_number=soa.number if soa else None,
        soa_excluded=frozenset(soa.excluded_controls) if soa else frozenset(),
        systems=await repo.high_risk_systems(),
        systems_in_scope=await documented.count_in_scope(),
        risks_total=await repo.open_risks(),
        documented=tuple(
            DocumentedFact(i.id, i.clause or "", i.title, str(i.status), tuple(i.evidence_ids))
            for i in di.items
        ),
        clause_evidence={k: t for (kind, k), t in tallies.items() if kind == "clause"},
        control_evidence={k: t for (kind, k), t in tallies.items() if kind == "control"},
        audits=await repo.completed_audits(as_of),
        last_review_held_on=await repo.last_review_held_on(as_of),
        open_major_nonconformities=ncs,
        open_major_count=nc_total,
        overdue_risk_reviews=await repo.overdue_risk_reviews(cutoff),
        overdue_corrective_actions=await repo.overdue_corrective_actions(as_of),
        stale_evidence=await repo.stale_evidence(as_of),
        aims_lead=plan_row.aims_lead if plan_row else None,
    )


async def current(session: AsyncSession) -> tuple[datetime, Readiness]:
    now = utcnow()
    facts = await gather_facts(session, now.date(), cutoff=now)
    return now, assess(facts, now.date())


# --- Reads --------------------------------------------------------------------------------------


def _summary(tally: Any) -> EvidenceSummary:
    return EvidenceSummary(
        approved=tally.approved,
        stale=tally.stale,
        draft=tally.draft,
        evidence_ids=list(tally.evidence_ids),
        review_by=tally.review_by,
        last_approved_at=tally.last_approved_at,
        freshness=tally.freshness,
    )


def blocker_read(b: Blocker) -> BlockerRead:
    return BlockerRead(
        key=b.key,
        code=b.code,
        title=b.title,
        what_to_do=b.what_to_do,
        owner=b.owner,
        where_to_fix=b.where_to_fix,
        stage=b.stage,
        severity=b.severity,
        subject=b.subject,
        count=b.count,
        subject_ids=list(b.subject_ids),
    )


def readiness_read(at: datetime, r: Readiness) -> ReadinessRead:
    return ReadinessRead(
        source=Source.LIVE,
        as_of=at,
        as_of_date=r.as_of,
        verdict=r.verdict,
        verdict_label=VERDICT_LABEL[r.verdict],
        verdict_reason=r.verdict_reason,
        score=r.score,
        rules=[
            RuleRead(
                id=x.id,
                stage=x.stage,
                description=x.description,
                passed=x.passed,
                blocker_codes=list(x.blocker_codes),
            )
            for x in r.rules
        ],
        blocker_counts=r.blocker_counts,
        blockers_total=len(r.blockers),
        blockers=[blocker_read(b) for b in r.blockers],
        clauses=clause_reads(r),
        controls=control_reads(r),
    )


def clause_reads(r: Readiness) -> list[ClauseStatusRead]:
    return [
        ClauseStatusRead(
            clause=c.clause,
            title=c.title,
            status=c.status,
            reason=c.reason,
            evidence=_summary(c.evidence),
            documented_information=list(c.documented_information),
        )
        for c in r.clauses
    ]


def control_reads(r: Readiness) -> list[ControlStatusRead]:
    return [
        ControlStatusRead(
            control=c.control,
            title=c.title,
            status=c.status,
            applicability=c.applicability,
            reason=c.reason,
            evidence=_summary(c.evidence),
        )
        for c in r.controls
    ]


def snapshot_readiness(row: ReadinessSnapshot) -> ReadinessRead:
    return ReadinessRead(
        source=Source.SNAPSHOT,
        as_of=row.computed_at,
        as_of_date=row.as_of,
        snapshot_id=row.id,
        verdict=Verdict(row.verdict),
        verdict_label=VERDICT_LABEL[Verdict(row.verdict)],
        verdict_reason=_reason_of(row.rules),
        score=row.score,
        rules=[RuleRead.model_validate(x) for x in row.rules],
        blocker_counts=dict(row.blocker_counts),
        blockers_total=row.blockers_total,
        blockers=[BlockerRead.model_validate(b) for b in row.blockers],
        clauses=[ClauseStatusRead.model_validate(c) for c in row.clauses],
        controls=[ControlStatusRead.model_validate(c) for c in row.controls],
    )


def _reason_of(rules: Sequence[dict[str, Any]]) -> str:
    failed1 = [r["id"] for r in rules if r["stage"] == Stage.STAGE1 and not r["passed"]]
    failed2 = [r["id"] for r in rules if r["stage"] == Stage.STAGE2 and not r["passed"]]
    if failed1:
        return f"Stage 1 needs: {', '.join(failed1)}."
    if failed2:
        return f"Every Stage 1 rule passes; Stage 2 still needs: {', '.join(failed2)}."
    return "Every Stage 1 and Stage 2 rule passes."


async def readiness(session: AsyncSession, at: datetime | None) -> ReadinessRead:
    """Live now, or (``at``) the snapshot that was current then."""
    if at is None:
        now, result = await current(session)
        return readiness_read(now, result)
    row = await ReadinessRepository(session).latest_snapshot(at)
    if row is None:
        raise NoSnapshot(
            f"No readiness was recorded at or before {at.isoformat()}; readiness is recorded "
            "from the first change after the organisation starts using the service."
        )
    return snapshot_readiness(row)


def parse_as_of(value: date | datetime) -> datetime:
    """A day means its end (everything recorded that day); a naive time is UTC. The result is
    in UTC; ``OverflowError`` when that leaves the calendar (the end of 9999-12-31, or year 1
    east of UTC)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return day_end(value)


async def history(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID]
) -> list[SnapshotRead]:
    rows = await ReadinessRepository(session).snapshots(limit=limit, after=after, ids=ids)
    return [SnapshotRead.model_validate(r) for r in rows]


# --- Recompute, snapshots, events ------------------------------------------------------------


def statuses(
    clauses: Sequence[dict[str, Any]], controls: Sequence[dict[str, Any]]
) -> dict[str, str]:
    """``clause:4.1`` / ``control:A.2.2`` -> its status, from the stored form of the clause and
    control reads (a live recompute's or a snapshot's; empty for a snapshot taken before they
    were kept)."""
    out = {f"clause:{c['clause']}": str(c["status"]) for c in clauses}
    out.update({f"control:{c['control']}": str(c["status"]) for c in controls})
    return out


def fingerprint(r: Readiness, status_map: dict[str, str] | None) -> str:
    """What identifies a change: the verdict, the score, the set of blockers and every clause's
    and control's status. Without ``status_map``: the form of snapshots taken before statuses
    were kept, so that upgrading alone records no change."""
    keys = sorted(b.key for b in r.blockers)
    parts = [r.verdict.value, str(r.score), *keys]
    if status_map is not None:
        parts += ["", *(f"{k}={v}" for k, v in status_map.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


async def request_recompute(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Arm the debounced recompute ``DEBOUNCE`` after this transaction commits, unless one is
    already due sooner; a recompute that fires meanwhile is followed by one that sees this
    transaction's changes (:func:`shared.scheduler.arm_debounced`)."""
    await arm_debounced(
        session, org_id=org_id, kind=RECOMPUTE_TIMER, entity_id=RECOMPUTE_ENTITY, delay=DEBOUNCE
    )


async def recompute(session: AsyncSession, org_id: uuid.UUID, trigger: str) -> bool:
    """Compute readiness now; store a snapshot and emit ``readiness.changed`` when the verdict,
    the score, the set of blockers or a clause's or control's status differs from the last
    snapshot. True when it changed."""
    repo = ReadinessRepository(session)
    now, result = await current(session)
    clauses = [c.model_dump(mode="json") for c in clause_reads(result)]
    controls = [c.model_dump(mode="json") for c in control_reads(result)]
    after = statuses(clauses, controls)
    print_ = fingerprint(result, after)
    last = await repo.latest_snapshot()
    before = statuses(last.clauses, last.controls) if last is not None else {}
    if last is not None and last.fingerprint == (print_ if before else fingerprint(result, None)):
        return False
    number = (last.number + 1) if last else 1
    row = ReadinessSnapshot(
        org_id=org_id,
        number=number,
        computed_at=now,
        as_of=result.as_of,
        score=result.score,
        verdict=result.verdict.value,
        fingerprint=print_,
        blocker_counts=result.blocker_counts,
        blockers=[
            blocker_read(b).model_dump(mode="json") for b in result.blockers[:SNAPSHOT_BLOCKERS]
        ],
        blockers_total=len(result.blockers),
        rules=[
            RuleRead(
                id=x.id,
                stage=x.stage,
                description=x.description,
                passed=x.passed,
                blocker_codes=list(x.blocker_codes),
            ).model_dump(mode="json")
            for x in result.rules
        ],
        clauses=clauses,
        controls=controls,
        trigger=trigger[:100],
    )
    await repo.add_snapshot(row)
    moved = [k for k in {**before, **after} if before and before.get(k) != after.get(k)]
    new_keys = {b.key for b in result.blockers}
    old_keys = {b["key"] for b in last.blockers} if last else set()
    # Old snapshots keep at most SNAPSHOT_BLOCKERS keys; beyond that "removed" is a best effort.
    data = ReadinessChanged(
        org_id=org_id,
        snapshot_id=row.id,
        number=number,
        computed_at=now,
        as_of=result.as_of,
        score=result.score,
        verdict=result.verdict,
        previous_score=last.score if last else None,
        previous_verdict=Verdict(last.verdict) if last else None,
        blocker_counts=result.blocker_counts,
        blockers_total=len(result.blockers),
        added=sorted(new_keys - old_keys)[:CHANGED_KEYS],
        removed=sorted(old_keys - new_keys)[:CHANGED_KEYS],
        statuses_changed=moved[:CHANGED_KEYS],
    )
    await emit(
        session,
        make_event(READINESS_CHANGED, org_id=org_id, subject=org_id, version=number, data=data),
        before=None,
    )
    return True


def next_daily(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), DAILY_AT)


# --- Consumers' use cases -----------------------------------------------------------------------


class ImpactAssessmentData(BaseModel):
    """The part of ``aims.risk.impact_assessment.*`` readiness reads."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    system_id: uuid.UUID
    status: str
    approved_at: datetime | None = None


async def apply_risk(session: AsyncSession, data: RiskData, version: int) -> bool:
    return await ReadinessRepository(session).apply_risk(
        {**data.model_dump(), "source_version": version, "synced_at": utcnow()}
    )


async def apply_impact_assessment(
    session: AsyncSession, data: ImpactAssessmentData, version: int
) -> bool:
    return await ReadinessRepository(session).apply_impact_assessment(
        {**data.model_dump(), "source_version": version, "synced_at": utcnow()}
    )


# --- Remediation plan ---------------------------------------------------------------------------

_MILESTONE_FOR = {
    "no_internal_audit": MilestoneKind.INTERNAL_AUDIT,
    "internal_audit_incomplete": MilestoneKind.INTERNAL_AUDIT,
    "no_management_review_since_audit": MilestoneKind.MANAGEMENT_REVIEW,
}


def _due(
    b: Blocker, as_of: date, milestones: dict[MilestoneKind, CertificationMilestone]
) -> tuple[date, str]:
    if not milestones:
        days = DUE_DAYS[b.severity]
        return as_of + timedelta(days=days), f"No certification plan: {days} days for {b.severity}."
    kind = _MILESTONE_FOR.get(b.code)
    if kind is not None and kind in milestones:
        m = milestones[kind]
        return m.planned_end, f"End of the planned {kind.value.replace('_', ' ')}."
    remediation = milestones.get(MilestoneKind.REMEDIATION)
    if remediation is not None and remediation.done_on is None:
        return remediation.planned_end, "End of the planned remediation."
    audit = milestones[
        MilestoneKind.STAGE1_AUDIT if b.stage == Stage.STAGE1 else MilestoneKind.STAGE2_AUDIT
    ]
    return (
        audit.planned_start - timedelta(days=1),
        f"The day before the {'Stage 1' if b.stage == Stage.STAGE1 else 'Stage 2'} audit.",
    )


async def remediation_plan(session: AsyncSession) -> RemediationPlanRead:
    now, result = await current(session)
    repo = ReadinessRepository(session)
    plan_row = await repo.plan()
    milestones = (
        {MilestoneKind(m.kind): m for m in await repo.milestones(plan_row.id)} if plan_row else {}
    )
    dated = [(b, *_due(b, result.as_of, milestones)) for b in result.blockers]
    dated.sort(key=lambda x: (x[0].stage != Stage.STAGE1, SEVERITY_RANK[x[0].severity], x[1]))
    tasks = [
        RemediationTask(
            priority=i,
            blocker_key=b.key,
            code=b.code,
            title=b.title,
            what_to_do=b.what_to_do,
            owner=b.owner,
            where_to_fix=b.where_to_fix,
            stage=b.stage,
            severity=b.severity,
            count=b.count,
            due_date=due,
            due_basis=basis,
            late=due < result.as_of,
        )
        for i, (b, due, basis) in enumerate(dated, start=1)
    ]
    timeline = _timeline(plan_row, list(milestones.values()), result.as_of) if plan_row else None
    return RemediationPlanRead(
        as_of=now,
        verdict=result.verdict,
        score=result.score,
        tasks=tasks,
        count=len(tasks),
        target_reachable=timeline.reachable if timeline else None,
        target_reason=timeline.reason if timeline else None,
    )


# --- Certification plan -----------------------------------------------------------------------


def _options(row: CertificationPlan) -> PlanOptions:
    return PlanOptions(**PlanOptionsBody.model_validate(row.options).model_dump())


def _timeline(
    row: CertificationPlan, milestones: Sequence[CertificationMilestone], day: date
) -> TimelinePlan:
    done = {MilestoneKind(m.kind): m.done_on for m in milestones if m.done_on is not None}
    return plan(row.target_date, TargetKind(row.target_kind), _options(row), day, done)


def _milestone_status(m: CertificationMilestone, day: date) -> MilestoneStatus:
    if m.done_on is not None:
        return MilestoneStatus.DONE
    return MilestoneStatus.OVERDUE if m.planned_end < day else MilestoneStatus.PLANNED


def milestone_read(m: CertificationMilestone, day: date) -> MilestoneRead:
    return MilestoneRead(
        id=m.id,
        org_id=m.org_id,
        plan_id=m.plan_id,
        kind=MilestoneKind(m.kind),
        ordinal=m.ordinal,
        title=m.title,
        planned_start=m.planned_start,
        planned_end=m.planned_end,
        done_on=m.done_on,
        status=_milestone_status(m, day),
        overdue_notified_at=m.overdue_notified_at,
        version=m.version,
    )


def plan_read(
    row: CertificationPlan, milestones: Sequence[CertificationMilestone], day: date
) -> CertificationPlanRead:
    timeline = _timeline(row, milestones, day)
    return CertificationPlanRead(
        id=row.id,
        org_id=row.org_id,
        version=row.version,
        target=TargetKind(row.target_kind),
        target_date=row.target_date,
        options=PlanOptionsBody.model_validate(row.options),
        aims_lead=row.aims_lead,
        certification_body=row.certification_body,
        stage2_start=timeline.stage2_start,
        reachable=timeline.reachable,
        compressed=timeline.compressed,
        reason=timeline.reason,
        earliest_stage2_start=timeline.earliest_stage2_start,
        milestones=[milestone_read(m, day) for m in milestones],
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def get_plan(session: AsyncSession) -> CertificationPlanRead:
    repo = ReadinessRepository(session)
    row = await repo.plan()
    if row is None:
        raise CertificationPlanNotFound(
            "No certification plan yet: PUT /v1/certification-plan with a target date."
        )
    return plan_read(row, await repo.milestones(row.id), today())


async def _arm(session: AsyncSession, m: CertificationMilestone) -> None:
    await set_timer(
        session,
        org_id=m.org_id,
        kind=MILESTONE_TIMER,
        entity_id=m.id,
        due_at=None if m.done_on is not None else m.planned_end,
    )


async def _announce_plan(
    session: AsyncSession, row: CertificationPlan, milestones: Sequence[CertificationMilestone]
) -> CertificationPlanRead:
    state = plan_read(row, milestones, today())
    await emit(
        session,
        make_event(
            CERTIFICATION_PLAN_UPDATED,
            org_id=row.org_id,
            subject=row.id,
            version=row.version,
            data=state,
        ),
    )
    return state


async def put_plan(
    session: AsyncSession, principal: Principal, body: CertificationPlanPut, if_match: str | None
) -> tuple[CertificationPlanRead, bool]:
    """Set or replace the plan; milestones keep their done dates. (state, created)."""
    day = today()
    if body.target_date > day + timedelta(days=365 * 10):
        raise InvalidPlan(
            "The target date is more than ten years away.",
            errors=[{"location": ["body", "target_date"], "message": "too far in the future"}],
        )
    repo = ReadinessRepository(session)
    row = await repo.plan(for_update=True)
    created = row is None
    now = utcnow()
    if row is None:
        row = CertificationPlan(
            org_id=principal.org_id,
            version=1,
            target_kind=body.target.value,
            target_date=body.target_date,
            options=body.options.model_dump(),
            aims_lead=body.aims_lead,
            certification_body=body.certification_body,
            created_by=principal.subject,
            updated_by=principal.subject,
            created_at=now,
            updated_at=now,
        )
        await repo.add(row)
        existing: dict[str, CertificationMilestone] = {}
    else:
        check_version(if_match, row.version)
        row.target_kind = body.target.value
        row.target_date = body.target_date
        row.options = body.options.model_dump()
        row.aims_lead = body.aims_lead
        row.certification_body = body.certification_body
        row.version += 1
        row.updated_by = principal.subject
        row.updated_at = now
        existing = {m.kind: m for m in await repo.milestones(row.id)}
    timeline = plan(
        row.target_date,
        TargetKind(row.target_kind),
        _options(row),
        day,
        {MilestoneKind(k): m.done_on for k, m in existing.items() if m.done_on is not None},
    )
    milestones = []
    for ordinal, planned in enumerate(timeline.milestones, start=1):
        m = existing.get(planned.kind.value)
        if m is None:
            m = CertificationMilestone(
                org_id=row.org_id,
                plan_id=row.id,
                kind=planned.kind.value,
                ordinal=ordinal,
                title=planned.title,
                planned_start=planned.start,
                planned_end=planned.end,
                version=1,
                created_at=now,
                updated_at=now,
            )
            await repo.add(m)
        elif (m.planned_start, m.planned_end) != (planned.start, planned.end):
            m.planned_start, m.planned_end = planned.start, planned.end
            m.overdue_notified_at = None
            m.version += 1
            m.updated_at = now
        milestones.append(m)
        await _arm(session, m)
    await repo.flush()
    return await _announce_plan(session, row, milestones), created


async def update_milestone(
    session: AsyncSession,
    principal: Principal,
    milestone_id: uuid.UUID,
    body: MilestoneUpdate,
    if_match: str | None,
) -> MilestoneRead:
    repo = ReadinessRepository(session)
    row = await repo.plan(for_update=True)
    m = await repo.milestone(milestone_id, for_update=True)
    if row is None or m is None:
        raise MilestoneNotFound(f"No milestone {milestone_id} in your certification plan.")
    check_version(if_match, m.version)
    if body.done_on is not None and body.done_on > today():
        raise InvalidPlan(
            "A milestone cannot be done in the future.",
            errors=[{"location": ["body", "done_on"], "message": "after today"}],
        )
    if m.done_on != body.done_on:
        m.done_on = body.done_on
        m.version += 1
        m.updated_at = utcnow()
        row.version += 1
        row.updated_by = principal.subject
        row.updated_at = utcnow()
        await repo.flush()
        await _arm(session, m)
        await _announce_plan(session, row, await repo.milestones(row.id))
    return milestone_read(m, today())


async def notify_overdue(session: AsyncSession, milestone_id: uuid.UUID) -> bool:
    """The milestone timer: emit ``milestone.overdue`` once, if still undone and past its end."""
    repo = ReadinessRepository(session)
    m = await repo.milestone(milestone_id, for_update=True, nowait=True)
    day = today()
    if m is None or m.done_on is not None or m.overdue_notified_at is not None:
        return False
    if m.planned_end >= day:
        return False  # moved later: its re-armed timer fires then
    m.overdue_notified_at = utcnow()
    m.version += 1
    m.updated_at = utcnow()
    await repo.flush()
    await emit(
        session,
        make_event(
            MILESTONE_OVERDUE,
            org_id=m.org_id,
            subject=m.id,
            version=m.version,
            data=milestone_read(m, day),
        ),
    )
    return True
