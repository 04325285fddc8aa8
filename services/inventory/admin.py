"""Operations the CLI performs directly against the inventory database (``aims org create``,
``aims apikey create``). Each runs in one transaction scoped to the organisation, so events go
through the outbox exactly as they do for API calls."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from services.inventory.config import InventorySettings
from services.inventory.organisations import service
from services.inventory.organisations.repository import OrganisationRepository
from shared.auth import Principal, Role
from shared.db import Database, tenant_transaction, uuid7
from shared.errors import BadRequest, NotFound


async def create_organisation(settings: InventorySettings, name: str) -> dict[str, Any]:
    name = name.strip()
    if not name or len(name) > 200:
        raise BadRequest("An organisation needs a name of 1 to 200 characters.")
    db = Database(settings.app_database_url, pool_size=1)
    try:
        org_id = uuid7()
        async with tenant_transaction(db, org_id) as session:
            org = await service.create_organisation(session, org_id, name)
        return org.model_dump(mode="json")
    finally:
        await db.dispose()


async def create_api_key(
    settings: InventorySettings, org_id: str, role: str, name: str
) -> dict[str, Any]:
    try:
        org = uuid.UUID(org_id)
        Role(role)
    except ValueError as exc:
        raise BadRequest(f"Not a valid organisation id or role: {exc}") from exc
    db = Database(settings.app_database_url, pool_size=1)
    try:
        async with tenant_transaction(db, org) as session:
            if await OrganisationRepository(session).get(org) is None:
                raise NotFound(f"No organisation {org_id}.")
            created = await service.create_api_key(session, org, name, role)
        return created.model_dump(mode="json")
    finally:
        await db.dispose()


async def import_systems(
    settings: InventorySettings,
    org_id: str,
    data: bytes,
    media_type: str,
    *,
    subject: str,
    dry_run: bool,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """``aims import systems``: validate a spreadsheet and, unless ``dry_run`` or any row has a
    problem, register every row in one transaction. ``progress(phase, done, total)`` reports
    the phases ``parse``, ``validate`` and ``write``."""
    import time

    from services.inventory.imports import service as imports
    from services.inventory.imports.validation import validate_sheet

    started = time.perf_counter()
    try:
        org = uuid.UUID(org_id)
    except ValueError as exc:
        raise BadRequest(f"Not a valid organisation id: {org_id!r}") from exc

    def report(phase: str, done: int, total: int) -> None:
        if progress is not None:
            progress(phase, done, total)

    report("parse", 0, 1)
    sheet = imports.read_sheet(data, media_type)
    total = len(sheet.rows)
    report("parse", 1, 1)
    principal = Principal(
        subject=subject,
        org_id=org,
        roles=frozenset({Role.ADMIN}),
        kind="user",
        authorization="",
        name=subject,
    )
    db = Database(settings.app_database_url, pool_size=1)
    try:
        async with tenant_transaction(db, org) as session:
            if await OrganisationRepository(session).get(org) is None:
                raise NotFound(f"No organisation {org_id}.")
            checked = validate_sheet(
                sheet,
                custom_fields=await imports.custom_field_columns(session),
                progress=lambda done: report("validate", done, total),
            )
            plan = await imports.check_against_register(session, checked, lock=not dry_run)
            outcome = imports.ImportOutcome()
            if checked.valid and not dry_run:
                writes = len(plan.creates) + len(plan.updates)
                outcome = await imports.write_systems(
                    session,
                    principal,
                    plan,
                    progress=lambda done: report("write", done, writes),
                )
        return {
            **checked.summary(),
            "dry_run": dry_run,
            "natural_key": imports.NATURAL_KEY,
            # what was written; a dry run (or a refused file) writes nothing
            "created": len(outcome.created),
            "updated": len(outcome.updated),
            "unchanged": outcome.unchanged if checked.valid and not dry_run else 0,
            "planned": plan.counts(),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }
    finally:
        await db.dispose()
