"""Errors of the documented domain (each with a stable ``code``)."""

from __future__ import annotations

from shared.errors import NotFound, ValidationFailed


class DocumentedItemNotFound(NotFound):
    code = "documented-information-not-found"
    title = "No such documented-information item"


class SystemNotKnown(NotFound):
    code = "system-not-known"
    title = "No such AI system"


class InvalidFilter(ValidationFailed):
    code = "invalid-filter"
    title = "A filter names something that does not exist"
