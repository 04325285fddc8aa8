"""Which fields of a connection's nodes an operation selects (to prefetch their batches).

A list resolver that knows which per-node fields will be asked for can load their batches
before it returns, so that those fields resolve synchronously (see
:func:`gateway.loaders.base.prefetch`). The answer may include a field a type condition
would exclude (loading it costs one call that was not needed) but never misses a selected
one: ``@skip`` / ``@include`` are honoured, fragments followed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
)

if TYPE_CHECKING:  # the schema imports this module
    from gateway.schema.context import Info


def _included(node: SelectionNode, variables: Mapping[str, Any]) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        argument = next((a for a in directive.arguments or () if a.name.value == "if"), None)
        if argument is None:
            continue
        value: object = None
        if isinstance(argument.value, BooleanValueNode):
            value = argument.value.value
        elif isinstance(argument.value, VariableNode):
            value = variables.get(argument.value.name.value)
        if not isinstance(value, bool):
            continue  # unknown: count the field as selected
        if value is (name == "skip"):
            return False
    return True


def selected_fields(
    selection_sets: Iterable[SelectionSetNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> Iterator[FieldNode]:
    """The fields selected directly in ``selection_sets``, through inline fragments and
    fragment spreads (each fragment once). With ``variables``, ``@skip`` / ``@include`` are
    honoured; without, every field counts (what the query limits measure)."""
    pending = list(selection_sets)
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if variables is not None and not _included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)


def _fields(
    nodes: list[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> Iterator[FieldNode]:
    """The fields selected directly below ``nodes``, through fragments (each fragment once)."""
    return selected_fields(
        [n.selection_set for n in nodes if n.selection_set is not None], fragments, variables
    )


def selected_node_fields(info: Info, candidates: set[str]) -> set[str]:
    """Which of ``candidates`` (GraphQL field names) are selected on ``edges { node { … } }``
    of the connection ``info`` resolves."""
    raw = info._raw_info
    fragments, variables = raw.fragments, info.variable_values or {}
    edges = [
        f for f in _fields(list(raw.field_nodes), fragments, variables) if f.name.value == "edges"
    ]
    nodes = [f for f in _fields(edges, fragments, variables) if f.name.value == "node"]
    return {f.name.value for f in _fields(nodes, fragments, variables)} & candidates


def selected_node_subfields(info: Info, name: str) -> set[str]:
    """The field names selected below every ``name`` field (whatever its alias) on
    ``edges { node { … } }`` of the connection ``info`` resolves."""
    raw = info._raw_info
    fragments, variables = raw.fragments, info.variable_values or {}
    edges = [
        f for f in _fields(list(raw.field_nodes), fragments, variables) if f.name.value == "edges"
    ]
    nodes = [f for f in _fields(edges, fragments, variables) if f.name.value == "node"]
    named = [f for f in _fields(nodes, fragments, variables) if f.name.value == name]
    return {f.name.value for f in _fields(named, fragments, variables)}


def selected_subfields(info: Info) -> set[str]:
    """The field names selected below the field ``info`` resolves (all its merged nodes)."""
    raw = info._raw_info
    return {
        f.name.value
        for f in _fields(list(raw.field_nodes), raw.fragments, info.variable_values or {})
    }
