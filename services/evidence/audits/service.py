"""Internal audit use cases (9.2): programmes, audits, findings. Services flush, never commit.

An audit's team is checked for independence (:mod:`services.evidence.audits.rules`) whenever its
scope or team is set or changed, and again when it starts (ownership may have changed since it
was planned). A finding of kind major/minor nonconformity opens its nonconformity (10.2) in the
same transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.audits import rules
from services.evidence.audits.errors import (
    AuditNotFound,
    AuditNotInProgress,
    AuditorNotIndependent,
    FindingKindLocked,
    FindingNotFound,
    FindingStatusFollowsNonconformity,
    InvalidAuditTransition,
    InvalidDates,
    ProgrammeHasAudits,
    ProgrammeNotFound,
    UnknownReference,
)
from services.evidence.audits.events import (
    AUDIT_CANCELLED,
    AUDIT_COMPLETED,
    AUDIT_PLANNED,
    AUDIT_PROGRAMME_CHANGED,
    AUDIT_STARTED,
    AUDIT_UPDATED,
    FINDING_RAISED,
    FINDING_UPDATED,
)
from services.evidence.audits.models import Audit, AuditProgramme, Finding
from services.evidence.audits.repository import AuditRepository, FindingFilter
from services.evidence.audits.schemas import (
    AuditComplete,
    AuditCreate,
    AuditRead,
    AuditUpdate,
    CoverageGap,
    CoverageRead,
    FindingCreate,
    FindingKind,
    FindingLink,
    FindingRead,
    FindingTargetType,
    FindingUpdate,
    IndependenceReason,
    ProgrammeCreate,
    ProgrammeRead,
    ProgrammeUpdate,
)
from services.evidence.corrective import service as corrective
from services.evidence.documented.catalogue import catalogue
from services.evidence.documented.models import DocumentedSoA
from services.evidence.documented.repository import DocumentedRepository
from services.evidence.items.repository import ItemFilter, ItemRepository
from services.evidence.items.service import normalise_target
from services.evidence.reference import load_reference
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.events import EventType, emit, make_event
from shared.http import check_version


def today() -> date:
    return utcnow().date()


async def _emit(
    session: AsyncSession, event_type: EventType, org_id: uuid.UUID, subject: uuid.UUID, state: Any
) -> None:
    await emit(
        session,
        make_event(event_type, org_id=org_id, subject=subject, version=state.version, data=state),
    )


def _touch(row: AuditProgramme | Audit | Finding, principal: Principal) -> None:
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = principal.subject


def _error(field: str, message: str, kind: str = "unknown_reference") -> dict[str, Any]:
    return {"location": ["body", field], "message": message, "type": kind}


# --- Reference data ---------------------------------------------------------------------------


def _clauses() -> list[dict[str, Any]]:
    return list(load_reference("iso42001_clauses")["clauses"])


def _controls() -> list[dict[str, Any]]:
    return list(load_reference("iso42001_annex_a")["controls"])


def _titles() -> dict[str, str]:
    return {str(c["id"]): str(c["title"]) for c in [*_clauses(), *_controls()]}


def _parents() -> dict[str, str | None]:
    return {str(c["id"]): c.get("parent") for c in _clauses()}


# --- Programmes -------------------------------------------------------------------------------


async def _programme(
    repo: AuditRepository, programme_id: uuid.UUID, *, for_update: bool = False
) -> AuditProgramme:
    row = await repo.get(AuditProgramme, programme_id, for_update=for_update)
    if row is None:
        raise ProgrammeNotFound(f"No audit programme {programme_id} in your organisation.")
    return row


async def create_programme(
    session: AsyncSession, principal: Principal, body: ProgrammeCreate
) -> ProgrammeRead:
    now = utcnow()
    row = AuditProgramme(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        **body.model_dump(),
    )
    AuditRepository(session).add(row)
    await session.flush()
    state = ProgrammeRead.model_validate(row)
    await _emit(session, AUDIT_PROGRAMME_CHANGED, row.org_id, row.id, state)
    return state


async def get_programme(session: AsyncSession, programme_id: uuid.UUID) -> ProgrammeRead:
    return ProgrammeRead.model_validate(await _programme(AuditRepository(session), programme_id))


async def list_programmes(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID]
) -> tuple[list[ProgrammeRead], list[AuditProgramme]]:
    rows = await AuditRepository(session).programmes(limit=limit + 1, after=after, ids=ids)
    return [ProgrammeRead.model_validate(r) for r in rows[:limit]], rows


async def update_programme(
    session: AsyncSession,
    principal: Principal,
    programme_id: uuid.UUID,
    body: ProgrammeUpdate,
    if_match: str | None,
) -> ProgrammeRead:
    repo = AuditRepository(session)
    row = await _programme(repo, programme_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return ProgrammeRead.model_validate(row)
    start = changes.get("period_start", row.period_start)
    end = changes.get("period_end", row.period_end)
    if end < start:
        raise InvalidDates(
            "period_end must not be before period_start.",
            errors=[_error("period_end", "must not be before period_start", "date_order")],
        )
    first, last = await repo.audit_span(row.id)
    if (first is not None and first < start) or (last is not None and last > end):
        raise ProgrammeHasAudits(
            f"The programme's audits run from {first} to {last}; the period must hold them "
            "(move or cancel those audits first)."
        )
    for name, value in changes.items():
        setattr(row, name, value)
    _touch(row, principal)
    await session.flush()
    state = ProgrammeRead.model_validate(row)
    await _emit(session, AUDIT_PROGRAMME_CHANGED, row.org_id, row.id, state)
    return state


async def programme_coverage(session: AsyncSession, programme_id: uuid.UUID) -> CoverageRead:
    """Assessable clauses and applicable controls no live audit of the programme covers.

    Applicable controls are those included in the current approved SoA (the documented
    domain's projection of ``soa.changed``); with no SoA approved yet, every Annex A control
    counts, since none has been justifiably excluded."""
    repo = AuditRepository(session)
    programme = await _programme(repo, programme_id)
    audits = await repo.live_audits_of(programme.id)
    soa = await DocumentedRepository(session).soa()
    return _coverage(programme, audits, soa)


async def coverage_by_programme(
    session: AsyncSession, programme_ids: Sequence[uuid.UUID]
) -> list[CoverageRead]:
    """:func:`programme_coverage` of many programmes in three queries: one entry per programme
    asked that is in the caller's organisation, in the order asked, each once."""
    repo = AuditRepository(session)
    wanted = list(dict.fromkeys(programme_ids))
    programmes = {p.id: p for p in await repo.programmes(limit=len(wanted), after=None, ids=wanted)}
    audits: defaultdict[uuid.UUID, list[Audit]] = defaultdict(list)
    for audit in await repo.live_audits_of_many(list(programmes)):
        assert audit.programme_id is not None  # selected by programme
        audits[audit.programme_id].append(audit)
    soa = await DocumentedRepository(session).soa()
    return [_coverage(programmes[i], audits[i], soa) for i in wanted if i in programmes]


def _coverage(
    programme: AuditProgramme, audits: Sequence[Audit], soa: DocumentedSoA | None
) -> CoverageRead:
    all_controls = [str(c["id"]) for c in _controls()]
    if soa is not None:
        included = set(soa.included_controls)
        applicable = [c for c in all_controls if c in included]
    else:
        applicable = all_controls
    assessable = [str(c["id"]) for c in _clauses() if c.get("assessable")]
    result = rules.coverage(
        assessable,
        applicable,
        [c for a in audits for c in a.clauses],
        [c for a in audits for c in a.controls],
        _parents(),
    )
    titles = _titles()
    return CoverageRead(
        programme_id=programme.id,
        period_start=programme.period_start,
        period_end=programme.period_end,
        audits_counted=len(audits),
        controls_basis="soa" if soa is not None else "no_approved_soa",
        soa_number=soa.number if soa is not None else None,
        clauses_assessable=len(assessable),
        clauses_covered=len(result.clauses_covered),
        controls_applicable=len(applicable),
        controls_covered=len(result.controls_covered),
        clause_gaps=[CoverageGap(id=c, title=titles.get(c, c)) for c in result.clause_gaps],
        control_gaps=[CoverageGap(id=c, title=titles.get(c, c)) for c in result.control_gaps],
        complete=result.complete,
    )


# --- Audits: validation and independence ------------------------------------------------------


def _canonical(kind: str, field: str, values: Sequence[str]) -> list[str]:
    """Canonical clause or control ids, once each, in the order given; 422 naming the others."""
    out: list[str] = []
    errors = []
    for index, value in enumerate(values):
        canonical = normalise_target(kind, value)
        if canonical is None:
            what = (
                "an ISO/IEC 42001 clause (e.g. 9.2)"
                if kind == "clause"
                else ("an Annex A control (e.g. A.6.2.8)")
            )
            errors.append(
                {
                    "location": ["body", field, index],
                    "message": f"{value[:60]!r} is not {what}.",
                    "type": "unknown_reference",
                }
            )
        elif canonical not in out:
            out.append(canonical)
    if errors:
        raise UnknownReference(f"Unknown {field}; see `errors`.", errors=errors)
    return out


async def _check_systems(
    repo: AuditRepository, systems: Sequence[uuid.UUID]
) -> dict[str, str | None]:
    wanted = list(dict.fromkeys(systems))
    owners = await repo.system_owners(wanted)
    missing = [s for s in wanted if s not in owners]
    if missing:
        raise UnknownReference(
            "No AI system " + ", ".join(str(s) for s in missing[:10]) + " in your organisation.",
            errors=[
                _error("systems", f"No AI system {s} in your organisation.") for s in missing[:20]
            ],
        )
    return {str(s): owners[s] for s in wanted}


async def _check_evidence(session: AsyncSession, items: Sequence[uuid.UUID]) -> list[str]:
    wanted = list(dict.fromkeys(items))
    if not wanted:
        return []
    found = await ItemRepository(session).page(
        ItemFilter(ids=wanted), limit=len(wanted) + 1, after=None
    )
    known = {i.id for i in found}
    missing = [i for i in wanted if i not in known]
    if missing:
        raise UnknownReference(
            "No evidence item " + ", ".join(str(i) for i in missing[:10]) + " in your "
            "organisation.",
            errors=[
                _error("evidence_sampled", f"No evidence item {i} in your organisation.")
                for i in missing[:20]
            ],
        )
    return [str(i) for i in wanted]


async def _ownership(
    repo: AuditRepository,
    clauses: Sequence[str],
    controls: Sequence[str],
    system_owners: dict[str, str | None],
) -> rules.ScopeOwnership:
    """Who owns the scope's systems, controls and processes (see the rules' docstring)."""
    in_scope_clauses = sorted(rules.expand_clauses(clauses, _parents()))
    clause_set, control_set = set(in_scope_clauses), set(controls)
    di_clause: dict[str, str] = {}
    di_control: dict[str, str] = {}
    for item in catalogue():
        if item.clause is not None and item.clause in clause_set:
            di_clause[item.id] = item.clause
        if item.control is not None and item.control in control_set:
            di_control[item.id] = item.control
    rows = await repo.evidence_owners(
        {
            "clause": in_scope_clauses,
            "control": list(controls),
            "soa_entry": list(controls),
            "documented_information": sorted({*di_clause, *di_control}),
        }
    )
    by_clause: dict[str, set[str]] = defaultdict(set)
    by_control: dict[str, set[str]] = defaultdict(set)
    for target_type, target_id, owner in rows:
        if target_type == "clause":
            by_clause[target_id].add(owner)
        elif target_type in ("control", "soa_entry"):
            by_control[target_id].add(owner)
        else:
            if target_id in di_clause:
                by_clause[di_clause[target_id]].add(owner)
            if target_id in di_control:
                by_control[di_control[target_id]].add(owner)
    return rules.ScopeOwnership(
        systems={s: [o] if o else [] for s, o in system_owners.items()},
        controls=by_control,
        clauses=by_clause,
    )


async def _require_independent(
    repo: AuditRepository,
    lead: str,
    auditors: Sequence[str],
    clauses: Sequence[str],
    controls: Sequence[str],
    system_owners: dict[str, str | None],
) -> None:
    ownership = await _ownership(repo, clauses, controls, system_owners)
    conflicts = rules.independence_conflicts([lead, *auditors], ownership)
    if not conflicts:
        return
    titles = _titles()
    reasons = [
        IndependenceReason(
            auditor=c.auditor,
            kind=c.kind.value,
            target_type=c.target_type,
            target_id=c.target_id,
            detail=c.describe(
                f"{c.target_id} ({titles[c.target_id]})" if c.target_id in titles else None
            ),
        ).model_dump()
        for c in conflicts[:100]
    ]
    raise AuditorNotIndependent(
        "An auditor may not audit what they own (ISO/IEC 42001 9.2.2 c): "
        + " ".join(r["detail"] for r in reasons[:5]),
        reasons=reasons,
    )


def _check_in_programme(programme: AuditProgramme, start: date, end: date) -> None:
    if start < programme.period_start or end > programme.period_end:
        raise InvalidDates(
            f"The audit's planned dates ({start} to {end}) must fall within its programme's "
            f"period ({programme.period_start} to {programme.period_end}).",
            errors=[
                _error("planned_start", "outside the programme's period", "date_range"),
            ],
        )


# --- Audits -----------------------------------------------------------------------------------


async def _audit(repo: AuditRepository, audit_id: uuid.UUID, *, for_update: bool = False) -> Audit:
    row = await repo.get(Audit, audit_id, for_update=for_update)
    if row is None:
        raise AuditNotFound(f"No audit {audit_id} in your organisation.")
    return row


async def create_audit(session: AsyncSession, principal: Principal, body: AuditCreate) -> AuditRead:
    repo = AuditRepository(session)
    if body.programme_id is not None:
        programme = await repo.get(AuditProgramme, body.programme_id)
        if programme is None:
            raise UnknownReference(
                f"No audit programme {body.programme_id} in your organisation.",
                errors=[_error("programme_id", "No such audit programme in your organisation.")],
            )
        _check_in_programme(programme, body.planned_start, body.planned_end)
    clauses = _canonical("clause", "clauses", body.clauses)
    controls = _canonical("control", "controls", body.controls)
    system_owners = await _check_systems(repo, body.systems)
    sampled = await _check_evidence(session, body.evidence_sampled)
    auditors = list(dict.fromkeys(body.auditors))
    await _require_independent(repo, body.lead_auditor, auditors, clauses, controls, system_owners)
    now = utcnow()
    row = Audit(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        programme_id=body.programme_id,
        title=body.title,
        criteria=body.criteria,
        status="planned",
        planned_start=body.planned_start,
        planned_end=body.planned_end,
        clauses=clauses,
        controls=controls,
        systems=list(system_owners),
        lead_auditor=body.lead_auditor,
        auditors=auditors,
        evidence_sampled=sampled,
        conclusion="",
    )
    repo.add(row)
    await session.flush()
    state = AuditRead.model_validate(row)
    await _emit(session, AUDIT_PLANNED, row.org_id, row.id, state)
    return state


async def get_audit(session: AsyncSession, audit_id: uuid.UUID) -> AuditRead:
    return AuditRead.model_validate(await _audit(AuditRepository(session), audit_id))


async def list_audits(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    ids: Sequence[uuid.UUID],
    programme_ids: Sequence[uuid.UUID],
    statuses: Sequence[str],
) -> tuple[list[AuditRead], list[Audit]]:
    rows = await AuditRepository(session).audits(
        limit=limit + 1, after=after, ids=ids, programme_ids=programme_ids, statuses=statuses
    )
    return [AuditRead.model_validate(r) for r in rows[:limit]], rows


async def update_audit(
    session: AsyncSession,
    principal: Principal,
    audit_id: uuid.UUID,
    body: AuditUpdate,
    if_match: str | None,
) -> AuditRead:
    """Change a planned or in-progress audit; the team's independence is checked again against
    the new scope and team."""
    repo = AuditRepository(session)
    row = await _audit(repo, audit_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return AuditRead.model_validate(row)
    if row.status not in ("planned", "in_progress"):
        raise InvalidAuditTransition(f"The audit is {row.status}; it can no longer change.")
    start = changes.get("planned_start", row.planned_start)
    end = changes.get("planned_end", row.planned_end)
    if end < start:
        raise InvalidDates(
            "planned_end must not be before planned_start.",
            errors=[_error("planned_end", "must not be before planned_start", "date_order")],
        )
    if row.programme_id is not None and ("planned_start" in changes or "planned_end" in changes):
        _check_in_programme(await _programme(repo, row.programme_id), start, end)
    clauses = (
        _canonical("clause", "clauses", body.clauses) if body.clauses is not None else row.clauses
    )
    controls = (
        _canonical("control", "controls", body.controls)
        if body.controls is not None
        else row.controls
    )
    systems = body.systems if body.systems is not None else [uuid.UUID(s) for s in row.systems]
    system_owners = await _check_systems(repo, systems)
    if body.evidence_sampled is not None:
        row.evidence_sampled = await _check_evidence(session, body.evidence_sampled)
    lead = body.lead_auditor or row.lead_auditor
    auditors = list(dict.fromkeys(body.auditors)) if body.auditors is not None else row.auditors
    if {"clauses", "controls", "systems", "lead_auditor", "auditors"} & set(changes):
        await _require_independent(repo, lead, auditors, clauses, controls, system_owners)
    row.clauses, row.controls, row.systems = clauses, controls, list(system_owners)
    row.lead_auditor, row.auditors = lead, auditors
    row.planned_start, row.planned_end = start, end
    for name in ("title", "criteria", "conclusion"):
        if name in changes:
            setattr(row, name, changes[name])
    _touch(row, principal)
    await session.flush()
    state = AuditRead.model_validate(row)
    await _emit(session, AUDIT_UPDATED, row.org_id, row.id, state)
    return state


async def start_audit(
    session: AsyncSession,
    principal: Principal,
    audit_id: uuid.UUID,
    if_match: str | None,
    started_on: date | None = None,
) -> AuditRead:
    """``planned`` → ``in_progress`` on ``started_on`` (default today; never in the future)."""
    repo = AuditRepository(session)
    row = await _audit(repo, audit_id, for_update=True)
    if if_match is not None:
        check_version(if_match, row.version)
    if row.status != "planned":
        raise InvalidAuditTransition(f"The audit is {row.status}; only a planned audit starts.")
    started_on = started_on or today()
    if started_on > today():
        raise InvalidDates(
            "started_on must not be in the future.",
            errors=[_error("started_on", "must not be in the future", "date_in_future")],
        )
    owners = await _check_systems(repo, [uuid.UUID(s) for s in row.systems])
    await _require_independent(
        repo, row.lead_auditor, row.auditors, row.clauses, row.controls, owners
    )
    row.status = "in_progress"
    row.started_on = started_on
    return await _transitioned(repo, row, principal, AUDIT_STARTED)


async def complete_audit(
    session: AsyncSession,
    principal: Principal,
    audit_id: uuid.UUID,
    body: AuditComplete,
    if_match: str | None,
) -> AuditRead:
    repo = AuditRepository(session)
    row = await _audit(repo, audit_id, for_update=True)
    if if_match is not None:
        check_version(if_match, row.version)
    if row.status != "in_progress":
        raise InvalidAuditTransition(
            f"The audit is {row.status}; only an audit in progress is completed."
        )
    completed_on = body.completed_on or today()
    if completed_on > today() or (row.started_on is not None and completed_on < row.started_on):
        raise InvalidDates(
            f"completed_on must be between the start ({row.started_on}) and today.",
            errors=[_error("completed_on", "must be between the start and today", "date_range")],
        )
    row.status = "completed"
    row.completed_on = completed_on
    if body.conclusion is not None:
        row.conclusion = body.conclusion
    return await _transitioned(repo, row, principal, AUDIT_COMPLETED)


async def cancel_audit(
    session: AsyncSession, principal: Principal, audit_id: uuid.UUID, if_match: str | None
) -> AuditRead:
    repo = AuditRepository(session)
    row = await _audit(repo, audit_id, for_update=True)
    if if_match is not None:
        check_version(if_match, row.version)
    if row.status not in ("planned", "in_progress"):
        raise InvalidAuditTransition(f"The audit is {row.status}; it cannot be cancelled.")
    row.status = "cancelled"
    row.cancelled_at = utcnow()
    return await _transitioned(repo, row, principal, AUDIT_CANCELLED)


async def _transitioned(
    repo: AuditRepository, row: Audit, principal: Principal, event_type: EventType
) -> AuditRead:
    _touch(row, principal)
    await repo.session.flush()
    state = AuditRead.model_validate(row)
    await _emit(repo.session, event_type, row.org_id, row.id, state)
    return state


# --- Findings ---------------------------------------------------------------------------------


async def _links(session: AsyncSession, links: Sequence[FindingLink]) -> list[dict[str, str]]:
    """Canonical links, once each; 422 naming each one that names nothing in the org."""
    repo = AuditRepository(session)
    items = ItemRepository(session)
    out: list[dict[str, str]] = []
    errors = []
    for index, link in enumerate(links):
        kind = link.target_type
        canonical: str | None
        if kind == FindingTargetType.EVIDENCE:
            canonical = normalise_target("system", link.target_id)  # a UUID's canonical form
            if canonical is not None and not await items.exists(uuid.UUID(canonical)):
                canonical = None
        else:
            canonical = normalise_target(kind.value, link.target_id)
            if (
                canonical is not None
                and kind == FindingTargetType.SYSTEM
                and not await repo.system_owners([uuid.UUID(canonical)])
            ):
                canonical = None
            if (
                canonical is not None
                and kind == FindingTargetType.RISK
                and not await repo.known_risks([uuid.UUID(canonical)])
            ):
                canonical = None
        if canonical is None:
            errors.append(
                {
                    "location": ["body", "links", index],
                    "message": f"No {kind.value} {link.target_id[:60]!r} in your organisation"
                    + (
                        " (a risk registered a moment ago arrives from the risk service within "
                        "seconds)."
                        if kind == FindingTargetType.RISK
                        else "."
                    ),
                    "type": "unknown_reference",
                }
            )
            continue
        entry = {"target_type": kind.value, "target_id": canonical}
        if entry not in out:
            out.append(entry)
    if errors:
        raise UnknownReference("A link names nothing known; see `errors`.", errors=errors)
    return out


async def _finding(
    repo: AuditRepository, finding_id: uuid.UUID, *, for_update: bool = False
) -> Finding:
    row = await repo.get(Finding, finding_id, for_update=for_update)
    if row is None:
        raise FindingNotFound(f"No finding {finding_id} in your organisation.")
    return row


def _finding_read(row: Finding, nonconformity_id: uuid.UUID | None) -> FindingRead:
    return FindingRead.model_validate(row).model_copy(update={"nonconformity_id": nonconformity_id})


async def raise_finding(
    session: AsyncSession, principal: Principal, audit_id: uuid.UUID, body: FindingCreate
) -> FindingRead:
    repo = AuditRepository(session)
    audit = await _audit(repo, audit_id, for_update=True)
    if audit.status not in ("in_progress", "completed"):
        raise AuditNotInProgress(f"The audit is {audit.status}; start it before raising findings.")
    links = await _links(session, body.links)
    now = utcnow()
    row = Finding(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        audit_id=audit.id,
        kind=body.kind.value,
        title=body.title,
        description=body.description,
        status="open",
        links=links,
        raised_by=principal.subject,
        raised_at=now,
    )
    repo.add(row)
    await session.flush()
    nc_id = None
    if (severity := body.kind.severity) is not None:
        nc_id = (await corrective.open_for_finding(session, principal, row, severity)).id
    state = _finding_read(row, nc_id)
    await _emit(session, FINDING_RAISED, row.org_id, row.id, state)
    return state


async def get_finding(session: AsyncSession, finding_id: uuid.UUID) -> FindingRead:
    repo = AuditRepository(session)
    row = await _finding(repo, finding_id)
    return _finding_read(row, (await repo.nonconformity_of_findings([row.id])).get(row.id))


async def list_findings(
    session: AsyncSession, filters: FindingFilter, *, limit: int, after: uuid.UUID | None
) -> tuple[list[FindingRead], list[Finding]]:
    repo = AuditRepository(session)
    rows = await repo.findings(filters, limit=limit + 1, after=after)
    page = rows[:limit]
    ncs = await repo.nonconformity_of_findings([r.id for r in page])
    return [_finding_read(r, ncs.get(r.id)) for r in page], rows


async def list_audit_findings(
    session: AsyncSession, audit_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
) -> tuple[list[FindingRead], list[Finding]]:
    await _audit(AuditRepository(session), audit_id)
    return await list_findings(
        session, FindingFilter(audit_ids=[audit_id]), limit=limit, after=after
    )


async def update_finding(
    session: AsyncSession,
    principal: Principal,
    finding_id: uuid.UUID,
    body: FindingUpdate,
    if_match: str | None,
) -> FindingRead:
    repo = AuditRepository(session)
    row = await _finding(repo, finding_id, for_update=True)
    check_version(if_match, row.version)
    nc_id = (await repo.nonconformity_of_findings([row.id])).get(row.id)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return _finding_read(row, nc_id)
    current = FindingKind(row.kind)
    kind = body.kind or current
    if current.severity is not None and kind.severity is None:
        raise FindingKindLocked(
            f"The finding is a {current.value} and opened nonconformity {nc_id}; it cannot "
            "become an observation or opportunity for improvement."
        )
    if body.status is not None and body.status != row.status:
        if kind.severity is not None:
            raise FindingStatusFollowsNonconformity(
                "A nonconformity finding closes when its nonconformity closes "
                f"(POST /v1/nonconformities/{nc_id}/close)."
            )
        row.status = body.status.value
        row.closed_at = utcnow() if body.status == "closed" else None
    if body.links is not None:
        row.links = await _links(session, body.links)
    for name in ("title", "description"):
        if name in changes:
            setattr(row, name, changes[name])
    row.kind = kind.value
    _touch(row, principal)
    await session.flush()
    if kind.severity is not None and kind != current:
        if row.status == "closed":  # a closed observation raised to a nonconformity reopens
            row.status, row.closed_at = "open", None
        nc_id = (await corrective.open_for_finding(session, principal, row, kind.severity)).id
    state = _finding_read(row, nc_id)
    await _emit(session, FINDING_UPDATED, row.org_id, row.id, state)
    return state
