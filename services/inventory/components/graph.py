"""The dependency graph: what a system depends on, and what depends on a component or vendor.

Edges are the explicit ``dependency`` rows plus two implicit kinds (system → its components via
``component.system_id``; component → its vendor via ``component.vendor_id``). One recursive query
collects every edge reachable from the start node — the ``UNION`` discards edges already seen,
so cycles end the walk instead of looping — and a breadth-first search over those edges, in
memory, gives each reachable node its shortest path. The work is bounded by the number of
reachable edges, not by the number of paths (which can be exponential).
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

Node = tuple[str, uuid.UUID]


@dataclass(frozen=True)
class PathNode:
    """One node of a dependency path; ``type`` is ``system``, ``component`` or ``vendor``."""

    type: str
    id: uuid.UUID
    name: str


# Every edge leaving the nodes reached so far. Each branch of the LATERAL only runs for the node
# types it can start from, and every lookup is an index scan.
_FORWARD = sa.text(
    """
WITH RECURSIVE walk(from_type, from_id, to_type, to_id) AS (
    SELECT :start_type, CAST(:start_id AS uuid), :start_type, CAST(:start_id AS uuid)
  UNION
    SELECT e.from_type, e.from_id, e.to_type, e.to_id
    FROM walk w
    CROSS JOIN LATERAL (
        SELECT d.from_type, d.from_id, d.to_type, d.to_id
        FROM dependency d
        WHERE d.from_type = w.to_type AND d.from_id = w.to_id
      UNION ALL
        SELECT 'system', c.system_id, 'component', c.id
        FROM component c
        WHERE w.to_type = 'system' AND c.system_id = w.to_id
      UNION ALL
        SELECT 'component', c.id, 'vendor', c.vendor_id
        FROM component c
        WHERE w.to_type = 'component' AND c.id = w.to_id AND c.vendor_id IS NOT NULL
    ) e
)
SELECT from_type, from_id, to_type, to_id FROM walk
"""
)

# Every edge arriving at the nodes reached so far (the same edges, walked backwards).
_REVERSE = sa.text(
    """
WITH RECURSIVE walk(from_type, from_id, to_type, to_id) AS (
    SELECT :start_type, CAST(:start_id AS uuid), :start_type, CAST(:start_id AS uuid)
  UNION
    SELECT e.from_type, e.from_id, e.to_type, e.to_id
    FROM walk w
    CROSS JOIN LATERAL (
        SELECT d.from_type, d.from_id, d.to_type, d.to_id
        FROM dependency d
        WHERE d.to_type = w.from_type AND d.to_id = w.from_id
      UNION ALL
        SELECT 'system', c.system_id, 'component', c.id
        FROM component c
        WHERE w.from_type = 'component' AND c.id = w.from_id AND c.system_id IS NOT NULL
      UNION ALL
        SELECT 'component', c.id, 'vendor', c.vendor_id
        FROM component c
        WHERE w.from_type = 'vendor' AND c.vendor_id = w.from_id
    ) e
)
SELECT from_type, from_id, to_type, to_id FROM walk
"""
)


async def _edges(
    session: AsyncSession, query: sa.TextClause, start: Node
) -> list[tuple[Node, Node]]:
    rows = await session.execute(query, {"start_type": start[0], "start_id": start[1]})
    return [
        ((r.from_type, r.from_id), (r.to_type, r.to_id))
        for r in rows
        if (r.from_type, r.from_id) != (r.to_type, r.to_id)
    ]


def shortest_paths(start: Node, edges: Iterable[tuple[Node, Node]]) -> list[list[Node]]:
    """Breadth-first: one shortest path from ``start`` to every node reachable over ``edges``.

    Neighbours are visited in a stable order (type, then id), so the answer is deterministic.
    A node's path is its parent's path plus itself (parents come first in breadth-first order),
    so building every path costs list copies, not a walk back per node.
    """
    adjacency: dict[Node, list[Node]] = {}
    for source, target in edges:
        adjacency.setdefault(source, []).append(target)
    for targets in adjacency.values():
        targets.sort(key=lambda n: (n[0], n[1].int))
    path_of: dict[Node, list[Node]] = {start: [start]}
    paths: list[list[Node]] = []
    queue: deque[Node] = deque([start])
    while queue:
        node = queue.popleft()
        base = path_of[node]
        for nxt in adjacency.get(node, ()):
            if nxt not in path_of:
                path = [*base, nxt]
                path_of[nxt] = path
                paths.append(path)
                queue.append(nxt)
    return paths


_NAME_TABLES = {"system": "ai_system", "component": "component", "vendor": "vendor"}


async def node_names(session: AsyncSession, nodes: Iterable[Node]) -> dict[Node, str]:
    """The names of ``nodes`` (those of another org, or missing, are left out: RLS)."""
    by_type: dict[str, list[uuid.UUID]] = {}
    for node_type, node_id in nodes:
        by_type.setdefault(node_type, []).append(node_id)
    names: dict[Node, str] = {}
    for node_type, ids in by_type.items():
        table = sa.table(_NAME_TABLES[node_type], sa.column("id"), sa.column("name"))
        rows = await session.execute(sa.select(table.c.id, table.c.name).where(table.c.id.in_(ids)))
        names.update({(node_type, row.id): row.name for row in rows})
    return names


async def _paths(
    session: AsyncSession, query: sa.TextClause, start: Node, *, backwards: bool = False
) -> list[list[PathNode]]:
    edges = await _edges(session, query, start)
    if backwards:
        edges = [(target, source) for source, target in edges]
    raw = shortest_paths(start, edges)
    reached = {start, *(p[-1] for p in raw)}
    names = await node_names(session, reached)
    as_path_node = {n: PathNode(type=n[0], id=n[1], name=names.get(n, "")) for n in reached}
    return [[as_path_node[n] for n in p] for p in raw]


async def transitive_dependencies(
    session: AsyncSession, system_id: uuid.UUID
) -> list[list[PathNode]]:
    """Every node ``system_id`` depends on, transitively, each with its shortest path.

    Each path starts at the system and ends at the dependency; one path per reachable node, in
    breadth-first order (nearest first). Cycles are safe; the system itself is never listed.
    An unknown system (or one of another organisation) has no dependencies.
    """
    return await _paths(session, _FORWARD, ("system", system_id))


async def direct_dependencies(session: AsyncSession, system_id: uuid.UUID) -> list[list[PathNode]]:
    """Only the nodes ``system_id`` depends on directly (paths of two nodes)."""
    return [p for p in await transitive_dependencies(session, system_id) if len(p) == 2]


async def transitive_dependents(
    session: AsyncSession, node_type: str, node_id: uuid.UUID
) -> list[list[PathNode]]:
    """Everything that depends on the node, transitively, each with its shortest path.

    Each path starts at the node and ends at a dependent (read it backwards for the direction
    of the dependency).
    """
    return await _paths(session, _REVERSE, (node_type, node_id), backwards=True)
