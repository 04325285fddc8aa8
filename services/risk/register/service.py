"""Risk register use cases. Services flush, never commit: the request (or consumer) owns the
transaction, so a change, its history row and its outbox event commit together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.policy.service import get_policy
from services.risk.reference import load_reference
from services.risk.register import scoring
from services.risk.register.errors import (
    InvalidCadence,
    InvalidRisk,
    InvalidRiskMatrix,
    MatrixVersionNotFound,
    RiskClosed,
    RiskNotFound,
    SelfAcceptance,
)
from services.risk.register.events import (
    REVIEW_DUE,
    RISK_ACCEPTED,
    RISK_ASSESSED,
    RISK_CREATED,
    RISK_UPDATED,
)
from services.risk.register.models import (
    Risk,
    RiskHistory,
    RiskMatrixVersion,
    RiskReviewCadence,
)
from services.risk.register.repository import RiskFilter, RiskRepository
from services.risk.register.schemas import (
    SETTABLE_STATUSES,
    Basis,
    CellCount,
    DomainCount,
    LevelCount,
    RescoreMove,
    RescoreReport,
    ReviewCadences,
    ReviewCadencesPut,
    ReviewDue,
    ReviewReason,
    RiskAccept,
    RiskCreate,
    RiskDashboard,
    RiskHistoryEntry,
    RiskMatrixPut,
    RiskMatrixRead,
    RiskRead,
    RiskStatus,
    RiskSummary,
    RiskUpdate,
    ScoreMove,
    SystemCount,
    SystemRisks,
    Treatment,
)
from services.risk.systems.models import SystemProjection
from shared.audit import append_audit
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.events import EventType, emit, make_event
from shared.http import check_version
from shared.scheduler import Timer, set_timer

SYSTEM_ACTOR = "system:risk"
# Default review cadences, lowest level → highest; spread over however many levels a matrix has.
DEFAULT_CADENCE_DAYS = [365, 180, 90, 60, 30]
SCORE_FIELDS = ("likelihood", "severity", "residual_likelihood", "residual_severity")
# Timer kinds of the register (``shared.scheduler``): a risk's review date, a system's.
RISK_REVIEW_TIMER = "risk.review"
SYSTEM_REVIEW_TIMER = "system.review"

# --- Reference data ---------------------------------------------------------------------------


def _subdomains() -> dict[str, str]:
    """MIT subdomain id → its domain id."""
    data = load_reference("mit_ai_risk_domains")
    return {sub["id"]: dom["id"] for dom in data["domains"] for sub in dom["subdomains"]}


def _domains() -> set[str]:
    return {dom["id"] for dom in load_reference("mit_ai_risk_domains")["domains"]}


def _control_ids() -> set[str]:
    return {c["id"] for c in load_reference("iso42001_annex_a")["controls"]}


def _error(field: str, message: str, type_: str) -> dict[str, Any]:
    return {"location": ["body", field], "message": message, "type": type_}


# --- Matrices ---------------------------------------------------------------------------------


def _matrix_read(row: RiskMatrixVersion) -> RiskMatrixRead:
    return RiskMatrixRead.model_validate(row)


def definition_of(row: RiskMatrixVersion) -> scoring.MatrixDefinition:
    return scoring.matrix_from_json(row.definition)


async def current_matrix(session: AsyncSession, org_id: uuid.UUID) -> RiskMatrixVersion:
    """The org's current matrix version; the default 5×5 becomes version 1 on first use."""
    repo = RiskRepository(session)
    row = await repo.current_matrix(org_id)
    if row is not None:
        return row
    await repo.lock_matrices(org_id)
    row = await repo.current_matrix(org_id)
    if row is not None:
        return row
    preset = scoring.MatrixPreset.DEFAULT_5X5
    row = RiskMatrixVersion(
        id=uuid7(),
        org_id=org_id,
        number=1,
        preset=preset.value,
        definition=scoring.PRESETS[preset].model_dump(mode="json"),
        created_at=utcnow(),
        created_by=SYSTEM_ACTOR,
    )
    repo.add(row)
    await session.flush()
    return row


async def get_current_matrix(session: AsyncSession, principal: Principal) -> RiskMatrixRead:
    return _matrix_read(await current_matrix(session, principal.org_id))


