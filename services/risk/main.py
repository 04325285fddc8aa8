"""The risk service: risk register, EU AI Act classification, impact assessments, SoA."""

from __future__ import annotations

from fastapi import FastAPI

from services.risk.api import router
from services.risk.config import RiskSettings
from services.risk.consumers import HANDLERS
from shared.app import create_service_app


def create_app(settings: RiskSettings | None = None) -> FastAPI:
    return create_service_app(
        name="risk",
        settings=settings or RiskSettings(),
        title="AIMS risk",
        description="Risk register, EU AI Act classification, impact assessments and the "
        "Statement of Applicability. Errors are RFC 9457 problem+json.",
        routers=[router],
        handlers=HANDLERS,
    )
