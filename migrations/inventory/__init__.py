"""Alembic environment of the inventory service."""
