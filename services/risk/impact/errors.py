from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed


class ImpactAssessmentNotFound(NotFound):
    code = "impact-assessment-not-found"
    title = "Impact assessment not found"


class UnknownSystem(ValidationFailed):
    code = "unknown-system"
    title = "No such AI system"


class AssessmentNotEditable(Conflict):
    code = "impact-assessment-not-editable"
    title = "Only a draft impact assessment can be changed"


class InvalidTransition(Conflict):
    code = "impact-assessment-invalid-transition"
    title = "The impact assessment is not in a state that allows this"


class AuthorCannotApprove(Forbidden):
    code = "separation-of-duties"
    title = "The author of an impact assessment cannot approve it"


class AssessmentIncomplete(ValidationFailed):
    """422 listing every field submission or approval still needs (``errors`` and ``missing``,
    dotted field paths such as ``fundamental_rights.deployer_process``)."""

    code = "impact-assessment-incomplete"
    title = "The impact assessment is not complete"


class ReviewerOrAuthorOnly(Forbidden):
    code = "impact-assessment-reviewer-or-author-only"
    title = "Only a reviewer (admin, manager) or the author can do this"
