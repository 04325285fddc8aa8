"""A DataLoader over one upstream batch endpoint (``GET …?id=…&id=…``)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

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


K = TypeVar("K")
V = TypeVar("V")


def settled(loader: DataLoader[K, V], key: K) -> asyncio.Future[V] | None:
    """The loader's finished future for ``key`` in this request, or None if not loaded yet.

    A resolver that finds one can answer without awaiting: graphql-core then completes the
    field synchronously instead of wrapping it in a Task (see :func:`prefetch`). Its
    ``result()`` raises what the batch raised, so a failed upstream still fails only the
    fields it serves, with the same error.
    """
    if not loader.cache:
        return None
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled():
        return None
    return future


async def prefetch(*batches: tuple[DataLoader[K, Any], Sequence[K]]) -> None:
    """Load ``keys`` into each loader concurrently (one upstream call per loader, as the
    per-field loads of a page would), leaving each key's outcome, value or error, in the
    loader's cache for :func:`settled`. Errors are not raised here: they belong to the fields.
    """
    # ``load`` of every key first (each loader then dispatches one batch), then wait for each
    # future: after the first, they are all done. Not ``load_many``/``gather``, which would
    # wrap every one of the page's futures again.
    pending = [loader.load(key) for loader, keys in batches for key in keys]
    for future in pending:
        with contextlib.suppress(Exception):
            await future
