"""The risk service's event catalogue; each domain registers its own event types in it."""

from __future__ import annotations

from shared.events import EventCatalogue

catalogue = EventCatalogue("risk")
