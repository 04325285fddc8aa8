"""Errors of the objectives domain, each with a stable code."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, ValidationFailed


class ObjectiveNotFound(NotFound):
    code = "objective-not-found"
    title = "Objective not found"


class ObjectiveWithdrawn(Conflict):
    code = "objective-withdrawn"
    title = "The objective is withdrawn"


class InvalidObjective(ValidationFailed):
    """A clause or control id that is not in the catalogue, or a date out of order."""

    code = "invalid-objective"
    title = "Invalid objective"


class InvalidMeasurement(ValidationFailed):
    code = "invalid-measurement"
    title = "Invalid measurement"
