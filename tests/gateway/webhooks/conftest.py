"""Fixtures of the webhook tests that read the gateway database directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from shared.runtime.provision import asyncpg_dsn


@pytest.fixture
def superuser_dsn(stack: Any) -> str:
    """The gateway database as the PostgreSQL superuser (row-level security does not apply)."""
    engines = stack.engines
    return asyncpg_dsn(engines.admin_url, database=engines.databases["gateway"].name)


@pytest.fixture
async def superuser(superuser_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection that sees every organisation's rows (what a database dump would show)."""
    conn = await asyncpg.connect(superuser_dsn)
    try:
        yield conn
    finally:
        await conn.close()
