"""AsyncAPI 3.0 document generated from the event catalogues (the same Pydantic models that
validate the events), so the published catalogue cannot drift from what is emitted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter

from shared.events.envelope import CloudEvent, EventCatalogue

ASYNCAPI_VERSION = "3.0.0"


def _envelope_schema(data_ref: str, event_type: str) -> dict[str, Any]:
    schema = TypeAdapter(CloudEvent).json_schema(mode="serialization")
    props = dict(schema.get("properties", {}))
    props["type"] = {"type": "string", "const": event_type}
    props["data"] = {"$ref": data_ref}
    props["orgid"] = {**props.get("orgid", {}), "description": "Organisation (tenant) id"}
    props["dataversion"] = {
        **props.get("dataversion", {}),
        "description": "Version of the entity this state is; apply only if newer",
    }
    props["traceparent"] = {
        **props.get("traceparent", {}),
        "description": "W3C trace context of the request that caused the event",
    }
    return {
        "type": "object",
        "title": f"{event_type} (CloudEvents 1.0)",
        "required": schema.get("required", []),
        "properties": props,
    }


def build_asyncapi(
    catalogues: Iterable[EventCatalogue], *, title: str = "AIMS events"
) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for catalogue in catalogues:
        for name, event_type in sorted(catalogue.types.items()):
            key = name.replace(".", "_").replace("-", "_")
            data_schema = event_type.data_model.model_json_schema(
                mode="serialization", ref_template="#/components/schemas/{model}"
            )
            for def_name, definition in data_schema.pop("$defs", {}).items():
                schemas[def_name] = definition
            data_name = event_type.data_model.__name__
            schemas[data_name] = data_schema
            messages[key] = {
                "name": name,
                "title": name,
                "summary": event_type.description,
                "contentType": "application/cloudevents+json",
                "payload": _envelope_schema(f"#/components/schemas/{data_name}", name),
                "headers": {
                    "type": "object",
                    "properties": {
                        "Nats-Msg-Id": {
                            "type": "string",
                            "description": "The event id; JetStream drops duplicates",
                        }
                    },
                },
                "x-dataschema": event_type.dataschema,
            }
            channels[key] = {
                "address": name,
                "description": f"{event_type.description} Emitted by the {catalogue.service} "
                "service through its transactional outbox.",
                "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            }
            operations[f"publish_{key}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{key}"},
                "summary": f"The {catalogue.service} service publishes {name}",
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": "1.0.0",
            "description": (
                "Events between AIMS services on NATS JetStream (stream `AIMS`, subjects "
                "`aims.>`). Every event is a CloudEvents 1.0 structured-mode JSON envelope "
                "carrying the full current state of its entity and its version (`dataversion`); "
                "consumers apply an event only when it is newer than what they hold. GRC "
                "platforms receive the same envelopes as Standard Webhooks deliveries."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "nats": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "Zero-setup NATS (see docs/operations.md for production)",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
