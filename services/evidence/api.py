"""REST routes of the evidence service (``/v1``)."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from services.evidence import service
from services.evidence.blobs import BlobStore
from services.evidence.config import EvidenceSettings
from services.evidence.schemas import (
    EvidenceFilePage,
    EvidenceFileRead,
    SystemEvidencePage,
    SystemEvidenceRead,
)
from shared.app import ServiceContext
from shared.auth import EDITORS, READERS, Principal, require_roles
from shared.db import tenant_transaction
from shared.errors import Conflict, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from shared.http import Idempotency, Paging, TenantSession, cursor_after_id, next_cursor

router = APIRouter(prefix="/v1")
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]

PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}

# ``type/subtype`` with optional parameters (RFC 9110 token characters).
_MEDIA_TYPE = re.compile(r"[\w!#$&^.+-]+/[\w!#$&^.+-]+(\s*;.*)?", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _context(request: Request) -> tuple[ServiceContext, EvidenceSettings, BlobStore]:
    ctx: ServiceContext = request.app.state.ctx
    settings = ctx.settings
    assert isinstance(settings, EvidenceSettings)
    blobs: BlobStore = ctx.extras["blobs"]
    return ctx, settings, blobs


def _check_filename(filename: str) -> str:
    name = filename.strip()
    if not name or _CONTROL.search(name) or "/" in name or "\\" in name:
        raise ValidationFailed(
            "`filename` must be a file name without path separators or control characters.",
            errors=[{"location": ["query", "filename"], "message": "invalid file name"}],
        )
    return name


def _content_type(value: str | None) -> str:
    if not value:
        return "application/octet-stream"
    media_type = value.strip()
    if len(media_type) > 255 or not _MEDIA_TYPE.fullmatch(media_type):
        raise ValidationFailed(
            "`Content-Type` must be a media type such as `application/pdf`.",
            errors=[{"location": ["header", "content-type"], "message": "invalid media type"}],
        )
    if media_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            "Send the file itself as the request body (any Content-Type), not a form."
        )
    return media_type


@router.post(
    "/systems/{system_id}/files",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceFileRead,
    tags=["evidence-files"],
    summary="Upload an evidence file for an AI system",
    responses={404: PROBLEM, 413: PROBLEM, 415: PROBLEM, 422: PROBLEM},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The file's bytes, as they are; `Content-Type` is kept and served "
            "back on download.",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
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
    """Stream the request body to the blob store, hashing it (SHA-256) on the way.

    The upload does not hold a database transaction while the body arrives: one short
    transaction checks the system, another records the file once its digest is known.
    """
    ctx, settings, blobs = _context(request)
    name = _check_filename(filename)
    media_type = _content_type(request.headers.get("content-type"))
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 255):
        raise Conflict("Idempotency-Key must be 1 to 255 characters.")
    if content_length is not None and content_length > settings.max_upload_bytes:
        raise PayloadTooLarge(f"The file exceeds {settings.max_upload_bytes} bytes.")
    async with tenant_transaction(ctx.db, principal.org_id) as session:
        await service.require_system(session, system_id)

    staged = await blobs.receive(
        principal.org_id, request.stream(), max_bytes=settings.max_upload_bytes
    )
    try:
        if staged.size_bytes == 0:
            raise ValidationFailed("The file is empty; send its bytes as the request body.")
        fingerprint = hashlib.sha256(
            "\0".join(["POST", request.url.path, name, media_type, staged.sha256]).encode()
        ).hexdigest()
        idem = Idempotency(idempotency_key, fingerprint)
        async with tenant_transaction(ctx.db, principal.org_id) as session:
            if (replayed := await idem.replay(session, principal)) is not None:
                return replayed
            created = await service.record_file(
                session,
                blobs,
                principal,
                system_id=system_id,
                filename=name,
                content_type=media_type,
                staged=staged,
            )
            payload = created.model_dump(mode="json")
            headers = {"Location": f"/v1/files/{created.id}"}
            await idem.remember(session, principal, 201, payload, headers)
        return JSONResponse(payload, status_code=201, headers=headers)
    finally:
        # Gone already when the upload was placed; otherwise nothing of it is kept.
        await blobs.discard(staged.key)


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
    items, fetched = await service.list_systems(
        session, limit=paging.limit, after=cursor_after_id(paging), ids=id or []
    )
    return SystemEvidencePage(items=items, next_cursor=next_cursor(items, fetched, paging))


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
    summary="A system's evidence files, oldest first",
    responses={404: PROBLEM},
)
async def list_files(
    system_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> EvidenceFilePage:
    items, fetched = await service.list_files(
        session, system_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    return EvidenceFilePage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/files/{file_id}",
    response_model=EvidenceFileRead,
    tags=["evidence-files"],
    summary="An evidence file's metadata",
    responses={404: PROBLEM},
)
async def get_file(
    file_id: uuid.UUID, principal: Reader, session: TenantSession
) -> EvidenceFileRead:
    return EvidenceFileRead.model_validate(await service.get_file(session, file_id))


def _content_disposition(filename: str) -> str:
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/files/{file_id}/content",
    tags=["evidence-files"],
    summary="Download an evidence file",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file's bytes; `Repr-Digest` / `X-Content-SHA256` carry its "
            "SHA-256 so the download can be verified.",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        304: {"description": "`If-None-Match` names this content"},
        404: PROBLEM,
    },
)
async def download_file(
    file_id: uuid.UUID,
    request: Request,
    principal: Reader,
    session: TenantSession,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    _, _, blobs = _context(request)
    file = await service.get_file(session, file_id)
    digest_b64 = base64.b64encode(bytes.fromhex(file.sha256)).decode()
    headers = {
        "ETag": f'"{file.sha256}"',
        "Repr-Digest": f"sha-256=:{digest_b64}:",
        "X-Content-SHA256": file.sha256,
        "Content-Disposition": _content_disposition(file.filename),
        # Uploaded content is served with its uploader's Content-Type: never let a browser
        # sniff or render it as part of this API's origin.
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if if_none_match is not None and f'"{file.sha256}"' in {
        tag.strip().removeprefix("W/") for tag in if_none_match.split(",")
    }:
        return Response(status_code=304, headers=headers)
    chunks = await blobs.open(file.blob_key)
    headers["Content-Length"] = str(file.size_bytes)
    return StreamingResponse(chunks, media_type=file.content_type, headers=headers)
