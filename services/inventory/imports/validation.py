"""From rows of text cells to ``AISystemCreate`` bodies, with every problem of every row.

The importable columns are ``AISystemCreate``'s fields, read at run time, so a field added to the
register is importable without a change here. A cell's text becomes a value by the field's type:

* blank — not given (the field's default applies);
* enum — by value or name, case-insensitively;
* list — ``;``-separated items (each converted by the item type), or a JSON array;
* dict or model (and lists of them) — JSON in the cell;
* anything else — the text, which the schema coerces (dates, numbers, UUIDs, booleans).

Header matching ignores case, and spaces, underscores and hyphens are the same character. Besides
the field names, a header may be a common spelling of a field (:data:`HEADER_ALIASES`: "System
name", "Owner email"…), the key or label of one of the organisation's custom fields (or
``cf.<key>``), ``id`` (the system a row updates) or ``version`` (the version the row was read
at, checked like ``If-Match``). Other columns are reported as warnings and ignored. The vendor
column takes a vendor's id or its name (matched among the organisation's vendors later).
"""

from __future__ import annotations

import enum
import json
import re
import types
import typing
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from services.inventory.imports.cells import LIST_SEPARATOR, restore
from services.inventory.imports.parser import Sheet
from services.inventory.systems.schemas import AISystemCreate, AISystemRead

HEADER_ROW = 1
NUL = "\x00"
NUL_MESSAGE = "The cell holds the NUL character (U+0000), which cannot be stored; remove it."
MAX_PROBLEMS_PER_ROW = 50
ID_COLUMN = "id"
VERSION_COLUMN = "version"
CUSTOM_PREFIX = "custom_fields."
UNNAMED = "(unnamed)"  # the stand-in name of a row that has an id but no name
CUSTOM_HEADER_PREFIXES = ("cf.", "custom_fields.", "custom_field.", "custom.")

# Common spellings of the register's fields in people's spreadsheets (normalised form).
HEADER_ALIASES: dict[str, str] = {
    **dict.fromkeys(("system", "system_name", "ai_system", "ai_system_name"), "name"),
    **dict.fromkeys(
        ("owner_email", "owner_e_mail", "owner_name", "system_owner", "business_owner"), "owner"
    ),
    **dict.fromkeys(("purpose", "intended_use"), "intended_purpose"),
    **dict.fromkeys(
        ("function", "department", "business_unit", "business_area"), "business_function"
    ),
    **dict.fromkeys(("stage", "lifecycle", "lifecycle_status"), "lifecycle_stage"),
    **dict.fromkeys(("roles", "ai_role", "role", "our_role", "our_roles"), "ai_roles"),
    **dict.fromkeys(
        ("stakeholders", "affected_parties", "affected_groups"), "affected_stakeholders"
    ),
    **dict.fromkeys(("oversight", "human_in_the_loop"), "human_oversight"),
    **dict.fromkeys(("data_categories",), "data_inputs"),
    **dict.fromkeys(("vendor", "supplier", "supplier_id"), "vendor_id"),
    **dict.fromkeys(("built_by", "sourcing"), "provenance"),
    **dict.fromkeys(("industry", "deployment_context"), "sector"),
    **dict.fromkeys(
        ("next_review", "next_review_date", "next_review_due", "review_due", "review_date"),
        "next_review_at",
    ),
    **dict.fromkeys(
        (
            "last_reviewed",
            "last_review",
            "last_review_date",
            "last_reviewed_on",
            "last_reviewed_date",
            "reviewed_at",
            "reviewed_on",
        ),
        "last_reviewed_at",
    ),
    **dict.fromkeys(("system_id", "ai_system_id", "uuid"), ID_COLUMN),
}


