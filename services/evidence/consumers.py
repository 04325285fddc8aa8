"""Events the evidence service handles: the system projection, and each domain's own."""

from __future__ import annotations

from services.evidence.competence.consumers import HANDLERS as COMPETENCE_HANDLERS
from services.evidence.documented.consumers import HANDLERS as DOCUMENTED_HANDLERS
from services.evidence.items.consumers import HANDLERS as ITEMS_HANDLERS
from services.evidence.models import SystemProjection
from services.evidence.readiness.consumers import HANDLERS as READINESS_HANDLERS
from services.evidence.reviews.consumers import HANDLERS as REVIEWS_HANDLERS
from shared.events.consumer import EventHandler
from shared.projections import system_projection_handler

HANDLERS: list[EventHandler] = [
    system_projection_handler(SystemProjection),
    *ITEMS_HANDLERS,
    *DOCUMENTED_HANDLERS,
    *COMPETENCE_HANDLERS,
    *READINESS_HANDLERS,
    *REVIEWS_HANDLERS,
]