async def get_matrix_version(
    session: AsyncSession, principal: Principal, number: int
) -> RiskMatrixRead:
    await current_matrix(session, principal.org_id)
    row = await RiskRepository(session).matrix(principal.org_id, number)
    if row is None:
        raise MatrixVersionNotFound(f"Your organisation has no risk matrix version {number}.")
    return _matrix_read(row)


async def list_matrix_versions(session: AsyncSession, principal: Principal) -> list[RiskMatrixRead]:
    await current_matrix(session, principal.org_id)
    return [_matrix_read(r) for r in await RiskRepository(session).matrices(principal.org_id)]


async def put_matrix(
    session: AsyncSession, principal: Principal, body: RiskMatrixPut, if_match: str | None
) -> RiskMatrixRead:
    """A new matrix version; earlier versions, and the assessments scored on them, stay."""
    repo = RiskRepository(session)
    current = await current_matrix(session, principal.org_id)
    await repo.lock_matrices(principal.org_id)
    current = await repo.current_matrix(principal.org_id) or current
    check_version(if_match, current.number)
    if body.preset is not None:
        definition = scoring.PRESETS[body.preset]
    else:
        assert body.definition is not None
        definition = body.definition
    try:
        scoring.validate_matrix(definition)
    except scoring.MatrixInvalid as exc:
        raise InvalidRiskMatrix(
            "The matrix is not valid; see `errors`.",
            errors=[
                {
                    "location": ["body", "definition", *p.location],
                    "message": p.message,
                    "type": "invalid_matrix",
                }
                for p in exc.problems
            ],
        ) from exc
    row = RiskMatrixVersion(
        id=uuid7(),
        org_id=principal.org_id,
        number=current.number + 1,
        preset=body.preset.value if body.preset is not None else None,
        definition=definition.model_dump(mode="json"),
        created_at=utcnow(),
        created_by=principal.subject,
    )
    repo.add(row)
    await session.flush()
    read = _matrix_read(row)
    # Matrix versions emit no event; the trail still records who replaced the scoring rules.
    await append_audit(
        session,
        org_id=principal.org_id,
        action="aims.risk.matrix.replaced",
        entity_type="risk_matrix",
        entity_id=principal.org_id,
        before=_matrix_read(current).model_dump(mode="json"),
        after=read.model_dump(mode="json"),
    )
    return read


# --- Review cadences --------------------------------------------------------------------------


def default_cadence(matrix: scoring.MatrixDefinition) -> dict[str, int]:
    n = len(matrix.levels)
    size = len(DEFAULT_CADENCE_DAYS)
    return {
        level: DEFAULT_CADENCE_DAYS[scoring.carry_over(i + 1, n, size) - 1]
        for i, level in enumerate(matrix.levels)
    }


async def get_cadences(session: AsyncSession, principal: Principal) -> ReviewCadences:
    matrix = definition_of(await current_matrix(session, principal.org_id))
    row = await RiskRepository(session).cadence(principal.org_id)
    days = default_cadence(matrix) | (dict(row.days_by_level) if row is not None else {})
    return ReviewCadences(days_by_level=days, version=row.version if row is not None else 0)


async def put_cadences(
    session: AsyncSession, principal: Principal, body: ReviewCadencesPut, if_match: str | None
) -> ReviewCadences:
    repo = RiskRepository(session)
    row = await repo.cadence(principal.org_id, for_update=True)
    check_version(if_match, row.version if row is not None else 0)
    known = {lvl for m in await repo.matrices(principal.org_id) for lvl in definition_of(m).levels}
    known |= set(definition_of(await current_matrix(session, principal.org_id)).levels)
    errors = [
        {
            "location": ["body", "days_by_level", level],
            "message": f"`{level}` is not a level of any of your risk matrices.",
            "type": "unknown_level",
        }
        for level in body.days_by_level
        if level not in known
    ]
    if errors:
        raise InvalidCadence("Unknown levels; see `errors`.", errors=errors)
    if row is None:
        row = RiskReviewCadence(
            org_id=principal.org_id,
            days_by_level=dict(body.days_by_level),
            version=1,
            updated_at=utcnow(),
            updated_by=principal.subject,
        )
        repo.add(row)
    else:
        row.days_by_level = dict(body.days_by_level)
        row.version += 1
        row.updated_at = utcnow()
        row.updated_by = principal.subject
    await session.flush()
    cadences = await get_cadences(session, principal)
    await append_audit(
        session,
        org_id=principal.org_id,
        action="aims.risk.review_cadences.replaced",
        entity_type="review_cadences",
        entity_id=principal.org_id,
        after=cadences.model_dump(mode="json"),
    )
    return cadences


