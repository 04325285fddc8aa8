from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed


class RiskNotFound(NotFound):
    code = "risk-not-found"
    title = "Risk not found"


class MatrixVersionNotFound(NotFound):
    code = "risk-matrix-version-not-found"
    title = "Risk matrix version not found"


class InvalidRiskMatrix(ValidationFailed):
    code = "invalid-risk-matrix"
    title = "The risk matrix is not valid"


class InvalidRisk(ValidationFailed):
    """A risk whose references or scores do not fit (422 with locations)."""

    code = "invalid-risk"
    title = "The risk is not valid"


class InvalidCadence(ValidationFailed):
    code = "invalid-review-cadence"
    title = "The review cadences are not valid"


class RiskClosed(Conflict):
    code = "risk-closed"
    title = "The risk is closed"


class SelfAcceptance(Forbidden):
    """Whoever created or owns a risk cannot accept it, unless the organisation's risk policy
    allows self-acceptance (``allow_self_acceptance``)."""

    code = "separation-of-duties"
    title = "The creator or owner of a risk cannot accept it"
