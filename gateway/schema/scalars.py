"""Custom scalars."""

from __future__ import annotations

from typing import NewType

import strawberry

# Byte totals pass 2^31 (GraphQL's Int) with a few large model files; JSON numbers are exact to
# 2^53, which no evidence total reaches.
BigInt = strawberry.scalar(
    NewType("BigInt", int),
    serialize=int,
    parse_value=int,
    description="A whole number that may exceed 32 bits (exact up to 2^53).",
)
