"""Events of the risk register (full state + version, through the outbox)."""

from __future__ import annotations

from services.risk.events import catalogue
from services.risk.register.schemas import ReviewDue, RiskRead

RISK_CREATED = catalogue.register("risk.created", RiskRead, "A risk was added to the register.")
RISK_ASSESSED = catalogue.register(
    "risk.assessed", RiskRead, "A risk's likelihood, severity or levels changed (any scoring)."
)
RISK_UPDATED = catalogue.register(
    "risk.updated", RiskRead, "A risk's description, treatment or status changed."
)
RISK_ACCEPTED = catalogue.register(
    "risk.accepted", RiskRead, "A manager or admin accepted a risk's residual level."
)
REVIEW_DUE = catalogue.register(
    "review.due",
    ReviewDue,
    "Risks are due for review: a system's facts changed, a risk's review date passed, or a "
    "system's review date passed (`reason`).",
)
