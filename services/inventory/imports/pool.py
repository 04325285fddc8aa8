"""The threads spreadsheet imports are parsed on, apart from the event loop's shared pool.

Parsing is CPU work of seconds to minutes; on ``asyncio.to_thread`` it would queue behind (and
in front of) every other use of the loop's default executor. A :class:`ParsePool` has threads of
its own, a bounded number of them, and a bounded queue: past it a request is refused with 503
``imports-busy`` and ``Retry-After`` instead of waiting without end.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from services.inventory.config import InventorySettings
from services.inventory.imports.errors import ImportsBusy
from services.inventory.imports.parser import XlsxLimits

T = TypeVar("T")


class ParsePool:
    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.active = 0
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="aims-import-parse"
        )

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` on one of the pool's threads."""
        if self.active >= self.capacity:
            raise ImportsBusy(
                f"{self.active} imports are being parsed or waiting (at most {self.capacity}); "
                "retry shortly."
            )
        self.active += 1
        try:
            loop = asyncio.get_running_loop()
            call = functools.partial(function, *args, **kwargs)
            return await loop.run_in_executor(self._executor, call)
        finally:
            self.active -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def xlsx_limits(settings: Any) -> XlsxLimits:
    """The XLSX limits a service's settings configure (the defaults for other settings)."""
    if not isinstance(settings, InventorySettings):
        return XlsxLimits()
    return XlsxLimits(
        max_uncompressed_bytes=settings.import_max_uncompressed_bytes,
        max_compression_ratio=settings.import_max_compression_ratio,
        max_parts=settings.import_max_parts,
        max_columns=settings.import_max_columns,
        max_rows=settings.import_max_rows,
        max_cells=settings.import_max_cells,
    )


def parse_pool(extras: dict[str, Any], settings: Any) -> ParsePool:
    """The service's pool, made on first use (kept in ``ctx.extras``)."""
    pool = extras.get("import_parse_pool")
    if not isinstance(pool, ParsePool):
        workers, queue = 2, 8
        if isinstance(settings, InventorySettings):
            workers, queue = settings.import_parse_workers, settings.import_parse_queue
        pool = extras["import_parse_pool"] = ParsePool(workers, queue)
    return pool
