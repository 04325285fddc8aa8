"""Events of organisations and their API keys."""

from __future__ import annotations

from services.inventory.events import catalogue
from shared.apikeys import ApiKeyState

APIKEY_CREATED = catalogue.register(
    "apikey.created", ApiKeyState, "An API key was issued (carries its SHA-256, never the key)."
)
APIKEY_REVOKED = catalogue.register("apikey.revoked", ApiKeyState, "An API key was revoked.")
