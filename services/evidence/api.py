"""REST routes of the evidence service (``/v1``): AI systems as the evidence service sees them,
and the per-system upload that predates evidence items (it creates an item per file)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence import service
from services.evidence.blobs import BlobStore, StagedBlob
from services.evidence.items import service as items
from services.evidence.items.api import UPLOAD_BODY, receive_upload
from services.evidence.items.schemas import EvidenceCreate, EvidenceKind
from services.evidence.schemas import (
    EvidenceFilePage,
    EvidenceFileRead,
    SystemEvidencePage,
    SystemEvidenceRead,
)
from shared.auth import EDITORS, READERS, Principal, require_roles
from shared.http import Paging, PrefilteredRouter, TenantSession, cursor_after_id, next_cursor

router = PrefilteredRouter(prefix="/v1")
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]

PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}


@router.post(
    "/systems/{system_id}/files",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceFileRead,
    tags=["evidence-files"],
    summary="Upload an evidence file for an AI system (creates an evidence item)",
    responses={404: PROBLEM, 413: PROBLEM, 415: PROBLEM, 422: PROBLEM},
    openapi_extra=UPLOAD_BODY,
)
async def upload_file(
    system_id: uuid.UUID,
    request: Request,
    principal: Editor,
    filename: Annotated[
        str, Query(min_length=1, max_length=255, description="Name to download the file as")
    ],
    idempotency_key: Annotated[
        str | None, Header(description="Makes a retried upload return the first result")
    ] = None,
    content_length: Annotated[int | None, Header(ge=0)] = None,
) -> Response:
    """The file becomes an evidence item of kind `document` titled by its file name, with a
    draft version 1 holding the file, linked to the system. Upload more versions through
    `/v1/evidence/{id}/versions/…`."""
    blobs: BlobStore = request.app.state.ctx.extras["blobs"]

    async def precheck(session: AsyncSession) -> None:
        await service.require_system(session, system_id)

    async def record(
        session: AsyncSession, name: str, media_type: str, staged: StagedBlob
    ) -> EvidenceFileRead:
        await service.require_system(session, system_id)
        item, _, _ = await items.create_item(
            session,
            principal,
            EvidenceCreate(title=name, kind=EvidenceKind.DOCUMENT),
            extra_targets=[("system", str(system_id))],
        )
        return await items.record_file(
            session,
            blobs,
            principal,
            item_id=item.id,
            number=1,
            filename=name,
            content_type=media_type,
            staged=staged,
            system_id=system_id,
        )

    return await receive_upload(
        request,
        principal,
        filename=filename,
        idempotency_key=idempotency_key,
        content_length=content_length,
        precheck=precheck,
        record=record,
    )


@router.get(
    "/systems",
    response_model=SystemEvidencePage,
    tags=["systems"],
    summary="AI systems with a summary of their evidence (batch with `id=…&id=…`)",
)
async def list_systems(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Fetch these systems (batch; at most 500)", max_length=500),
    ] = None,
) -> SystemEvidencePage:
    systems, fetched = await service.list_systems(
        session, limit=paging.limit, after=cursor_after_id(paging), ids=id or []
    )
    return SystemEvidencePage(items=systems, next_cursor=next_cursor(systems, fetched, paging))


@router.get(
    "/systems/{system_id}",
    response_model=SystemEvidenceRead,
    tags=["systems"],
    summary="One AI system as the evidence service sees it",
    responses={404: PROBLEM},
)
async def get_system(
    system_id: uuid.UUID, principal: Reader, session: TenantSession
) -> SystemEvidenceRead:
    return await service.get_system(session, system_id)


@router.get(
    "/systems/{system_id}/files",
    response_model=EvidenceFilePage,
    tags=["evidence-files"],
    summary="Files of the evidence items linked to a system, oldest first",
    responses={404: PROBLEM},
)
async def list_files(
    system_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> EvidenceFilePage:
    files, fetched = await service.list_files(
        session, system_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    return EvidenceFilePage(items=files, next_cursor=next_cursor(files, fetched, paging))
