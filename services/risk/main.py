"""The risk service: risk register, EU AI Act classification, impact assessments, SoA."""

from __future__ import annotations

from fastapi import FastAPI

from services.risk.classification.api import router as classification_router
from services.risk.config import RiskSettings
from services.risk.events import catalogue
from services.risk.impact.api import router as impact_router
from services.risk.policy.api import router as policy_router
from services.risk.register.api import router as register_router
from services.risk.register.timers import TIMER_JOBS
from services.risk.soa.api import router as soa_router
from services.risk.systems.api import router as systems_router
from services.risk.systems.consumers import HANDLERS
from shared.app import create_service_app


def create_app(settings: RiskSettings | None = None) -> FastAPI:
    return create_service_app(
        name="risk",
        settings=settings or RiskSettings(),
        title="AIMS risk",
        description="Risk register, EU AI Act classification, impact assessments and the "
        "Statement of Applicability. Errors are RFC 9457 problem+json.",
        routers=[
            systems_router,
            register_router,
            classification_router,
            impact_router,
            soa_router,
            policy_router,
        ],
        handlers=HANDLERS,
        catalogue=catalogue,
        timer_jobs=TIMER_JOBS,
    )
