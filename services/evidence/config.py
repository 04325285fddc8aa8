from __future__ import annotations

from shared.settings import ServiceSettings


class EvidenceSettings(ServiceSettings):
    """Settings of the evidence service (env prefix ``AIMS_``)."""

    # Where evidence blobs live: any URL obstore understands (``file:///…``, ``s3://bucket/…``,
    # ``gs://…``, ``az://…``). None: the folder ``<var_dir>/blobs``, created on start.
    blob_store_url: str | None = None
    # Uploads larger than this are refused with 413 and nothing of them is kept.
    max_upload_bytes: int = 100 * 1024 * 1024
