"""REST routes of trusted GraphQL documents (``/v1/graphql-documents``).

Registering and deleting need ``admin``; every role of the organisation may read. A document is
addressed by its SHA-256 (``<hex>`` or ``sha256:<hex>``); another organisation's answer 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response, status
from graphql import GraphQLSchema

from gateway.protection import service
from gateway.protection.errors import DocumentNotFound
from gateway.protection.schemas import (
    GraphQLDocumentCreate,
    GraphQLDocumentPage,
    GraphQLDocumentRead,
)
from shared.auth import ADMINS, READERS, Principal, require_roles
from shared.http import Paging, PrefilteredRouter, TenantSession, cursor_after_id, next_cursor

router = PrefilteredRouter(prefix="/v1", tags=["graphql-documents"])
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Admin = Annotated[Principal, Depends(require_roles(ADMINS))]
DocumentId = Annotated[
    str,
    Path(
        pattern=r"^(sha256:)?[0-9a-fA-F]{64}$",
        description="The document's SHA-256, as `<hex>` or `sha256:<hex>`",
    ),
]

PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}

#: Where ``create_app`` keeps the executable GraphQL schema documents are validated against.
SCHEMA_STATE = "graphql_schema"


def _hash(document_id: str) -> str:
    sha256 = service.parse_document_id(document_id)
    if sha256 is None:  # the path pattern already refused it; kept for type narrowing
        raise DocumentNotFound()
    return sha256


@router.post(
    "/graphql-documents",
    response_model=GraphQLDocumentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Register a trusted GraphQL document (201; 200 when already registered)",
    responses={200: {"model": GraphQLDocumentRead}, 403: PROBLEM, 422: PROBLEM},
)
async def register_document(
    body: GraphQLDocumentCreate,
    request: Request,
    response: Response,
    principal: Admin,
    session: TenantSession,
) -> GraphQLDocumentRead:
    """The document must parse and validate against the current schema. Clients then send
    `{"documentId": "sha256:<hash>"}` or Apollo's
    `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hash>"}}}` instead of the
    text. Registering the same text again changes nothing and answers 200."""
    schema: GraphQLSchema = getattr(request.app.state, SCHEMA_STATE)
    settings = request.app.state.ctx.settings
    read, created = await service.register_document(
        session,
        principal,
        body,
        schema=schema,
        max_tokens=int(getattr(settings, "graphql_max_tokens", 2000)),
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/graphql-documents/{read.sha256}"
    return read


@router.get(
    "/graphql-documents",
    response_model=GraphQLDocumentPage,
    summary="List the organisation's trusted GraphQL documents",
)
async def list_documents(
    principal: Reader, session: TenantSession, paging: Paging
) -> GraphQLDocumentPage:
    items, fetched = await service.list_documents(
        session, limit=paging.limit, after=cursor_after_id(paging)
    )
    return GraphQLDocumentPage(items=items, next_cursor=next_cursor(items, range(fetched), paging))


@router.get(
    "/graphql-documents/{document_id}",
    response_model=GraphQLDocumentRead,
    summary="Read one trusted GraphQL document by its hash",
    responses={404: PROBLEM},
)
async def get_document(
    document_id: DocumentId, principal: Reader, session: TenantSession
) -> GraphQLDocumentRead:
    return await service.get_document(session, _hash(document_id))


@router.delete(
    "/graphql-documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw a trusted GraphQL document (clients calling its hash then get an error)",
    responses={403: PROBLEM, 404: PROBLEM},
)
async def delete_document(
    document_id: DocumentId, principal: Admin, session: TenantSession
) -> Response:
    await service.delete_document(session, principal, _hash(document_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
