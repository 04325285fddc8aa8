"""Run a service's Alembic migrations programmatically (no ``alembic.ini``)."""

from __future__ import annotations

import asyncio
import time
from importlib import resources
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config

from shared.runtime.provision import asyncpg_dsn, sqlalchemy_url


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
