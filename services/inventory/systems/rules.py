"""The one check of a system's fields that needs the organisation's data, shared by every way a
system is written: ``POST``/``PATCH /v1/ai-systems`` and each row of a spreadsheet import.

The schema (``AISystemCreate``/``AISystemUpdate``) checks what a value alone can tell: types,
enums, lengths, NUL characters. :func:`check_system` checks the rest — the vendor exists in the
organisation, custom field values fit their definitions (and required ones are present), a last
review is not in the future — and returns every problem per field instead of raising, so REST
answers one 422 listing them and an import lists them per row. A rule added here applies to both.

Pure code: the organisation's facts come in as :class:`RegisterFacts`, loaded once per request
(or once per import, for all rows) by ``service.register_facts``.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from services.inventory.systems.custom_fields import custom_field_problems
from services.inventory.systems.errors import (
    InvalidCustomFieldFilter,
    InvalidCustomFields,
    UnknownVendor,
)
from services.inventory.systems.events import SYSTEM_RETIRED, SYSTEM_UPDATED
from services.inventory.systems.models import AISystem, CustomField
from services.inventory.systems.schemas import AISystemCreate, LifecycleStage
from shared.events import EventType

# Fields a client writes; the rest of AISystemRead is kept by the service or mirrored.
EDITABLE = tuple(AISystemCreate.model_fields)
# Fields an update may not clear: ``null`` for them means "leave as is".
NOT_NULL = frozenset({"name", "lifecycle_stage", "description"})
LIST_FIELDS = frozenset({"data_inputs", "affected_stakeholders", "ai_roles"})
# Columns that hold Python dates and UUIDs rather than their JSON text.
TYPED_COLUMNS = frozenset({"next_review_at", "last_reviewed_at", "vendor_id"})
# A review recorded "today" in a timezone ahead of UTC is still today somewhere.
REVIEW_CLOCK_SKEW = timedelta(days=1)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """``value`` as the JSON the history and the JSON columns hold."""
    if type(value) in _SCALARS:  # most values: skip the isinstance chain (bulk imports)
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def column_value(name: str, value: Any) -> Any:
    """``value`` as the ORM column of field ``name`` takes it."""
    return value if name in TYPED_COLUMNS else plain(value)


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field: ``location`` is the field's path (``("vendor_id",)``,
    ``("custom_fields", "budget")``)."""

    location: tuple[str, ...]
    message: str
    type: str

    @property
    def field(self) -> str:
        return self.location[0]


@dataclass(frozen=True)
class RegisterFacts:
    """What the organisation holds that the checks need: its custom field definitions and which
    of the vendor ids asked about exist in it (row-level security hides other organisations')."""

    custom_fields: Sequence[CustomField] = ()
    vendors: frozenset[uuid.UUID] = frozenset()


@dataclass
class CheckedSystem:
    """The column values a write sets (every editable field for a new system, the sent ones for
    a change) and every problem found; write only when ``problems`` is empty."""

    values: dict[str, Any] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)


def sent_fields(body: BaseModel) -> dict[str, Any]:
    """The fields of a create (all of them) or an update (those sent) as :func:`check_system`
    takes them."""
    names = body.model_fields_set if not isinstance(body, AISystemCreate) else EDITABLE
    return {name: getattr(body, name) for name in names}


