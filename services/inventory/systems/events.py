"""Events of the AI system register."""

from __future__ import annotations

from services.inventory.events import catalogue
from services.inventory.systems.schemas import AISystemRead

SYSTEM_REGISTERED = catalogue.register(
    "system.registered", AISystemRead, "An AI system was added to the register."
)
SYSTEM_UPDATED = catalogue.register(
    "system.updated", AISystemRead, "An AI system's recorded facts changed."
)
SYSTEM_RETIRED = catalogue.register(
    "system.retired", AISystemRead, "An AI system entered the retired lifecycle stage."
)
