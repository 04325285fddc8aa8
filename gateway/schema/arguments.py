"""The one convention for a connection's arguments, and the bridge from the older loose ones.

Every connection takes ``first``, ``after``, an optional ``filter: <Thing>Filter`` holding all
its filters and, where the upstream can order the list, an optional ``sort: <Thing>Sort``
(``docs/architecture.md``, GraphQL gateway). A few connections predate the convention and took
their filters as loose arguments; those stay, deprecated, so no client breaks, and
:func:`merge_filter_argument` folds each into the filter: the filter wins, and giving both with
different values is a validation error naming both.
"""

from __future__ import annotations

from typing import TypeVar

import strawberry

from shared.errors import ValidationFailed

T = TypeVar("T")


def merge_filter_argument(
    from_filter: T | None, deprecated: T | None, *, name: str, deprecated_name: str | None = None
) -> T | None:
    """The value of filter field ``name`` given ``filter.<name>`` and the deprecated argument.

    ``None`` means "not given" on either side. Both given and equal is accepted (a client
    half-way through its migration); both given and different is refused, naming both.
    """
    if deprecated is None:
        return from_filter
    if from_filter is None:
        return deprecated
    if from_filter != deprecated:
        old = deprecated_name or name
        raise ValidationFailed(
            f"`{old}` (deprecated) and `filter.{name}` disagree; give only `filter.{name}`.",
            errors=[
                {"field": [old], "message": "deprecated; use `filter`"},
                {"field": ["filter", name], "message": "differs from the deprecated argument"},
            ],
        )
    return from_filter


# Filters of connections whose loose arguments predate the convention, kept here (rather than in
# their domain modules) so the resolvers' modules change only in their argument lines.


@strawberry.input(name="VendorFilter", description="Which vendors to list.")
class VendorFilter:
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive part of the name."
    )


@strawberry.input(name="ComponentFilter", description="Which components to list.")
class ComponentFilter:
    system_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only the components of this AISystem (ID or register UUID)."
    )


@strawberry.input(
    name="ImpactAssessmentRequirementFilter",
    description="Which AI systems needing an impact assessment to list.",
)
class ImpactAssessmentRequirementFilter:
    missing: bool | None = strawberry.field(
        default=None,
        description="true: only those without an approved, current assessment; false or null: "
        "all of them.",
    )
