from __future__ import annotations

from shared.errors import BadRequest, Conflict, NotFound, ValidationFailed


class AISystemNotFound(NotFound):
    code = "ai-system-not-found"
    title = "AI system not found"


class CustomFieldNotFound(NotFound):
    code = "custom-field-not-found"
    title = "Custom field not found"


class CustomFieldKeyTaken(Conflict):
    code = "custom-field-key-taken"
    title = "A custom field with this key exists"


class InvalidCustomFields(ValidationFailed):
    """Custom field values that do not fit the organisation's definitions (422 with locations)."""


class UnknownVendor(ValidationFailed):
    code = "unknown-vendor"
    title = "No such vendor"


class InvalidCustomFieldFilter(BadRequest):
    """A ``cf.<key>`` list filter naming no custom field, or a value its type cannot hold."""

    code = "invalid-custom-field-filter"
    title = "Invalid custom field filter"
