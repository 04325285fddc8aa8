"""Trusted (persisted) documents at execution: resolve a hash to its text, or refuse.

A request names a registered document by its SHA-256 in either form:

* ``{"documentId": "sha256:<hex>"}`` (the GraphQL-over-HTTP trusted-documents convention; a bare
  ``<hex>`` is accepted too), or
* ``{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}`` (Apollo).

With a hash and no ``query``, the organisation's registered text is executed. With both, the
hash must be the query's. With ``AIMS_GRAPHQL_TRUSTED_DOCUMENTS_ONLY`` on, a document that is
not registered for the caller's organisation is refused, however it was sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from strawberry.extensions import SchemaExtension

from gateway.protection import service
from gateway.protection.errors import (
    DOCUMENT_HASH_MISMATCH,
    INVALID_DOCUMENT_ID,
    PERSISTED_DOCUMENT_NOT_FOUND,
    UNTRUSTED_DOCUMENT,
    graphql_error,
)
from shared.auth import Principal
from shared.db import Database, tenant_transaction

#: Where the HTTP router puts a request body's top-level ``documentId``.
DOCUMENT_ID_EXTENSION = "documentId"


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The document hash a request names, or None; a malformed one is an error."""
    if not extensions:
        return None
    if DOCUMENT_ID_EXTENSION in extensions:
        raw = extensions[DOCUMENT_ID_EXTENSION]
        where = "`documentId`"
    else:
        persisted = extensions.get("persistedQuery")
        if persisted is None:
            return None
        raw = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        where = "`extensions.persistedQuery.sha256Hash`"
    sha256 = service.parse_document_id(raw)
    if sha256 is None:
        raise graphql_error(
            f"{where} must be a SHA-256 in hex (64 characters), optionally prefixed `sha256:`.",
            INVALID_DOCUMENT_ID,
        )
    return sha256


class TrustedDocuments(SchemaExtension):
    """Runs first: puts a registered document's text in place before anything parses it."""

    def __init__(self, *, trusted_only: bool) -> None:
        self.trusted_only = trusted_only

    async def on_operation(self) -> AsyncIterator[None]:
        await self._resolve()
        yield

    async def _registered(self, sha256: str) -> str | None:
        context = self.execution_context.context
        principal = getattr(context, "principal", None)
        db = getattr(context, "db", None)
        if db is None:  # a context without the database (WebSocket): the app's own
            request = getattr(context, "request", None)
            service_context = getattr(getattr(request, "app", None), "state", None)
            db = getattr(getattr(service_context, "ctx", None), "db", None)
        if not isinstance(db, Database) or not isinstance(principal, Principal):
            return None  # no caller (e.g. a schema executed outside HTTP): nothing registered
        async with tenant_transaction(db, principal.org_id) as session:
            return await service.find_document_text(session, sha256)

    async def _resolve(self) -> None:
        context = self.execution_context
        sha256 = requested_hash(context.operation_extensions)
        query = context.query
        if sha256 is None:
            if self.trusted_only and query:
                sha256 = service.document_hash(query)
                if await self._registered(sha256) is None:
                    raise graphql_error(
                        "This gateway accepts only trusted documents: register the document "
                        "(POST /v1/graphql-documents) and send its `documentId`. Its hash is "
                        f"sha256:{sha256}.",
                        UNTRUSTED_DOCUMENT,
                        documentId=f"sha256:{sha256}",
                    )
            return
        if query:
            actual = service.document_hash(query)
            if actual != sha256:
                raise graphql_error(
                    f"The document's SHA-256 is {actual}, not the {sha256} the request names.",
                    DOCUMENT_HASH_MISMATCH,
                )
            if self.trusted_only and await self._registered(sha256) is None:
                raise graphql_error(
                    f"No trusted document with hash sha256:{sha256} is registered for your "
                    "organisation, and this gateway accepts only trusted documents.",
                    UNTRUSTED_DOCUMENT,
                    documentId=f"sha256:{sha256}",
                )
            return
        text = await self._registered(sha256)
        if text is None:
            raise graphql_error(
                f"No trusted document with hash sha256:{sha256} is registered for your "
                "organisation; register it with POST /v1/graphql-documents.",
                PERSISTED_DOCUMENT_NOT_FOUND,
                documentId=f"sha256:{sha256}",
            )
        context.query = text
