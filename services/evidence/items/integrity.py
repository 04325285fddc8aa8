"""Verifying every blob of an organisation (``POST /v1/blobs/verify``, ``aims evidence verify``).

Blobs are read and hashed outside any database transaction (a large store takes a while);
each page of results is then recorded in one short transaction, problems with their
``blob.integrity_failed`` events (one per bad blob per run).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from services.evidence.blobs import BlobState, BlobStore
from services.evidence.items import service
from services.evidence.items.repository import BlobRepository
from services.evidence.items.schemas import BlobIntegrityRead, BlobVerifyReport
from shared.db import Database, tenant_transaction

PAGE = 200
# Problems listed in one report (all are recorded and emitted; the counts are complete).
MAX_PROBLEMS_REPORTED = 1_000

# progress(blobs_done, blobs_total, bytes_done, bytes_total)
Progress = Callable[[int, int, int, int], None]


async def verify_organisation(
    db: Database,
    blobs: BlobStore,
    org_id: uuid.UUID,
    *,
    started: float | None = None,
    progress: Progress | None = None,
) -> BlobVerifyReport:
    started = time.perf_counter() if started is None else started
    async with tenant_transaction(db, org_id) as session:
        total, total_bytes = await BlobRepository(session).totals()
    counts: dict[BlobState, int] = {"ok": 0, "corrupt": 0, "missing": 0}
    problems: list[BlobIntegrityRead] = []
    done = done_bytes = 0
    after: str | None = None
    if progress is not None:
        progress(0, total, 0, total_bytes)
    while True:
        async with tenant_transaction(db, org_id) as session:
            page = await BlobRepository(session).page(after=after, limit=PAGE)
        if not page:
            break
        checked: list[tuple[str, int, str, BlobState]] = []
        for sha256, size, key in page:
            state = await blobs.check(key, sha256, size)
            checked.append((sha256, size, key, state))
            counts[state] += 1
            done += 1
            done_bytes += size
            if progress is not None:
                progress(done, max(total, done), done_bytes, max(total_bytes, done_bytes))
        async with tenant_transaction(db, org_id) as session:
            for sha256, size, key, state in checked:
                problem = await service.record_blob_check(
                    session,
                    org_id,
                    sha256=sha256,
                    size_bytes=size,
                    key=key,
                    state=state,
                    detected_by="verify",
                    always_emit=True,
                )
                if problem is not None and len(problems) < MAX_PROBLEMS_REPORTED:
                    problems.append(problem)
        after = page[-1][0]
    return BlobVerifyReport(
        checked=done,
        ok=counts["ok"],
        corrupt=counts["corrupt"],
        missing=counts["missing"],
        bytes_checked=done_bytes,
        duration_ms=round((time.perf_counter() - started) * 1000),
        problems=problems,
    )


async def verify_for_cli(
    settings: object, org_id: str, progress: Progress | None = None
) -> dict[str, object]:
    """``aims evidence verify --org ID``: the same run with the service's settings."""
    from services.evidence.config import EvidenceSettings
    from shared.errors import BadRequest

    assert isinstance(settings, EvidenceSettings)
    try:
        org = uuid.UUID(org_id)
    except ValueError as exc:
        raise BadRequest(f"Not a valid organisation id: {org_id!r}") from exc
    db = Database(settings.app_database_url, pool_size=1)
    try:
        report = await verify_organisation(
            db, BlobStore.from_settings(settings), org, progress=progress
        )
    finally:
        await db.dispose()
    return report.model_dump(mode="json")
