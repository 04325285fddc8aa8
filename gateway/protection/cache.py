"""Each distinct document is parsed and validated once per process, not on every request.

A dashboard sends the same document again and again; parsing it and running every validation
rule over it took a sixth of the gateway's time per page. :class:`DocumentCache` keeps, per
schema, the parsed document of each query text (with the parse options, i.e. the token limit)
and whether it passed validation under the same rules, in a bounded LRU.

Only documents that parsed and validated cleanly are remembered as valid: an invalid one is
validated again each time (its errors are built afresh, as before). The validation rules
must be the same classes from request to request for the cache to hit, which is why
:func:`gateway.protection.protection_extensions` builds them once. Parsed documents are
immutable (graphql-core's AST nodes are frozen), so requests can share them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator, Mapping
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension


class ParsedDocuments:
    """The LRU shared by the operations of one schema."""

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self.documents: OrderedDict[Hashable, DocumentNode] = OrderedDict()
        self.valid: OrderedDict[Hashable, DocumentNode] = OrderedDict()

    @staticmethod
    def _put(
        store: OrderedDict[Hashable, DocumentNode], key: Hashable, value: DocumentNode, maxsize: int
    ) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > maxsize:
            store.popitem(last=False)

    def document(self, key: Hashable) -> DocumentNode | None:
        found = self.documents.get(key)
        if found is not None:
            self.documents.move_to_end(key)
        return found

    def remember(self, key: Hashable, document: DocumentNode) -> None:
        self._put(self.documents, key, document, self.maxsize)

    def is_valid(self, key: Hashable, document: DocumentNode) -> bool:
        return self.valid.get(key) is document

    def remember_valid(self, key: Hashable, document: DocumentNode) -> None:
        self._put(self.valid, key, document, self.maxsize)


class DocumentCache(SchemaExtension):
    """Serves the parse and the validation of a document seen before (see the module doc)."""

    def __init__(self, *, documents: ParsedDocuments) -> None:
        self.documents = documents

    def _parse_key(self) -> Hashable | None:
        context = self.execution_context
        if not isinstance(context.query, str):
            return None
        options: Mapping[str, Any] = context.parse_options
        return (context.query, tuple(sorted(options.items())))

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        key = self._parse_key() if context.graphql_document is None else None
        if key is not None:
            context.graphql_document = self.documents.document(key)
        cached = context.graphql_document is not None
        yield
        if key is not None and not cached and context.graphql_document is not None:
            self.documents.remember(key, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, parse_key = context.graphql_document, self._parse_key()
        key = None if parse_key is None else (parse_key, tuple(context.validation_rules))
        known = (
            key is not None
            and document is not None
            and context.pre_execution_errors is None
            and self.documents.is_valid(key, document)
        )
        if known:
            context.pre_execution_errors = []  # Strawberry then skips its own validation
        yield
        valid = context.pre_execution_errors == []
        if not known and valid and key is not None and document is not None:
            self.documents.remember_valid(key, document)
