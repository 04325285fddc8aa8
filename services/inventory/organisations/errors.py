from __future__ import annotations

from shared.errors import NotFound


class ApiKeyNotFound(NotFound):
    code = "api-key-not-found"
    title = "API key not found"
