"""Static limits on a GraphQL operation, checked before anything is resolved.

* **Depth** — fields nested in an operation, fragments expanded. Introspection (``__schema``,
  ``__type``) is counted too, against its own bound: Strawberry's ``QueryDepthLimiter`` skips it,
  so ``__type { ofType { ofType … } }`` went unchecked.
* **Cost** — every object field counts once per object it is resolved for; a list multiplies
  what is below it by its ``first``/``last`` argument (literal, variable or the argument's
  default), or by the default list size when it takes neither. The lists of a connection
  (``edges``, ``nodes``) are already counted by the connection's ``first``. Leaves cost nothing;
  ``__schema`` costs the size of the schema, ``__type`` 1.
* **Idempotency keys** — an ``idempotencyKey`` travels to the services as the HTTP header
  ``Idempotency-Key``: 1 to 255 printable ASCII characters, or the operation is refused.
* **JSON depth** — of a request body or a JSON query parameter (see ``router.py``).

Tokens and aliases are Strawberry's own limiters (``MaxTokensLimiter``, ``MaxAliasesLimiter``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    IntValueNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValidationRule,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_leaf_type,
    type_from_ast,
    visit,
)
from strawberry.extensions import SchemaExtension

from gateway.loaders.selection import selected_fields
from gateway.protection.errors import (
    COST_LIMIT,
    DEPTH_LIMIT,
    INVALID_IDEMPOTENCY_KEY,
    graphql_error,
)

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
IDEMPOTENCY_KEY_FIELD = "idempotencyKey"
# Visible ASCII at both ends, printable ASCII (spaces included) between: what an HTTP header
# value can carry unchanged.
_HEADER_SAFE = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$")

# --- Depth ------------------------------------------------------------------------------------


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _root_fields(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The fields at the root of an operation, through fragments (each fragment once)."""
    return selected_fields([selection_set], fragments)


class _DepthMeter:
    """Depth of selection sets, each fragment measured once (no exponential fan-out)."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, int] = {}
        self.active: set[str] = set()

    def depth(self, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                deepest = max(deepest, 1 + self.depth(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.depth(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, self._fragment(selection.name.value))
        return deepest

    def _fragment(self, name: str) -> int:
        if name in self.memo:
            return self.memo[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:  # unknown or cyclic: other rules report
            return 0
        self.active.add(name)
        self.memo[name] = self.depth(fragment.selection_set)
        self.active.discard(name)
        return self.memo[name]


def depth_rule(max_depth: int, max_introspection_depth: int) -> type[ValidationRule]:
    """A validation rule refusing operations nested deeper than the limits."""

    class OperationDepth(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            meter = _DepthMeter(_fragments(self.context.document))
            name = node.name.value if node.name else "anonymous"
            for field in _root_fields(node.selection_set, meter.fragments):
                introspection = field.name.value in INTROSPECTION_ROOTS
                limit = max_introspection_depth if introspection else max_depth
                try:
                    depth = 1 + meter.depth(field.selection_set)
                except RecursionError:
                    depth = limit + 1
                if depth > limit:
                    kind = "introspection field" if introspection else "field"
                    self.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {limit}: its {kind} "
                            f"`{field.name.value}` is nested {depth} levels deep.",
                            [field],
                            extensions={"code": DEPTH_LIMIT, "depth": depth, "limit": limit},
                        )
                    )
                    return

    return OperationDepth


# --- Cost -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def schema_size(schema: GraphQLSchema) -> int:
    """Types, fields, arguments, input fields and enum values of ``schema``."""
    size = 0
    for named in schema.type_map.values():
        size += 1
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            size += sum(1 + len(field.args) for field in named.fields.values())
        elif isinstance(named, GraphQLInputObjectType):
            size += len(named.fields)
        elif isinstance(named, GraphQLEnumType):
            size += len(named.values)
    return size


class CostEstimator:
    """The static cost of one operation of a validated document (see the module docstring)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        default_list_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = _fragments(document)
        self.variables = variables or {}
        self.default_list_size = default_list_size
        self.memo: dict[tuple[int, str, bool], int] = {}
        self.active: set[tuple[int, str, bool]] = set()

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return 0 if root is None else self.selection_set(operation.selection_set, root, False)

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, paged: bool
    ) -> int:
        key = (id(selection_set), parent.name, paged)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:  # a fragment cycle: validation reports it
            return 0
        self.active.add(key)
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, paged)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                total += self.selection_set(selection.selection_set, condition or parent, paged)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    condition = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection_set(fragment.selection_set, condition or parent, paged)
        self.active.discard(key)
        self.memo[key] = total
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, paged: bool) -> int:
        # Introspection reads the in-memory schema, never a service, and graphql-core's
        # ``MaxIntrospectionDepthRule`` refuses nested ``fields { type { fields … } } }`` lists,
        # so its lists are not multiplied out: reading the whole schema costs what it returns
        # at most (one per type, field, argument, input field and enum value), one type costs 1.
        if node.name.value == "__schema":
            return schema_size(self.schema)
        if node.name.value == "__type":
            return 1
        definition = self._definition(node.name.value, parent)
        if definition is None or node.selection_set is None:
            return 0  # leaves (and __typename) cost nothing
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        size = self._page_size(node, definition)
        if size is not None:
            return 1 + size * self.selection_set(node.selection_set, named, True)
        if isinstance(get_nullable_type(definition.type), GraphQLList) and not paged:
            size = self.default_list_size
        else:
            size = 1
        return 1 + size * self.selection_set(node.selection_set, named, False)

    def _definition(self, name: str, parent: GraphQLNamedType) -> GraphQLField | None:
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """``first`` or ``last`` of a field that takes one, else None."""
        sizes: list[int] = []
        for name in ("first", "last"):
            argument = definition.args.get(name)
            if argument is None:
                continue
            given = next((a for a in node.arguments or () if a.name.value == name), None)
            value = self._argument_value(given) if given is not None else None
            if value is None and given is None and isinstance(argument.default_value, int):
                value = argument.default_value
            sizes.append(self.default_list_size if value is None else max(value, 0))
        return max(sizes) if sizes else None

    def _argument_value(self, argument: ArgumentNode) -> int | None:
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = self.variables.get(value.name.value)
            return given if isinstance(given, int) and not isinstance(given, bool) else None
        return None


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    default_list_size: int,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    estimator = CostEstimator(schema, document, variables, default_list_size)
    try:
        return estimator.operation(operation)
    except RecursionError:
        return 2**31  # deeper than any depth limit lets through; refuse rather than crash