class CustomFieldSpec(Protocol):
    """What a column needs of a custom field definition (the ORM row has it)."""

    @property
    def key(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def type(self) -> str: ...


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class ImportRow:
    """One valid row: the system it describes and what the sheet says about it.

    ``given`` are the fields the sheet has a column for (an update changes only those) and
    ``blank`` those of them left empty in this row (an update clears them). ``custom`` are the
    values of per-field custom columns, ``None`` where blank.
    """

    number: int
    body: AISystemCreate
    given: frozenset[str] = frozenset()
    blank: frozenset[str] = frozenset()
    id: uuid.UUID | None = None
    version: int | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    named: bool = True  # False: the row has an id but no name (it can update, not create)
    vendor_name: str | None = None  # the vendor column held a name, not an id: resolved later


@dataclass
class ImportReport:
    """The outcome of validating a sheet: the rows to write and everything wrong with it; the
    register check (``service.check_against_register``) adds the plan's counts."""

    rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header as written -> field
    valid_rows: list[ImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # created/updated/unchanged, once planned

    @property
    def bodies(self) -> list[AISystemCreate]:
        return [row.body for row in self.valid_rows]

    def header_of(self, field_name: str) -> str:
        return next((h for h, f in self.columns.items() if f == field_name), field_name)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def invalid_rows(self) -> int:
        return len({p.row for p in self.problems})

    def summary(self) -> dict[str, Any]:
        invalid = {p.row for p in self.problems}
        return {
            "valid": self.valid,
            "rows": self.rows,
            "valid_rows": sum(1 for r in self.valid_rows if r.number not in invalid),
            "invalid_rows": self.invalid_rows,
            "columns": self.columns,
            "problems": [p.as_dict() for p in self.problems],
            "warnings": self.warnings,
            "unknown_columns": self.unknown_columns,
            **self.counts,
        }


def normalise_header(text: str) -> str:
    """A header as it is matched: invisible format characters (a stray byte order mark, zero
    width spaces, direction marks) dropped, NFKC-normalised (full-width letters), case-folded;
    runs of spaces, underscores and hyphens are one ``_``."""
    visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
    folded = unicodedata.normalize("NFKC", visible).casefold()
    return re.sub(r"[\s_\-]+", "_", folded.strip()).strip("_")


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
    custom: dict[int, CustomFieldSpec] = field(default_factory=dict)  # column -> custom field
    id_column: int | None = None
    version_column: int | None = None
    unknown: list[str] = field(default_factory=list)

    def header_of(self, target: str) -> str | None:
        """The header of the column filling ``target`` (a field, ``custom_fields.<key>``,
        ``id`` or ``version``)."""
        for index, header in self.headers.items():
            if self.target(index) == target:
                return header
        return None

    def target(self, index: int) -> str | None:
        if index in self.fields:
            return self.fields[index]
        if index in self.custom:
            return CUSTOM_PREFIX + self.custom[index].key
        if index == self.id_column:
            return ID_COLUMN
        if index == self.version_column:
            return VERSION_COLUMN
        return None


def _custom_by_header(custom_fields: Sequence[CustomFieldSpec]) -> dict[str, CustomFieldSpec]:
    """Normalised header -> custom field: ``cf.<key>`` forms, then keys, then labels (a key
    wins over another field's label)."""
    out: dict[str, CustomFieldSpec] = {}
    for definition in custom_fields:
        out.setdefault(normalise_header(definition.label), definition)
    for definition in custom_fields:
        out[normalise_header(definition.key)] = definition
    for definition in custom_fields:
        for prefix in CUSTOM_HEADER_PREFIXES:
            out[normalise_header(prefix + definition.key)] = definition
    return out


def resolve_header(
    header: str,
    model: type[BaseModel] = AISystemCreate,
    custom_fields: Sequence[CustomFieldSpec] = (),
) -> str | None:
    """What a column fills: a field name, ``custom_fields.<key>``, ``id``, ``version``, or
    None (read-only or unknown). Field names first, then the organisation's custom fields
    (``cf.<key>``, key, label), then common spellings (:data:`HEADER_ALIASES`)."""
    key = normalise_header(header)
    if not key:
        return None
    by_key = {normalise_header(name): name for name in model.model_fields}
    if key in by_key:
        return by_key[key]
    if key in (ID_COLUMN, VERSION_COLUMN):
        return key
    definition = _custom_by_header(custom_fields).get(key)
    if definition is not None:
        return CUSTOM_PREFIX + definition.key
    return HEADER_ALIASES.get(key)


def _custom_converter(definition: CustomFieldSpec) -> Callable[[str], Any]:
    """Cell text -> a custom field's raw value; the register's check judges it afterwards."""
    if definition.type == "number":

        def number(text: str) -> Any:
            cleaned = text.strip()
            try:
                value = float(cleaned)
            except ValueError:
                raise CellError(f"Not a number; got {cleaned[:60]!r}") from None
            return int(value) if value.is_integer() and abs(value) < 2**53 else value

        return number
    return lambda text: text.strip()


def map_columns(
    headers: Sequence[str],
    model: type[BaseModel] = AISystemCreate,
    custom_fields: Sequence[CustomFieldSpec] = (),
) -> ColumnMap:
    read_only = {normalise_header(n) for n in AISystemRead.model_fields} - {
        normalise_header(n) for n in model.model_fields
    }
    customs = {d.key: d for d in custom_fields}
    fields: dict[int, str] = {}
    custom: dict[int, CustomFieldSpec] = {}
    written: dict[int, str] = {}
    problems: list[RowProblem] = []
    warnings: list[dict[str, Any]] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    id_column: int | None = None
    version_column: int | None = None
    custom_headers = _custom_by_header(custom_fields)
    for index, header in enumerate(headers):
        if NUL in header:
            problems.append(RowProblem(HEADER_ROW, header.replace(NUL, "\\0"), NUL_MESSAGE))
            continue
        key = normalise_header(header)
        if not key:
            continue
        target = resolve_header(header, model, custom_fields)
        if target is None:
            if key in read_only:
                message = "Read-only column; ignored."
            else:
                unknown.append(header)
                known = list(model.model_fields) + [f"cf.{k}" for k in customs]
                message = "Unknown column; ignored. Known columns: " + ", ".join(known)
            warnings.append({"column": header, "message": message})
            continue
        shadowed = custom_headers.get(key)
        if shadowed is not None and target != CUSTOM_PREFIX + shadowed.key:
            # A built-in field's name wins (resolve_header); say which custom field it hides.
            warnings.append(
                {
                    "column": header,
                    "message": f"Fills the built-in field {target}, not the custom field "
                    f"{shadowed.key!r} labelled {shadowed.label!r}; name that column "
                    f"'cf.{shadowed.key}' to fill the custom field.",
                }
            )
        if target in seen:
            problems.append(
                RowProblem(
                    HEADER_ROW, header, f"Duplicate column: {seen[target]!r} is also {target}."
                )
            )
            continue
        seen[target] = header
        written[index] = header
        if target == ID_COLUMN:
            id_column = index
        elif target == VERSION_COLUMN:
            version_column = index
        elif target.startswith(CUSTOM_PREFIX):
            custom[index] = customs[target.removeprefix(CUSTOM_PREFIX)]
        else:
            fields[index] = target
    for name, info in model.model_fields.items():
        if name == "name" and ID_COLUMN in seen:
            continue  # a sheet of ids updates systems that have names already
        if info.is_required() and name not in seen:
            problems.append(RowProblem(HEADER_ROW, name, f"Required column {name!r} is missing."))
    converters = {name: _converter(model.model_fields[name].annotation) for name in fields.values()}
    for definition in custom.values():
        converters[CUSTOM_PREFIX + definition.key] = _custom_converter(definition)
    return ColumnMap(
        len(headers),
        fields,
        written,
        converters,
        problems,
        warnings,
        custom=custom,
        id_column=id_column,
        version_column=version_column,
        unknown=unknown,
    )


def _message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    given = error.get("input")
    if isinstance(given, str) and error.get("type") != "missing":
        shown = given if len(given) <= 60 else given[:57] + "..."
        message += f"; got {shown!r}"
    rest = [str(p) for p in error.get("loc", ())[1:]]
    return f"{message} (at {'.'.join(rest)})" if rest else message


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text.strip())
    except ValueError:
        return False
    return True


def _cell(cells: Sequence[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def validate_row(
    number: int, cells: Sequence[str], columns: ColumnMap
) -> tuple[ImportRow | None, list[RowProblem]]:
    """One row's system, or every problem it has."""
    values: dict[str, Any] = {}
    problems: list[RowProblem] = [
        RowProblem(number, header, NUL_MESSAGE)
        for index, header in columns.headers.items()
        if index < len(cells) and NUL in cells[index]
    ]
    if problems:
        return None, problems  # nothing of a row holding U+0000 can be stored
    header_of = {name: columns.headers[i] for i, name in columns.fields.items()}
    blank: set[str] = set()
    for index, name in columns.fields.items():
        text = cells[index] if index < len(cells) else ""
        if not text.strip():
            blank.add(name)
            continue
        try:
            values[name] = columns.converters[name](restore(text))
        except CellError as exc:
            problems.append(RowProblem(number, header_of[name], str(exc)))
    custom: dict[str, Any] = {}
    for index, definition in columns.custom.items():
        text = _cell(cells, index)
        if not text.strip():
            custom[definition.key] = None
            continue
        try:
            custom[definition.key] = columns.converters[CUSTOM_PREFIX + definition.key](
                restore(text)
            )
        except CellError as exc:
            problems.append(RowProblem(number, columns.headers[index], str(exc)))
    system_id: uuid.UUID | None = None
    if text := _cell(cells, columns.id_column).strip():
        try:
            system_id = uuid.UUID(text)
        except ValueError:
            header = columns.headers[columns.id_column or 0]
            problems.append(RowProblem(number, header, f"Not a system id; got {text[:60]!r}"))
    version: int | None = None
    if text := _cell(cells, columns.version_column).strip():
        if text.isascii() and text.isdigit() and 0 < len(text) <= 9 and int(text) > 0:
            version = int(text)
        else:
            header = columns.headers[columns.version_column or 0]
            problems.append(
                RowProblem(
                    number, header, f"Not a version (a whole number >= 1); got {text[:20]!r}"
                )
            )
    extra = sum(1 for cell in cells[columns.width :] if cell.strip())
    if extra:
        problems.append(RowProblem(number, None, f"{extra} value(s) beyond the last column."))
    # A vendor column may name the vendor instead of giving its id ("Acme AI"): the register
    # check resolves the name among the organisation's vendors.
    vendor_name: str | None = None
    vendor = values.get("vendor_id")
    if isinstance(vendor, str) and not _is_uuid(vendor):
        vendor_name = " ".join(vendor.split())
        del values["vendor_id"]
    # A row with an id may leave the name out (an update keeps the stored one); it is checked
    # with a stand-in name, which is never written: such a row only updates.
    named = system_id is None or "name" in values
    if not named:
        values["name"] = UNNAMED
    given_custom = {k: v for k, v in custom.items() if v is not None}
    if given_custom:
        merged = values.get("custom_fields")
        base = merged if isinstance(merged, dict) else {}
        # A field's own column and the JSON column saying two things: neither is guessed.
        for key in sorted(k for k in given_custom if k in base and base[k] != given_custom[k]):
            problems.append(
                RowProblem(
                    number,
                    columns.header_of(CUSTOM_PREFIX + key),
                    f"The custom field `{key}` is also in the custom_fields column, with "
                    f"another value ({str(base[key])[:60]!r}); give it in one column only.",
                )
            )
        values["custom_fields"] = {**base, **given_custom}
    try:
        body = AISystemCreate.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors(include_url=False)[:MAX_PROBLEMS_PER_ROW]:
            loc = error.get("loc", ())
            column = header_of.get(str(loc[0]), str(loc[0])) if loc else None
            if loc and str(loc[0]) == "custom_fields" and len(loc) > 1:
                column = columns.header_of(CUSTOM_PREFIX + str(loc[1])) or column
            problems.append(RowProblem(number, column, _message(error)))
        return None, problems
    except (ValueError, TypeError, RecursionError) as exc:  # a validator that did not wrap
        problems.append(RowProblem(number, None, f"Invalid row: {exc}"))
        return None, problems
    if problems:
        return None, problems
    row = ImportRow(
        number=number,
        body=body,
        given=frozenset(columns.fields.values()),
        blank=frozenset(blank),
        id=system_id,
        version=version,
        custom=custom,
        named=named,
        vendor_name=vendor_name,
    )
    return row, problems


def validate_sheet(
    sheet: Sheet,
    *,
    custom_fields: Sequence[CustomFieldSpec] = (),
    progress: Callable[[int], None] | None = None,
    every: int = 500,
) -> ImportReport:
    """Validate every row; the report lists each row's problems, not just the first one's."""
    columns = map_columns(sheet.headers, custom_fields=custom_fields)
    report = ImportReport(
        rows=len(sheet.rows),
        columns={
            columns.headers[i]: target
            for i in columns.headers
            if (target := columns.target(i)) is not None
        },
        problems=list(columns.problems),
        warnings=list(columns.warnings),
        unknown_columns=list(columns.unknown),
    )
    if columns.problems:
        return report  # without the required columns no row can be valid; one reason suffices
    for position, (number, cells) in enumerate(zip(sheet.numbers, sheet.rows, strict=True), 1):
        row, problems = validate_row(number, cells, columns)
        if row is not None:
            report.valid_rows.append(row)
        report.problems.extend(problems)
        if progress is not None and position % every == 0:
            progress(position)
    if progress is not None:
        progress(len(sheet.rows))
    return report
