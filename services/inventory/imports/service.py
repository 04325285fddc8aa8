"""Import of AI systems from a spreadsheet, and export of the register as CSV.

An import is an **upsert**, all or nothing. Each valid row is matched to a system of the
organisation:

* a row with an ``id`` of one of the organisation's systems updates that system; with a
  ``version`` column the row must carry the system's current version (like ``If-Match``),
  else the row is a conflict; such a row may leave the name out (it then only updates);
* any other row matches on the **natural key**: the system's name, compared by the register's
  Unicode fold (NFKC, full case folding: ``Straße``/``STRASSE``, a decomposed accent) with
  surrounding and repeated spaces ignored (:func:`natural_key`). One system of that name:
  the row updates it; none: the row creates one; several: the row is a problem (add the ``id``
  column). Names are not unique in the register, so an import refuses what it cannot decide. An
  ``id`` that is not one of the organisation's (another organisation's export) is treated as
  absent, with a warning.

An update changes only the columns the sheet has; a blank cell clears that field. A row equal to
the system changes nothing (``unchanged``), so importing an export back changes nothing.
Every row goes through the register's one check (``systems.rules.check_system``) exactly as
``POST``/``PATCH /v1/ai-systems`` do; every problem of every row is reported, and only a file
without a single one is written, in the caller's one transaction — rows, history and their
``system.registered`` / ``system.updated`` / ``system.retired`` events together (services flush,
never commit).
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.imports.cells import to_cell
from services.inventory.imports.errors import ImportConflict, TooManyRows
from services.inventory.imports.parser import Sheet, XlsxLimits, parse
from services.inventory.imports.repository import SYSTEM_TABLE, ImportRepository
from services.inventory.imports.validation import (
    CUSTOM_PREFIX,
    ID_COLUMN,
    VERSION_COLUMN,
    CustomFieldSpec,
    ImportReport,
    ImportRow,
    RowProblem,
    validate_sheet,
)
from services.inventory.systems.events import SYSTEM_REGISTERED
from services.inventory.systems.models import AISystem
from services.inventory.systems.repository import CustomFieldRepository
from services.inventory.systems.rules import (
    change_event_type,
    changes_of,
    check_system,
    plain,
    sent_fields,
)
from services.inventory.systems.schemas import AISystemCreate, AISystemRead
from services.inventory.systems.service import register_facts
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.errors import PayloadTooLarge
from shared.events import CloudEvent, make_event
from shared.events.outbox import audit_events
from shared.text import name_key

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
WRITE_CHUNK = 1000

Progress = Callable[[int], None]


def read_sheet(data: bytes, media_type: str, *, limits: XlsxLimits | None = None) -> Sheet:
    """Parse a file within the limits (20 MB, 50,000 rows; an XLSX file within ``limits``)."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"The file exceeds {MAX_BYTES} bytes.")
    sheet = parse(data, media_type, max_rows=MAX_ROWS, limits=limits)
    if len(sheet.rows) > MAX_ROWS:
        raise TooManyRows(f"The file has more than {MAX_ROWS} rows; split it.")
    return sheet


def check_file(
    data: bytes,
    media_type: str,
    progress: Progress | None = None,
    *,
    custom_fields: Sequence[CustomFieldSpec] = (),
    limits: XlsxLimits | None = None,
) -> ImportReport:
    """Parse and validate (CPU only; run it in a thread from async code)."""
    sheet = read_sheet(data, media_type, limits=limits)
    return validate_sheet(sheet, custom_fields=custom_fields, progress=progress)


NATURAL_KEY = (
    "name (case-insensitive by Unicode case folding and NFKC normalisation; "
    "surrounding and repeated spaces ignored)"
)


def natural_key(name: str) -> str:
    """What a row without an id is matched on: the name, NFKC-normalised and case-folded,
    spaces collapsed (``shared.text.name_key``, the register's one fold for names)."""
    return name_key(name)


@dataclass(frozen=True)
class CustomFieldColumn:
    """A custom field definition as the column mapping needs it (detached from the session)."""

    key: str
    label: str
    type: str


