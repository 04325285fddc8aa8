"""REST routes of webhook subscriptions and their delivery log (``/v1``).

Reads are open to every role of the organisation; changes (create, update, delete, rotate,
enable, replay) need ``admin`` or ``manager``. Another organisation's ids answer 404.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response, status
from pydantic import AwareDatetime

from gateway.webhooks import service
from gateway.webhooks.schemas import (
    AttemptPage,
    DeliveryState,
    MessagePage,
    MessageRead,
    ReplayQueued,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPage,
    SubscriptionRead,
    SubscriptionUpdate,
)
from shared.auth import APPROVERS, READERS, Principal, require_roles
from shared.http import (
    IdempotencyDep,
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    next_cursor,
    set_etag,
)

router = PrefilteredRouter(prefix="/v1")
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Manager = Annotated[Principal, Depends(require_roles(APPROVERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]

PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}
SUBS = "webhook-subscriptions"
MSGS = "webhook-messages"


def _allowed_targets(request: Request) -> list[str]:
    settings = request.app.state.ctx.settings
    return list(getattr(settings, "webhook_allowed_targets", None) or [])


@router.post(
    "/webhook-subscriptions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionCreated,
    tags=[SUBS],
    summary="Register a webhook endpoint (the secret is shown only in this response)",
    responses={403: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def create_subscription(
    body: SubscriptionCreate,
    request: Request,
    principal: Manager,
    session: TenantSession,
    idem: IdempotencyDep,
) -> Response:
    """Deliveries are signed per Standard Webhooks with the returned `whsec_` secret.

    The URL must be http(s) and must not point at private, loopback or link-local addresses.
    Send `Idempotency-Key` to make retries safe: a retry answers the same subscription
    (`Idempotent-Replayed: true`) with `secret: null`, since the secret is never stored in
    the clear; if the first answer was lost, rotate the secret.
    """
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_subscription(
        session, principal, body, allowed_targets=_allowed_targets(request)
    )
    location = f"/v1/webhook-subscriptions/{created.id}"
    return await idem.created(
        session,
        principal,
        created,
        version=created.version,
        location=location,
        withhold=("secret",),  # never stored in the idempotency table; see SubscriptionCreated
    )


@router.get(
    "/webhook-subscriptions",
    response_model=SubscriptionPage,
    tags=[SUBS],
    summary="List webhook subscriptions",
)
async def list_subscriptions(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Fetch these subscriptions (batch; at most 500)", max_length=500),
    ] = None,
) -> SubscriptionPage:
    items, fetched = await service.list_subscriptions_page(
        session, limit=paging.limit, after=cursor_after_id(paging), ids=id or []
    )
    return SubscriptionPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/webhook-subscriptions/{subscription_id}",
    response_model=SubscriptionRead,
    tags=[SUBS],
    summary="Read one webhook subscription",
    responses={404: PROBLEM},
)
async def get_subscription(
    subscription_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> SubscriptionRead:
    sub = await service.get_subscription(session, subscription_id)
    set_etag(response, sub.version)
    return sub


@router.patch(
    "/webhook-subscriptions/{subscription_id}",
    response_model=SubscriptionRead,
    tags=[SUBS],
    summary="Change URL, filters, description or enabled (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_subscription(
    subscription_id: uuid.UUID,
    body: SubscriptionUpdate,
    request: Request,
    principal: Manager,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> SubscriptionRead:
    updated = await service.update_subscription(
        session,
        principal,
        subscription_id,
        body,
        if_match,
        allowed_targets=_allowed_targets(request),
    )
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/webhook-subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=[SUBS],
    summary="Delete a subscription with its messages and delivery log",
    responses={404: PROBLEM, 412: PROBLEM},
)
async def delete_subscription(
    subscription_id: uuid.UUID,
    principal: Manager,
    session: TenantSession,
    if_match: IfMatch = None,
) -> Response:
    await service.delete_subscription(session, principal, subscription_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhook-subscriptions/{subscription_id}/rotate-secret",
    response_model=SecretRotated,
    tags=[SUBS],
    summary="Issue a new secret; the previous one keeps signing for 24 h",
    responses={404: PROBLEM},
)
async def rotate_secret(
    subscription_id: uuid.UUID, principal: Manager, session: TenantSession, response: Response
) -> SecretRotated:
    """During the overlap every delivery carries two signatures (`v1,<new> v1,<old>`), so a
    receiver verifies with either secret while it switches over."""
    rotated = await service.rotate_secret(session, principal, subscription_id)
    set_etag(response, rotated.version)
    return rotated


@router.post(
    "/webhook-subscriptions/{subscription_id}/enable",
    response_model=SubscriptionRead,
    tags=[SUBS],
    summary="Re-enable a disabled endpoint",
    responses={404: PROBLEM},
)
async def enable_subscription(
    subscription_id: uuid.UUID, principal: Manager, session: TenantSession, response: Response
) -> SubscriptionRead:
    """Clears the disabled state and the failure run. Messages missed meanwhile are not sent
    by this; ask for them with `POST …/replay?since=`."""
    sub = await service.enable_subscription(session, principal, subscription_id)
    set_etag(response, sub.version)
    return sub


@router.get(
    "/webhook-subscriptions/{subscription_id}/messages",
    response_model=MessagePage,
    tags=[MSGS],
    summary="Messages of a subscription, newest first, with their delivery state",
    responses={404: PROBLEM},
)
async def list_messages(
    subscription_id: uuid.UUID,
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    state: Annotated[DeliveryState | None, Query(description="Only messages in this state")] = None,
) -> MessagePage:
    items, fetched = await service.list_messages(
        session,
        principal,
        subscription_id,
        limit=paging.limit,
        after=cursor_after_id(paging),
        state=state,
    )
    return MessagePage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.post(
    "/webhook-subscriptions/{subscription_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReplayQueued,
    tags=[MSGS],
    summary="Send again every message created since a time (after an outage)",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def replay_since(
    subscription_id: uuid.UUID,
    since: Annotated[
        AwareDatetime,
        Query(description="RFC 3339 time with offset, e.g. 2026-11-28T08:00:00Z"),
    ],
    principal: Manager,
    session: TenantSession,
) -> ReplayQueued:
    """Every message keeps its `webhook-id`, so a receiver drops those it already has."""
    return await service.replay_since(session, principal, subscription_id, since)


@router.get(
    "/webhook-messages/{message_id}",
    response_model=MessageRead,
    tags=[MSGS],
    summary="Read one webhook message",
    responses={404: PROBLEM},
)
async def get_message(
    message_id: uuid.UUID, principal: Reader, session: TenantSession
) -> MessageRead:
    return await service.get_message(session, principal, message_id)


@router.get(
    "/webhook-messages/{message_id}/attempts",
    response_model=AttemptPage,
    tags=[MSGS],
    summary="The delivery log of a message: one entry per attempt",
    responses={404: PROBLEM},
)
async def list_attempts(
    message_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> AttemptPage:
    items, fetched = await service.list_attempts(
        session, principal, message_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    return AttemptPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.post(
    "/webhook-messages/{message_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageRead,
    tags=[MSGS],
    summary="Send one message again (same webhook-id, fresh retry schedule)",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def replay_message(
    message_id: uuid.UUID, principal: Manager, session: TenantSession
) -> MessageRead:
    return await service.replay_message(session, principal, message_id)
