from __future__ import annotations

from shared.http import Page
from shared.projections import SystemProjectionFields


class SystemProjectionRead(SystemProjectionFields):
    """The risk service's view of an AI system."""


SystemProjectionPage = Page[SystemProjectionRead]
