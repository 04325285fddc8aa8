from __future__ import annotations

from typing import Any

from shared.settings import ServiceSettings


class EvidenceSettings(ServiceSettings):
    """Settings of the evidence service (env prefix ``AIMS_``)."""

    # Where evidence blobs live: any URL obstore understands (``file:///…``, ``s3://bucket/…``,
    # ``gs://…``, ``az://…``). None: the folder ``<var_dir>/blobs``, created on start.
    blob_store_url: str | None = None
    # Options of the object store (obstore's config keys, e.g. for S3 ``endpoint``,
    # ``region``, ``access_key_id``, ``secret_access_key``), as JSON in
    # ``AIMS_BLOB_STORE_CONFIG``. Unset keys come from the environment (``AWS_*``).
    blob_store_config: dict[str, Any] = {}
    # Allow a plain-HTTP object store endpoint (a local S3-compatible server).
    blob_store_allow_http: bool = False
    # Uploads larger than this are refused with 413 (naming the limit) and nothing of them is
    # kept (``AIMS_MAX_UPLOAD_BYTES``; default 100 MiB). Files of several GiB work when it
    # allows them: uploads stream, nothing holds a whole file in memory.
    max_upload_bytes: int = 100 * 1024 * 1024
    # How many days before a training expires ``training.expiring`` is emitted
    # (``AIMS_TRAINING_EXPIRING_DAYS``). A change applies to trainings recorded or changed after.
    training_expiring_days: int = 30
