"""Hostile input hardening (issue 10): vendor names are unique by a Unicode fold.

The unique index folded names with SQL ``lower()``, which in a ``C`` database folds only ASCII
and in no locale matches Python's full case folding, while the service checked with Python: two
creates of "Équipe IA" passed the check and hit the index (500). The fold is now computed once,
in Python, stored in ``vendor.name_key`` and indexed, so the check and the index compare the same
value. Existing rows are backfilled with the same fold; rows of one organisation that only the new
fold makes equal (``Straße`` / ``STRASSE``) keep their names and get a key suffixed with their id,
so the upgrade never fails and nothing is lost.

Revision ID: 20261129_hostile
Revises: 20261128_bom_removal
Create Date: 2026-11-29
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "20261129_hostile"
down_revision = "20261128_bom_removal"
branch_labels = None
depends_on = None


def _name_key(name: str) -> str:
    # A copy of ``shared.text.name_key`` as of this revision: migrations do not run live code.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def upgrade() -> None:
    op.add_column("vendor", sa.Column("name_key", sa.Text))
    connection = op.get_bind()
    # The backfill sees every organisation's rows (for this transaction only; DDL is
    # transactional, so FORCE is back before anyone else sees the table).
    connection.execute(sa.text("ALTER TABLE vendor NO FORCE ROW LEVEL SECURITY"))
    rows = connection.execute(
        sa.text("SELECT id, org_id, name FROM vendor ORDER BY org_id, created_at, id")
    ).all()
    taken: set[tuple[object, str]] = set()
    for row in rows:
        key = _name_key(row.name)
        if (row.org_id, key) in taken:
            key = f"{key} #{row.id}"
        taken.add((row.org_id, key))
        connection.execute(
            sa.text("UPDATE vendor SET name_key = :key WHERE id = :id"),
            {"key": key, "id": row.id},
        )
    connection.execute(sa.text("ALTER TABLE vendor FORCE ROW LEVEL SECURITY"))
    op.alter_column("vendor", "name_key", nullable=False)
    op.drop_index("uq_vendor_org_name", table_name="vendor")
    op.create_index("uq_vendor_org_name_key", "vendor", ["org_id", "name_key"], unique=True)


def downgrade() -> None:
    # Names the new fold told apart but ``lower()`` does not would break the old index; such an
    # organisation must rename one of them before downgrading (the index creation says which).
    op.drop_index("uq_vendor_org_name_key", table_name="vendor")
    op.create_index("uq_vendor_org_name", "vendor", ["org_id", sa.text("lower(name)")], unique=True)
    op.drop_column("vendor", "name_key")
