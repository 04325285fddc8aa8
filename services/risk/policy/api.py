"""REST routes of the organisation's risk policy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Response

from services.risk.policy import service
from services.risk.policy.schemas import RiskPolicyRead, RiskPolicyUpdate
from shared.auth import APPROVERS, READERS, Principal, require_roles
from shared.http import PrefilteredRouter, TenantSession, reject_unknown_query, set_etag

router = PrefilteredRouter(prefix="/v1", dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Manager = Annotated[Principal, Depends(require_roles(APPROVERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
TAG = "risk-policy"


@router.get(
    "/risk-policy",
    response_model=RiskPolicyRead,
    tags=[TAG],
    summary="The organisation's risk policy settings",
)
async def get_risk_policy(
    principal: Reader, session: TenantSession, response: Response
) -> RiskPolicyRead:
    """The defaults (every setting false; version 0, ETag `"0"`) until it is first set. These
    settings are organisation policy, not legal requirements (`basis: "policy"`)."""
    policy = await service.get_policy(session)
    set_etag(response, policy.version)
    return policy


@router.put(
    "/risk-policy",
    response_model=RiskPolicyRead,
    tags=[TAG],
    summary="Set the organisation's risk policy (admins and managers; send If-Match)",
    responses={403: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def put_risk_policy(
    body: RiskPolicyUpdate,
    principal: Manager,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> RiskPolicyRead:
    """Replaces every setting (left out: false). Once the policy exists, `If-Match` with its
    ETag is required (428 without, 412 when stale); the first time it may be left out or be
    `"0"`. Emits `risk_policy.changed`."""
    policy = await service.put_policy(session, principal, body, if_match)
    set_etag(response, policy.version)
    return policy
