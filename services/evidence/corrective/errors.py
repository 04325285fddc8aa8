"""Errors of the nonconformity and corrective action domain, each with a stable code."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class NonconformityNotFound(NotFound):
    code = "nonconformity-not-found"
    title = "Nonconformity not found"


class CorrectiveActionNotFound(NotFound):
    code = "corrective-action-not-found"
    title = "Corrective action not found"


class NonconformityClosed(Conflict):
    code = "nonconformity-closed"
    title = "The nonconformity is closed"


class VerificationRequired(Conflict):
    """Closing needs the correction, the root cause, and every action verified effective;
    ``missing`` lists what is not there yet."""

    code = "verification-required"
    title = "The nonconformity cannot close before its actions are verified effective"


class InvalidActionTransition(Conflict):
    code = "invalid-action-transition"
    title = "The corrective action cannot make this change in its current status"


class VerifierNotIndependent(Conflict):
    """Whoever implemented an action does not verify its effectiveness."""

    code = "verifier-not-independent"
    title = "The verifier implemented the action"