async def _cadence_days(
    session: AsyncSession, org_id: uuid.UUID, matrix: scoring.MatrixDefinition
) -> dict[str, int]:
    row = await RiskRepository(session).cadence(org_id)
    return default_cadence(matrix) | (dict(row.days_by_level) if row is not None else {})


# --- Scoring a risk ---------------------------------------------------------------------------


def _check_scores(
    matrix: scoring.MatrixDefinition, values: dict[str, int | None], errors: list[dict[str, Any]]
) -> None:
    sizes = {
        "likelihood": len(matrix.likelihood_labels),
        "residual_likelihood": len(matrix.likelihood_labels),
        "severity": len(matrix.severity_labels),
        "residual_severity": len(matrix.severity_labels),
    }
    for field, value in values.items():
        if value is not None and not 1 <= value <= sizes[field]:
            errors.append(
                _error(
                    field,
                    f"`{field}` must be 1…{sizes[field]} on your current risk matrix.",
                    "off_scale",
                )
            )
    if (values.get("residual_likelihood") is None) != (values.get("residual_severity") is None):
        errors.append(
            _error(
                "residual_severity",
                "Give residual likelihood and residual severity together.",
                "incomplete",
            )
        )


def _apply_scores(
    risk: Risk,
    version: RiskMatrixVersion,
    matrix: scoring.MatrixDefinition,
    cadence: dict[str, int],
    values: dict[str, int | None],
    now: datetime,
) -> None:
    """Score ``risk`` on ``version`` and set its next review from the cadence of its level."""
    risk.matrix_version = version.number
    risk.likelihood = int(values["likelihood"] or 1)
    risk.severity = int(values["severity"] or 1)
    risk.inherent_level = scoring.level_for(matrix, risk.likelihood, risk.severity)
    risk.inherent_rank = scoring.rank_of(matrix, risk.inherent_level)
    rl, rs = values.get("residual_likelihood"), values.get("residual_severity")
    risk.residual_likelihood, risk.residual_severity = rl, rs
    if rl is not None and rs is not None:
        risk.residual_level = scoring.level_for(matrix, rl, rs)
        risk.residual_rank = scoring.rank_of(matrix, risk.residual_level)
    else:
        risk.residual_level = None
        risk.residual_rank = None
    risk.assessed_at = now
    risk.next_review_at = now + timedelta(days=cadence[_effective_residual(risk)])


def _void_acceptance(risk: Risk) -> None:
    risk.accepted_by = None
    risk.accepted_at = None
    risk.acceptance_rationale = None
    if risk.status == RiskStatus.ACCEPTED.value:
        risk.status = RiskStatus.OPEN.value
    if risk.status_before_review == RiskStatus.ACCEPTED.value:
        risk.status_before_review = RiskStatus.OPEN.value


def _effective_residual(risk: Risk) -> str:
    """Until residual scores are given, the residual risk is the inherent one."""
    return risk.residual_level or risk.inherent_level


def _set_flags(risk: Risk, matrix: scoring.MatrixDefinition) -> None:
    risk.above_tolerance = (
        scoring.above_tolerance(matrix, _effective_residual(risk)) and risk.accepted_at is None
    )
    risk.missing_controls = risk.treatment == Treatment.MITIGATE.value and not risk.control_ids


# --- Risks ------------------------------------------------------------------------------------


async def _check_references(
    session: AsyncSession, values: dict[str, Any], errors: list[dict[str, Any]]
) -> None:
    if values.get("system_id") is not None and not await RiskRepository(session).system_known(
        values["system_id"]
    ):
        errors.append(
            _error(
                "system_id",
                "The risk service knows no such AI system in your organisation.",
                "unknown_system",
            )
        )
    domain, subdomain = values.get("domain_id"), values.get("subdomain_id")
    if domain is not None and domain not in _domains():
        errors.append(
            _error("domain_id", f"`{domain}` is not an MIT AI risk domain (1–7).", "unknown_domain")
        )
    elif subdomain is not None:
        parent = _subdomains().get(subdomain)
        if parent is None:
            errors.append(
                _error(
                    "subdomain_id",
                    f"`{subdomain}` is not an MIT AI risk subdomain.",
                    "unknown_subdomain",
                )
            )
        elif domain is not None and parent != domain:
            errors.append(
                _error(
                    "subdomain_id",
                    f"Subdomain `{subdomain}` belongs to domain {parent}, not {domain}.",
                    "subdomain_mismatch",
                )
            )
    known = _control_ids()
    for i, control in enumerate(values.get("control_ids") or []):
        if control not in known:
            errors.append(
                {
                    "location": ["body", "control_ids", i],
                    "message": f"`{control}` is not an ISO/IEC 42001 Annex A control.",
                    "type": "unknown_control",
                }
            )


