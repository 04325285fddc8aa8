from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from gateway.clients.inventory import InventoryClient
from gateway.clients.schemas import InventorySystem

# The inventory takes at most this many vendors in one filter, and pages of at most this size.
MAX_VENDORS_PER_CALL = 100
UPSTREAM_PAGE = 500


class VendorSystemsKey(NamedTuple):
    vendor_id: uuid.UUID
    first: int


@dataclass(frozen=True)
class VendorSystems:
    """A vendor's first systems (register order), whether more follow, and how many there are
    when the gateway saw them all."""

    items: list[InventorySystem]
    has_more: bool
    total: int | None


class VendorSystemsLoader(DataLoader[VendorSystemsKey, VendorSystems]):
    """The first systems of N vendors from one inventory page of the systems of all of them
    (``GET /v1/ai-systems?vendor_id=…&vendor_id=…``; each vendor's systems in that page are the
    start of its own list, in the same order). Only when that page is not the whole answer is a
    vendor with too few systems in it asked again on its own."""

    def __init__(self, client: InventoryClient) -> None:
        async def load(keys: list[VendorSystemsKey]) -> list[VendorSystems]:
            vendors = list(dict.fromkeys(k.vendor_id for k in keys))
            most = max(k.first for k in keys)
            grouped: defaultdict[uuid.UUID, list[InventorySystem]] = defaultdict(list)
            complete = True
            for start in range(0, len(vendors), MAX_VENDORS_PER_CALL):
                chunk = vendors[start : start + MAX_VENDORS_PER_CALL]
                page = await client.systems_of_vendors(chunk, limit=UPSTREAM_PAGE)
                for system in page.items:
                    if system.vendor_id is not None:
                        grouped[system.vendor_id].append(system)
                if page.next_cursor is not None:
                    # The page was cut: a vendor with at most `most` systems in it may have more.
                    complete = False
                    for vendor in chunk:
                        if len(grouped[vendor]) <= most:
                            own = await client.systems_of_vendors([vendor], limit=most + 1)
                            grouped[vendor] = list(own.items)
            answers = []
            for key in keys:
                systems = grouped.get(key.vendor_id, [])
                answers.append(
                    VendorSystems(
                        items=systems[: key.first],
                        has_more=len(systems) > key.first,
                        total=len(systems) if complete else None,
                    )
                )
            return answers

        super().__init__(load_fn=load, max_batch_size=MAX_VENDORS_PER_CALL * 5)
