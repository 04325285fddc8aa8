"""Risk tables. ``system`` is this service's projection of the inventory's AI systems."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from shared.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP
from shared.projections import SystemProjectionColumns


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class SystemProjection(SystemProjectionColumns, Base):
    """What the risk service knows of an AI system, kept from ``aims.inventory.system.*``."""

    __tablename__ = "system"
