"""Request and response bodies of ``/v1/graphql-documents``."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

SHA256_HEX = r"^[0-9a-f]{64}$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


class GraphQLDocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: str = Field(
        min_length=1,
        max_length=100_000,
        description="The GraphQL document, exactly as the client will send it or its hash.",
    )
    name: str = Field(
        default="",
        max_length=200,
        description="A label for people, e.g. the client and its build (`dashboard@2.4.1`).",
    )
    sha256: str | None = Field(
        default=None,
        pattern=SHA256_HEX,
        description="The hash the client computed (lower-case hex); refused when it differs.",
    )

    _check_document = field_validator("document", "name")(_no_nul)


class GraphQLDocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sha256: str = Field(description="Lower-case hex SHA-256 of the UTF-8 document.")
    document_id: str = Field(description="`sha256:<hash>`: the request body's `documentId`.")
    name: str
    operation_names: list[str]
    document: str
    created_by: str
    created_at: datetime


class GraphQLDocumentPage(BaseModel):
    items: list[GraphQLDocumentRead]
    next_cursor: str | None = None
