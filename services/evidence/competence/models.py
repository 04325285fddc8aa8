"""Competence and awareness (ISO/IEC 42001 7.2, 7.3): people, competences, AIMS roles, their
holders, and trainings with an evaluation of their effectiveness.

Names that must be unique per organisation (competences, AIMS roles, people's e-mails and HR
references) are compared through a ``*_key`` column holding :func:`fold` of the value, computed in
Python, with a unique index on ``(org_id, *_key)``. PostgreSQL's ``lower()`` folds non-ASCII
letters only under some collations (not under ``C``), so folding in one place (Python's
``casefold`` after NFKC) makes "Équipe" and "équipe" collide on every database.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.evidence.base import Base
from shared.db import TenantColumns, utcnow, uuid7

EVALUATION_METHODS = ("test", "observation", "review", "other")
EVALUATION_RESULTS = ("effective", "partially_effective", "not_effective", "pending")


def fold(value: str) -> str:
    """The comparison key of a name: NFKC, case-folded, NFKC again (case folding can leave a
    non-normalised string), inner whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return " ".join(folded.split())


class Person(TenantColumns, Base):
    """Someone who works under the organisation's control; no login, only a record."""

    __tablename__ = "person"
    __table_args__ = (
        sa.Index("uq_person_org_email", "org_id", "email_key", unique=True),
        sa.Index("uq_person_org_external_ref", "org_id", "external_ref_key", unique=True),
        sa.Index("ix_person_org_department", "org_id", "department"),
    )

    name: Mapped[str] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
    email_key: Mapped[str | None] = mapped_column(sa.Text)
    department: Mapped[str | None] = mapped_column(sa.Text)
    job_title: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(default=True)
    external_ref: Mapped[str | None] = mapped_column(sa.Text)
    external_ref_key: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class Competence(TenantColumns, Base):
    """A competence the AIMS needs (7.2), or an awareness topic (7.3) when ``awareness``."""

    __tablename__ = "competence"
    __table_args__ = (
        sa.Index("uq_competence_org_name", "org_id", "name_key", unique=True),
        sa.CheckConstraint(
            "validity_months IS NULL OR validity_months BETWEEN 1 AND 600", name="validity_range"
        ),
    )

    name: Mapped[str] = mapped_column(sa.Text)
    name_key: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # How long a training for it stays valid; None: it does not expire.
    validity_months: Mapped[int | None]
    awareness: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class AIMSRole(TenantColumns, Base):
    """A role in the AI management system (5.3), with the competences its holders need."""

    __tablename__ = "aims_role"
    __table_args__ = (sa.Index("uq_aims_role_org_name", "org_id", "name_key", unique=True),)

    name: Mapped[str] = mapped_column(sa.Text)
    name_key: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    responsibilities: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)


class AIMSRoleCompetence(Base):
    """``role`` requires ``competence``. A competence a role requires cannot be deleted."""

    __tablename__ = "aims_role_competence"
    __table_args__ = (sa.Index("ix_aims_role_competence_competence", "competence_id"),)

    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    role_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("aims_role.id", ondelete="CASCADE"), primary_key=True
    )
    competence_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("competence.id", ondelete="RESTRICT"), primary_key=True
    )


class RoleAssignment(Base):
    """``person`` holds ``role`` from ``since`` to ``until`` (both inclusive; open when None).

    Ending an assignment keeps its row, so who held a role when stays on record.
    """

    __tablename__ = "aims_role_assignment"
    __table_args__ = (
        # One open assignment of a person to a role at a time.
        sa.Index(
            "uq_aims_role_assignment_open",
            "role_id",
            "person_id",
            unique=True,
            postgresql_where=sa.text("until IS NULL"),
        ),
        sa.Index("ix_aims_role_assignment_person", "person_id"),
        sa.CheckConstraint("until IS NULL OR until >= since", name="period_ordered"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    role_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("aims_role.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("person.id", ondelete="RESTRICT"))
    since: Mapped[date] = mapped_column(sa.Date)
    until: Mapped[date | None] = mapped_column(sa.Date)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Training(TenantColumns, Base):
    """A completed training or qualification: what competence it gives ``person``, until when,
    and whether it was effective (7.2 c)."""

    __tablename__ = "training"
    __table_args__ = (
        sa.Index("ix_training_person_competence", "person_id", "competence_id"),
        sa.Index("ix_training_competence_id", "competence_id"),
        sa.Index("ix_training_org_expires_at", "org_id", "expires_at"),
        sa.CheckConstraint("expires_at IS NULL OR expires_at > completed_at", name="expiry_after"),
        sa.CheckConstraint(
            f"evaluation_method IS NULL OR evaluation_method IN {EVALUATION_METHODS!r}",
            name="evaluation_method_known",
        ),
        sa.CheckConstraint(
            f"evaluation_result IN {EVALUATION_RESULTS!r}", name="evaluation_result_known"
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("person.id", ondelete="RESTRICT"))
    competence_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("competence.id", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(sa.Text)
    provider: Mapped[str | None] = mapped_column(sa.Text)
    completed_at: Mapped[date] = mapped_column(sa.Date)
    expires_at: Mapped[date | None] = mapped_column(sa.Date)
    # Whether ``expires_at`` was given, rather than derived from the competence's validity.
    expires_at_explicit: Mapped[bool] = mapped_column(default=False)
    # The evidence item holding the certificate (the items domain's id; not a foreign key).
    evidence_item_id: Mapped[uuid.UUID | None]
    evaluation_method: Mapped[str | None] = mapped_column(sa.Text)
    evaluation_result: Mapped[str] = mapped_column(sa.Text, default="pending")
    evaluated_at: Mapped[date | None] = mapped_column(sa.Date)
    evaluated_by: Mapped[str | None] = mapped_column(sa.Text)
    evaluation_notes: Mapped[str] = mapped_column(sa.Text, default="")
    # When the scheduler announced the coming expiry / the expiry (None: not yet).
    expiring_notified_at: Mapped[datetime | None]
    expired_notified_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
