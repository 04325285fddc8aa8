"""REST routes of management reviews and their actions (ISO/IEC 42001 9.3; ``/v1``).

Readers: every role, the auditor included. Editors plan reviews, annotate their inputs and
record actions; admins and managers (top management's delegates) hold and close them.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Body, Depends, Header, Query, Response, status

from services.evidence.reviews import service
from services.evidence.reviews.schemas import (
    ManagementReviewClose,
    ManagementReviewCreate,
    ManagementReviewHold,
    ManagementReviewPage,
    ManagementReviewRead,
    ManagementReviewUpdate,
    ReviewActionCreate,
    ReviewActionPage,
    ReviewActionRead,
    ReviewActionStatus,
    ReviewActionUpdate,
    ReviewStatus,
)
from shared.auth import APPROVERS, EDITORS, READERS, Principal, require_roles
from shared.http import (
    IdempotencyDep,
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    next_cursor,
    reject_unknown_query,
    set_etag,
)
from shared.text import Name

router = PrefilteredRouter(prefix="/v1", dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
Ids = Annotated[
    list[uuid.UUID] | None,
    Query(description="Fetch these (batch; at most 500)", max_length=500),
]
PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}
REVIEWS, ACTIONS = "management-reviews", "management-review-actions"
CHANGE: dict[int | str, dict[str, Any]] = {
    404: PROBLEM,
    409: PROBLEM,
    412: PROBLEM,
    422: PROBLEM,
    428: PROBLEM,
}


def _reply(response: Response, review: ManagementReviewRead) -> ManagementReviewRead:
    set_etag(response, review.version)
    return review


@router.post(
    "/management-reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ManagementReviewRead,
    tags=[REVIEWS],
    summary="Plan a management review (9.3), its inputs pre-filled as of its date",
    responses={422: PROBLEM},
)
async def create_review(
    body: ManagementReviewCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """With `prefill` (default) the automatic part of each input is filled from the data as of
    the review date (today while that is ahead) and stored with the review. Send
    `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_review(session, principal, body)
    return await idem.created(
        session,
        principal,
        created,
        version=created.version,
        location=f"/v1/management-reviews/{created.id}",
    )


@router.get(
    "/management-reviews",
    response_model=ManagementReviewPage,
    tags=[REVIEWS],
    summary="List management reviews",
)
async def list_reviews(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    status: Annotated[list[ReviewStatus] | None, Query(max_length=3)] = None,
    since: Annotated[date | None, Query(description="Review date on or after")] = None,
    until: Annotated[date | None, Query(description="Review date on or before")] = None,
) -> ManagementReviewPage:
    items, fetched = await service.list_reviews(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        ids=id or [],
        statuses=[s.value for s in status or []],
        since=since,
        until=until,
    )
    return ManagementReviewPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/management-reviews/{review_id}",
    response_model=ManagementReviewRead,
    tags=[REVIEWS],
    summary="Read a management review with each input of 9.3.2",
    responses={404: PROBLEM},
)
async def get_review(
    review_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> ManagementReviewRead:
    return _reply(response, await service.get_review(session, review_id))


@router.patch(
    "/management-reviews/{review_id}",
    response_model=ManagementReviewRead,
    tags=[REVIEWS],
    summary="Annotate or change a management review (send If-Match)",
    responses=CHANGE,
)
async def update_review(
    review_id: uuid.UUID,
    body: ManagementReviewUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ManagementReviewRead:
    """`notes` merges by section; `decisions` replaces the list. 409 once closed."""
    updated = await service.update_review(session, principal, review_id, body, if_match)
    return _reply(response, updated)


@router.post(
    "/management-reviews/{review_id}/prefill",
    response_model=ManagementReviewRead,
    tags=[REVIEWS],
    summary="Pre-fill the inputs again from the data as of the review date (send If-Match)",
    responses=CHANGE,
)
async def prefill_review(
    review_id: uuid.UUID,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ManagementReviewRead:
    """Replaces the stored snapshot; 409 once the review is closed."""
    return _reply(response, await service.prefill_review(session, principal, review_id, if_match))


@router.post(
    "/management-reviews/{review_id}/hold",
    response_model=ManagementReviewRead,
    tags=[REVIEWS],
    summary="Record that the management review took place (send If-Match)",
    responses=CHANGE,
)
async def hold_review(
    review_id: uuid.UUID,
    principal: Approver,
    session: TenantSession,
    response: Response,
    body: Annotated[ManagementReviewHold | None, Body()] = None,
    if_match: IfMatch = None,
) -> ManagementReviewRead:
    """Planned → held. Needs at least one attendee; `held_on` defaults to today."""
    held = await service.hold_review(
        session, principal, review_id, body or ManagementReviewHold(), if_match
    )
    return _reply(response, held)


@router.post(
    "/management-reviews/{review_id}/close",
    response_model=ManagementReviewRead,
    tags=[REVIEWS],
    summary="Close a held management review's record (send If-Match)",
    responses=CHANGE,
)
async def close_review(
    review_id: uuid.UUID,
    principal: Approver,
    session: TenantSession,
    response: Response,
    body: Annotated[ManagementReviewClose | None, Body()] = None,
    if_match: IfMatch = None,
) -> ManagementReviewRead:
    """Held → closed; the record is final, its actions stay tracked."""
    closed = await service.close_review(
        session, principal, review_id, body or ManagementReviewClose(), if_match
    )
    return _reply(response, closed)


@router.post(
    "/management-reviews/{review_id}/actions",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewActionRead,
    tags=[REVIEWS, ACTIONS],
    summary="Record an action decided by the management review (9.3.3)",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def create_action(
    review_id: uuid.UUID,
    body: ReviewActionCreate,
    principal: Editor,
    session: TenantSession,
    idem: IdempotencyDep,
) -> Response:
    """409 once the review is closed. The day after `due_date`, an action still open emits
    `management_review.action_overdue`. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_action(session, principal, review_id, body)
    return await idem.created(
        session,
        principal,
        created,
        version=created.version,
        location=f"/v1/management-review-actions/{created.id}",
    )


@router.get(
    "/management-reviews/{review_id}/actions",
    response_model=ReviewActionPage,
    tags=[REVIEWS, ACTIONS],
    summary="The actions a management review decided",
    responses={404: PROBLEM},
)
async def list_review_actions(
    review_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> ReviewActionPage:
    items, fetched = await service.list_actions(
        session, limit=paging.limit, after=cursor_after_id(paging), review_id=review_id
    )
    return ReviewActionPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/management-review-actions",
    response_model=ReviewActionPage,
    tags=[ACTIONS],
    summary="Track management review actions (filter open, overdue, by owner)",
)
async def list_actions(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    status: Annotated[list[ReviewActionStatus] | None, Query(max_length=3)] = None,
    overdue: Annotated[
        bool | None, Query(description="true: open and past due; false: the others")
    ] = None,
    owner: Annotated[Name | None, Query(description="Exactly this owner")] = None,
    review_id: Annotated[
        list[uuid.UUID] | None,
        Query(max_length=500, description="Actions of these reviews (one: 404 if unknown)"),
    ] = None,
) -> ReviewActionPage:
    items, fetched = await service.list_actions(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        ids=id or [],
        review_id=review_id[0] if review_id and len(review_id) == 1 else None,
        review_ids=review_id if review_id and len(review_id) > 1 else (),
        statuses=[s.value for s in status or []],
        owner=owner,
        overdue=overdue,
    )
    return ReviewActionPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/management-review-actions/{action_id}",
    response_model=ReviewActionRead,
    tags=[ACTIONS],
    summary="Read one management review action",
    responses={404: PROBLEM},
)
async def get_action(
    action_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> ReviewActionRead:
    action = await service.get_action(session, action_id)
    set_etag(response, action.version)
    return action


@router.patch(
    "/management-review-actions/{action_id}",
    response_model=ReviewActionRead,
    tags=[ACTIONS],
    summary="Update a management review action: done, cancelled, new owner or date (If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_action(
    action_id: uuid.UUID,
    body: ReviewActionUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReviewActionRead:
    """`status: done|cancelled` ends the tracking (`management_review.action_done` /
    `action_cancelled`); `open` reopens. A new due date gets its own overdue notice."""
    updated = await service.update_action(session, principal, action_id, body, if_match)
    set_etag(response, updated.version)
    return updated
