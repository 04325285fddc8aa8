"""Alembic environment of the risk service."""
