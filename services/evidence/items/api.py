"""REST routes of the evidence service's items domain (`/v1`): evidence items, their versions,
files and links, downloads (verified, with ranges) and blob verification."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.blobs import BlobStore, StagedBlob, too_large
from services.evidence.config import EvidenceSettings
from services.evidence.items import service
from services.evidence.items.errors import (
    BlobCorrupt,
    BlobMissing,
    RangeNotSatisfiable,
)
from services.evidence.items.integrity import verify_organisation
from services.evidence.items.ranges import Unsatisfiable, parse_range
from services.evidence.items.repository import ItemFilter
from services.evidence.items.schemas import (
    BlobVerifyReport,
    EvidenceCreate,
    EvidenceKind,
    EvidencePage,
    EvidenceRead,
    EvidenceStatus,
    EvidenceUpdate,
    LegalHoldSet,
    LinkCreate,
    LinkRead,
    TargetEvidenceList,
    TargetType,
    VersionCreate,
    VersionPage,
    VersionRead,
)
from services.evidence.items.timers import today_utc
from services.evidence.schemas import EvidenceFileRead
from shared.app import ServiceContext
from shared.auth import ADMINS, APPROVERS, EDITORS, READERS, Principal, require_roles
from shared.db import tenant_transaction
from shared.errors import Conflict, UnsupportedMediaType, ValidationFailed
from shared.http import (
    Idempotency,
    IdempotencyDep,
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    encode_cursor,
    next_cursor,
    reject_unknown_query,
    set_etag,
)
from shared.text import Text

router = PrefilteredRouter(prefix="/v1")
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]
Admin = Annotated[Principal, Depends(require_roles(ADMINS))]
IfMatch = Annotated[str | None, Header(description="ETag of the item you read")]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
TAGS: list[str | Any] = ["evidence"]

# ``type/subtype`` with optional parameters (RFC 9110 token characters).
_MEDIA_TYPE = re.compile(r"[\w!#$&^.+-]+/[\w!#$&^.+-]+(\s*;.*)?", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _today() -> date:
    return today_utc()


def _context(request: Request) -> tuple[ServiceContext, EvidenceSettings, BlobStore]:
    ctx: ServiceContext = request.app.state.ctx
    settings = ctx.settings
    assert isinstance(settings, EvidenceSettings)
    blobs: BlobStore = ctx.extras["blobs"]
    return ctx, settings, blobs


# --- Uploads (shared with the per-system upload route) ---------------------------------------


def check_filename(filename: str) -> str:
    name = filename.strip()
    if not name or name in (".", "..") or _CONTROL.search(name) or "/" in name or "\\" in name:
        raise ValidationFailed(
            "`filename` must be a file name without path separators or control characters "
            "(and not `.` or `..`).",
            errors=[{"location": ["query", "filename"], "message": "invalid file name"}],
        )
    return name


def content_type_of(value: str | None) -> str:
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


async def receive_upload(
    request: Request,
    principal: Principal,
    *,
    filename: str,
    idempotency_key: str | None,
    content_length: int | None,
    precheck: Callable[[AsyncSession], Awaitable[None]],
    record: Callable[[AsyncSession, str, str, StagedBlob], Awaitable[EvidenceFileRead]],
) -> Response:
    """Stream the request body to the blob store, hashing it (SHA-256) on the way.

    No database transaction is held while the body arrives: one short transaction runs
    ``precheck`` (is there anywhere to put the file?), another ``record``s the file once its
    digest is known. The cap is checked before reading when ``Content-Length`` declares the
    size, and while streaming otherwise.
    """
    ctx, settings, blobs = _context(request)
    name = check_filename(filename)
    media_type = content_type_of(request.headers.get("content-type"))
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 255):
        raise Conflict("Idempotency-Key must be 1 to 255 characters.")
    if content_length is not None and content_length > settings.max_upload_bytes:
        raise too_large(settings.max_upload_bytes)
    async with tenant_transaction(ctx.db, principal.org_id) as session:
        await precheck(session)

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
            created = await record(session, name, media_type, staged)
            payload = created.model_dump(mode="json")
            headers = {"Location": f"/v1/files/{created.id}"}
            await idem.remember(session, principal, 201, payload, headers)
        return JSONResponse(payload, status_code=201, headers=headers)
    finally:
        # Gone already when the upload was placed; otherwise nothing of it is kept.
        await blobs.discard(staged.key)


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes, as they are; `Content-Type` is kept and served back "
        "on download. Larger than `AIMS_MAX_UPLOAD_BYTES` → 413.",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}

# --- Items ------------------------------------------------------------------------------------


@router.post(
    "/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceRead,
    tags=TAGS,
    summary="Create an evidence item (with version 1, a draft)",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_evidence(
    body: EvidenceCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Links name what the item serves (clauses, controls, documented information, systems,
    risks, SoA entries); every target is checked. Send `Idempotency-Key` to make retries
    safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    _, _, created = await service.create_item(session, principal, body)
    return await idem.created(
        session, principal, created, version=created.version, location=f"/v1/evidence/{created.id}"
    )


@router.get(
    "/evidence",
    response_model=EvidencePage,
    tags=TAGS,
    summary="List evidence items (filter by what they serve; batch with `id=…&id=…`)",
    responses={400: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def list_evidence(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    control: Annotated[list[Text] | None, Query(max_length=100)] = None,
    clause: Annotated[list[Text] | None, Query(max_length=100)] = None,
    documented_information: Annotated[list[Text] | None, Query(max_length=100)] = None,
    system: Annotated[list[uuid.UUID] | None, Query(max_length=100)] = None,
    risk: Annotated[list[uuid.UUID] | None, Query(max_length=100)] = None,
    soa_entry: Annotated[list[Text] | None, Query(max_length=100)] = None,
    status: Annotated[list[EvidenceStatus] | None, Query(max_length=5)] = None,
    kind: Annotated[list[EvidenceKind] | None, Query(max_length=6)] = None,
    q: Annotated[Text | None, Query(max_length=200, description="Words in title/description")] = (
        None
    ),
    id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Fetch these items (batch; at most 500)", max_length=500),
    ] = None,
) -> EvidencePage:
    """Several values of one filter are alternatives; several filters must all hold. So
    `control=A.6.2.8&system=…` is the evidence for that control and that system."""
    targets: dict[str, list[str]] = {}
    given: Iterable[tuple[TargetType, list[Any] | None]] = (
        (TargetType.CONTROL, control),
        (TargetType.CLAUSE, clause),
        (TargetType.DOCUMENTED_INFORMATION, documented_information),
        (TargetType.SYSTEM, system),
        (TargetType.RISK, risk),
        (TargetType.SOA_ENTRY, soa_entry),
    )
    for target_type, values in given:
        if values:
            targets[target_type.value] = [
                service.normalise_target(target_type, str(v)) or str(v) for v in values
            ]
    filters = ItemFilter(
        targets=targets,
        statuses=[s.value for s in status or []],
        kinds=[k.value for k in kind or []],
        text=q or None,
        ids=id or [],
    )
    items, fetched = await service.list_items(
        session, filters, limit=paging.limit, after=cursor_after_id(paging)
    )
    return EvidencePage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/evidence-by-target",
    response_model=TargetEvidenceList,
    tags=TAGS,
    summary="Evidence of many targets at once (for DataLoaders): first items and totals",
    responses={400: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def evidence_by_target(
    principal: Reader,
    session: TenantSession,
    target_type: TargetType,
    target_id: Annotated[list[Text], Query(min_length=1, max_length=500)],
    first: Annotated[int, Query(ge=1, le=100, description="Items per target")] = 10,
) -> TargetEvidenceList:
    """One entry per `target_id`, in the order asked: its first `first` items (oldest first,
    deleted ones never) and `total_count`. One database query whatever the number of
    targets."""
    ids = [t for t in target_id if t]
    return TargetEvidenceList(
        items=await service.evidence_by_target(session, target_type, ids, first=first)
    )


@router.get(
    "/evidence/{item_id}",
    response_model=EvidenceRead,
    tags=TAGS,
    summary="Read one evidence item",
    responses={404: PROBLEM},
)
async def get_evidence(
    item_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> EvidenceRead:
    item = await service.get_item(session, item_id)
    set_etag(response, item.version)
    return item


@router.patch(
    "/evidence/{item_id}",
    response_model=EvidenceRead,
    tags=TAGS,
    summary="Change an evidence item's fields (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_evidence(
    item_id: uuid.UUID,
    body: EvidenceUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> EvidenceRead:
    updated = await service.update_item(session, principal, item_id, body, if_match, today=_today())
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/evidence/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=TAGS,
    summary="Delete an evidence item (admin, manager; send If-Match)",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def delete_evidence(
    item_id: uuid.UUID, principal: Approver, session: TenantSession, if_match: IfMatch = None
) -> Response:
    """Refused with 409 `legal-hold-applies` while a legal hold is set, and
    `retention-applies` until the day after `retention_until`. The item is kept as deleted
    (hidden from lists, its links kept) and `aims.evidence.evidence.deleted` is emitted."""
    await service.delete_item(session, principal, item_id, if_match, today=_today())
    return Response(status_code=204)


@router.put(
    "/evidence/{item_id}/legal-hold",
    response_model=EvidenceRead,
    tags=TAGS,
    summary="Put an evidence item under a legal hold (admin, manager)",
    responses={403: PROBLEM, 404: PROBLEM, 412: PROBLEM},
)
async def set_legal_hold(
    item_id: uuid.UUID,
    body: LegalHoldSet,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> EvidenceRead:
    """While held the item cannot be deleted, whatever its retention date."""
    held = await service.set_legal_hold(session, principal, item_id, body.reason, if_match)
    set_etag(response, held.version)
    return held


@router.delete(
    "/evidence/{item_id}/legal-hold",
    response_model=EvidenceRead,
    tags=TAGS,
    summary="Lift an evidence item's legal hold (admin, manager)",
    responses={403: PROBLEM, 404: PROBLEM, 412: PROBLEM},
)
async def lift_legal_hold(
    item_id: uuid.UUID,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> EvidenceRead:
    lifted = await service.set_legal_hold(session, principal, item_id, None, if_match)
    set_etag(response, lifted.version)
    return lifted


@router.post(
    "/evidence/{item_id}/links",
    response_model=LinkRead,
    status_code=status.HTTP_201_CREATED,
    tags=TAGS,
    summary="Link an evidence item to what it serves (201; 200 when already linked)",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def add_link(
    item_id: uuid.UUID, body: LinkCreate, principal: Editor, session: TenantSession
) -> Response:
    link, created = await service.add_link(session, principal, item_id, body)
    return JSONResponse(link.model_dump(mode="json"), status_code=201 if created else 200)


@router.delete(
    "/evidence/{item_id}/links/{link_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=TAGS,
    summary="Remove a link",
    responses={404: PROBLEM},
)
async def remove_link(
    item_id: uuid.UUID, link_id: uuid.UUID, principal: Editor, session: TenantSession
) -> Response:
    await service.remove_link(session, principal, item_id, link_id)
    return Response(status_code=204)


@router.post(
    "/evidence/{item_id}/submit",
    response_model=EvidenceRead,
    tags=TAGS,
    summary="Submit the latest (draft) version for review",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM},
)
async def submit_evidence(
    item_id: uuid.UUID,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> EvidenceRead:
    """Refused (409) when the draft holds no file (or, for a link, no URL)."""
    submitted = await service.submit(session, principal, item_id, if_match, today=_today())
    set_etag(response, submitted.version)
    return submitted


@router.post(
    "/evidence/{item_id}/approve",
    response_model=EvidenceRead,
    tags=TAGS,
    summary="Approve the version in review (admin, manager): it becomes immutable",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 412: PROBLEM},
)
async def approve_evidence(
    item_id: uuid.UUID,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> EvidenceRead:
    """The previously approved version is superseded; the item is `approved`."""
    approved = await service.approve(session, principal, item_id, if_match, today=_today())
    set_etag(response, approved.version)
    return approved


# --- Versions ---------------------------------------------------------------------------------


@router.get(
    "/evidence/{item_id}/versions",
    response_model=VersionPage,
    tags=TAGS,
    summary="An evidence item's versions with their files, oldest first",
    responses={404: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def list_versions(
    item_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> VersionPage:
    after = paging.after.get("number") if paging.after else None
    items, more = await service.list_versions(
        session,
        item_id,
        limit=paging.limit,
        after_number=after if isinstance(after, int) else None,
    )
    cursor = encode_cursor({"number": items[-1].number}) if more and items else None
    return VersionPage(items=items, next_cursor=cursor)


@router.get(
    "/evidence-versions",
    response_model=VersionPage,
    tags=TAGS,
    summary="The versions with their files of several evidence items (for DataLoaders)",
    responses={400: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def list_versions_of_items(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    evidence_id: Annotated[list[uuid.UUID], Query(min_length=1, max_length=100)],
) -> VersionPage:
    """Every version of the items asked (1–100) in one list, oldest first (each item's in
    number order); an item unknown in your organisation has none."""
    items, fetched = await service.versions_of_items(
        session, evidence_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    return VersionPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.post(
    "/evidence/{item_id}/versions",
    response_model=VersionRead,
    status_code=status.HTTP_201_CREATED,
    tags=TAGS,
    summary="Start a new draft version (the latest must be approved or superseded)",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def create_version(
    item_id: uuid.UUID, body: VersionCreate, principal: Editor, session: TenantSession
) -> Response:
    """An approved version never changes; a change is a new version. While the latest version
    is a draft or in review, change that one instead (409 `evidence-version-open`)."""
    created = await service.create_version(session, principal, item_id, body)
    return JSONResponse(
        created.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/evidence/{item_id}/versions/{created.number}"},
    )


@router.get(
    "/evidence/{item_id}/versions/{number}",
    response_model=VersionRead,
    tags=TAGS,
    summary="One version of an evidence item, with its files",
    responses={404: PROBLEM},
)
async def get_version(
    item_id: uuid.UUID, number: VersionNumber, principal: Reader, session: TenantSession
) -> VersionRead:
    return await service.get_version(session, item_id, number)


@router.post(
    "/evidence/{item_id}/versions/{number}/files",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceFileRead,
    tags=TAGS,
    summary="Upload a file into a draft version (streamed body, any Content-Type)",
    responses={404: PROBLEM, 409: PROBLEM, 413: PROBLEM, 415: PROBLEM, 422: PROBLEM},
    openapi_extra=UPLOAD_BODY,
)
async def upload_version_file(
    item_id: uuid.UUID,
    number: VersionNumber,
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
    """409 when the version is no longer a draft (approved versions are immutable)."""
    _, _, blobs = _context(request)

    async def precheck(session: AsyncSession) -> None:
        await service.require_open_version(session, item_id, number)

    async def record(
        session: AsyncSession, name: str, media_type: str, staged: StagedBlob
    ) -> EvidenceFileRead:
        return await service.record_file(
            session,
            blobs,
            principal,
            item_id=item_id,
            number=number,
            filename=name,
            content_type=media_type,
            staged=staged,
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


# --- Files ------------------------------------------------------------------------------------


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


def _names_etag(header: str | None, tag: str) -> bool:
    if header is None:
        return False
    return header.strip() == "*" or tag in {t.strip().removeprefix("W/") for t in header.split(",")}


@router.get(
    "/files/{file_id}/content",
    tags=["evidence-files"],
    summary="Download an evidence file (verified against its SHA-256; Range supported)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file's bytes; `Repr-Digest` / `X-Content-SHA256` carry its "
            "SHA-256 so the download can be verified.",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        206: {"description": "The single byte range asked for (`Content-Range`)"},
        304: {"description": "`If-None-Match` names this content"},
        404: PROBLEM,
        409: {
            "description": "`evidence-blob-corrupt` or `evidence-blob-missing`: the stored "
            "content does not match its SHA-256 or is gone; nothing is served",
            **PROBLEM,
        },
        416: PROBLEM,
    },
)
async def download_file(
    file_id: uuid.UUID,
    request: Request,
    principal: Reader,
    if_none_match: Annotated[str | None, Header()] = None,
    range: Annotated[str | None, Header(max_length=200)] = None,
    if_range: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """The whole stored blob is read and hashed before the first byte is sent (also for a
    range): a corrupted or missing blob answers 409 and emits
    `aims.evidence.blob.integrity_failed` instead of serving wrong bytes. The cost is a
    second read of the blob per download; see docs/architecture.md."""
    ctx, _, blobs = _context(request)
    # A short transaction: no connection is held while the blob is checked and streamed.
    async with tenant_transaction(ctx.db, principal.org_id) as session:
        file = await service.get_file(session, file_id)
    tag = f'"{file.sha256}"'
    digest_b64 = base64.b64encode(bytes.fromhex(file.sha256)).decode()
    headers = {
        "ETag": tag,
        "Accept-Ranges": "bytes",
        "Repr-Digest": f"sha-256=:{digest_b64}:",
        "X-Content-SHA256": file.sha256,
        "Content-Disposition": _content_disposition(file.filename),
        # Uploaded content is served with its uploader's Content-Type: never let a browser
        # sniff or render it as part of this API's origin.
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if _names_etag(if_none_match, tag):
        return Response(status_code=304, headers=headers)

    state = await blobs.check(file.blob_key, file.sha256, file.size_bytes)
    if state != "ok":
        async with tenant_transaction(ctx.db, principal.org_id) as session:
            await service.record_blob_check(
                session,
                principal.org_id,
                sha256=file.sha256,
                size_bytes=file.size_bytes,
                key=file.blob_key,
                state=state,
                detected_by="download",
                always_emit=False,
            )
        repair = (
            f"Upload the original file again (SHA-256 {file.sha256}) to any evidence version "
            "of this organisation: the fresh upload replaces the stored content."
        )
        if state == "missing":
            raise BlobMissing(
                f"The stored content of file {file.id} is missing from the blob store. " + repair,
                sha256=file.sha256,
            )
        raise BlobCorrupt(
            f"The stored content of file {file.id} does not match its SHA-256; it is not "
            "served. " + repair,
            sha256=file.sha256,
        )

    byte_range = None
    if range is not None and (if_range is None or if_range.strip() == tag):
        try:
            byte_range = parse_range(range, file.size_bytes)
        except Unsatisfiable:
            raise RangeNotSatisfiable(
                f"The range {range[:60]!r} selects no byte of this {file.size_bytes}-byte file.",
                headers={"Content-Range": f"bytes */{file.size_bytes}"},
            ) from None
    try:
        if byte_range is None:
            chunks = await blobs.open(file.blob_key)
        else:
            chunks = await blobs.open(file.blob_key, (byte_range.start, byte_range.end + 1))
    except FileNotFoundError:
        raise BlobMissing(
            f"The stored content of file {file.id} went missing while it was being served.",
            sha256=file.sha256,
        ) from None
    if byte_range is None:
        headers["Content-Length"] = str(file.size_bytes)
        return StreamingResponse(chunks, media_type=file.content_type, headers=headers)
    headers["Content-Length"] = str(byte_range.length)
    headers["Content-Range"] = byte_range.content_range(file.size_bytes)
    return StreamingResponse(chunks, status_code=206, media_type=file.content_type, headers=headers)


# --- Blob verification ------------------------------------------------------------------------


@router.post(
    "/blobs/verify",
    response_model=BlobVerifyReport,
    tags=["evidence-files"],
    summary="Verify every stored blob of your organisation against its SHA-256 (admin)",
    responses={403: PROBLEM},
)
async def verify_blobs(request: Request, principal: Admin) -> BlobVerifyReport:
    """Reads every blob once. Problems are recorded, reported with the files and items they
    affect, and each emits `aims.evidence.blob.integrity_failed`. For large stores prefer
    `aims evidence verify --org ID`, which shows progress."""
    ctx, _, blobs = _context(request)
    started = time.perf_counter()
    return await verify_organisation(ctx.db, blobs, principal.org_id, started=started)
