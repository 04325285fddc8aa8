"""REST routes of the inventory's imports domain: spreadsheet import and CSV export of systems."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from services.inventory.imports import service
from services.inventory.imports.errors import ImportInvalid
from services.inventory.imports.parser import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from services.inventory.imports.pool import parse_pool, xlsx_limits
from services.inventory.imports.validation import ImportReport
from shared.auth import EDITORS, READERS, Principal, require_roles
from shared.db import Database, tenant_transaction
from shared.errors import PayloadTooLarge, UnsupportedMediaType
from shared.http import PrefilteredRouter, idempotency_for, reject_unknown_query

router = PrefilteredRouter(prefix="/v1")
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
CSV_TYPES = frozenset({CSV_MEDIA_TYPE, "application/csv", "text/plain"})


def _media_type(request: Request) -> str:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in CSV_TYPES:
        return CSV_MEDIA_TYPE
    if media_type == XLSX_MEDIA_TYPE:
        return XLSX_MEDIA_TYPE
    raise UnsupportedMediaType(f"Send the file as {CSV_MEDIA_TYPE} or {XLSX_MEDIA_TYPE}.")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The file exceeds {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The file exceeds {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _what_has_problems(report: ImportReport) -> str:
    """ "The header row and 3 of 40 rows have problems": row 1 is always the header (data rows
    come after it), so a header problem is never counted as one of the file's rows."""
    rows = {p.row for p in report.problems if p.row != 1}
    parts = ["The header row"] if len(rows) < report.invalid_rows else []
    if rows or not parts:
        parts.append(f"{len(rows)} of {report.rows} rows")
    verb = "has" if parts == ["The header row"] else "have"
    return f"{' and '.join(parts)} {verb} problems"


@router.post(
    "/ai-systems/import",
    dependencies=[Depends(reject_unknown_query)],
    tags=["ai-systems"],
    summary="Import AI systems from a CSV or XLSX file: create or update (all rows or none)",
    responses={
        200: {"description": "Dry run: the report; or a real run that created nothing"},
        201: {"description": "Every row imported; some systems were created"},
        400: PROBLEM,
        409: PROBLEM,
        413: PROBLEM,
        415: PROBLEM,
        422: PROBLEM,
        503: PROBLEM,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_ai_systems(
    request: Request,
    principal: Editor,
    dry_run: Annotated[
        bool, Query(description="Validate and report every row's problems; write nothing")
    ] = False,
) -> JSONResponse:
    """Send the file as the raw body. The header row names the columns: any field of a system
    (case, spaces, underscores and hyphens do not matter), common spellings such as "System
    name" or "Owner email", a custom field's key or label (or `cf.<key>`), `id` and `version`.
    Lists are `;`-separated, objects JSON.

    Each row **creates or updates** a system: a row whose `id` is one of your systems updates
    it (with a `version` column, only if the system is still at that version: else the row is a
    conflict; with an `id` column the name may be left out, e.g. a sheet of `id` and `owner`);
    other rows match a system by name (case-insensitive, spaces collapsed) or create
    one. An update changes only the columns the file has; a blank cell clears the field. The
    reply counts `created`, `updated` and `unchanged` systems; importing an export back changes
    nothing. Send `Idempotency-Key` to make retries safe.

    With a problem in any row a real run writes nothing and answers 422 listing every problem;
    the dry run lists them too, with the columns it ignores (`unknown_columns`). Limits: 20 MB,
    50,000 rows; an XLSX file is refused before it is parsed (413 `spreadsheet-too-large`, the
    `limit` named) when it unpacks past 256 MiB or a compression ratio of 100, or its sheet
    spans more than 1,000 columns, 100,000 rows or 5,000,000 cells (settings
    `AIMS_IMPORT_MAX_*`). A cell holding U+0000 is a problem of its row and column."""
    started = time.perf_counter()
    media_type = _media_type(request)
    data = await _read_body(request, service.MAX_BYTES)
    idem = idempotency_for(request, data, variant=f"dry_run={dry_run}")
    db: Database = request.app.state.ctx.db
    async with tenant_transaction(db, principal.org_id) as session:
        if not dry_run and (replayed := await idem.replay(session, principal)) is not None:
            return replayed
        custom_fields = await service.custom_field_columns(session)
    ctx = request.app.state.ctx
    report = await parse_pool(ctx.extras, ctx.settings).run(
        service.check_file,
        data,
        media_type,
        custom_fields=custom_fields,
        limits=xlsx_limits(ctx.settings),
    )
    async with tenant_transaction(db, principal.org_id) as session:
        plan = await service.check_against_register(session, report, lock=not dry_run)
        # The same key sent again while the first run held the import lock: its answer now.
        if not dry_run and (replayed := await idem.replay(session, principal)) is not None:
            return replayed
        if dry_run:
            return JSONResponse(
                {"dry_run": True, "natural_key": service.NATURAL_KEY, **report.summary()}
            )
        if not report.valid:
            summary = report.summary()
            raise ImportInvalid(
                f"{_what_has_problems(report)}; nothing was imported.",
                errors=summary["problems"],
                rows=report.rows,
                invalid_rows=report.invalid_rows,
                warnings=report.warnings,
            )
        outcome = await service.write_systems(session, principal, plan)
        body = {
            "rows": report.rows,
            "created": len(outcome.created),
            "updated": len(outcome.updated),
            "unchanged": outcome.unchanged,
            "matched_by_id": plan.matched_by_id,
            "matched_by_name": plan.matched_by_name,
            "natural_key": service.NATURAL_KEY,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "warnings": report.warnings,
        }
        status = 201 if outcome.created else 200
        await idem.remember(session, principal, status, body, {})
    return JSONResponse(body, status_code=status)


@router.get(
    "/ai-systems/export.csv",
    dependencies=[Depends(reject_unknown_query)],
    tags=["ai-systems"],
    summary="Export the register as CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}}},
)
async def export_ai_systems(request: Request, principal: Reader) -> StreamingResponse:
    """Every field of every system; lists `;`-joined, objects as JSON, and cells a spreadsheet
    would evaluate (`=`, `+`, `-`, `@`, tab, CR) prefixed with `'`. Imports back as it is."""
    db: Database = request.app.state.ctx.db

    async def body() -> AsyncIterator[str]:
        async with tenant_transaction(db, principal.org_id) as session:
            async for chunk in service.export_csv(session):
                yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="ai-systems.csv"'},
    )
