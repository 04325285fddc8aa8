"""Impact assessment use cases. Services flush, never commit: the request owns the transaction,
so each change, its history entry and its outbox event commit together or not at all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.impact import sources
from services.risk.impact.errors import (
    AssessmentIncomplete,
    AssessmentNotEditable,
    AuthorCannotApprove,
    ImpactAssessmentNotFound,
    InvalidTransition,
    ReviewerOrAuthorOnly,
    UnknownSystem,
)
from services.risk.impact.events import (
    IMPACT_ASSESSMENT_APPROVED,
    IMPACT_ASSESSMENT_CREATED,
    IMPACT_ASSESSMENT_UPDATED,
)
from services.risk.impact.models import ImpactAssessment, ImpactAssessmentChange
from services.risk.impact.repository import ImpactAssessmentRepository
from services.risk.impact.requirement import (
    RequirementBasis,
    SystemFacts,
    fundamental_rights_basis,
    fundamental_rights_fields_required,
    requirement_reasons,
)
from services.risk.impact.schemas import (
    AssessmentContents,
    AssessmentStatus,
    ImpactAssessmentCreate,
    ImpactAssessmentRead,
    ImpactAssessmentUpdate,
    RequiredAssessment,
)
from services.risk.systems.models import SystemProjection
from shared.auth import APPROVERS, Principal
from shared.db import utcnow, uuid7
from shared.events import EventType, emit, make_event
from shared.http import check_version

CONTENT_FIELDS = frozenset(AssessmentContents.model_fields)
FLOW_FIELDS = (
    "returned_by",
    "returned_at",
    "return_reason",
    "rejected_by",
    "rejected_at",
    "rejection_reason",
    "withdrawn_by",
    "withdrawn_at",
    "withdrawal_reason",
)

# What approval needs, in the order it is reported (ISO/IEC 42001 6.1.4, A.5.2–A.5.5).
REQUIRED_FOR_APPROVAL: tuple[tuple[str, str], ...] = (
    ("purpose", "State the purpose and intended use assessed."),
    ("stakeholders", "List at least one stakeholder and how they are affected."),
    ("legal_context", "Describe the legal context."),
    ("social_context", "Describe the social context."),
    ("impacts_on_individuals", "Record the impacts on individuals (A.5.4)."),
    ("impacts_on_groups", "Record the impacts on groups of individuals (A.5.4)."),
    ("impacts_on_society", "Record the societal impacts (A.5.5)."),
    ("fairness_and_bias", "Assess fairness and bias."),
    ("mitigation_measures", "List at least one mitigation measure."),
    ("human_oversight", "Describe the human oversight."),
    ("monitoring", "Describe how impacts are monitored."),
)
# EU AI Act Art. 27(1)(a)–(f), for deployers of high-risk systems.
REQUIRED_ART_27: tuple[tuple[str, str], ...] = (
    ("deployer_process", "Art. 27(1)(a): describe the processes in which the system is used."),
    ("period_and_frequency_of_use", "Art. 27(1)(b): state the period and frequency of use."),
    ("affected_person_categories", "Art. 27(1)(c): list the categories of persons affected."),
    ("specific_risks_of_harm", "Art. 27(1)(d): list the specific risks of harm."),
    ("human_oversight_measures", "Art. 27(1)(e): describe the human oversight measures."),
    (
        "measures_if_risks_materialise",
        "Art. 27(1)(f): describe the measures if the risks materialise.",
    ),
)


def to_read(row: ImpactAssessment) -> ImpactAssessmentRead:
    return ImpactAssessmentRead.model_validate(
        {
            **row.contents,
            "id": row.id,
            "org_id": row.org_id,
            "system_id": row.system_id,
            "status": row.status,
            "next_review_at": row.next_review_at,
            "version": row.version,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "created_by": row.created_by,
            "updated_by": row.updated_by,
            "submitted_by": row.submitted_by,
            "submitted_at": row.submitted_at,
            "approved_by": row.approved_by,
            "approved_at": row.approved_at,
            "superseded_by": row.superseded_by,
            "superseded_at": row.superseded_at,
            **{name: getattr(row, name) for name in FLOW_FIELDS},
        }
    )


async def _record(
    session: AsyncSession,
    row: ImpactAssessment,
    principal: Principal,
    action: str,
    changes: dict[str, Any],
    event_type: EventType,
) -> ImpactAssessmentRead:
    ImpactAssessmentRepository(session).add_change(
        ImpactAssessmentChange(
            id=uuid7(),
            org_id=row.org_id,
            assessment_id=row.id,
            version=row.version,
            action=action,
            changed_by=principal.subject,
            changed_at=utcnow(),
            changes=changes,
        )
    )
    await session.flush()
    state = to_read(row)
    await emit(
        session,
        make_event(event_type, org_id=row.org_id, subject=row.id, version=row.version, data=state),
    )
    return state


async def _get(
    repo: ImpactAssessmentRepository, assessment_id: uuid.UUID, *, for_update: bool = False
) -> ImpactAssessment:
    row = await repo.get(assessment_id, for_update=for_update)
    if row is None:
        raise ImpactAssessmentNotFound(
            f"No impact assessment {assessment_id} in your organisation."
        )
    return row


async def create_assessment(
    session: AsyncSession, principal: Principal, body: ImpactAssessmentCreate
) -> ImpactAssessmentRead:
    repo = ImpactAssessmentRepository(session)
    if await repo.system(body.system_id) is None:
        raise UnknownSystem(
            f"No AI system {body.system_id} in your organisation (or not synced yet).",
            errors=[
                {
                    "location": ["body", "system_id"],
                    "message": "No such AI system in your organisation.",
                    "type": "unknown_system",
                }
            ],
        )
    now = utcnow()
    contents = body.model_dump(mode="json", include=set(CONTENT_FIELDS))
    row = ImpactAssessment(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        system_id=body.system_id,
        status=AssessmentStatus.DRAFT.value,
        contents=contents,
        next_review_at=body.next_review_at,
        created_by=principal.subject,
        updated_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    repo.add(row)
    await session.flush()
    review = body.next_review_at.isoformat() if body.next_review_at else None
    changes = {**contents, "next_review_at": review}
    return await _record(session, row, principal, "created", changes, IMPACT_ASSESSMENT_CREATED)


async def get_assessment(session: AsyncSession, assessment_id: uuid.UUID) -> ImpactAssessmentRead:
    return to_read(await _get(ImpactAssessmentRepository(session), assessment_id))


async def list_assessments(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    ids: list[uuid.UUID],
    system_ids: list[uuid.UUID],
    statuses: list[str],
) -> tuple[list[ImpactAssessmentRead], list[ImpactAssessment]]:
    rows = await ImpactAssessmentRepository(session).page(
        limit=limit + 1, after=after, ids=ids, system_ids=system_ids, statuses=statuses
    )
    return [to_read(r) for r in rows[:limit]], rows


async def update_assessment(
    session: AsyncSession,
    principal: Principal,
    assessment_id: uuid.UUID,
    body: ImpactAssessmentUpdate,
    if_match: str | None,
) -> ImpactAssessmentRead:
    row = await _get(ImpactAssessmentRepository(session), assessment_id, for_update=True)
    check_version(if_match, row.version)
    if row.status != AssessmentStatus.DRAFT.value:
        raise AssessmentNotEditable(
            f"The assessment is {row.status}; only a draft can be changed. Start a new assessment."
        )
    sent = body.model_dump(mode="json", exclude_unset=True)
    changes: dict[str, Any] = {}
    contents = dict(row.contents)
    for name, value in sent.items():
        if name == "next_review_at":
            held = row.next_review_at.isoformat() if row.next_review_at else None
            if held != value:
                row.next_review_at = body.next_review_at
                changes[name] = value
        elif contents.get(name) != value:
            contents[name] = value
            changes[name] = value
    if not changes:
        return to_read(row)
    row.contents = contents
    row.version += 1
    row.updated_by = principal.subject
    row.updated_at = utcnow()
    return await _record(session, row, principal, "updated", changes, IMPACT_ASSESSMENT_UPDATED)


async def _missing(
    session: AsyncSession, repo: ImpactAssessmentRepository, row: ImpactAssessment
) -> list[dict[str, Any]]:
    """Every item the assessment still lacks for review and approval (Art. 27 fields included
    when Art. 27(1) binds the organisation or its risk policy asks for them)."""
    system = await repo.system(row.system_id)
    basis = fundamental_rights_basis(await facts_of(session, system)) if system else None
    return missing_for_approval(
        row.contents, row.next_review_at, fria_basis=basis, today=date.today()
    )


def _incomplete(missing: list[dict[str, Any]], step: str) -> AssessmentIncomplete:
    return AssessmentIncomplete(
        f"{step} needs {len(missing)} more item(s); see `errors` (or `missing`, as field paths).",
        errors=missing,
        missing=[".".join(m["location"][1:]) for m in missing],
    )


async def submit_assessment(
    session: AsyncSession, principal: Principal, assessment_id: uuid.UUID, if_match: str | None
) -> ImpactAssessmentRead:
    """Draft → in review, refused (422, every missing item listed) while incomplete: a reviewer
    should never receive an assessment that cannot be approved as it stands."""
    repo = ImpactAssessmentRepository(session)
    row = await _get(repo, assessment_id, for_update=True)
    if if_match is not None:
        check_version(if_match, row.version)
    if row.status != AssessmentStatus.DRAFT.value:
        raise InvalidTransition(f"The assessment is {row.status}; only a draft can be submitted.")
    if missing := await _missing(session, repo, row):
        raise _incomplete(missing, "Submitting")
    now = utcnow()
    row.status = AssessmentStatus.IN_REVIEW.value
    row.submitted_by, row.submitted_at = principal.subject, now
    row.version += 1
    row.updated_by, row.updated_at = principal.subject, now
    changes = {"status": row.status}
    return await _record(session, row, principal, "submitted", changes, IMPACT_ASSESSMENT_UPDATED)


async def facts_of(session: AsyncSession, system: SystemProjection) -> SystemFacts:
    tiers = await sources.current_tiers(session, [system.id])
    roles = await sources.current_roles(session, [system.id])
    flagged = await sources.fundamental_rights_systems(session)
    return _facts(
        system,
        tiers.get(system.id),
        roles.get(system.id),
        system.id in flagged,
        art_27=system.id in await sources.art_27_systems(session, [system.id]),
        policy=await sources.full_assessment_policy(session),
    )


def _facts(
    system: SystemProjection,
    tier: str | None,
    role: str | None,
    fundamental_rights: bool,
    *,
    art_27: bool = False,
    policy: bool = False,
) -> SystemFacts:
    """``art_27``: the current classification puts Art. 27(1) on the organisation (law);
    ``policy``: the organisation requires a full assessment of every high-risk system."""
    return SystemFacts(
        sector=system.sector,
        affected_stakeholders=tuple(system.affected_stakeholders or ()),
        data_inputs=tuple(system.data_inputs or ()),
        ai_roles=tuple(system.ai_roles or ()),
        tier=tier,
        fundamental_rights_risk=fundamental_rights,
        classification_roles=(role,) if role else (),
        art_27=art_27,
        policy_all_high_risk=policy,
    )


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


# Why the Art. 27(1)(a)-(f) fields are asked for, said in each missing item's message.
FRIA_BASIS_TEXT: dict[RequirementBasis, str] = {
    RequirementBasis.LAW: "Required: Art. 27(1) binds your organisation for this system.",
    RequirementBasis.POLICY: "Required: your organisation's risk policy requires a full "
    "assessment of every high-risk system.",
}


def missing_for_approval(
    contents: dict[str, Any],
    next_review_at: date | None,
    *,
    fria_basis: RequirementBasis | None,
    today: date,
) -> list[dict[str, Any]]:
    """Every reason the assessment cannot be approved yet, as problem+json ``errors`` items;
    ``fria_basis`` (law or policy) asks for the Art. 27(1) fields and is named in their message."""
    missing: list[dict[str, Any]] = []
    for name, message in REQUIRED_FOR_APPROVAL:
        if _empty(contents.get(name)):
            missing.append({"location": ["body", name], "message": message, "type": "missing"})
    if next_review_at is None:
        missing.append(
            {
                "location": ["body", "next_review_at"],
                "message": "Set the date of the next review.",
                "type": "missing",
            }
        )
    elif next_review_at <= today:
        missing.append(
            {
                "location": ["body", "next_review_at"],
                "message": "The next review must be after today.",
                "type": "in_past",
            }
        )
    if fria_basis in FRIA_BASIS_TEXT:
        fria = contents.get("fundamental_rights") or {}
        for name, message in REQUIRED_ART_27:
            if _empty(fria.get(name)):
                missing.append(
                    {
                        "location": ["body", "fundamental_rights", name],
                        "message": f"{message} {FRIA_BASIS_TEXT[fria_basis]}",
                        "type": "missing",
                    }
                )
    return missing


async def approve_assessment(
    session: AsyncSession, principal: Principal, assessment_id: uuid.UUID, if_match: str | None
) -> ImpactAssessmentRead:
    repo = ImpactAssessmentRepository(session)
    row = await _get(repo, assessment_id, for_update=True)
    if if_match is not None:
        check_version(if_match, row.version)
    if row.status != AssessmentStatus.IN_REVIEW.value:
        raise InvalidTransition(
            f"The assessment is {row.status}; only one in review can be approved (submit it first)."
        )
    if row.created_by == principal.subject:
        raise AuthorCannotApprove(
            "You wrote this assessment; someone else with the admin or manager role must "
            "approve it."
        )
    # Checked again: facts (tier, roles) or the date may have changed since it was submitted.
    if missing := await _missing(session, repo, row):
        raise _incomplete(missing, "Approval")
    now = utcnow()
    previous = await repo.approved_for_update(row.system_id)
    if previous is not None:
        previous.status = AssessmentStatus.SUPERSEDED.value
        previous.superseded_by, previous.superseded_at = row.id, now
        previous.version += 1
        previous.updated_by, previous.updated_at = principal.subject, now
        await session.flush()  # frees the one approved slot of the system
        await _record(
            session,
            previous,
            principal,
            "superseded",
            {"status": previous.status, "superseded_by": str(row.id)},
            IMPACT_ASSESSMENT_UPDATED,
        )
    row.status = AssessmentStatus.APPROVED.value
    row.approved_by, row.approved_at = principal.subject, now
    row.version += 1
    row.updated_by, row.updated_at = principal.subject, now
    try:
        await session.flush()
    except IntegrityError as exc:  # another assessment of the system was approved meanwhile
        raise InvalidTransition(
            "Another assessment of this system was approved meanwhile; read it and retry."
        ) from exc
    changes = {"status": row.status, "approved_by": principal.subject}
    return await _record(session, row, principal, "approved", changes, IMPACT_ASSESSMENT_APPROVED)


def _reviewer_or_author(principal: Principal, row: ImpactAssessment, action: str) -> None:
    if principal.roles & APPROVERS:
        return
    if principal.subject in {row.created_by, row.submitted_by}:
        return
    raise ReviewerOrAuthorOnly(
        f"Only a reviewer (admin, manager) or the assessment's author can {action} it."
    )


async def _transition(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    if_match: str | None,
    *,
    allowed_from: frozenset[AssessmentStatus],
    verb: str,
) -> ImpactAssessment:
    row = await _get(ImpactAssessmentRepository(session), assessment_id, for_update=True)
    if if_match is not None:
        check_version(if_match, row.version)
    if row.status not in allowed_from:
        states = " or ".join(sorted(s.value for s in allowed_from))
        raise InvalidTransition(f"The assessment is {row.status}; only one {states} can be {verb}.")
    return row


async def _moved(
    session: AsyncSession,
    principal: Principal,
    row: ImpactAssessment,
    status: AssessmentStatus,
    action: str,
    changes: dict[str, Any],
) -> ImpactAssessmentRead:
    row.status = status.value
    row.version += 1
    row.updated_by, row.updated_at = principal.subject, utcnow()
    changes = {"status": row.status, **changes}
    return await _record(session, row, principal, action, changes, IMPACT_ASSESSMENT_UPDATED)


async def send_back_assessment(
    session: AsyncSession,
    principal: Principal,
    assessment_id: uuid.UUID,
    reason: str | None,
    if_match: str | None,
) -> ImpactAssessmentRead:
    """In review → draft, so that it can be completed or corrected and submitted again."""
    row = await _transition(
        session,
        assessment_id,
        if_match,
        allowed_from=frozenset({AssessmentStatus.IN_REVIEW}),
        verb="sent back to draft",
    )
    _reviewer_or_author(principal, row, "send back")
    row.returned_by, row.returned_at, row.return_reason = principal.subject, utcnow(), reason
    return await _moved(
        session, principal, row, AssessmentStatus.DRAFT, "sent_back", {"reason": reason}
    )


async def reject_assessment(
    session: AsyncSession,
    principal: Principal,
    assessment_id: uuid.UUID,
    reason: str,
    if_match: str | None,
) -> ImpactAssessmentRead:
    """In review → rejected, with a reason; not by its author (separation of duties)."""
    row = await _transition(
        session,
        assessment_id,
        if_match,
        allowed_from=frozenset({AssessmentStatus.IN_REVIEW}),
        verb="rejected",
    )
    if row.created_by == principal.subject:
        raise AuthorCannotApprove(
            "You wrote this assessment; someone else must review it. Withdraw it instead."
        )
    row.rejected_by, row.rejected_at, row.rejection_reason = principal.subject, utcnow(), reason
    return await _moved(
        session, principal, row, AssessmentStatus.REJECTED, "rejected", {"reason": reason}
    )


async def withdraw_assessment(
    session: AsyncSession,
    principal: Principal,
    assessment_id: uuid.UUID,
    reason: str | None,
    if_match: str | None,
) -> ImpactAssessmentRead:
    """Draft or in review → withdrawn (no longer pursued: the system was dropped, a newer
    assessment replaces it, …)."""
    row = await _transition(
        session,
        assessment_id,
        if_match,
        allowed_from=frozenset({AssessmentStatus.DRAFT, AssessmentStatus.IN_REVIEW}),
        verb="withdrawn",
    )
    _reviewer_or_author(principal, row, "withdraw")
    row.withdrawn_by, row.withdrawn_at, row.withdrawal_reason = principal.subject, utcnow(), reason
    return await _moved(
        session, principal, row, AssessmentStatus.WITHDRAWN, "withdrawn", {"reason": reason}
    )


async def reopen_assessment(
    session: AsyncSession, principal: Principal, assessment_id: uuid.UUID, if_match: str | None
) -> ImpactAssessmentRead:
    """Rejected or withdrawn → draft: revise and submit again (the history keeps the rest)."""
    row = await _transition(
        session,
        assessment_id,
        if_match,
        allowed_from=frozenset({AssessmentStatus.REJECTED, AssessmentStatus.WITHDRAWN}),
        verb="reopened",
    )
    return await _moved(session, principal, row, AssessmentStatus.DRAFT, "reopened", {})


async def history(
    session: AsyncSession, assessment_id: uuid.UUID, *, limit: int, before_version: int | None
) -> list[ImpactAssessmentChange]:
    repo = ImpactAssessmentRepository(session)
    await _get(repo, assessment_id)
    return await repo.history(assessment_id, limit=limit, before_version=before_version)


@dataclass(frozen=True)
class RequiredPage:
    items: list[RequiredAssessment]
    more: bool


async def required_assessments(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    missing_only: bool,
    today: date,
) -> RequiredPage:
    """Systems that need an assessment (by id), optionally only those lacking a current one.

    Scans the systems in batches, so a filtered page may read more systems than it returns.
    """
    repo = ImpactAssessmentRepository(session)
    flagged = await sources.fundamental_rights_systems(session)
    policy = await sources.full_assessment_policy(session)
    batch = max(limit * 2, 100)
    items: list[RequiredAssessment] = []
    cursor = after
    while True:
        systems = await repo.live_systems(limit=batch, after=cursor)
        if not systems:
            return RequiredPage(items=items, more=False)
        ids = [s.id for s in systems]
        tiers = await sources.current_tiers(session, ids)
        roles = await sources.current_roles(session, ids)
        art_27 = await sources.art_27_systems(session, ids)
        approved = await repo.approved_of(ids)
        latest = await repo.latest_of(ids)
        for system in systems:
            facts = _facts(
                system,
                tiers.get(system.id),
                roles.get(system.id),
                system.id in flagged,
                art_27=system.id in art_27,
                policy=policy,
            )
            reasons = requirement_reasons(facts)
            if not reasons:
                continue
            current = approved.get(system.id)
            has_current = current is not None and (
                current.next_review_at is None or current.next_review_at >= today
            )
            if missing_only and has_current:
                continue
            if len(items) == limit:
                return RequiredPage(items=items, more=True)
            newest = latest.get(system.id)
            items.append(
                RequiredAssessment(
                    id=system.id,
                    system_id=system.id,
                    name=system.name,
                    lifecycle_stage=system.lifecycle_stage,
                    reasons=reasons,
                    fundamental_rights_fields_required=fundamental_rights_fields_required(facts),
                    approved_assessment_id=current.id if current else None,
                    next_review_at=current.next_review_at if current else None,
                    has_current_assessment=has_current,
                    latest_assessment_id=newest[0] if newest else None,
                    latest_status=AssessmentStatus(newest[1]) if newest else None,
                )
            )
        if len(systems) < batch:
            return RequiredPage(items=items, more=False)
        cursor = systems[-1].id
