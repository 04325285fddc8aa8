from __future__ import annotations

from shared.errors import NotFound


class AISystemNotFound(NotFound):
    code = "ai-system-not-found"
    title = "AI system not found"