def _read(risk: Risk) -> RiskRead:
    return RiskRead.model_validate(risk)


async def _record(
    session: AsyncSession, risk: Risk, event_type: EventType, action: str, actor: str
) -> RiskRead:
    await session.flush()
    # Every change passes here: keep the review timer on the risk's current review date (the
    # same date leaves a fired timer fired; a closed risk has none).
    await set_timer(
        session,
        org_id=risk.org_id,
        kind=RISK_REVIEW_TIMER,
        entity_id=risk.id,
        due_at=None if risk.status == RiskStatus.CLOSED.value else risk.next_review_at,
    )
    state = _read(risk)
    RiskRepository(session).add(
        RiskHistory(
            id=uuid7(),
            org_id=risk.org_id,
            risk_id=risk.id,
            version=risk.version,
            action=action,
            changed_by=actor,
            changed_at=risk.updated_at,
            state=state.model_dump(mode="json"),
        )
    )
    await emit(
        session,
        make_event(
            event_type, org_id=risk.org_id, subject=risk.id, version=risk.version, data=state
        ),
    )
    return state


async def create_risk(session: AsyncSession, principal: Principal, body: RiskCreate) -> RiskRead:
    version = await current_matrix(session, principal.org_id)
    matrix = definition_of(version)
    values = body.model_dump()
    errors: list[dict[str, Any]] = []
    await _check_references(session, values, errors)
    _check_scores(matrix, {f: values[f] for f in SCORE_FIELDS}, errors)
    if errors:
        raise InvalidRisk("The risk does not fit; see `errors`.", errors=errors)
    now = utcnow()
    risk = Risk(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        system_id=body.system_id,
        title=body.title,
        description=body.description,
        domain_id=body.domain_id,
        subdomain_id=body.subdomain_id,
        entity=body.entity.value,
        intent=body.intent.value,
        timing=body.timing.value,
        affected_stakeholders=sorted({s.value for s in body.affected_stakeholders}),
        lifecycle_stage=body.lifecycle_stage.value if body.lifecycle_stage else None,
        fundamental_rights=body.fundamental_rights,
        inherent_level="",
        treatment=body.treatment.value if body.treatment else None,
        treatment_plan=body.treatment_plan,
        owner=body.owner,
        due_date=body.due_date,
        control_ids=list(dict.fromkeys(body.control_ids)),
        status=RiskStatus.OPEN.value,
        created_by=principal.subject,
        updated_by=principal.subject,
    )
    cadence = await _cadence_days(session, principal.org_id, matrix)
    _apply_scores(risk, version, matrix, cadence, {f: values[f] for f in SCORE_FIELDS}, now)
    if body.next_review_at is not None:
        risk.next_review_at = body.next_review_at
    _set_flags(risk, matrix)
    RiskRepository(session).add(risk)
    return await _record(session, risk, RISK_CREATED, "created", principal.subject)


async def get_risk(session: AsyncSession, risk_id: uuid.UUID) -> RiskRead:
    risk = await RiskRepository(session).get(risk_id)
    if risk is None:
        raise RiskNotFound(f"No risk {risk_id} in your organisation.")
    return _read(risk)


async def list_risks(
    session: AsyncSession, filter: RiskFilter, *, limit: int, after: uuid.UUID | None
) -> tuple[list[RiskRead], list[Risk]]:
    rows = await RiskRepository(session).page(filter, limit=limit + 1, after=after)
    return [_read(r) for r in rows[:limit]], rows


