"""Events of the classification domain."""

from __future__ import annotations

from services.risk.classification.schemas import ClassificationRead
from services.risk.events import catalogue

SYSTEM_CLASSIFIED = catalogue.register(
    "system.classified",
    ClassificationRead,
    "An AI system was classified under the EU AI Act (full classification state; "
    "dataversion is the classification version). The inventory mirrors `tier` and `risk_level`.",
)
