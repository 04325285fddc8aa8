"""Trusted (persisted) GraphQL documents: register, list, read, delete, and look up by hash.

Documents belong to one organisation (row-level security), like every other row: an admin of
one organisation can neither see nor delete another's, and what one registers never widens
what another's production accepts. Registration is content-addressed and idempotent. These
functions flush and never commit: the request owns the transaction.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.protection.errors import DocumentNotFound, InvalidDocument
from gateway.protection.models import GraphQLDocument
from gateway.protection.repository import DocumentRepository
from gateway.protection.schemas import GraphQLDocumentCreate, GraphQLDocumentRead
from shared.audit import PREVIOUS_STATE, append_audit
from shared.auth import Principal
from shared.db import utcnow, uuid7

_DOCUMENT_ID = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")


def document_hash(document: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 document (Apollo's ``sha256Hash``)."""
    return hashlib.sha256(document.encode()).hexdigest()


def parse_document_id(value: object) -> str | None:
    """The hash in a ``documentId`` (``sha256:<hex>`` or bare hex), or None if malformed."""
    if not isinstance(value, str):
        return None
    match = _DOCUMENT_ID.match(value)
    return match.group(1).lower() if match else None


def _read(document: GraphQLDocument) -> GraphQLDocumentRead:
    return GraphQLDocumentRead(
        id=document.id,
        sha256=document.sha256,
        document_id=f"sha256:{document.sha256}",
        name=document.name,
        operation_names=list(document.operation_names),
        document=document.document,
        created_by=document.created_by,
        created_at=document.created_at,
    )


def _problems(errors: Sequence[GraphQLError]) -> list[dict[str, object]]:
    return [
        {
            "location": ["body", "document"],
            "message": error.message,
            "type": "graphql",
            "positions": [
                {"line": loc.line, "column": loc.column} for loc in error.locations or ()
            ],
        }
        for error in errors
    ]


def _operation_names(schema: GraphQLSchema, text: str, max_tokens: int) -> list[str]:
    """Parse and validate ``text`` against ``schema``; the names of its operations."""
    try:
        ast = parse(text, max_tokens=max_tokens)
    except GraphQLError as error:
        raise InvalidDocument("The document does not parse.", errors=_problems([error])) from error
    if errors := validate(schema, ast):
        raise InvalidDocument(
            "The document is not valid against the schema.", errors=_problems(errors)
        )
    return [
        d.name.value
        for d in ast.definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]


async def register_document(
    session: AsyncSession,
    principal: Principal,
    body: GraphQLDocumentCreate,
    *,
    schema: GraphQLSchema,
    max_tokens: int,
) -> tuple[GraphQLDocumentRead, bool]:
    """Register ``body.document`` for the caller's organisation: ``(document, created)``."""
    sha256 = document_hash(body.document)
    if body.sha256 is not None and body.sha256 != sha256:
        raise InvalidDocument(
            f"The document's SHA-256 is {sha256}, not the {body.sha256} given.",
            errors=[{"location": ["body", "sha256"], "message": "hash mismatch", "type": "hash"}],
        )
    names = _operation_names(schema, body.document, max_tokens)
    stored, created = await DocumentRepository(session).add(
        GraphQLDocument(
            id=uuid7(),
            org_id=principal.org_id,
            sha256=sha256,
            document=body.document,
            name=body.name,
            operation_names=names,
            created_by=principal.subject,
            created_at=utcnow(),
        )
    )
    read = _read(stored)
    if created:
        await append_audit(
            session,
            org_id=principal.org_id,
            action="aims.gateway.graphql_document.registered",
            entity_type="graphql_document",
            entity_id=stored.id,
            before=None,
            after=read.model_dump(mode="json", exclude={"document"}),
        )
    return read, created


async def list_documents(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None
) -> tuple[list[GraphQLDocumentRead], int]:
    """One page (``limit`` items) and how many rows were fetched (one more means a next page)."""
    rows = await DocumentRepository(session).list(limit=limit + 1, after=after)
    return [_read(row) for row in rows[:limit]], len(rows)


async def get_document(session: AsyncSession, sha256: str) -> GraphQLDocumentRead:
    row = await DocumentRepository(session).by_hash(sha256)
    if row is None:
        raise DocumentNotFound(f"No trusted document with hash {sha256} is registered.")
    return _read(row)


async def delete_document(session: AsyncSession, principal: Principal, sha256: str) -> None:
    repository = DocumentRepository(session)
    row = await repository.by_hash(sha256)
    if row is None:
        raise DocumentNotFound(f"No trusted document with hash {sha256} is registered.")
    document_id = row.id
    await repository.delete(row)
    await append_audit(
        session,
        org_id=principal.org_id,
        action="aims.gateway.graphql_document.deleted",
        entity_type="graphql_document",
        entity_id=document_id,
        before=PREVIOUS_STATE,
        after=None,
    )


async def find_document_text(session: AsyncSession, sha256: str) -> str | None:
    """The registered text of ``sha256`` in the session's organisation, if any."""
    return await DocumentRepository(session).text_by_hash(sha256)
