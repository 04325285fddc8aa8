"""Components: BOM re-import removes components and edges the new BOM no longer lists.

``component.source`` and ``dependency.source`` say who keeps a row: ``manual`` (a person) or
``bom`` (the system's CycloneDX BOM). Rows written before this revision by a BOM import are
recognised by their shape (a component with a bom-ref inside a system; a component-to-component
``depends_on`` edge between two such components of the same system) — the import was the only
writer that produced that shape in practice; every other row stays ``manual``.

Revision ID: 20261128_bom_removal
Revises: 20261128_register_upsert
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261128_bom_removal"
down_revision = "20261128_register_upsert"
branch_labels = None
depends_on = None

TABLES = ("component", "dependency")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("source", sa.Text, nullable=False, server_default="manual"))
        op.create_check_constraint(f"ck_{table}_source", table, "source IN ('manual', 'bom')")
    # Backfill across organisations: row-level security is lifted for this migration only.
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "UPDATE component SET source = 'bom' WHERE bom_ref IS NOT NULL AND system_id IS NOT NULL"
    )
    op.execute(
        """UPDATE dependency d SET source = 'bom'
           FROM component f, component t
           WHERE d.from_type = 'component' AND d.to_type = 'component'
             AND d.relation = 'depends_on'
             AND f.id = d.from_id AND t.id = d.to_id
             AND f.source = 'bom' AND t.source = 'bom' AND f.system_id = t.system_id"""
    )
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_constraint(f"ck_{table}_source", table, type_="check")
        op.drop_column(table, "source")
