"""Hash-chained, per-organisation audit trail (work in progress: see the toolkit issue)."""

from __future__ import annotations

import sqlalchemy as sa


def create_audit_schema(connection: sa.Connection) -> None:
    """Create the audit-trail tables and their RLS (called by each service's migration)."""


def drop_audit_schema(connection: sa.Connection) -> None:
    """Drop what :func:`create_audit_schema` created."""
