"""Pure decisions of nonconformity and corrective action (10.2): an NC's status, what stands
between it and closure, and whether an action is overdue. No database, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# Actions still owing something by their due date (implemented but not yet verified counts:
# the due date is for an effective action, not for an attempt).
OPEN_ACTION_STATUSES = ("planned", "implemented", "verified_ineffective")


@dataclass(frozen=True)
class NonconformityFacts:
    correction_recorded: bool
    root_cause_recorded: bool
    closed: bool
    action_statuses: Sequence[str]


def derive_status(facts: NonconformityFacts) -> str:
    """``open`` (nothing done yet) → ``correction_done`` (corrected, no action yet) →
    ``action_planned`` (an action is planned, or one verified ineffective needs rework) →
    ``awaiting_verification`` (every action implemented; verification or closure pending) →
    ``closed``."""
    if facts.closed:
        return "closed"
    statuses = facts.action_statuses
    if not statuses:
        return "correction_done" if facts.correction_recorded else "open"
    if any(s in ("planned", "verified_ineffective") for s in statuses):
        return "action_planned"
    return "awaiting_verification"


def close_blockers(facts: NonconformityFacts) -> list[str]:
    """What must still be recorded before the NC may close (empty: it may close):
    ``correction``, ``root_cause``, ``corrective_action`` (none planned), and
    ``action_not_verified_effective`` for each action not verified effective."""
    missing: list[str] = []
    if not facts.correction_recorded:
        missing.append("correction")
    if not facts.root_cause_recorded:
        missing.append("root_cause")
    if not facts.action_statuses:
        missing.append("corrective_action")
    missing.extend(
        "action_not_verified_effective"
        for s in facts.action_statuses
        if s not in ("verified_effective", "closed")
    )
    return missing


def is_overdue(status: str, due_date: date, today: date) -> bool:
    """An action is overdue once its due date has passed (``today > due_date``) while it is not
    verified effective or closed."""
    return status in OPEN_ACTION_STATUSES and today > due_date
