"""Every query on trusted GraphQL documents; the session's organisation scopes them (RLS)."""

from __future__ import annotations

import builtins
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.protection.models import GraphQLDocument


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, sha256: str) -> GraphQLDocument | None:
        query = sa.select(GraphQLDocument).where(GraphQLDocument.sha256 == sha256)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def text_by_hash(self, sha256: str) -> str | None:
        query = sa.select(GraphQLDocument.document).where(GraphQLDocument.sha256 == sha256)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list(self, *, limit: int, after: uuid.UUID | None) -> builtins.list[GraphQLDocument]:
        query = sa.select(GraphQLDocument).order_by(GraphQLDocument.id).limit(limit)
        if after is not None:
            query = query.where(GraphQLDocument.id > after)
        return list((await self.session.execute(query)).scalars())

    async def add(self, document: GraphQLDocument) -> tuple[GraphQLDocument, bool]:
        """Insert ``document`` unless its hash is registered already: ``(stored row, created)``.

        Registration is content-addressed, so two admins registering the same text at once
        both get the one row (``ON CONFLICT DO NOTHING``, then read), never a 500.
        """
        values = {c.key: getattr(document, c.key) for c in GraphQLDocument.__table__.columns}
        inserted = await self.session.execute(
            pg_insert(GraphQLDocument)
            .values(**values)
            .on_conflict_do_nothing(constraint="uq_graphql_document_org_sha256")
            .returning(GraphQLDocument.id)
        )
        created = inserted.scalar_one_or_none() is not None
        stored = await self.by_hash(document.sha256)
        assert stored is not None
        return stored, created

    async def delete(self, document: GraphQLDocument) -> None:
        await self.session.delete(document)
        await self.session.flush()
