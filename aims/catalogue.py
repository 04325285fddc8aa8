"""The event catalogue of the whole product, as one AsyncAPI document.

``python -m aims.catalogue`` writes ``docs/asyncapi.json``; a test fails when the checked-in
file differs from what the code emits.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from shared.events.asyncapi import build_asyncapi
from shared.events.envelope import EventCatalogue

# (module holding a service's catalogue, module whose import registers all its event types)
CATALOGUE_MODULES = (
    ("services.inventory.events", "services.inventory.main"),
    ("services.risk.events", "services.risk.main"),
    ("services.evidence.events", "services.evidence.main"),
    ("gateway.webhooks.events", "gateway.main"),
)
DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.json"


def catalogues() -> list[EventCatalogue]:
    found: list[EventCatalogue] = []
    for name, app_module in CATALOGUE_MODULES:
        try:
            importlib.import_module(app_module)
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue  # a service that emits nothing yet
        catalogue = getattr(module, "catalogue", None)
        if isinstance(catalogue, EventCatalogue):
            found.append(catalogue)
    return found


def document() -> dict[str, Any]:
    return build_asyncapi(catalogues())


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


EVENTS_DOC = DOCUMENT.parent / "events.md"
TABLE_START = "| type | data | meaning |\n|---|---|---|\n"
TABLE_END = "\n## Guarantees"


def render_table() -> str:
    """The catalogue table of docs/events.md, one row per event type, in catalogue order."""
    rows = [
        f"| `{name}` | `{event_type.data_model.__name__}` | {event_type.description} |\n"
        for catalogue in catalogues()
        for name, event_type in sorted(catalogue.types.items())
    ]
    return TABLE_START + "".join(rows)


def render_events_doc(current: str) -> str:
    """``current`` (docs/events.md) with its catalogue table replaced by the generated one."""
    start = current.index(TABLE_START)
    end = current.index(TABLE_END, start)
    return current[:start] + render_table() + current[end:]


def main() -> None:
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(render())
    EVENTS_DOC.write_text(render_events_doc(EVENTS_DOC.read_text()))
    sys.stdout.write(f"wrote {DOCUMENT} and the catalogue table of {EVENTS_DOC}\n")


if __name__ == "__main__":
    main()
