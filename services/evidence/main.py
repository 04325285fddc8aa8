"""The evidence service: evidence files and their blobs, kept for each AI system."""

from __future__ import annotations

from fastapi import FastAPI

from services.evidence.api import router
from services.evidence.audits.api import router as audits_router
from services.evidence.blobs import BlobStore
from services.evidence.competence.api import router as competence_router
from services.evidence.competence.timers import TIMER_JOBS as COMPETENCE_TIMER_JOBS
from services.evidence.config import EvidenceSettings
from services.evidence.consumers import HANDLERS
from services.evidence.corrective.api import router as corrective_router
from services.evidence.corrective.timers import TIMER_JOBS as CORRECTIVE_TIMER_JOBS
from services.evidence.documented.api import router as documented_router
from services.evidence.events import catalogue
from services.evidence.items.api import router as items_router
from services.evidence.items.timers import TIMER_JOBS as ITEMS_TIMER_JOBS
from services.evidence.objectives.api import router as objectives_router
from services.evidence.objectives.timers import TIMER_JOBS as OBJECTIVES_TIMER_JOBS
from services.evidence.readiness.api import router as readiness_router
from services.evidence.readiness.timers import TIMER_JOBS as READINESS_TIMER_JOBS
from services.evidence.reviews.api import router as reviews_router
from services.evidence.reviews.timers import TIMER_JOBS as REVIEWS_TIMER_JOBS
from shared.app import ServiceContext, create_service_app


def create_app(settings: EvidenceSettings | None = None) -> FastAPI:
    resolved = settings or EvidenceSettings()

    async def open_blob_store(ctx: ServiceContext) -> None:
        ctx.extras["blobs"] = BlobStore.from_settings(resolved)

    return create_service_app(
        name="evidence",
        settings=resolved,
        title="AIMS evidence",
        description=(
            "Evidence that proves the AI management system to an auditor (ISO/IEC 42001 7.5): "
            "files kept per AI system, content-addressed by SHA-256. "
            "Errors are RFC 9457 problem+json."
        ),
        routers=[
            router,
            items_router,
            documented_router,
            competence_router,
            objectives_router,
            reviews_router,
            audits_router,
            corrective_router,
            readiness_router,
        ],
        handlers=HANDLERS,
        catalogue=catalogue,
        on_startup=open_blob_store,
        timer_jobs=[
            *COMPETENCE_TIMER_JOBS,
            *ITEMS_TIMER_JOBS,
            *OBJECTIVES_TIMER_JOBS,
            *REVIEWS_TIMER_JOBS,
            *CORRECTIVE_TIMER_JOBS,
            *READINESS_TIMER_JOBS,
        ],
        # The upload route enforces
        # ``max_upload_bytes`` itself while streaming.
        upload_paths=(
            r"/v1/systems/[^/]+/files$",
            r"/v1/evidence/[^/]+/versions/[^/]+/files$",
        ),
    )