# --- Idempotency keys -------------------------------------------------------------------------


def _refuse_key(path: list[str]) -> GraphQLError:
    return graphql_error(
        f"`{'.'.join(path)}` must be 1 to 255 printable ASCII characters (letters, digits, "
        "punctuation; no accents or control characters): it is sent to the services as the "
        "HTTP header `Idempotency-Key`.",
        INVALID_IDEMPOTENCY_KEY,
        field=path,
    )


def _check_key(value: object, path: list[str]) -> None:
    if isinstance(value, str) and not _HEADER_SAFE.match(value):
        raise _refuse_key(path)


class _LiteralKeys(Visitor):
    """Finds ``idempotencyKey: "…"`` literals of type String in a document."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info

    def _check(self, node: ObjectFieldNode | ArgumentNode) -> None:
        if node.name.value != IDEMPOTENCY_KEY_FIELD or not isinstance(node.value, StringValueNode):
            return
        input_type = self.type_info.get_input_type()
        if input_type is not None and get_named_type(input_type) is GraphQLString:
            _check_key(node.value.value, [IDEMPOTENCY_KEY_FIELD])

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self._check(node)

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self._check(node)


def _walk_variable(value: object, type_: GraphQLInputType, path: list[str]) -> None:
    nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(nullable, GraphQLList):
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            _walk_variable(item, nullable.of_type, [*path, str(index)])
    elif isinstance(nullable, GraphQLInputObjectType) and isinstance(value, dict):
        for name, field in nullable.fields.items():
            if name not in value:
                continue
            if name == IDEMPOTENCY_KEY_FIELD and get_named_type(field.type) is GraphQLString:
                _check_key(value[name], [*path, name])
            else:
                _walk_variable(value[name], field.type, [*path, name])


def check_idempotency_keys(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> None:
    """Raise a GraphQL error for an ``idempotencyKey`` no HTTP header could carry."""
    # A literal key is an argument or input field named ``idempotencyKey``, and a GraphQL name
    # has no escapes: a document whose text does not contain the name has none, and is not
    # walked (with its type information) on every request. A document without its source
    # text is walked.
    source = document.loc.source.body if document.loc is not None else None
    if source is None or IDEMPOTENCY_KEY_FIELD in source:
        type_info = TypeInfo(schema)
        visit(document, TypeInfoVisitor(type_info, _LiteralKeys(type_info)))
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if variables is None or name not in variables:
            continue
        var_type = type_from_ast(schema, definition.type)
        if var_type is not None:
            _walk_variable(variables[name], var_type, [f"${name}"])  # type: ignore[arg-type]


# --- The extension ----------------------------------------------------------------------------


class OperationLimits(SchemaExtension):
    """Cost limit and idempotency-key check, after validation and before execution."""

    def __init__(self, *, max_cost: int, default_list_size: int) -> None:
        self.max_cost = max_cost
        self.default_list_size = default_list_size

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            schema = context.schema._schema
            operation = get_operation_ast(document, context.operation_name)
            if operation is not None:
                check_idempotency_keys(schema, document, operation, context.variables)
            cost = operation_cost(
                schema,
                document,
                context.operation_name,
                context.variables,
                self.default_list_size,
            )
            if cost > self.max_cost:
                raise graphql_error(
                    f"The operation's estimated cost is {cost}, above the limit of "
                    f"{self.max_cost}: each list multiplies what is below it by its "
                    f"`first`/`last` (or {self.default_list_size}). Ask for smaller pages or "
                    "fewer nested lists.",
                    COST_LIMIT,
                    cost=cost,
                    limit=self.max_cost,
                )
        yield
