"""A DataLoader over one upstream batch endpoint (``GET …?id=…&id=…``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from strawberry.dataloader import DataLoader

# The services accept at most this many ids in one batch request.
MAX_BATCH_SIZE = 500


class HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


T = TypeVar("T", bound=HasId)


class ByIdLoader(DataLoader[uuid.UUID, T | None], Generic[T]):
    """Loads many ids in one upstream call; an id the service does not return loads as None.

    Loaders live for one GraphQL request (built in the context getter), so their cache never
    outlives the caller's credentials nor serves one caller's rows to another.
    """

    def __init__(self, fetch: Callable[[Sequence[uuid.UUID]], Awaitable[Sequence[T]]]) -> None:
        async def load(ids: list[uuid.UUID]) -> list[T | None]:
            found = {item.id: item for item in await fetch(ids)}
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
