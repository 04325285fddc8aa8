"""The inventory service: the register of AI systems, the organisation's context and scope."""

from __future__ import annotations

from fastapi import FastAPI

from services.inventory.api import router
from services.inventory.config import InventorySettings
from services.inventory.events import catalogue
from shared.app import create_service_app


def create_app(settings: InventorySettings | None = None) -> FastAPI:
    return create_service_app(
        name="inventory",
        settings=settings or InventorySettings(),
        title="AIMS inventory",
        description=(
            "The register of every AI system the organisation builds, sells or buys "
            "(ISO/IEC 42001 4.1–4.3). Errors are RFC 9457 problem+json."
        ),
        routers=[router],
        project_api_keys=False,  # the inventory owns API keys
        catalogue=catalogue,
    )
