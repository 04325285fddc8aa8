"""Events the risk service handles."""

from __future__ import annotations

from services.risk.models import SystemProjection
from shared.projections import system_projection_handler

HANDLERS = [system_projection_handler(SystemProjection)]
