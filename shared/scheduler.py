"""Timers and the scheduler that fires them (work in progress: see the toolkit issue)."""

from __future__ import annotations

import sqlalchemy as sa


def create_timer_schema(connection: sa.Connection) -> None:
    """Create the timer table (called by each service's migration)."""


def drop_timer_schema(connection: sa.Connection) -> None:
    """Drop what :func:`create_timer_schema` created."""