async def custom_field_columns(session: AsyncSession) -> list[CustomFieldColumn]:
    """The organisation's custom fields, which the sheet's columns may name by key or label."""
    return [
        CustomFieldColumn(d.key, d.label, d.type)
        for d in await CustomFieldRepository(session).all()
    ]


@dataclass
class PlannedUpdate:
    row: ImportRow
    system: AISystem
    values: dict[str, Any]  # the changed columns, in column form
    changes: dict[str, dict[str, Any]]  # the history's {field: {from, to}}


@dataclass
class ImportPlan:
    """What writing the checked rows will do."""

    creates: list[AISystemCreate] = field(default_factory=list)
    updates: list[PlannedUpdate] = field(default_factory=list)
    unchanged: int = 0
    matched_by_id: int = 0
    matched_by_name: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.creates),
            "updated": len(self.updates),
            "unchanged": self.unchanged,
            "matched_by_id": self.matched_by_id,
            "matched_by_name": self.matched_by_name,
        }


def _column_of(report: ImportReport, location: Sequence[str]) -> str:
    """The header a problem at ``location`` (a field path) belongs to."""
    if location and location[0] == "custom_fields" and len(location) > 1:
        target = f"{CUSTOM_PREFIX}{location[1]}"
        if report.header_of(target) != target:
            return report.header_of(target)
    return report.header_of(location[0]) if location else ""


def _update_fields(row: ImportRow, current: AISystem, *, by_id: bool) -> dict[str, Any]:
    """What an update row sends, as ``check_system`` takes it: the sheet's columns only; a
    blank cell clears its field (a name or stage cannot be cleared; an already empty field
    stays as it is, so ``""`` and ``null`` do not count as a change). A row matched by name
    keeps the stored spelling of the name."""
    sent: dict[str, Any] = {}
    for name in row.given:
        if name == "custom_fields" or (name == "name" and not by_id):
            continue
        if name in row.blank:
            if name in ("name", "lifecycle_stage") or getattr(current, name) in (
                None,
                "",
                [],
                {},
            ):
                continue
            sent[name] = "" if name == "description" else None
        else:
            sent[name] = getattr(row.body, name)
    patch: dict[str, Any] = dict(row.body.custom_fields)
    for key, value in row.custom.items():
        if value is None and key not in patch and key in current.custom_fields:
            patch[key] = None  # a blank custom field column removes the value
    if patch:
        sent["custom_fields"] = patch
    return sent


async def _resolve_vendor_names(
    repo: ImportRepository, report: ImportReport, rows: list[ImportRow]
) -> list[ImportRow]:
    """Rows whose vendor column named a vendor get its id; a name no vendor of the
    organisation has is a problem of its row (and the row is left out)."""
    named = {row.vendor_name for row in rows if row.vendor_name is not None}
    if not named:
        return rows
    found = await repo.vendors_named(named)
    column = report.header_of("vendor_id")
    kept: list[ImportRow] = []
    for row in rows:
        if row.vendor_name is None:
            kept.append(row)
            continue
        vendor_id = found.get(name_key(row.vendor_name))
        if vendor_id is None:
            report.problems.append(
                RowProblem(
                    row.number,
                    column,
                    f"No vendor named {row.vendor_name[:100]!r} in your organisation; register "
                    "it first (POST /v1/vendors) or give its id.",
                )
            )
            continue
        body = row.body.model_copy(update={"vendor_id": vendor_id})
        kept.append(replace(row, body=body, vendor_name=None))
    return kept


