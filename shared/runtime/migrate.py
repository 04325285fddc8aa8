"""Run a service's Alembic migrations programmatically (no ``alembic.ini``)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config

from shared.runtime.provision import ServiceDatabase, asyncpg_dsn, provision, sqlalchemy_url


def migrations_dir(service: str) -> Path:
    """``migrations/<service>``, wherever the ``migrations`` package is installed."""
    path = Path(str(resources.files("migrations"))) / service
    if not (path / "env.py").exists():
        raise LookupError(f"no Alembic environment for service {service!r} at {path}")
    return path


def alembic_config(service: str, owner_url: str, *, script_location: Path | None = None) -> Config:
    """An Alembic config for ``service`` connecting as ``owner_url``."""
    config = Config()
    location = script_location if script_location is not None else migrations_dir(service)
    config.set_main_option("script_location", str(location))
    config.set_main_option("path_separator", "os")
    # ConfigParser interpolates '%': escape it (URL-encoded passwords contain it).
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(owner_url).replace("%", "%%"))
    return config


def upgrade(
    service: str, owner_url: str, revision: str = "head", *, script_location: Path | None = None
) -> None:
    """Upgrade ``service``'s database to ``revision`` as its owner role.

    Synchronous; from async code call it with ``asyncio.to_thread``.
    """
    command.upgrade(alembic_config(service, owner_url, script_location=script_location), revision)


def downgrade(
    service: str, owner_url: str, revision: str, *, script_location: Path | None = None
) -> None:
    """Downgrade ``service``'s database to ``revision`` (e.g. ``"base"``)."""
    command.downgrade(alembic_config(service, owner_url, script_location=script_location), revision)


async def wait_for_postgres(url: str, timeout: float = 30.0) -> None:
    """Return once ``url`` accepts a connection; raise ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            conn = await asyncpg.connect(asyncpg_dsn(url), timeout=max(0.5, min(5.0, timeout)))
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            last = exc
            await asyncio.sleep(0.25)
            continue
        await conn.close()
        return
    raise TimeoutError(f"PostgreSQL did not accept connections within {timeout}s: {last}")


def _lock_key(prefix: str) -> int:
    """The advisory-lock key of one deployment (its database prefix), a signed 64-bit integer."""
    digest = hashlib.sha256(f"aims-migrate:{prefix}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def provision_and_migrate(
    admin_url: str,
    prefix: str,
    services: Sequence[str],
    secret_key: str,
    *,
    app_passwords: Mapping[str, str] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, ServiceDatabase]:
    """Provision the databases and roles of ``services`` and upgrade each to head.

    Safe to run from several replicas at once: the whole run holds a session-level advisory lock
    keyed by the deployment's prefix on the admin connection, so a second ``aims migrate`` waits
    for the first and then finds nothing to do (provisioning and upgrades are idempotent).
    """
    say = on_step or (lambda _message: None)
    await wait_for_postgres(admin_url, timeout=30)
    lock = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        key = _lock_key(prefix)
        if not await lock.fetchval("SELECT pg_try_advisory_lock($1)", key):
            say("waiting for another migration of this deployment to finish")
            await lock.execute("SELECT pg_advisory_lock($1)", key)
        databases = dict(
            await provision(admin_url, prefix, services, secret_key, app_passwords=app_passwords)
        )
        say(f"databases: {', '.join(d.name for d in databases.values())}")
        for service in services:
            # Alembic is synchronous and not thread-safe: one upgrade at a time, off the loop.
            await asyncio.to_thread(upgrade, service, databases[service].owner_url)
            say(f"{service} migrated to head")
        return databases
    finally:
        # Closing the session releases the lock even if the unlock below is never reached.
        with contextlib.suppress(Exception):
            await lock.execute("SELECT pg_advisory_unlock($1)", _lock_key(prefix))
        await lock.close()
