"""Alembic environment of the gateway service."""
