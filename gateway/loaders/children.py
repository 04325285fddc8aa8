"""The first children of many parents, from one list endpoint that filters by several parents.

``GET /v1/trainings?person_id=…&person_id=…`` answers the children of every parent asked,
oldest first: one call (per 500 children) gives the first page of every parent on a page of
parents. Only when the children outnumber ``MAX_PAGES`` pages does a parent whose first page is
still unknown cost a call of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from strawberry.dataloader import DataLoader

from gateway.clients.schemas import UpstreamPage
from gateway.loaders.base import MAX_BATCH_SIZE

T = TypeVar("T")

# Children read per call, and at most this many calls per batch before falling back.
PAGE_SIZE = 500
MAX_PAGES = 4
# The services accept at most this many parent ids in one request.
MAX_PARENTS = 100

# (parent ids, limit, after) → one page of the children of all of them, oldest first.
FetchMany = Callable[[Sequence[uuid.UUID], int, str | None], Awaitable[UpstreamPage[T]]]
# (parent id, limit) → the first children of one parent, oldest first.
FetchOne = Callable[[uuid.UUID, int], Awaitable[UpstreamPage[T]]]


class ChildrenKey(NamedTuple):
    parent_id: uuid.UUID
    first: int


@dataclass(frozen=True)
class FirstChildren(Generic[T]):
    """A parent's first ``first`` children and whether more follow."""

    items: list[T]
    has_next: bool


class FirstChildrenLoader(DataLoader[ChildrenKey, FirstChildren[T]], Generic[T]):
    def __init__(
        self, fetch_many: FetchMany[T], fetch_one: FetchOne[T], parent_of: Callable[[T], uuid.UUID]
    ) -> None:
        async def load(keys: list[ChildrenKey]) -> list[FirstChildren[T]]:
            parents = list(dict.fromkeys(k.parent_id for k in keys))
            children: defaultdict[uuid.UUID, list[T]] = defaultdict(list)
            complete: set[uuid.UUID] = set()
            for start in range(0, len(parents), MAX_PARENTS):
                chunk = parents[start : start + MAX_PARENTS]
                cursor: str | None = None
                for _ in range(MAX_PAGES):
                    page = await fetch_many(chunk, PAGE_SIZE, cursor)
                    for item in page.items:
                        children[parent_of(item)].append(item)
                    if (cursor := page.next_cursor) is None:
                        complete.update(chunk)
                        break

            async def first_of(key: ChildrenKey) -> FirstChildren[T]:
                found = children[key.parent_id]
                # Read in id order: what is known of a parent is its oldest children.
                if key.parent_id in complete or len(found) > key.first:
                    return FirstChildren(found[: key.first], len(found) > key.first)
                page = await fetch_one(key.parent_id, key.first + 1)
                return FirstChildren(page.items[: key.first], len(page.items) > key.first)

            return list(await asyncio.gather(*(first_of(k) for k in keys)))

        # Several keys of one parent (different `first`) share its call: batch by keys generously.
        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