async def check_against_register(
    session: AsyncSession, report: ImportReport, *, lock: bool = False
) -> ImportPlan:
    """Match every valid row to a system (see the module's docstring), run the register's
    checks on it and plan the writes; problems join the report (per row and column) and the
    counts its summary. ``lock`` serialises real imports of the organisation and locks the
    matched systems until the caller's transaction ends (a real run; a dry run locks nothing)."""
    plan = ImportPlan()
    rows = report.valid_rows
    if not rows:
        report.counts = plan.counts()
        return plan
    repo = ImportRepository(session)
    if lock:
        await repo.lock_register()  # one real import of an organisation at a time
    rows = await _resolve_vendor_names(repo, report, rows)
    facts = await register_facts(session, {r.body.vendor_id for r in rows})
    named_ids = {r.id for r in rows if r.id is not None}
    systems = {s.id: s for s in await repo.systems(named_ids, for_update=lock)}
    index: dict[str, list[uuid.UUID]] = {}
    if any(r.id is None or r.id not in systems for r in rows):
        for system_id, name in await repo.name_index():
            index.setdefault(natural_key(name), []).append(system_id)

    def problem(row: ImportRow, column: str, message: str) -> None:
        report.problems.append(RowProblem(row.number, column, message))

    name_column = report.header_of("name")
    id_column = report.header_of(ID_COLUMN)
    claimed: dict[uuid.UUID, int] = {}
    new_names: dict[str, int] = {}
    foreign_ids = 0
    decided: list[tuple[ImportRow, uuid.UUID | None, bool]] = []  # row, target, by id
    for row in rows:
        target: uuid.UUID | None = None
        by_id = row.id is not None and row.id in systems
        if by_id:
            target = row.id
        else:
            if not row.named:
                problem(
                    row,
                    id_column,
                    f"No system {row.id} in your organisation, and the row has no name to "
                    "register one with; fill in the name or correct the id.",
                )
                continue
            foreign_ids += row.id is not None
            key = natural_key(row.body.name)
            candidates = index.get(key, [])
            if len(candidates) > 1:
                problem(
                    row,
                    name_column,
                    f"{len(candidates)} systems of your register are named {row.body.name!r}; "
                    "add an `id` column to say which one this row updates.",
                )
                continue
            if candidates:
                target = candidates[0]
            elif key in new_names:
                problem(
                    row,
                    name_column,
                    f"Row {new_names[key]} already creates a system named {row.body.name!r}; "
                    "without an id, the name identifies a system.",
                )
                continue
            else:
                new_names[key] = row.number
        if target is not None:
            if target in claimed:
                problem(
                    row,
                    id_column if by_id else name_column,
                    f"Row {claimed[target]} already updates this system ({target}).",
                )
                continue
            claimed[target] = row.number
        decided.append((row, target, by_id))
    if foreign_ids:
        report.warnings.append(
            {
                "column": id_column,
                "message": f"{foreign_ids} row(s) name an id that is not a system of your "
                "organisation; they were matched by name or created.",
            }
        )
    by_name = {t for _, t, by_id in decided if t is not None and not by_id} - systems.keys()
    if by_name:
        systems.update({s.id: s for s in await repo.systems(by_name, for_update=lock)})

    for row, target, by_id in decided:
        current = systems.get(target) if target is not None else None
        if target is not None and current is None:
            problem(row, name_column, "The system this row matched is gone; import again.")
            continue
        if current is None:
            checked = check_system(sent_fields(row.body), facts)
        else:
            if by_id and row.version is not None and row.version != current.version:
                problem(
                    row,
                    report.header_of(VERSION_COLUMN),
                    f"Conflict: the system is at version {current.version}, the row was read "
                    f"at version {row.version}; export again and redo the change.",
                )
                continue
            checked = check_system(_update_fields(row, current, by_id=by_id), facts, current)
        if checked.problems:
            for found in checked.problems:
                problem(row, _column_of(report, found.location), found.message)
            continue
        if current is None:
            custom = checked.values["custom_fields"]
            plan.creates.append(row.body.model_copy(update={"custom_fields": custom}))
            continue
        plan.matched_by_id += by_id
        plan.matched_by_name += not by_id
        changes = changes_of(current, checked.values)
        if changes:
            values = {name: checked.values[name] for name in changes}
            plan.updates.append(PlannedUpdate(row, current, values, changes))
        else:
            plan.unchanged += 1
    report.problems.sort(key=lambda p: p.row)
    report.counts = plan.counts()
    return plan


# -- writing --------------------------------------------------------------------------------

