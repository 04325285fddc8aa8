from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    """Settings of the inventory service (env prefix ``AIMS_``)."""

    # Spreadsheet imports (services/inventory/imports/parser.py ``XlsxLimits``): an XLSX file
    # past any of these is refused with 413 ``spreadsheet-too-large`` before it is parsed.
    import_max_uncompressed_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    import_max_compression_ratio: float = Field(default=100.0, gt=1)
    import_max_parts: int = Field(default=1000, gt=0)
    import_max_columns: int = Field(default=1000, gt=0)
    import_max_rows: int = Field(default=100_000, gt=0)
    import_max_cells: int = Field(default=5_000_000, gt=0)
    # Imports are parsed on threads of their own (not the event loop's shared pool): at most
    # this many at once, and at most ``import_parse_queue`` more waiting (then 503).
    import_parse_workers: int = Field(default=2, gt=0)
    import_parse_queue: int = Field(default=8, ge=0)
