"""Webhook deliveries keep the trace they were queued in (issue 12).

``webhook_delivery.traceparent``: the W3C trace context of the consumer that queued the
delivery (or of the replay request), so the worker's delivery span, sent later and perhaps by
another process, joins the trace of the request that committed the event. The queue table stays
without row-level security (see gateway/webhooks/models.py): the column is a trace context, not
tenant content.

Revision ID: 20261130_webhook_trace
Revises: 20261129_documents
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261130_webhook_trace"
down_revision = "20261129_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_delivery", sa.Column("traceparent", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("webhook_delivery", "traceparent")
