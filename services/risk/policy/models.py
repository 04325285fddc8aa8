"""The organisation's risk policy settings (one row per organisation)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.risk.base import Base
from shared.db import utcnow


class RiskPolicy(Base):
    """Settings an organisation chooses beyond what the law requires (labelled as policy)."""

    __tablename__ = "risk_policy"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    require_impact_assessment_for_all_high_risk: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    allow_self_acceptance: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.Text)
