"""DataLoaders of the components domain: vendors and components by id.

They hang off the request's context (built on first use), so they live exactly as long as the
request, like the loaders of :class:`gateway.loaders.Loaders`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.clients.components import ComponentsClient, UpstreamComponent, UpstreamVendor
from gateway.loaders.base import ByIdLoader

_KEY = "_components_loaders"


class VendorLoader(ByIdLoader[UpstreamVendor]):
    """Vendors by id (``GET /v1/vendors?id=…``)."""

    def __init__(self, client: ComponentsClient) -> None:
        super().__init__(client.vendors_by_ids)


class ComponentLoader(ByIdLoader[UpstreamComponent]):
    """Components by id (``GET /v1/components?id=…``)."""

    def __init__(self, client: ComponentsClient) -> None:
        super().__init__(client.components_by_ids)


@dataclass(frozen=True)
class ComponentsLoaders:
    client: ComponentsClient
    vendors: VendorLoader
    components: ComponentLoader


def components_loaders(context: Any) -> ComponentsLoaders:
    """The request's components client and loaders (``context`` is the GraphQL context)."""
    found = context.__dict__.get(_KEY)
    if found is None:
        client = ComponentsClient.of(context.clients.inventory)
        found = ComponentsLoaders(client, VendorLoader(client), ComponentLoader(client))
        context.__dict__[_KEY] = found
    assert isinstance(found, ComponentsLoaders)
    return found