async def risks_by_system(
    session: AsyncSession, filter: RiskFilter, *, first: int
) -> list[SystemRisks]:
    """Each system's first ``first`` matching risks and their total, in the order asked
    (duplicates answered once; one query whatever the number of systems)."""
    wanted = list(dict.fromkeys(filter.system_ids))
    if not wanted:
        return []
    grouped: dict[uuid.UUID, SystemRisks] = {
        sid: SystemRisks(system_id=sid, total_count=0, items=[]) for sid in wanted
    }
    for risk, total in await RiskRepository(session).by_system(filter, first=first):
        if risk.system_id in grouped:
            entry = grouped[risk.system_id]
            entry.total_count = total
            entry.items.append(_read(risk))
    return [grouped[sid] for sid in wanted]


async def update_risk(
    session: AsyncSession,
    principal: Principal,
    risk_id: uuid.UUID,
    body: RiskUpdate,
    if_match: str | None,
) -> RiskRead:
    repo = RiskRepository(session)
    risk = await repo.get(risk_id, for_update=True)
    if risk is None:
        raise RiskNotFound(f"No risk {risk_id} in your organisation.")
    check_version(if_match, risk.version)
    changes = body.model_dump(exclude_unset=True)
    for required in (
        "title",
        "domain_id",
        "subdomain_id",
        "entity",
        "intent",
        "timing",
        "affected_stakeholders",
        "fundamental_rights",
        "control_ids",
        "description",
        "next_review_at",
    ):
        if required in changes and changes[required] is None:
            changes.pop(required)
    if not changes:
        return _read(risk)
    if risk.status == RiskStatus.CLOSED.value and changes.get("status") in (None, "closed"):
        raise RiskClosed("The risk is closed; reopen it (`status: open`) to change it.")
    errors: list[dict[str, Any]] = []
    refs = dict(changes)
    if "subdomain_id" in changes or "domain_id" in changes:
        refs.setdefault("domain_id", risk.domain_id)
        refs.setdefault("subdomain_id", risk.subdomain_id)
    await _check_references(session, refs, errors)
    status = changes.pop("status", None)
    if status is not None and status not in {s.value for s in SETTABLE_STATUSES}:
        errors.append(
            _error(
                "status",
                "Set `open`, `treated` or `closed`; acceptance has its own "
                "endpoint and reviews are due from system changes.",
                "status_not_settable",
            )
        )
    rescored = any(f in changes for f in SCORE_FIELDS)
    version = await current_matrix(session, principal.org_id)
    matrix = definition_of(version)
    scores: dict[str, int | None] = {}
    if rescored:
        scores = {f: getattr(risk, f) for f in SCORE_FIELDS}
        scores.update({f: changes.pop(f) for f in SCORE_FIELDS if f in changes})
        if scores["likelihood"] is None or scores["severity"] is None:
            errors.append(
                _error("likelihood", "Likelihood and severity cannot be removed.", "missing")
            )
        _check_scores(matrix, scores, errors)
    if errors:
        raise InvalidRisk("The change does not fit; see `errors`.", errors=errors)
    now = utcnow()
    review_at = changes.pop("next_review_at", None)
    for field, value in changes.items():
        if field == "affected_stakeholders":
            value = sorted(set(value))
        elif field == "control_ids":
            value = list(dict.fromkeys(value))
        setattr(risk, field, value.value if hasattr(value, "value") else value)
    if rescored:
        cadence = await _cadence_days(session, principal.org_id, matrix)
        residual_given = {"residual_likelihood", "residual_severity"} & body.model_fields_set
        if residual_given and risk.accepted_at is not None:
            _void_acceptance(risk)  # a new residual scoring needs a new acceptance
        _apply_scores(risk, version, matrix, cadence, scores, now)
        if risk.status == RiskStatus.REVIEW_DUE.value:
            risk.status = risk.status_before_review or RiskStatus.OPEN.value
            risk.status_before_review = None
    else:
        matrix = definition_of(await repo.matrix(risk.org_id, risk.matrix_version) or version)
    if review_at is not None:
        risk.next_review_at = review_at  # given explicitly: wins over the cadence
    if status is not None:
        risk.status = status
        risk.status_before_review = None
    _set_flags(risk, matrix)
    risk.version += 1
    risk.updated_at = now
    risk.updated_by = principal.subject
    event_type = RISK_ASSESSED if rescored else RISK_UPDATED
    return await _record(
        session, risk, event_type, "assessed" if rescored else "updated", principal.subject
    )


