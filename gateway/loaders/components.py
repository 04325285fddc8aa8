from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.clients.components import ComponentsClient, UpstreamComponent
from gateway.loaders.base import ByIdLoader
from gateway.loaders.vendors import VendorLoader


class ComponentLoader(ByIdLoader[UpstreamComponent]):
    """Components by id (``GET /v1/components?id=…`` of the inventory)."""

    def __init__(self, client: ComponentsClient) -> None:
        super().__init__(client.components_by_ids)


@dataclass(frozen=True)
class ComponentsLoaders:
    """Deprecated view for resolvers not yet moved to ``info.context.clients.components`` and
    ``info.context.loaders.vendors`` / ``.components``; it caches nothing of its own."""

    client: ComponentsClient
    vendors: VendorLoader
    components: ComponentLoader


def components_loaders(context: Any) -> ComponentsLoaders:
    """Deprecated: use ``context.clients.components`` and ``context.loaders`` directly."""
    return ComponentsLoaders(
        client=context.clients.components,
        vendors=context.loaders.vendors,
        components=context.loaders.components,
    )
