"""Events of nonconformity and corrective action (10.2): the full state and version in each."""

from __future__ import annotations

from services.evidence.corrective.schemas import CorrectiveActionRead, NonconformityRead
from services.evidence.events import catalogue

NONCONFORMITY_OPENED = catalogue.register(
    "nonconformity.opened",
    NonconformityRead,
    "A nonconformity was opened (by an audit finding, or recorded directly).",
)
NONCONFORMITY_UPDATED = catalogue.register(
    "nonconformity.updated",
    NonconformityRead,
    "A nonconformity's correction, root cause, owner, due date or derived status changed.",
)
NONCONFORMITY_CLOSED = catalogue.register(
    "nonconformity.closed",
    NonconformityRead,
    "A nonconformity was closed after its corrective actions were verified effective.",
)
CORRECTIVE_ACTION_PLANNED = catalogue.register(
    "corrective_action.planned", CorrectiveActionRead, "A corrective action was planned."
)
CORRECTIVE_ACTION_UPDATED = catalogue.register(
    "corrective_action.updated",
    CorrectiveActionRead,
    "A corrective action's description, owner or due date changed.",
)
CORRECTIVE_ACTION_IMPLEMENTED = catalogue.register(
    "corrective_action.implemented",
    CorrectiveActionRead,
    "A corrective action was implemented (or reworked after an ineffective verification).",
)
CORRECTIVE_ACTION_VERIFIED = catalogue.register(
    "corrective_action.verified",
    CorrectiveActionRead,
    "A follow-up verified a corrective action effective or ineffective (`status`).",
)
CORRECTIVE_ACTION_CLOSED = catalogue.register(
    "corrective_action.closed",
    CorrectiveActionRead,
    "A corrective action closed with its nonconformity.",
)
CORRECTIVE_ACTION_OVERDUE = catalogue.register(
    "corrective_action.overdue",
    CorrectiveActionRead,
    "A corrective action's due date passed while it was not verified effective (once per due "
    "date, from the scheduler).",
)