EDITABLE = tuple(AISystemCreate.model_fields)
_MANAGED = {"id", "org_id", "version", "created_by", "updated_by", "created_at", "updated_at"}
_COLUMNS = [c for c in SYSTEM_TABLE.columns if c.computed is None]
_FROM_BODY = [c for c in _COLUMNS if c.key in AISystemCreate.model_fields]
_DEFAULTED = [c for c in _COLUMNS if c.key not in {*AISystemCreate.model_fields, *_MANAGED}]


def _python_default(column: sa.Column[Any]) -> tuple[bool, Any]:
    default = column.default
    if default is None or not isinstance(default, sa.ColumnDefault):
        return False, None
    if default.is_scalar:
        return True, default.arg
    if default.is_callable:
        return True, default.arg(None)  # SQLAlchemy wraps callables to take a context
    return False, None


def _system_row(principal: Principal, body: AISystemCreate, now: datetime) -> dict[str, Any]:
    """The ``ai_system`` row for one body, in JSON form: every field of the body that is a
    column, Python-side defaults of the other columns, and the columns the register manages."""
    values = body.model_dump(mode="json")
    row = {column.key: values[column.key] for column in _FROM_BODY}
    for column in _DEFAULTED:
        has_default, default = _python_default(column)
        if has_default:
            row[column.key] = default
    row.update(
        id=str(uuid7()),
        org_id=str(principal.org_id),
        version=1,
        created_by=principal.subject,
        updated_by=principal.subject,
        created_at=now.isoformat(),
        updated_at=now.isoformat(),
    )
    return row


