"""Every migration of every service runs down and up again, one revision at a time.

A revision whose downgrade forgets a table, an index or a policy leaves the schema different after
the round trip; one whose upgrade depends on live model code fails on a fresh database once a
model has moved on. Both fail here, against real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from shared.runtime.migrate import alembic_config, downgrade, upgrade
from shared.runtime.provision import (
    ServiceDatabase,
    asyncpg_dsn,
    derive_service_urls,
    drop,
    provision,
)
from shared.testing import SERVICES, TestEngines

pytestmark = pytest.mark.engines

# What a schema is, for comparing it before and after a round trip: tables and columns with
# their types, nullability and defaults; indexes and constraints by definition; RLS flags and
# policies; triggers and functions.
_SCHEMA_QUERIES = {
    "columns": """
        SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
        FROM information_schema.columns WHERE table_schema = 'public'""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    "rls": """
        SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'""",
    "policies": """
        SELECT tablename, policyname, coalesce(qual, ''), coalesce(with_check, '')
        FROM pg_policies WHERE schemaname = 'public'""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
        WHERE NOT tgisinternal""",
    "functions": """
        SELECT proname, md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace""",
}


async def _schema(url: str) -> dict[str, list[tuple[object, ...]]]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {
            name: sorted(tuple(row) for row in await conn.fetch(query))
            for name, query in _SCHEMA_QUERIES.items()
        }
    finally:
        await conn.close()


def _scram_matches(verifier: str, password: str) -> bool:
    """Whether ``password`` matches a PostgreSQL ``SCRAM-SHA-256$i:salt$stored:server`` verifier."""
    scheme, rest = verifier.split("$", 1)
    assert scheme == "SCRAM-SHA-256", verifier[:20]
    iterations_salt, keys = rest.split("$", 1)
    iterations, salt = iterations_salt.split(":", 1)
    stored_key = base64.b64decode(keys.split(":", 1)[0])
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


@pytest.fixture
async def fresh(engines: TestEngines) -> AsyncIterator[dict[str, ServiceDatabase]]:
    prefix = f"aimsm_{secrets.token_hex(4)}"
    databases = await provision(engines.admin_url, prefix, SERVICES, secrets.token_hex(16))
    yield dict(databases)
    await drop(engines.admin_url, prefix, SERVICES)


@pytest.mark.parametrize("service", SERVICES)
async def test_every_revision_goes_down_and_up_again_to_the_same_schema(
    service: str, fresh: dict[str, ServiceDatabase]
) -> None:
    owner_url = fresh[service].owner_url
    script = ScriptDirectory.from_config(alembic_config(service, owner_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert len(revisions) >= 2, f"{service}: expected a chain of revisions"

    # Up one revision at a time (each must apply on top of the previous one alone) ...
    for revision in revisions:
        await asyncio.to_thread(upgrade, service, owner_url, revision)
    at_head = await _schema(owner_url)
    assert at_head["columns"], f"{service}: head created no tables"

    # ... down one at a time to nothing ...
    for _ in revisions:
        await asyncio.to_thread(downgrade, service, owner_url, "-1")
    empty = await _schema(owner_url)
    leftovers = {name: rows for name, rows in empty.items() if rows}
    # Only Alembic's own version table may remain after downgrading to base.
    leftovers["columns"] = [
        row for row in empty["columns"] if not str(row[0]).startswith("alembic")
    ]
    leftovers["constraints"] = [
        row for row in empty["constraints"] if not str(row[0]).startswith("alembic")
    ]
    leftovers["indexes"] = [
        row for row in empty["indexes"] if not str(row[0]).startswith("alembic")
    ]
    leftovers["rls"] = [row for row in empty["rls"] if not str(row[0]).startswith("alembic")]
    assert not any(leftovers.values()), f"{service}: downgrade to base left {leftovers}"

    # ... and up again: the same schema as the first time.
    await asyncio.to_thread(upgrade, service, owner_url, "head")
    assert await _schema(owner_url) == at_head


async def test_two_migrate_jobs_at_once_both_succeed(engines: TestEngines, tmp_path: Path) -> None:
    """`aims migrate` from several replicas at once: the advisory lock serialises them."""
    prefix = f"aimsm_{secrets.token_hex(4)}"
    secret = secrets.token_hex(16)
    # The inventory's app role gets an explicit password (docker-compose.yml's least privilege).
    derived = derive_service_urls(engines.admin_url, prefix, "inventory", secret)
    inventory_url = derive_service_urls(
        engines.admin_url, prefix, "inventory", secret, app_password="explicit-app-password"
    ).app_url
    env = {
        **os.environ,
        "AIMS_INVENTORY_DATABASE_URL": inventory_url,
        "AIMS_DATABASE_URL": engines.admin_url,
        "AIMS_DATABASE_PREFIX": prefix,
        "AIMS_SECRET_KEY": secret,
        "AIMS_VAR_DIR": str(tmp_path / "var"),
        "AIMS_ENVIRONMENT": "production",
    }
    try:
        jobs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "aims",
                "migrate",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        outputs = await asyncio.gather(*(job.communicate() for job in jobs))
        for job, (output, _) in zip(jobs, outputs, strict=True):
            assert job.returncode == 0, output.decode(errors="replace")
        databases = {s: derive_service_urls(engines.admin_url, prefix, s, secret) for s in SERVICES}
        for service in SERVICES:
            owner_url = databases[service].owner_url
            script = ScriptDirectory.from_config(alembic_config(service, owner_url))
            conn = await asyncpg.connect(asyncpg_dsn(owner_url))
            try:
                version = await conn.fetchval(f"SELECT version_num FROM alembic_version_{service}")
            finally:
                await conn.close()
            assert version == script.get_current_head()
        # The app role's password is the explicit one, not the derived one (checked on the SCRAM
        # verifier, since a test server may trust every local connection).
        admin = await asyncpg.connect(asyncpg_dsn(engines.admin_url))
        try:
            verifier = await admin.fetchval(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1", f"{prefix}_inventory_app"
            )
        finally:
            await admin.close()
        assert _scram_matches(verifier, "explicit-app-password")
        derived_password = make_url(derived.app_url).password
        assert derived_password and not _scram_matches(verifier, derived_password)
    finally:
        await drop(engines.admin_url, prefix, SERVICES)
