"""Documented information: SoA and scope projections, requests.

Revision ID: 20261128_documented
Revises: 20261128_items
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from shared.db import rls_statements

revision = "20261128_documented"
down_revision = "20261128_items"
branch_labels = None
depends_on = None

TABLES = ("documented_soa", "documented_scope", "documented_system", "evidence_request")

# A time-ordered UUID (version 7) made by the database, so that requests opened for thousands of
# systems in one set-based statement get ids that page in creation order like every other id.
UUID7_FUNCTION = """
CREATE FUNCTION documented_uuid7() RETURNS uuid AS $$
  SELECT encode(
    set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
      substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
      FROM 1 FOR 6), 52, 1), 53, 1),
    'hex')::uuid
$$ LANGUAGE sql VOLATILE
"""


def upgrade() -> None:
    op.create_table(
        "documented_soa",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("soa_version_id", UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("included_controls", ARRAY(sa.Text), nullable=False),
        sa.Column("excluded_controls", ARRAY(sa.Text), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "documented_scope",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("scope_version_id", UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "documented_system",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("in_scope", sa.Boolean, nullable=False),
        sa.Column("scope_number", sa.Integer),
        sa.Column("tier", sa.Text),
        sa.Column("classification_version", sa.Integer),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_documented_system_in_scope",
        "documented_system",
        ["org_id"],
        postgresql_where=sa.text("in_scope"),
    )
    op.create_table(
        "evidence_request",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("system_id", UUID(as_uuid=True), nullable=False),
        # The system id as evidence links hold it (text): a correlated ``system_id::text`` is
        # not leakproof, so under row-level security it could not be an index condition.
        sa.Column("system_key", sa.Text, sa.Computed("system_id::text", persisted=True)),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("org_id", "system_id", "item_id", name="uq_evidence_request_item"),
        sa.CheckConstraint("status IN ('open', 'withdrawn')", name="status_known"),
    )
    op.create_index("ix_evidence_request_org_id_status", "evidence_request", ["org_id", "status"])
    op.execute(UUID7_FUNCTION)
    for table in TABLES:
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS documented_uuid7()")
