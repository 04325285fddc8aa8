"""Evidence use cases. Services flush, never commit: the caller owns the transaction, so a file's
row and its ``evidence.added`` event commit together or not at all."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.blobs import BlobStore, StagedBlob
from services.evidence.errors import EvidenceFileNotFound, SystemNotKnown
from services.evidence.events import EVIDENCE_ADDED
from services.evidence.models import EvidenceFile
from services.evidence.repository import EvidenceFileRepository, SystemProjectionRepository
from services.evidence.schemas import EvidenceFileRead, SystemEvidenceRead
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.events import emit, make_event


async def require_system(session: AsyncSession, system_id: uuid.UUID) -> None:
    if not await SystemProjectionRepository(session).exists(system_id):
        raise SystemNotKnown(
            f"The evidence service has no AI system {system_id} in your organisation "
            "(a system registered moments ago may take a moment to arrive)."
        )


async def record_file(
    session: AsyncSession,
    blobs: BlobStore,
    principal: Principal,
    *,
    system_id: uuid.UUID,
    filename: str,
    content_type: str,
    staged: StagedBlob,
) -> EvidenceFileRead:
    """Place a received upload at its content address and record it, with its event."""
    await require_system(session, system_id)
    # The blob is placed before the row commits: a failed commit leaves an unreferenced blob
    # (harmless, collectable), never a row whose content is missing.
    blob_key = await blobs.place(principal.org_id, staged)
    file = EvidenceFile(
        id=uuid7(),
        org_id=principal.org_id,
        system_id=system_id,
        filename=filename,
        content_type=content_type,
        size_bytes=staged.size_bytes,
        sha256=staged.sha256,
        blob_key=blob_key,
        created_by=principal.subject,
        created_at=utcnow(),
    )
    EvidenceFileRepository(session).add(file)
    await session.flush()
    state = EvidenceFileRead.model_validate(file)
    await emit(
        session,
        make_event(EVIDENCE_ADDED, org_id=file.org_id, subject=file.id, version=1, data=state),
    )
    return state


async def get_file(session: AsyncSession, file_id: uuid.UUID) -> EvidenceFile:
    file = await EvidenceFileRepository(session).get(file_id)
    if file is None:
        raise EvidenceFileNotFound(f"No evidence file {file_id} in your organisation.")
    return file


async def list_files(
    session: AsyncSession, system_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
) -> tuple[list[EvidenceFileRead], list[EvidenceFile]]:
    """One page of a system's files, and the rows fetched (one more when more follow)."""
    await require_system(session, system_id)
    rows = await EvidenceFileRepository(session).list_for_system(
        system_id, limit=limit + 1, after=after
    )
    return [EvidenceFileRead.model_validate(r) for r in rows[:limit]], rows


async def list_systems(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, ids: list[uuid.UUID]
) -> tuple[list[SystemEvidenceRead], list[SystemEvidenceRead]]:
    rows = [
        SystemEvidenceRead.model_validate(r)
        for r in await SystemProjectionRepository(session).list_with_summary(
            limit=limit + 1, after=after, ids=ids
        )
    ]
    return rows[:limit], rows


async def get_system(session: AsyncSession, system_id: uuid.UUID) -> SystemEvidenceRead:
    rows = await SystemProjectionRepository(session).list_with_summary(
        limit=1, after=None, ids=[system_id]
    )
    if not rows:
        raise SystemNotKnown(
            f"The evidence service has no AI system {system_id} in your organisation."
        )
    return SystemEvidenceRead.model_validate(rows[0])
