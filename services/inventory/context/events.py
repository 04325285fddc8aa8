"""Events of the organisation's context (4.1, 4.2): full state and version in each."""

from __future__ import annotations

from services.inventory.context.schemas import AIRolesRead, ContextIssueRead, InterestedPartyRead
from services.inventory.events import catalogue

CONTEXT_ISSUE_CREATED = catalogue.register(
    "context_issue.created",
    ContextIssueRead,
    "An internal or external issue (ISO/IEC 42001 4.1) was recorded.",
)
CONTEXT_ISSUE_UPDATED = catalogue.register(
    "context_issue.updated", ContextIssueRead, "A context issue changed."
)
INTERESTED_PARTY_CREATED = catalogue.register(
    "interested_party.created",
    InterestedPartyRead,
    "An interested party and its requirements (ISO/IEC 42001 4.2) were recorded.",
)
INTERESTED_PARTY_UPDATED = catalogue.register(
    "interested_party.updated",
    InterestedPartyRead,
    "An interested party or its requirements changed.",
)
AI_ROLES_UPDATED = catalogue.register(
    "organisation_ai_roles.updated",
    AIRolesRead,
    "The organisation's AI roles overall (producer, provider, customer, partner) changed.",
)
