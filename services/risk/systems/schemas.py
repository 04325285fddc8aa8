from __future__ import annotations

import uuid
from typing import Any

from shared.http import Page
from shared.projections import SystemProjectionFields


class SystemProjectionRead(SystemProjectionFields):
    """The risk service's view of an AI system."""

    intended_purpose: str | None = None
    sector: str | None = None
    data_inputs: list[Any] = []
    ai_roles: list[str] = []
    affected_stakeholders: list[str] = []
    in_scope: bool | None = None
    vendor_id: uuid.UUID | None = None
    provenance: str | None = None


SystemProjectionPage = Page[SystemProjectionRead]
