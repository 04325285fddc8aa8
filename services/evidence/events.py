"""The events the evidence service emits."""

from __future__ import annotations

from services.evidence.schemas import EvidenceFileRead
from shared.events import EventCatalogue

catalogue = EventCatalogue("evidence")

EVIDENCE_ADDED = catalogue.register(
    "evidence.added",
    EvidenceFileRead,
    "An evidence file was uploaded for an AI system (metadata only, never the content).",
)
