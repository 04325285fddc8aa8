"""The declarative base of the evidence service's tables (one metadata for the whole service)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from shared.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP
