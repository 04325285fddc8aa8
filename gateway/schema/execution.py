"""How the gateway executes an operation: graphql-core's executor, plain leaf fields short-cut.

Most fields of a page are *plain leaves*: a scalar or enum that Strawberry reads as an
attribute of the object (``Risk.title``, ``PageInfo.endCursor``); a page of 100 risks has
~1,200 of them. graphql-core executes each as any other field: a response path, the
resolver's info (a 15-field tuple), middleware and argument look-ups, Strawberry's attribute
resolver (three calls deep), two awaitable checks and ``complete_value`` through the non-null
wrapper down to the leaf: about 3 µs a field, most of the gateway's own time on such a page.

:class:`GatewayExecutor` completes a plain leaf in place: the same attribute read as
Strawberry's basic resolver (``getattr(source, python_name)``), the same leaf coercion
(``complete_leaf_value``), the same error for a null in a non-null field, reported through the
same ``handle_field_error`` at the same path, which is built only then. Where the coercion's
answer is known without calling it (a ``str`` for String or ID, a ``bool`` for Boolean, an
``int`` in range for Int, ``None`` in a nullable field, a member of a Strawberry enum), the value
is answered directly, as the coercion would answer it. Every other field takes
graphql-core's path unchanged, and so does every field when a schema extension wraps resolvers
(middleware). A plain attribute holding an awaitable is awaited and completed by graphql-core.

Which fields are plain leaves is decided once, when the schema is built
(:func:`mark_plain_leaves`), from Strawberry's own notion of a basic field (no resolver, no
field extensions, no exception handler) and the field's GraphQL type.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
    version_info,
)
from graphql.pyutils import Path, Undefined
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.field import StrawberryField

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
    from graphql.pyutils import AwaitableOrValue

__all__ = ["EXECUTOR_MATCHES", "PLAIN_LEAF", "GatewayExecutor", "mark_plain_leaves"]

#: Key in a ``GraphQLField``'s ``extensions`` marking a plain leaf (a :data:`PlainLeaf`).
PLAIN_LEAF = "aims-plain-leaf"


class PlainLeaf(NamedTuple):
    """What completing a plain leaf needs, worked out when the schema is built."""

    attribute: str  # what Strawberry's basic resolver reads
    leaf_type: GraphQLLeafType
    non_null: bool
    return_type: GraphQLOutputType  # the field's type, as graphql-core reports errors with it
    unchanged: frozenset[type]  # exact types the leaf's coercion answers as they are
    int32: bool  # the built-in Int: an ``int`` in its range is answered as it is
    enum_class: type | None  # a Strawberry enum's Python class, and the name of each member
    enum_names: dict[Any, str] | None


_Plan: TypeAlias = list[tuple[str, "FieldDetailsList", PlainLeaf | None]]

_MIN_INT, _MAX_INT = GRAPHQL_MIN_INT, GRAPHQL_MAX_INT


def _executor_matches() -> bool:
    """Whether graphql-core's executor is the one :meth:`GatewayExecutor.execute_fields` follows
    (constraints.txt pins it; tests/gateway/test_execution.py compares the two). Any other
    version executes every field the stock way."""
    base = StrawberryGraphQLCoreExecutionContext
    try:
        parameters = list(inspect.signature(base.execute_fields).parameters)
    except (TypeError, ValueError):
        return False
    return (
        version_info[:2] == (3, 3)
        and parameters
        == ["self", "parent_type", "source_value", "path", "grouped_field_set", "position_context"]
        and all(
            callable(getattr(base, name, None))
            for name in (
                "build_resolve_info",
                "complete_awaitable_value",
                "complete_leaf_value",
                "execute_field",
                "handle_field_error",
                "settle_in_background",
            )
        )
    )


#: False on a graphql-core this module was not written against: no short cut at all.
EXECUTOR_MATCHES = _executor_matches()
# What a completed leaf usually is: no awaitable check needed.
_NEVER_AWAITABLE = frozenset({str, int, float, bool, type(None)})


def mark_plain_leaves(schema: GraphQLSchema) -> int:
    """Mark the plain leaf fields of ``schema`` (see the module docstring); how many there are.

    A field is plain when Strawberry resolves it with its basic resolver (no resolver of its
    own, no field extensions, no exception handler: it reads the attribute with the default
    resolver, ``getattr``), it takes no arguments, and its type is a scalar or enum, optionally
    non-null. Lists are not plain (their items are completed one by one, with paths of their
    own).
    """
    marked = 0
    for named in schema.type_map.values():
        if not is_object_type(named) or named.name.startswith("__"):
            continue
        assert isinstance(named, GraphQLObjectType)
        for field in named.fields.values():
            definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if (
                not isinstance(definition, StrawberryField)
                or not definition.is_basic_field
                or definition.default_resolver is not getattr
                # Strawberry's basic resolver, the one that reads the attribute and nothing else
                # (a field with an exception handler gets another).
                or not getattr(field.resolve, "__qualname__", "").endswith("._get_basic_result")
                or field.args
                or not definition.python_name
            ):
                continue
            non_null = is_non_null_type(field.type)
            inner = field.type.of_type if non_null else field.type
            if is_leaf_type(inner):
                unchanged, enum_class, enum_names = _known_outputs(inner)
                field.extensions[PLAIN_LEAF] = PlainLeaf(
                    attribute=definition.python_name,
                    leaf_type=inner,
                    non_null=non_null,
                    return_type=field.type,
                    unchanged=unchanged,
                    int32=inner is GraphQLInt,
                    enum_class=enum_class,
                    enum_names=enum_names,
                )
                marked += 1
    return marked


def _known_outputs(
    leaf_type: GraphQLLeafType,
) -> tuple[frozenset[type], type | None, dict[Any, str] | None]:
    """Values whose coercion is known without calling it: the exact types a built-in scalar
    answers unchanged (``serialize_string`` returns a ``str`` as it is, ``serialize_boolean`` a
    ``bool``), and for a Strawberry enum the name its ``coerce_output_value`` answers for each
    member (the first name whose value equals the member's)."""
    if leaf_type is GraphQLString or leaf_type is GraphQLID:
        return frozenset({str}), None, None
    if leaf_type is GraphQLBoolean:
        return frozenset({bool}), None, None
    if isinstance(leaf_type, CustomGraphQLEnumType):
        names: dict[Any, str] = {}
        member: Any
        for member in leaf_type.wrapped_cls:
            for name, value in leaf_type.values.items():
                if member.value == value.value:
                    names[member] = name
                    break
        return frozenset(), leaf_type.wrapped_cls, names
    return frozenset(), None, None


class GatewayExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, completing plain leaf fields without graphql-core's per-field
    machinery (same values, same errors; see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # A schema extension implementing ``resolve`` wraps every field: then no short cut.
        self._plain_leaves = EXECUTOR_MATCHES and not (manager is not None and manager.middlewares)
        # Per grouped field set (graphql-core memoizes them per type and selection, so the 100
        # risks of a page share one): its fields, the plain leaves among them marked. Keyed by
        # identity, the set kept alive beside its plan so that its id cannot be reused.
        self._plans: dict[int, tuple[GroupedFieldSet, GraphQLObjectType, _Plan]] = {}

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Plan:
        found = self._plans.get(id(grouped_field_set))
        if found is not None and found[0] is grouped_field_set and found[1] is parent_type:
            return found[2]
        plan: _Plan = []
        for response_name, field_details_list in grouped_field_set.items():
            field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            leaf = field_def.extensions.get(PLAIN_LEAF) if field_def is not None else None
            plan.append((response_name, field_details_list, leaf))
        self._plans[id(grouped_field_set)] = (grouped_field_set, parent_type, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's ``execute_fields`` (same structure, same error handling), with
        plain leaves read and completed in place."""
        if not self._plain_leaves:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, leaf in self._plan(
                parent_type, grouped_field_set
            ):
                if leaf is not None:
                    try:
                        value = getattr(source_value, leaf.attribute)
                    except Exception as raw_error:
                        self._leaf_error(
                            raw_error, leaf, parent_type, field_details_list, path, response_name
                        )
                        results[response_name] = None
                        continue
                    value_type = type(value)
                    if value_type in leaf.unchanged or (value is None and not leaf.non_null):
                        results[response_name] = value
                        continue
                    if leaf.int32 and value_type is int and _MIN_INT <= value <= _MAX_INT:
                        results[response_name] = value  # what ``serialize_int`` answers
                        continue
                    if value_type is leaf.enum_class and value in leaf.enum_names:  # type: ignore[operator]
                        results[response_name] = leaf.enum_names[value]  # type: ignore[index]
                        continue
                    result = self._complete_plain_leaf(
                        leaf,
                        parent_type,
                        value,
                        field_details_list,
                        path,
                        response_name,
                        position_context,
                    )
                    results[response_name] = result
                    if type(result) not in _NEVER_AWAITABLE and is_awaitable(result):
                        awaitable_fields.append(response_name)
                    continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                # Settle the awaitables of the other fields, which may also fail.
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise

        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited_results = await gather_with_cancel(
                    *(results[field] for field in awaitable_fields)
                )
                results.update(zip(awaitable_fields, awaited_results, strict=True))
            return results

        return get_results()

    def _complete_plain_leaf(
        self,
        leaf: PlainLeaf,
        parent_type: GraphQLObjectType,
        result: Any,
        field_details_list: FieldDetailsList,
        parent_path: Path | None,
        response_name: str,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        """What graphql-core's ``execute_field`` answers for a plain leaf whose resolver
        answered ``result``."""
        try:
            if type(result) not in _NEVER_AWAITABLE and self.is_awaitable(result):
                path = Path(parent_path, response_name, parent_type.name)
                field_def = self.schema.get_field(
                    parent_type, field_details_list[0].node.name.value
                )
                info = self.build_resolve_info(
                    field_def,  # type: ignore[arg-type]
                    [details.node for details in field_details_list],
                    parent_type,
                    path,
                )
                return self.complete_awaitable_value(
                    leaf.return_type, field_details_list, info, path, result, position_context
                )
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                if leaf.non_null:
                    raise TypeError(
                        "Cannot return null for non-nullable field"
                        f" {parent_type.name}.{field_details_list[0].node.name.value}."
                    )
                return None
            return self.complete_leaf_value(leaf.leaf_type, result)
        except Exception as raw_error:
            self._leaf_error(
                raw_error, leaf, parent_type, field_details_list, parent_path, response_name
            )
            return None

    def _leaf_error(
        self,
        raw_error: Exception,
        leaf: PlainLeaf,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        parent_path: Path | None,
        response_name: str,
    ) -> None:
        """Report ``raw_error`` as graphql-core does for the field (its path built only now);
        the caller answers null for the field."""
        self.handle_field_error(
            raw_error,
            leaf.return_type,
            field_details_list,
            Path(parent_path, response_name, parent_type.name),
        )
