"""Alembic environment of the evidence service."""