async def accept_risk(
    session: AsyncSession,
    principal: Principal,
    risk_id: uuid.UUID,
    body: RiskAccept,
    if_match: str | None,
) -> RiskRead:
    repo = RiskRepository(session)
    risk = await repo.get(risk_id, for_update=True)
    if risk is None:
        raise RiskNotFound(f"No risk {risk_id} in your organisation.")
    check_version(if_match, risk.version)
    if risk.status == RiskStatus.CLOSED.value:
        raise RiskClosed("A closed risk cannot be accepted.")
    roles = _own_roles(risk, principal, await repo.past_owners(risk_id))
    self_accepted = bool(roles)
    if self_accepted and not (await get_policy(session)).allow_self_acceptance:
        raise SelfAcceptance(
            f"You {' and '.join(roles)} this risk; someone else must accept it (separation of "
            "duties). Your organisation's risk policy can allow self-acceptance "
            "(`allow_self_acceptance` in /v1/risk-policy)."
        )
    matrix_row = await repo.matrix(risk.org_id, risk.matrix_version)
    assert matrix_row is not None
    now = utcnow()
    risk.accepted_by = principal.subject
    risk.accepted_at = now
    risk.acceptance_rationale = body.rationale
    if risk.status == RiskStatus.REVIEW_DUE.value:
        risk.status_before_review = RiskStatus.ACCEPTED.value
    else:
        risk.status = RiskStatus.ACCEPTED.value
    _set_flags(risk, definition_of(matrix_row))
    risk.version += 1
    risk.updated_at = now
    risk.updated_by = principal.subject
    # Self-acceptance is only possible because of the organisation's policy: say so in the trail.
    action = "self_accepted_by_policy" if self_accepted else "accepted"
    return await _record(session, risk, RISK_ACCEPTED, action, principal.subject)


def _same_person(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.strip().casefold() == b.strip().casefold())


def _own_roles(risk: Risk, principal: Principal, past_owners: Sequence[str] = ()) -> list[str]:
    """How the caller is tied to the risk: ``created`` it, ``own`` it (the owner field names the
    caller's subject or display name), or ``owned`` it earlier (handing a risk to someone else
    does not let its owner accept it)."""

    def names_caller(owner: str | None) -> bool:
        return _same_person(owner, principal.subject) or _same_person(owner, principal.name)

    roles = []
    if _same_person(risk.created_by, principal.subject):
        roles.append("created")
    if names_caller(risk.owner):
        roles.append("own")
    elif any(names_caller(owner) for owner in past_owners):
        roles.append("owned")
    return roles


async def history(
    session: AsyncSession, risk_id: uuid.UUID, *, limit: int, after: int | None
) -> tuple[list[RiskHistoryEntry], int]:
    repo = RiskRepository(session)
    if await repo.get(risk_id) is None:
        raise RiskNotFound(f"No risk {risk_id} in your organisation.")
    rows = await repo.history(risk_id, limit=limit + 1, after=after)
    return [RiskHistoryEntry.model_validate(r) for r in rows[:limit]], len(rows)


