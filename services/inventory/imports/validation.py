"""From rows of text cells to ``AISystemCreate`` bodies, with every problem of every row.

The importable columns are ``AISystemCreate``'s fields, read at run time, so a field added to the
register is importable without a change here. A cell's text becomes a value by the field's type:

* blank — not given (the field's default applies);
* enum — by value or name, case-insensitively;
* list — ``;``-separated items (each converted by the item type), or a JSON array;
* dict or model (and lists of them) — JSON in the cell;
* anything else — the text, which the schema coerces (dates, numbers, UUIDs, booleans).

Header matching ignores case, and spaces, underscores and hyphens are the same character.
"""

from __future__ import annotations

import enum
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from services.inventory.imports.cells import LIST_SEPARATOR, restore
from services.inventory.imports.parser import Sheet
from services.inventory.systems.schemas import AISystemCreate, AISystemRead

HEADER_ROW = 1
MAX_PROBLEMS_PER_ROW = 50


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    """The outcome of validating a sheet: the bodies to create and everything wrong with it."""

    rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header as written -> field
    bodies: list[AISystemCreate] = field(default_factory=list)
    body_rows: list[int] = field(default_factory=list)  # the row number of each body
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def header_of(self, field_name: str) -> str:
        return next((h for h, f in self.columns.items() if f == field_name), field_name)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def invalid_rows(self) -> int:
        return len({p.row for p in self.problems})

    def summary(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "rows": self.rows,
            "valid_rows": len(self.bodies),
            "invalid_rows": self.invalid_rows,
            "columns": self.columns,
            "problems": [p.as_dict() for p in self.problems],
            "warnings": self.warnings,
        }


def normalise_header(text: str) -> str:
    return re.sub(r"[\s_\-]+", "_", text.strip().lower()).strip("_")


class CellError(ValueError):
    """A cell whose text cannot become a value of its field's type."""


