"""The events of the evidence item domain, registered in the evidence service's catalogue."""

from __future__ import annotations

from services.evidence.events import EVIDENCE_ADDED, catalogue
from services.evidence.items.schemas import BlobIntegrityRead, EvidenceRead, EvidenceTimerData

__all__ = [
    "BLOB_INTEGRITY_FAILED",
    "EVIDENCE_ADDED",
    "EVIDENCE_APPROVED",
    "EVIDENCE_CREATED",
    "EVIDENCE_DELETED",
    "EVIDENCE_EXPIRED",
    "EVIDENCE_RETENTION_ENDED",
    "EVIDENCE_REVIEW_DUE",
    "EVIDENCE_UPDATED",
]

EVIDENCE_CREATED = catalogue.register(
    "evidence.created", EvidenceRead, "An evidence item was created (with version 1, a draft)."
)
EVIDENCE_UPDATED = catalogue.register(
    "evidence.updated",
    EvidenceRead,
    "An evidence item changed: its fields, links, versions, review status or legal hold.",
)
EVIDENCE_APPROVED = catalogue.register(
    "evidence.approved",
    EvidenceRead,
    "A version of an evidence item was approved; it is in force and immutable "
    "(`current_version`), the previously approved one superseded.",
)
EVIDENCE_DELETED = catalogue.register(
    "evidence.deleted",
    EvidenceRead,
    "An evidence item was deleted (soft: the record and its links are kept, hidden from lists).",
)
EVIDENCE_REVIEW_DUE = catalogue.register(
    "evidence.review_due",
    EvidenceTimerData,
    "An evidence item's review-by date has passed.",
)
EVIDENCE_EXPIRED = catalogue.register(
    "evidence.expired",
    EvidenceTimerData,
    "An approved evidence item's effective period ended; its status is now `expired`.",
)
EVIDENCE_RETENTION_ENDED = catalogue.register(
    "evidence.retention_ended",
    EvidenceTimerData,
    "An evidence item's retention period ended; it may now be deleted.",
)
BLOB_INTEGRITY_FAILED = catalogue.register(
    "blob.integrity_failed",
    BlobIntegrityRead,
    "Stored evidence content no longer matches its SHA-256 (`corrupt`) or is gone (`missing`); "
    "it is not served. Uploading the original content again repairs it.",
)
