from __future__ import annotations

from gateway.clients.components import ComponentsClient, UpstreamVendor
from gateway.loaders.base import ByIdLoader


class VendorLoader(ByIdLoader[UpstreamVendor]):
    """Vendors by id (``GET /v1/vendors?id=…`` of the inventory)."""

    def __init__(self, client: ComponentsClient) -> None:
        super().__init__(client.vendors_by_ids)
