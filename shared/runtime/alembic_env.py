"""The one Alembic ``env.py`` every service shares; ``migrations/<svc>/env.py`` calls ``run_env``.

Online only, asyncpg, the service's own version table, and the whole upgrade in one transaction:
PostgreSQL has transactional DDL, so a failing revision leaves the schema as it was.
"""

from __future__ import annotations

import asyncio
import threading

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.dberrors import redact_driver_errors


def version_table(service: str) -> str:
    return f"alembic_version_{service}"


def run_env(service: str) -> None:
    """Run the migrations Alembic asked for against ``sqlalchemy.url`` of the current config."""
    if context.is_offline_mode():
        raise RuntimeError("AIMS migrations run online only (no --sql mode)")
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set; run migrations through `aims migrate`")

    def run_sync(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=None,
            version_table=version_table(service),
            transaction_per_migration=False,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool, hide_parameters=True)
        redact_driver_errors(engine)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run_sync)
        finally:
            await engine.dispose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_async())
        return
    # Called from inside an event loop (an async caller that did not use a thread): run the
    # migration on a private loop in a worker thread and wait for it.
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            asyncio.run(run_async())
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=in_thread, name=f"alembic-{service}")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