def _strip_optional(annotation: Any) -> Any:
    """``X | None`` → ``X``; ``Annotated[X, ...]`` → ``X``; other unions are left as they are."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _is_structured(annotation: Any) -> bool:
    """Values given as JSON in a cell: dicts and models."""
    annotation = _strip_optional(annotation)
    origin = typing.get_origin(annotation) or annotation
    return origin in (dict, Mapping) or (
        isinstance(origin, type) and issubclass(origin, BaseModel | dict)
    )


def _enum_member(enum_type: type[enum.Enum], text: str) -> Any:
    wanted = text.strip().casefold()
    for member in enum_type:
        if str(member.value).casefold() == wanted or member.name.casefold() == wanted:
            return member.value
    return text.strip()  # the schema reports it, with the allowed values


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CellError(f"Not valid JSON ({what} expected): {exc}") from None


def _converter(annotation: Any) -> Callable[[str], Any]:
    """How the text of one cell becomes the raw value of a field of type ``annotation``."""
    annotation = _strip_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin in (list, set, frozenset, tuple, Sequence):
        args = typing.get_args(annotation)
        item = _strip_optional(args[0]) if args else str
        if _is_structured(item):
            return lambda text: _json(text, "an array")
        convert_item = _converter(item)

        def to_list(text: str) -> Any:
            if text.lstrip().startswith("["):
                try:
                    return json.loads(text)
                except (ValueError, RecursionError):
                    pass  # "[draft] reviewers" is a list of one text, not broken JSON
            parts = [part.strip() for part in text.split(LIST_SEPARATOR)]
            return [convert_item(part) for part in parts if part]

        return to_list
    if _is_structured(annotation):
        return lambda text: _json(text, "an object")
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        enum_type = annotation
        return lambda text: _enum_member(enum_type, text)
    return lambda text: text


@dataclass(frozen=True)
class ColumnMap:
    """Which field each column of the sheet fills, and how."""

    width: int  # columns in the header row
    fields: dict[int, str]  # column index -> field name
    headers: dict[int, str]  # column index -> header as written
    converters: dict[str, Callable[[str], Any]]
    problems: list[RowProblem]
    warnings: list[dict[str, Any]]


def map_columns(headers: Sequence[str], model: type[BaseModel] = AISystemCreate) -> ColumnMap:
    by_key = {normalise_header(name): name for name in model.model_fields}
    read_only = {normalise_header(n) for n in AISystemRead.model_fields} - set(by_key)
    fields: dict[int, str] = {}
    written: dict[int, str] = {}
    problems: list[RowProblem] = []
    warnings: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if not key:
            continue
        name = by_key.get(key)
        if name is None:
            message = (
                "Read-only column; ignored."
                if key in read_only
                else "Unknown column; ignored. Known columns: " + ", ".join(model.model_fields)
            )
            warnings.append({"column": header, "message": message})
            continue
        if name in seen:
            problems.append(
                RowProblem(HEADER_ROW, header, f"Duplicate column: {seen[name]!r} is also {name}.")
            )
            continue
        seen[name] = header
        fields[index] = name
        written[index] = header
    for name, info in model.model_fields.items():
        if info.is_required() and name not in seen:
            problems.append(RowProblem(HEADER_ROW, name, f"Required column {name!r} is missing."))
    converters = {name: _converter(model.model_fields[name].annotation) for name in seen}
    return ColumnMap(len(headers), fields, written, converters, problems, warnings)


def _message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    given = error.get("input")
    if isinstance(given, str) and error.get("type") != "missing":
        shown = given if len(given) <= 60 else given[:57] + "..."
        message += f"; got {shown!r}"
    rest = [str(p) for p in error.get("loc", ())[1:]]
    return f"{message} (at {'.'.join(rest)})" if rest else message


def validate_row(
    number: int, cells: Sequence[str], columns: ColumnMap
) -> tuple[AISystemCreate | None, list[RowProblem]]:
    """One row's body, or every problem it has."""
    values: dict[str, Any] = {}
    problems: list[RowProblem] = []
    header_of = {name: columns.headers[i] for i, name in columns.fields.items()}
    for index, name in columns.fields.items():
        text = cells[index] if index < len(cells) else ""
        if not text.strip():
            continue
        try:
            values[name] = columns.converters[name](restore(text))
        except CellError as exc:
            problems.append(RowProblem(number, header_of[name], str(exc)))
    extra = sum(1 for cell in cells[columns.width :] if cell.strip())
    if extra:
        problems.append(RowProblem(number, None, f"{extra} value(s) beyond the last column."))
    try:
        body = AISystemCreate.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors(include_url=False)[:MAX_PROBLEMS_PER_ROW]:
            loc = error.get("loc", ())
            column = header_of.get(str(loc[0]), str(loc[0])) if loc else None
            problems.append(RowProblem(number, column, _message(error)))
        return None, problems
    except (ValueError, TypeError, RecursionError) as exc:  # a validator that did not wrap
        problems.append(RowProblem(number, None, f"Invalid row: {exc}"))
        return None, problems
    return (None, problems) if problems else (body, problems)


def validate_sheet(
    sheet: Sheet, *, progress: Callable[[int], None] | None = None, every: int = 500
) -> ImportReport:
    """Validate every row; the report lists each row's problems, not just the first one's."""
    columns = map_columns(sheet.headers)
    report = ImportReport(
        rows=len(sheet.rows),
        columns={columns.headers[i]: name for i, name in columns.fields.items()},
        problems=list(columns.problems),
        warnings=list(columns.warnings),
    )
    if columns.problems:
        return report  # without the required columns no row can be valid; one reason suffices
    for position, (number, cells) in enumerate(zip(sheet.numbers, sheet.rows, strict=True), 1):
        body, problems = validate_row(number, cells, columns)
        if body is not None:
            report.bodies.append(body)
            report.body_rows.append(number)
        report.problems.extend(problems)
        if progress is not None and position % every == 0:
            progress(position)
    if progress is not None:
        progress(len(sheet.rows))
    return report
