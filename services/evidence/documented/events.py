"""Events of evidence requests (``aims.evidence.evidence_request.*``; one request's state each)."""

from __future__ import annotations

from services.evidence.documented.schemas import EvidenceRequestRead
from services.evidence.events import catalogue

EVIDENCE_REQUEST_OPENED = catalogue.register(
    "evidence_request.opened",
    EvidenceRequestRead,
    "A system-level item of documented information was asked of an AI system (it entered the "
    "scope, or became high-risk while in scope). `dataversion` is the request's version.",
)
EVIDENCE_REQUEST_WITHDRAWN = catalogue.register(
    "evidence_request.withdrawn",
    EvidenceRequestRead,
    "A request no longer applies (the system left the scope, or stopped being high-risk); "
    "evidence already supplied is kept.",
)
