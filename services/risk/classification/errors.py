from __future__ import annotations

from shared.errors import NotFound


class ClassificationNotFound(NotFound):
    code = "classification-not-found"
    title = "AI system not classified"
