"""Events the competence domain handles."""

from __future__ import annotations

from shared.events.consumer import EventHandler

HANDLERS: list[EventHandler] = []
