"""Protection of the GraphQL endpoint: limits, cost, trusted documents, strict HTTP parsing.

:func:`protection_extensions` gives the schema extensions in the order they must run: the
trusted-document lookup first (it may supply the text), then the token, depth and alias limits
(parsing and validation; each distinct document is parsed and validated once, see
``cache.py``), then the cost limit and the idempotency-key check (before execution).
The REST routes registering trusted documents are in ``api.py``; the HTTP router in
``router.py``. See docs/architecture.md, "GraphQL protection".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.extensions.max_aliases import create_validator

from gateway.protection.cache import DocumentCache, ParsedDocuments
from gateway.protection.documents import TrustedDocuments
from gateway.protection.limits import OperationLimits, depth_rule

if TYPE_CHECKING:
    from gateway.config import GatewaySettings

__all__ = ["protection_extensions"]


def protection_extensions(settings: GatewaySettings) -> list[Callable[[], SchemaExtension]]:
    """Factories (each operation gets extensions of its own) of the limits of ``settings``."""
    depth = depth_rule(settings.graphql_max_depth, settings.graphql_max_introspection_depth)
    # Strawberry's MaxAliasesLimiter builds its rule class anew per operation, which no cache
    # could key on; the same rule, built once (the depth rule first, as before).
    aliases = create_validator(settings.graphql_max_aliases)
    return [
        functools.partial(TrustedDocuments, trusted_only=settings.graphql_trusted_documents_only),
        functools.partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        functools.partial(AddValidationRules, [depth, aliases]),
        functools.partial(DocumentCache, documents=ParsedDocuments()),
        functools.partial(
            OperationLimits,
            max_cost=settings.graphql_max_cost,
            default_list_size=settings.graphql_default_list_size,
        ),
    ]