def check_system(
    sent: Mapping[str, Any],
    facts: RegisterFacts,
    current: AISystem | None = None,
    *,
    today: date | None = None,
) -> CheckedSystem:
    """Check and convert the fields of a new system (``current`` is None: ``sent`` holds every
    field) or of a change to ``current`` (``sent`` holds the changed fields).

    ``custom_fields`` in ``sent`` is merged into the current values, a key with ``None`` is
    removed; a ``None`` for a list field empties it; for a field that cannot be cleared it
    leaves the value as it is.
    """
    today = today or date.today()
    checked = CheckedSystem()
    for name, value in sent.items():
        if name == "custom_fields":
            continue
        if value is None and name in NOT_NULL:
            continue
        if value is None and name in LIST_FIELDS:
            value = []
        checked.values[name] = column_value(name, value)

    vendor = checked.values.get("vendor_id")
    unchanged_vendor = current is not None and vendor == current.vendor_id
    if vendor is not None and not unchanged_vendor and vendor not in facts.vendors:
        checked.problems.append(
            FieldProblem(("vendor_id",), f"No vendor {vendor} in your organisation.", "unknown")
        )

    reviewed = checked.values.get("last_reviewed_at")
    if isinstance(reviewed, date) and reviewed > today + REVIEW_CLOCK_SKEW:
        checked.problems.append(
            FieldProblem(
                ("last_reviewed_at",),
                f"A last review cannot be in the future ({reviewed.isoformat()}).",
                "future_date",
            )
        )

    if "custom_fields" in sent or current is None:
        patch: Mapping[str, Any] = sent.get("custom_fields") or {}
        merged = dict(current.custom_fields) if current is not None else {}
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
        given = {k: v for k, v in patch.items() if v is not None}
        cleaned, errors = custom_field_problems(
            given, facts.custom_fields, present={**merged, **given}
        )
        for error in errors:
            location = tuple(str(p) for p in error["location"][1:])  # drop "body"
            checked.problems.append(FieldProblem(location, error["message"], error["type"]))
        checked.values["custom_fields"] = {**merged, **cleaned}
    return checked


def raise_problems(problems: Sequence[FieldProblem]) -> None:
    """Refuse a REST write with every problem: ``unknown-vendor`` when the vendor is one of
    them (the code clients already handle), else a ``validation-failed`` 422."""
    if not problems:
        return
    errors = [
        {"location": ["body", *p.location], "message": p.message, "type": p.type} for p in problems
    ]
    vendor = next((p for p in problems if p.field == "vendor_id"), None)
    if vendor is not None:
        raise UnknownVendor(vendor.message, errors=errors)
    only_custom = all(p.field == "custom_fields" for p in problems)
    raise InvalidCustomFields(
        "Custom field values do not fit their definitions."
        if only_custom
        else "Some fields do not fit the organisation's register; see `errors`.",
        errors=errors,
    )


def changes_of(current: AISystem, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"from": before, "to": after}}`` for each value that differs from ``current``:
    what the history records, and empty when the write changes nothing."""
    changes: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        before, after = plain(getattr(current, name)), plain(value)
        if before != after:
            changes[name] = {"from": before, "to": after}
    return changes


def change_event_type(stage_before: str, stage_after: str) -> EventType:
    """``system.retired`` when a change retires the system, else ``system.updated``."""
    retired = LifecycleStage.RETIRED.value
    return SYSTEM_RETIRED if stage_before != retired and stage_after == retired else SYSTEM_UPDATED


def custom_filter_values(
    filters: Mapping[str, Sequence[str]], definitions: Sequence[CustomField]
) -> dict[str, list[Any]]:
    """``cf.<key>=value`` list filters in the stored form of each field's values (numbers as
    numbers, dates as ISO dates); an unknown key or a value its type cannot hold is a 400."""
    by_key = {d.key: d for d in definitions}
    out: dict[str, list[Any]] = {}
    for key, texts in filters.items():
        definition = by_key.get(key)
        if definition is None:
            known = ", ".join(f"cf.{k}" for k in sorted(by_key)) or "none defined"
            raise InvalidCustomFieldFilter(
                f"Your organisation defines no custom field `{key[:63]}` (custom filters: {known})."
            )
        values: list[Any] = []
        for text in texts:
            value: Any = text.strip()
            if "\x00" in text or len(text) > 2_000:
                raise InvalidCustomFieldFilter(f"`cf.{key}` takes text without NUL, up to 2,000.")
            if definition.type == "number":
                try:
                    number = float(value)
                except ValueError:
                    raise InvalidCustomFieldFilter(f"`cf.{key}` takes a number.") from None
                if not math.isfinite(number):
                    raise InvalidCustomFieldFilter(f"`cf.{key}` takes a finite number.")
                value = int(number) if number.is_integer() else number
            elif definition.type == "date":
                try:
                    value = date.fromisoformat(value).isoformat()
                except ValueError:
                    raise InvalidCustomFieldFilter(
                        f"`cf.{key}` takes a date (YYYY-MM-DD)."
                    ) from None
            values.append(value)
        out[key] = values
    return out
