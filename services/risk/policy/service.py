"""Risk policy use cases. Services flush, never commit: the request owns the transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.policy.events import RISK_POLICY_CHANGED
from services.risk.policy.models import RiskPolicy
from services.risk.policy.repository import RiskPolicyRepository
from services.risk.policy.schemas import RiskPolicyRead, RiskPolicyUpdate
from shared.auth import Principal
from shared.db import utcnow
from shared.events import emit, make_event
from shared.http import check_version

_NIL = uuid.UUID(int=0)


def _defaults(org_id: uuid.UUID) -> RiskPolicyRead:
    return RiskPolicyRead(
        org_id=org_id,
        require_impact_assessment_for_all_high_risk=False,
        allow_self_acceptance=False,
        version=0,
        updated_at=None,
        updated_by=None,
    )


async def get_policy(session: AsyncSession) -> RiskPolicyRead:
    """The risk policy of the organisation the (tenant) session acts for; the defaults (all
    settings false, version 0) when it was never set."""
    repository = RiskPolicyRepository(session)
    org_id = await repository.session_org()
    if org_id is None:
        return _defaults(_NIL)
    row = await repository.get(org_id)
    return RiskPolicyRead.model_validate(row) if row is not None else _defaults(org_id)


async def put_policy(
    session: AsyncSession, principal: Principal, body: RiskPolicyUpdate, if_match: str | None
) -> RiskPolicyRead:
    """Replace the policy. Once it exists, If-Match is required; before, it is optional (the
    defaults have ETag ``"0"``)."""
    repository = RiskPolicyRepository(session)
    row = await repository.get(principal.org_id, for_update=True)
    if row is not None:
        check_version(if_match, row.version)
    elif if_match is not None and if_match.strip():
        check_version(if_match, 0)
    if row is None:
        row = RiskPolicy(org_id=principal.org_id, version=0, updated_by=principal.subject)
        repository.add(row)
    elif (
        row.require_impact_assessment_for_all_high_risk
        == body.require_impact_assessment_for_all_high_risk
        and row.allow_self_acceptance == body.allow_self_acceptance
    ):
        return RiskPolicyRead.model_validate(row)
    row.require_impact_assessment_for_all_high_risk = (
        body.require_impact_assessment_for_all_high_risk
    )
    row.allow_self_acceptance = body.allow_self_acceptance
    row.version += 1
    row.updated_by = principal.subject
    row.updated_at = utcnow()
    await session.flush()
    state = RiskPolicyRead.model_validate(row)
    await emit(
        session,
        make_event(
            RISK_POLICY_CHANGED,
            org_id=principal.org_id,
            subject=principal.org_id,
            version=row.version,
            data=state,
        ),
    )
    return state
