"""Evidence items, versions, files, blobs and links.

Existing files (uploaded per system before items existed) each become an item of kind
``document`` titled by the file name, with a draft version 1 holding the file and a link to the
system, so nothing uploaded before is lost or unlinked.

Revision ID: 20261128_items
Revises: 20261128_initial
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from shared.db import rls_statements

revision = "20261128_items"
down_revision = "20261128_initial"
branch_labels = None
depends_on = None

KINDS = ("document", "record", "screenshot", "log", "export", "link")
ITEM_STATUSES = ("draft", "in_review", "approved", "expired", "superseded")
VERSION_STATUSES = ("draft", "in_review", "approved", "superseded")
TARGET_TYPES = ("clause", "control", "documented_information", "system", "risk", "soa_entry")
BLOB_STATES = ("ok", "corrupt", "missing")
NEW_TABLES = ("evidence_item", "evidence_version", "evidence_link", "blob")


def _now() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "evidence_item",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("owner", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("effective_from", sa.Date),
        sa.Column("effective_to", sa.Date),
        sa.Column("review_by", sa.Date),
        sa.Column("retention_until", sa.Date),
        sa.Column("legal_hold", sa.Boolean, nullable=False),
        sa.Column("legal_hold_reason", sa.Text),
        sa.Column("legal_hold_by", sa.Text),
        sa.Column("legal_hold_at", sa.DateTime(timezone=True)),
        sa.Column("current_version", sa.Integer),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("superseded_by", UUID(as_uuid=True)),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("deleted_by", sa.Text),
        sa.CheckConstraint(f"kind IN {KINDS!r}", name="kind_known"),
        sa.CheckConstraint(f"status IN {ITEM_STATUSES!r}", name="status_known"),
    )
    op.create_index("ix_evidence_item_org_id_status", "evidence_item", ["org_id", "status"])
    op.create_table(
        "evidence_version",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column(
            "item_id",
            UUID(as_uuid=True),
            sa.ForeignKey("evidence_item.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        _now(),
        sa.Column("submitted_by", sa.Text),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("approved_by", sa.Text),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("item_id", "number", name="uq_evidence_version_item_number"),
        sa.CheckConstraint(f"status IN {VERSION_STATUSES!r}", name="status_known"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
    )
    op.create_table(
        "evidence_link",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column(
            "item_id",
            UUID(as_uuid=True),
            sa.ForeignKey("evidence_item.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("target_type", sa.Text, nullable=False),
        sa.Column("target_id", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        _now(),
        sa.UniqueConstraint("item_id", "target_type", "target_id", name="uq_evidence_link_target"),
        sa.CheckConstraint(f"target_type IN {TARGET_TYPES!r}", name="target_type_known"),
    )
    op.create_index(
        "ix_evidence_link_target", "evidence_link", ["org_id", "target_type", "target_id"]
    )
    op.create_table(
        "blob",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        _now(),
        sa.CheckConstraint(f"state IN {BLOB_STATES!r}", name="state_known"),
    )

    op.add_column("evidence_file", sa.Column("item_id", UUID(as_uuid=True)))
    op.add_column("evidence_file", sa.Column("version_id", UUID(as_uuid=True)))
    op.alter_column("evidence_file", "system_id", nullable=True)

    # Backfill before the new tables are under row-level security; the old table is read
    # across organisations for the length of this migration only.
    op.execute("ALTER TABLE evidence_file NO FORCE ROW LEVEL SECURITY")
    op.execute(
        """INSERT INTO evidence_item (id, org_id, version, created_at, updated_at, title, kind,
               status, legal_hold, latest_version, created_by, updated_by)
           SELECT id, org_id, 1, created_at, created_at, filename, 'document', 'draft', false,
                  1, created_by, created_by
           FROM evidence_file"""
    )
    op.execute(
        """INSERT INTO evidence_version (id, org_id, item_id, number, status, created_by,
               created_at)
           SELECT id, org_id, id, 1, 'draft', created_by, created_at FROM evidence_file"""
    )
    op.execute(
        """INSERT INTO evidence_link (id, org_id, item_id, target_type, target_id, created_by,
               created_at)
           SELECT id, org_id, id, 'system', system_id::text, created_by, created_at
           FROM evidence_file"""
    )
    op.execute(
        """INSERT INTO blob (org_id, sha256, size_bytes, key, state, created_at)
           SELECT DISTINCT ON (org_id, sha256) org_id, sha256, size_bytes, blob_key, 'ok',
                  created_at
           FROM evidence_file ORDER BY org_id, sha256, created_at"""
    )
    op.execute("UPDATE evidence_file SET item_id = id, version_id = id")
    op.execute("ALTER TABLE evidence_file FORCE ROW LEVEL SECURITY")

    op.alter_column("evidence_file", "item_id", nullable=False)
    op.alter_column("evidence_file", "version_id", nullable=False)
    op.create_foreign_key(
        "fk_evidence_file_item_id_evidence_item",
        "evidence_file",
        "evidence_item",
        ["item_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_evidence_file_version_id_evidence_version",
        "evidence_file",
        "evidence_version",
        ["version_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index("ix_evidence_file_version_id_id", "evidence_file", ["version_id", "id"])
    op.create_index("ix_evidence_file_org_id_sha256", "evidence_file", ["org_id", "sha256"])
    for table in NEW_TABLES:
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_index("ix_evidence_file_org_id_sha256", "evidence_file")
    op.drop_index("ix_evidence_file_version_id_id", "evidence_file")
    op.drop_constraint("fk_evidence_file_version_id_evidence_version", "evidence_file")
    op.drop_constraint("fk_evidence_file_item_id_evidence_item", "evidence_file")
    # Files uploaded to items without a system cannot live in the old shape: they go.
    op.execute("ALTER TABLE evidence_file NO FORCE ROW LEVEL SECURITY")
    op.execute("DELETE FROM evidence_file WHERE system_id IS NULL")
    op.execute("ALTER TABLE evidence_file FORCE ROW LEVEL SECURITY")
    op.alter_column("evidence_file", "system_id", nullable=False)
    op.drop_column("evidence_file", "version_id")
    op.drop_column("evidence_file", "item_id")
    op.drop_table("blob")
    op.drop_table("evidence_link")
    op.drop_table("evidence_version")
    op.drop_table("evidence_item")
