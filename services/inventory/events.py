"""The events the inventory service emits."""

from __future__ import annotations

from services.inventory.schemas import AISystemRead
from shared.apikeys import ApiKeyState
from shared.events import EventCatalogue

catalogue = EventCatalogue("inventory")

SYSTEM_REGISTERED = catalogue.register(
    "system.registered", AISystemRead, "An AI system was added to the register."
)
SYSTEM_UPDATED = catalogue.register(
    "system.updated", AISystemRead, "An AI system's recorded facts changed."
)
SYSTEM_RETIRED = catalogue.register(
    "system.retired", AISystemRead, "An AI system entered the retired lifecycle stage."
)
APIKEY_CREATED = catalogue.register(
    "apikey.created", ApiKeyState, "An API key was issued (carries its SHA-256, never the key)."
)
APIKEY_REVOKED = catalogue.register("apikey.revoked", ApiKeyState, "An API key was revoked.")
