from __future__ import annotations

from shared.errors import NotFound


class SystemNotKnown(NotFound):
    code = "system-not-known"
    title = "AI system not known to the risk service"
