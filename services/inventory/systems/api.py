"""REST routes of the AI system register (``/v1``)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response, status

from services.inventory.systems import service
from services.inventory.systems.repository import SystemFilter
from services.inventory.systems.schemas import (
    AIRole,
    AISystemChangePage,
    AISystemCreate,
    AISystemPage,
    AISystemRead,
    AISystemSort,
    AISystemUpdate,
    CompletenessPage,
    CustomFieldCreate,
    CustomFieldPage,
    CustomFieldRead,
    CustomFieldUpdate,
    EUAIActTier,
    LifecycleStage,
    Sector,
)
from shared.auth import APPROVERS, EDITORS, READERS, Principal, require_roles
from shared.errors import InvalidCursor
from shared.http import (
    IdempotencyDep,
    KnownQueryCaller,
    Paging,
    PrefilteredRouter,
    RejectUnknownQuery,
    TenantSession,
    cursor_after_id,
    encode_cursor,
    etag,
    model_response,
    reject_unknown_query,
    set_etag,
    tenant_connection_of,
)
from shared.text import Name, Text

router = PrefilteredRouter(prefix="/v1")
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]
# The query guard and the reader check in one dependency, for the item read (the hottest route).
GuardedReader = Annotated[Principal, Depends(KnownQueryCaller(READERS))]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
# A misspelt filter answers 400 naming the allowed ones instead of listing everything.
QUERY_GUARD = Depends(reject_unknown_query)
CUSTOM_FILTER_PREFIX = "cf."
LIST_QUERY_GUARD = Depends(RejectUnknownQuery(prefixes=(CUSTOM_FILTER_PREFIX,)))
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]


@router.post(
    "/ai-systems",
    dependencies=[QUERY_GUARD],
    status_code=status.HTTP_201_CREATED,
    response_model=AISystemRead,
    tags=["ai-systems"],
    summary="Register an AI system",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def register_ai_system(
    body: AISystemCreate,
    principal: Editor,
    session: TenantSession,
    idem: IdempotencyDep,
) -> Response:
    """Add a system to the register. Send `Idempotency-Key` to make retries safe.

    `custom_fields` are checked against the organisation's definitions (`/v1/custom-fields`).
    """
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.register_system(session, principal, body)
    return await idem.created(
        session,
        principal,
        created,
        version=created.version,
        location=f"/v1/ai-systems/{created.id}",
    )


@router.get(
    "/ai-systems",
    dependencies=[LIST_QUERY_GUARD],
    response_model=AISystemPage,
    tags=["ai-systems"],
    summary="List, search and filter AI systems",
    responses={400: PROBLEM},
)
async def list_ai_systems(
    request: Request,
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    name: Annotated[
        Name | None, Query(max_length=200, description="Case-insensitive part of the name")
    ] = None,
    id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Fetch these systems (batch; at most 500)", max_length=500),
    ] = None,
    q: Annotated[
        Text | None,
        Query(
            max_length=200,
            description="Full-text search over name, description and intended purpose "
            '(web-search syntax: words, "phrases", -excluded, or)',
        ),
    ] = None,
    lifecycle_stage: Annotated[
        list[LifecycleStage] | None, Query(description="Any of these stages")
    ] = None,
    ai_role: Annotated[
        list[AIRole] | None, Query(description="Systems where the organisation holds any of these")
    ] = None,
    role: Annotated[
        list[AIRole] | None, Query(description="Same as `ai_role` (kept for existing clients)")
    ] = None,
    owner: Annotated[Name | None, Query(max_length=200, description="Exact owner")] = None,
    sector: Annotated[list[Sector] | None, Query(description="Any of these sectors")] = None,
    vendor_id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Systems of any of these vendors (at most 500)", max_length=500),
    ] = None,
    business_function: Annotated[
        list[Name] | None,
        Query(description="Any of these business functions (case-insensitive)", max_length=50),
    ] = None,
    in_scope: Annotated[
        bool | None, Query(description="In (true) or out of (false) the approved scope")
    ] = None,
    tier: Annotated[
        list[EUAIActTier] | None, Query(description="Any of these EU AI Act tiers")
    ] = None,
    eu_ai_act_tier: Annotated[list[EUAIActTier] | None, Query(description="Same as `tier`")] = None,
    review_overdue: Annotated[
        bool | None, Query(description="Review date passed (true) or not (false)")
    ] = None,
    sort: Annotated[
        AISystemSort,
        Query(description="Order; `-` descends. Systems without a review date come last."),
    ] = AISystemSort.CREATED_AT,
) -> AISystemPage:
    """Filters combine with AND; a filter given several times matches any of its values.
    `cf.<key>=value` filters by a custom field (`/v1/custom-fields`), e.g.
    `?cf.cost_centre=HR-42`. An unknown parameter answers 400 naming the allowed ones."""
    custom: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith(CUSTOM_FILTER_PREFIX):
            custom.setdefault(key.removeprefix(CUSTOM_FILTER_PREFIX), []).append(value)
    filters = SystemFilter(
        org_id=principal.org_id,
        name_contains=name,
        ids=id or [],
        query=q.strip() if q and q.strip() else None,
        lifecycle_stages=[s.value for s in lifecycle_stage or []],
        roles=sorted({r.value for r in [*(ai_role or []), *(role or [])]}),
        owner=owner,
        sectors=[s.value for s in sector or []],
        in_scope=in_scope,
        tiers=sorted({t.value for t in [*(tier or []), *(eu_ai_act_tier or [])]}),
        review_overdue=review_overdue,
        vendor_ids=vendor_id or [],
        business_functions=business_function or [],
        today=date.today(),
    )
    items, following = await service.list_systems(
        session,
        limit=paging.limit,
        filters=filters,
        sort=sort,
        cursor=paging.after,
        custom_filters=custom,
    )
    return AISystemPage(items=items, next_cursor=following)


@router.get(
    "/ai-systems/completeness",
    dependencies=[QUERY_GUARD],
    response_model=CompletenessPage,
    tags=["ai-systems"],
    summary="Systems missing what an auditor asks for",
)
async def ai_systems_completeness(
    principal: Reader, session: TenantSession, paging: Paging
) -> CompletenessPage:
    """Each live (not retired) system that lacks an owner, review date, intended purpose, data
    inputs, sector or AI roles, or whose review date has passed; with counts over the register.
    """
    items, counts, more = await service.completeness(
        session, principal.org_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    following = encode_cursor({"id": str(items[-1].id)}) if more and items else None
    return CompletenessPage(items=items, counts=counts, next_cursor=following)


@router.get(
    "/ai-systems/{system_id}",
    response_model=AISystemRead,
    tags=["ai-systems"],
    summary="Read one AI system",
    responses={404: PROBLEM},
)
async def get_ai_system(
    system_id: uuid.UUID, principal: GuardedReader, request: Request
) -> Response:
    async with tenant_connection_of(request, principal) as connection:
        system = await service.read_system(connection, system_id)
    return model_response(system, headers={"ETag": etag(system.version)})


@router.patch(
    "/ai-systems/{system_id}",
    dependencies=[QUERY_GUARD],
    response_model=AISystemRead,
    tags=["ai-systems"],
    summary="Change an AI system (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_ai_system(
    system_id: uuid.UUID,
    body: AISystemUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> AISystemRead:
    updated = await service.update_system(session, principal, system_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.get(
    "/ai-systems/{system_id}/history",
    dependencies=[QUERY_GUARD],
    response_model=AISystemChangePage,
    tags=["ai-systems"],
    summary="Who changed what in a system, newest first",
    responses={404: PROBLEM},
)
async def ai_system_history(
    system_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> AISystemChangePage:
    before: int | None = None
    if paging.after is not None:
        raw = paging.after.get("before_version")
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise InvalidCursor("The cursor is not one this API issued.")
        before = raw
    items, following = await service.system_history(
        session, system_id, limit=paging.limit, before_version=before
    )
    cursor = encode_cursor({"before_version": following}) if following is not None else None
    return AISystemChangePage(items=items, next_cursor=cursor)


# --- Custom fields ----------------------------------------------------------------------------


@router.post(
    "/custom-fields",
    dependencies=[QUERY_GUARD],
    status_code=status.HTTP_201_CREATED,
    response_model=CustomFieldRead,
    tags=["custom-fields"],
    summary="Define a custom field of the register (admin, manager)",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_custom_field(
    body: CustomFieldCreate, principal: Approver, session: TenantSession, response: Response
) -> CustomFieldRead:
    created = await service.create_custom_field(session, principal, body)
    set_etag(response, created.version)
    response.headers["Location"] = f"/v1/custom-fields/{created.id}"
    return created


@router.get(
    "/custom-fields",
    dependencies=[QUERY_GUARD],
    response_model=CustomFieldPage,
    tags=["custom-fields"],
    summary="The organisation's custom fields, by key",
)
async def list_custom_fields(
    principal: Reader, session: TenantSession, paging: Paging
) -> CustomFieldPage:
    after = paging.after.get("key") if paging.after else None
    if paging.after is not None and not isinstance(after, str):
        raise InvalidCursor("The cursor is not one this API issued.")
    items, last_key = await service.list_custom_fields(session, limit=paging.limit, after=after)
    cursor = encode_cursor({"key": last_key}) if last_key is not None else None
    return CustomFieldPage(items=items, next_cursor=cursor)


@router.get(
    "/custom-fields/{field_id}",
    dependencies=[QUERY_GUARD],
    response_model=CustomFieldRead,
    tags=["custom-fields"],
    summary="Read one custom field",
    responses={404: PROBLEM},
)
async def get_custom_field(
    field_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> CustomFieldRead:
    found = await service.get_custom_field(session, field_id)
    set_etag(response, found.version)
    return found


@router.patch(
    "/custom-fields/{field_id}",
    dependencies=[QUERY_GUARD],
    response_model=CustomFieldRead,
    tags=["custom-fields"],
    summary="Change a custom field's label, choices or required flag (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_custom_field(
    field_id: uuid.UUID,
    body: CustomFieldUpdate,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> CustomFieldRead:
    updated = await service.update_custom_field(session, field_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/custom-fields/{field_id}",
    dependencies=[QUERY_GUARD],
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["custom-fields"],
    summary="Remove a custom field (send If-Match); values on systems are kept",
    responses={404: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def delete_custom_field(
    field_id: uuid.UUID, principal: Approver, session: TenantSession, if_match: IfMatch = None
) -> Response:
    await service.delete_custom_field(session, field_id, if_match)
    return Response(status_code=204)
