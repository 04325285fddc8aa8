"""Validation of custom field values against the organisation's definitions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from services.inventory.systems.errors import InvalidCustomFields
from services.inventory.systems.models import CustomField
from services.inventory.systems.schemas import CustomFieldType

MAX_TEXT = 2_000


def _coerce(definition: CustomField, value: Any) -> tuple[Any, str | None]:
    """The stored form of ``value``, or the reason it does not fit ``definition``."""
    kind = CustomFieldType(definition.type)
    if kind in (CustomFieldType.TEXT, CustomFieldType.PERSON):
        if not isinstance(value, str) or not value.strip():
            return None, f"`{definition.key}` takes non-empty text"
        limit = MAX_TEXT if kind == CustomFieldType.TEXT else 200
        if len(value) > limit:
            return None, f"`{definition.key}` takes at most {limit} characters"
        if "\x00" in value:
            return None, f"`{definition.key}` must not contain the NUL character (U+0000)"
        return value.strip(), None
    if kind == CustomFieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, f"`{definition.key}` takes a number"
        if isinstance(value, float) and not math.isfinite(value):
            return None, f"`{definition.key}` takes a finite number"
        return value, None
    if kind == CustomFieldType.DATE:
        if not isinstance(value, str):
            return None, f"`{definition.key}` takes a date (YYYY-MM-DD)"
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, f"`{definition.key}` takes a date (YYYY-MM-DD)"
    # choice
    if not isinstance(value, str) or value not in definition.choices:
        allowed = ", ".join(definition.choices)
        return None, f"`{definition.key}` takes one of: {allowed}"
    return value, None


def validate_custom_fields(
    values: Mapping[str, Any],
    definitions: Sequence[CustomField],
    *,
    present: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """``values`` in their stored form; every problem at once as a 422 with locations.

    ``present`` is the system's values after the change: each required field must be in it
    (``None`` skips that check).
    """
    out, errors = custom_field_problems(values, definitions, present=present)
    if errors:
        raise InvalidCustomFields(
            "Custom field values do not fit their definitions.", errors=errors
        )
    return out


def custom_field_problems(
    values: Mapping[str, Any],
    definitions: Sequence[CustomField],
    *,
    present: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stored form of the values that fit, and one error (``location``, ``message``,
    ``type``) for each that does not or for each required field missing from ``present``."""
    by_key = {d.key: d for d in definitions}
    errors: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    for key, value in values.items():
        location = ["body", "custom_fields", key]
        definition = by_key.get(key)
        if definition is None:
            errors.append(
                {
                    "location": location,
                    "message": f"Your organisation defines no custom field `{key}`.",
                    "type": "unknown_custom_field",
                }
            )
            continue
        coerced, problem = _coerce(definition, value)
        if problem is not None:
            errors.append({"location": location, "message": problem, "type": "invalid_value"})
        else:
            out[key] = coerced
    if present is not None:
        for definition in definitions:
            if definition.required and definition.key not in present:
                errors.append(
                    {
                        "location": ["body", "custom_fields", definition.key],
                        "message": f"`{definition.key}` ({definition.label}) is required.",
                        "type": "missing",
                    }
                )
    return out, errors
