"""How one value is written into, and read back from, one spreadsheet cell.

Lists are ``;``-separated (or a JSON array when an item holds a ``;`` or is not a scalar),
dicts are JSON. A cell a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or CR) is written with a leading ``'``; reading strips exactly that prefix again, so an
export imports back to the same values. The escaping is applied recursively to a value that
itself starts with ``'`` followed by such a character, which keeps the mapping one-to-one.
"""

from __future__ import annotations

import enum
import json
from datetime import date, datetime
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"


def _needs_prefix(text: str) -> bool:
    while text.startswith("'"):
        text = text[1:]
        if not text:
            return False
        if text.startswith(FORMULA_STARTS):
            return True
        if not text.startswith("'"):
            return False
    return text.startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """The cell text a spreadsheet shows as text, never evaluates."""
    return "'" + text if _needs_prefix(text) else text


def restore(text: str) -> str:
    """Inverse of :func:`neutralise`."""
    if text.startswith("'") and _needs_prefix(text[1:]):
        return text[1:]
    return text


def _scalar(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def to_cell(value: Any) -> str:
    """A JSON-mode value (as ``model_dump(mode="json")`` gives) as neutralised cell text."""
    if value is None:
        return ""
    if isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, list | tuple):
        items = list(value)
        scalar = all(
            not isinstance(item, dict | list | tuple) and item is not None for item in items
        )
        texts = [_scalar(item) for item in items] if scalar else []
        joined = LIST_SEPARATOR.join(texts)
        if (
            scalar
            and all(t and LIST_SEPARATOR not in t and t == t.strip() for t in texts)
            and not joined.startswith("[")  # which reads back as a JSON array
        ):
            text = joined
        else:
            text = json.dumps(items, ensure_ascii=False, default=str)
    else:
        text = _scalar(value)
    return neutralise(text)
