"""One Alembic environment per service; run them with ``aims migrate``."""