async def rescore(session: AsyncSession, principal: Principal, dry_run: bool) -> RescoreReport:
    """Re-score every non-closed risk on the current matrix version and report what moved.

    Positions move onto scales of another size by their place on the scale
    (:func:`scoring.rescale`): a trip through a coarser matrix and back never raises a score.
    """
    repo = RiskRepository(session)
    version = await current_matrix(session, principal.org_id)
    matrix = definition_of(version)
    matrices = {m.number: definition_of(m) for m in await repo.matrices(principal.org_id)}
    cadence = await _cadence_days(session, principal.org_id, matrix)
    moved: list[RescoreMove] = []
    risks = await repo.open_risks(principal.org_id, for_update=not dry_run)
    now = utcnow()
    rescored = 0
    for risk in risks:
        if risk.matrix_version == version.number:
            continue
        rescored += 1
        old = matrices[risk.matrix_version]
        scores = rescaled_scores(risk, old, matrix)
        inherent_to = scoring.level_for(
            matrix, int(scores["likelihood"] or 1), int(scores["severity"] or 1)
        )
        residual_to = (
            scoring.level_for(
                matrix, int(scores["residual_likelihood"]), int(scores["residual_severity"] or 1)
            )
            if scores["residual_likelihood"] is not None
            else None
        )
        level_changed = inherent_to != risk.inherent_level or residual_to != risk.residual_level
        voids = risk.accepted_at is not None and (residual_to or inherent_to) != (
            _effective_residual(risk)
        )
        score_changed = any(scores[f] != getattr(risk, f) for f in SCORE_FIELDS)
        if level_changed or score_changed:
            moved.append(
                RescoreMove(
                    risk_id=risk.id,
                    title=risk.title,
                    from_matrix_version=risk.matrix_version,
                    to_matrix_version=version.number,
                    inherent_from=risk.inherent_level,
                    inherent_to=inherent_to,
                    residual_from=risk.residual_level,
                    residual_to=residual_to,
                    level_changed=level_changed,
                    acceptance_voided=voids,
                    **{
                        f: ScoreMove(before=getattr(risk, f), after=scores[f]) for f in SCORE_FIELDS
                    },
                )
            )
        if dry_run:
            continue
        _apply_scores(risk, version, matrix, cadence, scores, now)
        if voids:
            _void_acceptance(risk)
        _set_flags(risk, matrix)
        risk.version += 1
        risk.updated_at = now
        risk.updated_by = principal.subject
        await _record(session, risk, RISK_ASSESSED, "rescored", principal.subject)
    return RescoreReport(
        matrix_version=version.number,
        dry_run=dry_run,
        examined=len(risks),
        rescored=rescored,
        moved=moved,
    )


def rescaled_scores(
    risk: Risk, old: scoring.MatrixDefinition, new: scoring.MatrixDefinition
) -> dict[str, int | None]:
    """A risk's positions moved from the scales of ``old`` onto those of ``new``."""
    nl, ns = len(old.likelihood_labels), len(old.severity_labels)
    ml, ms = len(new.likelihood_labels), len(new.severity_labels)
    scores: dict[str, int | None] = {
        "likelihood": scoring.rescale(risk.likelihood, nl, ml),
        "severity": scoring.rescale(risk.severity, ns, ms),
        "residual_likelihood": None,
        "residual_severity": None,
    }
    if risk.residual_likelihood is not None and risk.residual_severity is not None:
        scores["residual_likelihood"] = scoring.rescale(risk.residual_likelihood, nl, ml)
        scores["residual_severity"] = scoring.rescale(risk.residual_severity, ns, ms)
    return scores


async def summaries(
    session: AsyncSession, principal: Principal, system_ids: list[uuid.UUID]
) -> list[RiskSummary]:
    if not system_ids:
        return []
    rows = await RiskRepository(session).summaries(principal.org_id, system_ids)
    found = {r.system_id: r for r in rows}
    return [
        RiskSummary(
            id=sid,
            open_count=found[sid].open_count if sid in found else 0,
            highest_residual_level=found[sid].highest if sid in found else None,
        )
        for sid in dict.fromkeys(system_ids)
    ]


# Bitmasks of GROUPING(likelihood, severity, level, domain_id, system_id) per grouping set.
_CELL, _LEVEL, _DOMAIN, _SYSTEM = 0b00111, 0b11011, 0b11101, 0b11110


async def dashboard(session: AsyncSession, principal: Principal, basis: Basis) -> RiskDashboard:
    version = await current_matrix(session, principal.org_id)
    matrix = definition_of(version)
    rows = await RiskRepository(session).dashboard(principal.org_id, basis)
    cells, levels, domains, systems = [], [], [], []
    for row in rows:
        if row.g == _CELL:
            cells.append(CellCount(likelihood=row.likelihood, severity=row.severity, count=row.n))
        elif row.g == _LEVEL:
            levels.append(LevelCount(level=row.level, count=row.n))
        elif row.g == _DOMAIN:
            domains.append(DomainCount(domain_id=row.domain_id, count=row.n))
        elif row.g == _SYSTEM:
            systems.append(SystemCount(system_id=row.system_id, count=row.n))
    order = {name: i for i, name in enumerate(matrix.levels)}
    cells.sort(key=lambda c: (c.likelihood, c.severity))
    levels.sort(key=lambda c: (order.get(c.level, len(order)), c.level))
    domains.sort(key=lambda c: c.domain_id)
    systems.sort(key=lambda c: (-c.count, str(c.system_id)))
    return RiskDashboard(
        basis=basis,
        matrix_version=version.number,
        total=sum(c.count for c in levels),
        cells=cells,
        levels=levels,
        domains=domains,
        systems=systems,
    )


