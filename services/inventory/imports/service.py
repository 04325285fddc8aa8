"""Import of AI systems from a spreadsheet, and export of the register as CSV.

An import is all or nothing: the file is parsed and every row validated first; only a file
without a single problem is written, in the caller's one transaction, rows and their
``system.registered`` events together (services flush, never commit).
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.imports.cells import to_cell
from services.inventory.imports.errors import ImportConflict, TooManyRows
from services.inventory.imports.parser import Sheet, parse
from services.inventory.imports.repository import SYSTEM_TABLE, ImportRepository
from services.inventory.imports.validation import ImportReport, RowProblem, validate_sheet
from services.inventory.systems.custom_fields import validate_custom_fields
from services.inventory.systems.events import SYSTEM_REGISTERED
from services.inventory.systems.repository import CustomFieldRepository
from services.inventory.systems.schemas import AISystemCreate, AISystemRead
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.errors import DomainError, PayloadTooLarge
from shared.events import CloudEvent, make_event
from shared.events.outbox import audit_events

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
WRITE_CHUNK = 1000

Progress = Callable[[int], None]


def read_sheet(data: bytes, media_type: str) -> Sheet:
    """Parse a file within the limits (20 MB, 50,000 rows)."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"The file exceeds {MAX_BYTES} bytes.")
    sheet = parse(data, media_type, max_rows=MAX_ROWS)
    if len(sheet.rows) > MAX_ROWS:
        raise TooManyRows(f"The file has more than {MAX_ROWS} rows; split it.")
    return sheet


def check_file(data: bytes, media_type: str, progress: Progress | None = None) -> ImportReport:
    """Parse and validate (CPU only; run it in a thread from async code)."""
    return validate_sheet(read_sheet(data, media_type), progress=progress)


async def check_against_register(session: AsyncSession, report: ImportReport) -> None:
    """The checks only the organisation's data can make (its custom field definitions): their
    problems join the report, and valid bodies get their custom fields in stored form."""
    if not report.bodies:
        return
    definitions = await CustomFieldRepository(session).all()
    column = report.header_of("custom_fields")
    bodies: list[AISystemCreate] = []
    rows: list[int] = []
    for number, body in zip(report.body_rows, report.bodies, strict=True):
        try:
            custom = validate_custom_fields(
                body.custom_fields, definitions, present=body.custom_fields
            )
        except DomainError as exc:
            for error in exc.errors or [{"message": exc.detail}]:
                key = ".".join(str(p) for p in error.get("location", [])[2:])
                message = str(error.get("message", exc.detail))
                report.problems.append(
                    RowProblem(number, column, f"{key}: {message}" if key else message)
                )
            continue
        bodies.append(body.model_copy(update={"custom_fields": custom}))
        rows.append(number)
    report.bodies, report.body_rows = bodies, rows
    report.problems.sort(key=lambda p: p.row)


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


async def write_systems(
    session: AsyncSession,
    principal: Principal,
    bodies: Sequence[AISystemCreate],
    progress: Progress | None = None,
) -> list[uuid.UUID]:
    """Register every body, each with its ``system.registered`` event; flushes, never commits.

    Batches are built in a worker thread while the previous one is being inserted, so building
    (Python) and inserting (PostgreSQL) overlap.
    """
    repo = ImportRepository(session)
    ids: list[uuid.UUID] = []
    now = utcnow()
    chunks = [bodies[i : i + WRITE_CHUNK] for i in range(0, len(bodies), WRITE_CHUNK)]
    if not chunks:
        return ids

    def build(index: int) -> asyncio.Task[_Batch]:
        return asyncio.ensure_future(asyncio.to_thread(_build_batch, principal, chunks[index], now))

    upcoming = build(0)
    try:
        for index in range(len(chunks)):
            batch = await upcoming
            if index + 1 < len(chunks):
                upcoming = build(index + 1)
            await repo.insert_systems(batch.systems)
            await repo.insert_changes(batch.changes)
            await repo.insert_outbox(batch.events)
            await audit_events(session, [row["envelope"] for row in batch.events])
            ids.extend(uuid.UUID(row["id"]) for row in batch.systems)
            if progress is not None:
                progress(len(ids))
    except IntegrityError as exc:
        detail = str(exc.orig).splitlines()[0] if exc.orig else "integrity error"
        raise ImportConflict(f"Nothing was imported: {detail}") from exc
    finally:
        if not upcoming.done():
            upcoming.cancel()
            await asyncio.gather(upcoming, return_exceptions=True)
    return ids


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
