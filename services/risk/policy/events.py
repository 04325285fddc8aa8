"""Events of the organisation's risk policy (``aims.risk.risk_policy.*``; full state)."""

from __future__ import annotations

from services.risk.events import catalogue
from services.risk.policy.schemas import RiskPolicyRead

RISK_POLICY_CHANGED = catalogue.register(
    "risk_policy.changed",
    RiskPolicyRead,
    "The organisation's risk policy settings (self-acceptance of risks, full impact assessments "
    "for every high-risk system) changed.",
)
