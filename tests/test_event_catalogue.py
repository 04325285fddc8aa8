"""The published event catalogue (docs/asyncapi.json) matches what the code emits."""

from __future__ import annotations

import json

from aims.catalogue import DOCUMENT, document, render


def test_asyncapi_document_is_current() -> None:
    assert DOCUMENT.exists(), "run `python -m aims.catalogue` to write docs/asyncapi.json"
    assert DOCUMENT.read_text() == render(), "docs/asyncapi.json is stale: python -m aims.catalogue"


def test_catalogue_lists_the_register_events_with_state_schemas() -> None:
    doc = document()
    channels = {c["address"] for c in doc["channels"].values()}
    assert {
        "aims.inventory.system.registered",
        "aims.inventory.system.updated",
        "aims.inventory.system.retired",
    } <= channels
    message = doc["components"]["messages"]["aims_inventory_system_registered"]
    payload = message["payload"]
    assert payload["properties"]["type"]["const"] == "aims.inventory.system.registered"
    assert {"id", "source", "type", "time", "orgid", "dataversion"} <= set(payload["required"])
    state = doc["components"]["schemas"]["AISystemRead"]
    assert {"id", "name", "version", "lifecycle_stage"} <= set(state["properties"])
    json.dumps(doc)  # serialisable as published


def test_events_doc_table_is_the_generated_catalogue() -> None:
    from aims.catalogue import EVENTS_DOC, catalogues, render_events_doc

    text = EVENTS_DOC.read_text()
    assert text == render_events_doc(text), "docs/events.md is stale: python -m aims.catalogue"
    missing = [
        name for catalogue in catalogues() for name in catalogue.types if f"`{name}`" not in text
    ]
    assert not missing, f"docs/events.md does not list: {missing}"
