"""Response bodies of the evidence API (and the data of its events)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.http import Page
from shared.projections import SystemProjectionFields


class SystemEvidenceRead(SystemProjectionFields):
    """An AI system as the evidence service sees it, with a summary of its evidence files."""

    file_count: int = Field(description="Evidence files recorded for the system")
    total_bytes: int = Field(description="Sum of the sizes of those files")


SystemEvidencePage = Page[SystemEvidenceRead]


class EvidenceFileRead(BaseModel):
    """An evidence file's metadata; also the data of ``aims.evidence.evidence.added``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    item_id: uuid.UUID = Field(description="The evidence item the file belongs to")
    version_id: uuid.UUID = Field(description="The item's version that holds the file")
    system_id: uuid.UUID | None = Field(
        description="The system it was uploaded for through `/v1/systems/{id}/files`, if so"
    )
    filename: str
    content_type: str
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the content, lowercase hex")
    created_by: str
    created_at: datetime


EvidenceFilePage = Page[EvidenceFileRead]
