"""Errors of the competence domain, each with a stable code."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, ValidationFailed


class PersonNotFound(NotFound):
    code = "person-not-found"
    title = "Person not found"


class CompetenceNotFound(NotFound):
    code = "competence-not-found"
    title = "Competence not found"


class AIMSRoleNotFound(NotFound):
    code = "aims-role-not-found"
    title = "AIMS role not found"


class AssignmentNotFound(NotFound):
    code = "assignment-not-found"
    title = "The person does not hold this role"


class TrainingNotFound(NotFound):
    code = "training-not-found"
    title = "Training not found"


class NameTaken(Conflict):
    code = "name-taken"
    title = "The name is taken"


class EmailTaken(Conflict):
    code = "email-taken"
    title = "The e-mail address is taken"


class ExternalRefTaken(Conflict):
    code = "external-ref-taken"
    title = "The HR reference is taken"


class AlreadyAssigned(Conflict):
    code = "already-assigned"
    title = "The person already holds this role"


class StillReferenced(Conflict):
    code = "still-referenced"
    title = "Still referenced"


class UnknownReference(ValidationFailed):
    """A body names a person or competence that does not exist in the caller's organisation."""

    code = "unknown-reference"
    title = "Unknown reference"


class InvalidTrainingDates(ValidationFailed):
    code = "invalid-training-dates"
    title = "Invalid training dates"


class InvalidPeriod(ValidationFailed):
    code = "invalid-period"
    title = "Invalid period"
