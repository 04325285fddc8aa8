"""Custom scalars, registered through ``StrawberryConfig.scalar_map``."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

# Byte totals pass 2^31 (GraphQL's Int) with a few large model files; JSON numbers are exact to
# 2^53, which no evidence total reaches.
BigInt = NewType("BigInt", int)

SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=int,
        description="A whole number that may exceed 32 bits (exact up to 2^53).",
    ),
}