# --- Reassessment -----------------------------------------------------------------------------


async def mark_for_review(
    session: AsyncSession, system: SystemProjection, changed: frozenset[str]
) -> None:
    """A system's facts changed: its open risks are due for review (``review.due``)."""
    risks = await RiskRepository(session).risks_to_review(system.id)
    if not risks:
        return
    now = utcnow()
    actor = SYSTEM_ACTOR
    for risk in risks:
        risk.status_before_review = risk.status
        risk.status = RiskStatus.REVIEW_DUE.value
        risk.version += 1
        risk.updated_at = now
        risk.updated_by = actor
        await _record(session, risk, RISK_UPDATED, "review_due", actor)
    data = ReviewDue(
        system_id=system.id, risk_ids=[r.id for r in risks], changed_facts=sorted(changed)
    )
    await emit(
        session,
        make_event(
            REVIEW_DUE,
            org_id=system.org_id,
            subject=system.id,
            version=system.source_version,
            data=data,
        ),
    )


async def review_date_passed(session: AsyncSession, timer: Timer) -> None:
    """A risk's review timer came due: mark it ``review_due`` and emit ``review.due``.

    Runs in the scheduler's transaction, scoped to the timer's org; re-reads the risk, because
    the timer may be stale (a re-scored risk moved its date, a closed risk needs no review).
    """
    # NOWAIT: the scheduler holds the timer's row lock, and a request changing this risk locks
    # the risk before re-arming the timer; waiting here could deadlock. A busy risk fails the
    # job, which is retried after the scheduler's back-off.
    risk = await RiskRepository(session).get(uuid.UUID(timer.entity_id), nowait=True)
    if risk is None or risk.status == RiskStatus.CLOSED.value:
        return
    now = utcnow()
    if risk.next_review_at is None or risk.next_review_at > now:
        # The date moved without the timer following it: follow it now (not fired).
        await set_timer(
            session,
            org_id=risk.org_id,
            kind=RISK_REVIEW_TIMER,
            entity_id=risk.id,
            due_at=risk.next_review_at,
        )
        return
    if risk.status != RiskStatus.REVIEW_DUE.value:
        risk.status_before_review = risk.status
        risk.status = RiskStatus.REVIEW_DUE.value
        risk.version += 1
        risk.updated_at = now
        risk.updated_by = SYSTEM_ACTOR
        await _record(session, risk, RISK_UPDATED, "review_due", SYSTEM_ACTOR)
    data = ReviewDue(
        system_id=risk.system_id,
        risk_ids=[risk.id],
        reason=ReviewReason.REVIEW_DATE_PASSED,
        due_at=risk.next_review_at,
    )
    await emit(
        session,
        make_event(
            REVIEW_DUE, org_id=risk.org_id, subject=risk.id, version=risk.version, data=data
        ),
    )


async def system_review_date_passed(session: AsyncSession, timer: Timer) -> None:
    """The inventory's review date of a system passed: emit ``review.due`` for it.

    The risk service does not keep the system's review date in its projection: the timer,
    armed from each newer ``aims.inventory.system.*`` event, holds it. The system's risks keep
    their status (their own review dates govern them); the event lists those not closed.
    """
    system_id = uuid.UUID(timer.entity_id)
    system = await RiskRepository(session).system(system_id)
    if system is None or system.lifecycle_stage == "retired":
        return
    risks = await RiskRepository(session).open_risks_of_system(system_id)
    data = ReviewDue(
        system_id=system_id,
        risk_ids=[r.id for r in risks],
        reason=ReviewReason.SYSTEM_REVIEW_DATE_PASSED,
        due_at=timer.due_at,
    )
    await emit(
        session,
        make_event(
            REVIEW_DUE,
            org_id=system.org_id,
            subject=system_id,
            version=system.source_version,
            data=data,
        ),
    )


async def track_system_review_date(
    session: AsyncSession, system: SystemProjection, review_on: date | None
) -> None:
    """Arm (or clear) the system's review timer from the inventory's ``next_review_at``."""
    retired = system.lifecycle_stage == "retired"
    await set_timer(
        session,
        org_id=system.org_id,
        kind=SYSTEM_REVIEW_TIMER,
        entity_id=system.id,
        due_at=None if retired else review_on,
    )