def _change_row(system: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """Version 1 in the system's history: every field given, from nothing."""
    changes = {
        name: {"from": None, "to": state[name]}
        for name in EDITABLE
        if state.get(name) not in (None, "", [], {})
    }
    return {
        "id": uuid7(),
        "org_id": system["org_id"],
        "system_id": system["id"],
        "version": 1,
        "changed_by": system["created_by"],
        "changed_at": system["created_at"],
        "changes": changes,
    }


def _outbox_row(event: CloudEvent) -> dict[str, Any]:
    """What :func:`shared.events.emit` writes, in JSON form for a set-based insert."""
    # ``data`` is JSON already (make_event dumps it): serialising it again is the slow part.
    envelope = {**event.model_dump(mode="json", exclude={"data"}), "data": event.data}
    return {
        "event_id": event.id,
        "org_id": event.orgid or None,
        "type": event.type,
        "subject": event.type,
        "envelope": envelope,
        "created_at": utcnow().isoformat(),
        "attempts": 0,
    }


@dataclass
class _Batch:
    systems: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    events: list[dict[str, Any]]


def _build_batch(principal: Principal, bodies: Sequence[AISystemCreate], now: datetime) -> _Batch:
    """Rows, history and outbox rows of some systems: the same state and event as
    ``register_system`` produces (``AISystemRead`` validated, ``make_event``), built in bulk."""
    batch = _Batch([], [], [])
    for body in bodies:
        row = _system_row(principal, body, now)
        state = AISystemRead.model_validate(row)
        event = make_event(
            SYSTEM_REGISTERED, org_id=state.org_id, subject=state.id, version=1, data=state
        )
        batch.systems.append(row)
        batch.changes.append(_change_row(row, event.data))
        batch.events.append(_outbox_row(event))
    return batch


@dataclass
class ImportOutcome:
    created: list[uuid.UUID] = field(default_factory=list)
    updated: list[uuid.UUID] = field(default_factory=list)
    unchanged: int = 0


def _build_updates(
    principal: Principal, updates: Sequence[PlannedUpdate], now: datetime
) -> tuple[list[str], _Batch]:
    """The new state of each updated system (as a REST update would leave it), its history row
    and its ``system.updated`` (or ``system.retired``) event; and the columns that change."""
    batch = _Batch([], [], [])
    columns = sorted({name for update in updates for name in update.changes})
    for update in updates:
        before = AISystemRead.model_validate(update.system)
        data = before.model_dump(mode="json")
        data.update({name: plain(value) for name, value in update.values.items()})
        data.update(
            version=before.version + 1, updated_at=now.isoformat(), updated_by=principal.subject
        )
        state = AISystemRead.model_validate(data)
        event = make_event(
            change_event_type(before.lifecycle_stage.value, state.lifecycle_stage.value),
            org_id=state.org_id,
            subject=state.id,
            version=state.version,
            data=state,
        )
        row = {name: event.data[name] for name in columns}
        row.update(
            id=str(state.id),
            version=state.version,
            updated_at=data["updated_at"],
            updated_by=principal.subject,
        )
        batch.systems.append(row)
        batch.changes.append(
            {
                "id": uuid7(),
                "org_id": str(state.org_id),
                "system_id": str(state.id),
                "version": state.version,
                "changed_by": principal.subject,
                "changed_at": data["updated_at"],
                "changes": update.changes,
            }
        )
        batch.events.append(_outbox_row(event))
    return [*columns, "version", "updated_at", "updated_by"], batch


async def write_systems(
    session: AsyncSession,
    principal: Principal,
    plan: ImportPlan,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Write the plan: register every new system with its ``system.registered`` event and
    update every changed one with its ``system.updated`` event (``system.retired`` when the
    row retires it), each with its history row; flushes, never commits.

    New systems' batches are built in a worker thread while the previous one is being
    inserted, so building (Python) and inserting (PostgreSQL) overlap.
    """
    repo = ImportRepository(session)
    outcome = ImportOutcome(unchanged=plan.unchanged)
    now = utcnow()
    bodies = plan.creates
    chunks = [bodies[i : i + WRITE_CHUNK] for i in range(0, len(bodies), WRITE_CHUNK)]
    written = 0

    def build(index: int) -> asyncio.Task[_Batch]:
        return asyncio.ensure_future(asyncio.to_thread(_build_batch, principal, chunks[index], now))

    upcoming = build(0) if chunks else None
    try:
        for index in range(len(chunks)):
            assert upcoming is not None
            batch = await upcoming
            if index + 1 < len(chunks):
                upcoming = build(index + 1)
            await repo.insert_systems(batch.systems)
            await repo.insert_changes(batch.changes)
            await repo.insert_outbox(batch.events)
            await audit_events(session, [row["envelope"] for row in batch.events])
            outcome.created.extend(uuid.UUID(row["id"]) for row in batch.systems)
            written += len(batch.systems)
            if progress is not None:
                progress(written)
        for start in range(0, len(plan.updates), WRITE_CHUNK):
            chunk = plan.updates[start : start + WRITE_CHUNK]
            columns, batch = _build_updates(principal, chunk, now)
            if await repo.update_systems(batch.systems, columns) != len(batch.systems):
                raise ImportConflict(
                    "A system changed while the import ran; nothing was imported. Run it again."
                )
            await repo.insert_changes(batch.changes)
            await repo.insert_outbox(batch.events)
            await audit_events(session, [row["envelope"] for row in batch.events])
            outcome.updated.extend(uuid.UUID(row["id"]) for row in batch.systems)
            written += len(batch.systems)
            if progress is not None:
                progress(written)
    except IntegrityError as exc:
        detail = str(exc.orig).splitlines()[0] if exc.orig else "integrity error"
        raise ImportConflict(f"Nothing was imported: {detail}") from exc
    finally:
        if upcoming is not None and not upcoming.done():
            upcoming.cancel()
            await asyncio.gather(upcoming, return_exceptions=True)
    return outcome


# -- export ---------------------------------------------------------------------------------

EXPORT_COLUMNS = list(AISystemRead.model_fields)


def _csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


async def export_csv(session: AsyncSession, *, chunk: int = 500) -> AsyncIterator[str]:
    """The caller's register as CSV text, a chunk of rows at a time: every field of
    ``AISystemRead`` (lists ``;``-joined, dicts as JSON), formula-like cells neutralised."""
    yield "\ufeff" + _csv_line(EXPORT_COLUMNS)  # the BOM makes Excel read UTF-8
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    pending = 0
    async for system in ImportRepository(session).stream_systems(chunk):
        state = AISystemRead.model_validate(system).model_dump(mode="json")
        writer.writerow([to_cell(state[name]) for name in EXPORT_COLUMNS])
        pending += 1
        if pending >= chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()
