"""The inventory service: the register of AI systems, the organisation's context and scope."""

from __future__ import annotations

from fastapi import FastAPI

from services.inventory.components.api import router as components_router
from services.inventory.config import InventorySettings
from services.inventory.context.api import router as context_router
from services.inventory.events import catalogue
from services.inventory.imports.api import router as imports_router
from services.inventory.organisations.api import router as organisations_router
from services.inventory.scope.api import router as scope_router
from services.inventory.systems.api import router as systems_router
from services.inventory.systems.consumers import HANDLERS
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
        routers=[
            imports_router,  # before systems: /ai-systems/export.csv is not a /{system_id}
            systems_router,
            components_router,
            context_router,
            scope_router,
            organisations_router,
        ],
        # Streamed uploads that enforce their own limits: spreadsheets (20 MB), BOMs (5 MB).
        upload_paths=("/v1/ai-systems/import", r"/v1/ai-systems/[^/]+/bom$"),
        handlers=HANDLERS,
        project_api_keys=False,  # the inventory owns API keys
        catalogue=catalogue,
    )
