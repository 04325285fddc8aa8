"""The dependency graph: what a system depends on, and what depends on a component or vendor.

Edges are the explicit ``dependency`` rows plus two implicit kinds (system → its components via
``component.system_id``; component → its vendor via ``component.vendor_id``). One recursive query
collects every edge reachable from the start node — the ``UNION`` discards edges already seen,
so cycles end the walk instead of looping — and a breadth-first search over those edges, in
memory, gives each reachable node once with its depth and ``via``, the node it was first
reached from (its parent on a shortest path). Paths are not built by default: a caller asks for
the path to given nodes (:meth:`Reach.path_to`, O(depth) each) or for all of them
(:meth:`Reach.all_paths`). The work is bounded by the number of reachable edges, not by the
number of paths (which can be exponential) nor by the sum of the path lengths (quadratic on a
long chain).

Why the breadth-first search is not in SQL: a recursive CTE can only see the previous
iteration's rows, not everything found so far, so a walk that carries a node's depth or parent
cannot tell "already reached" and would revisit every node once per distinct depth (quadratic
on a long cycle) — the edge walk, which ``UNION`` deduplicates, stays linear.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

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


def breadth_first(start: Node, edges: Iterable[tuple[Node, Node]]) -> list[tuple[Node, Node]]:
    """Breadth-first from ``start`` over ``edges``: each reachable node once, as ``(node, via)``.

    ``via`` is the node it was first reached from, so following ``via`` back to ``start`` gives
    a shortest path. Nearest first; neighbours in a stable order (type, then id), so the answer
    is deterministic. O(edges · log degree): no path is built. ``start`` is never listed, even
    when a cycle leads back to it.
    """
    adjacency: dict[Node, list[Node]] = {}
    for source, target in edges:
        adjacency.setdefault(source, []).append(target)
    for targets in adjacency.values():
        targets.sort(key=lambda n: (n[0], n[1].int))
    seen: set[Node] = {start}
    order: list[tuple[Node, Node]] = []
    queue: deque[Node] = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in adjacency.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                order.append((nxt, node))
                queue.append(nxt)
    return order


@dataclass(frozen=True)
class Reached:
    """A node reached from the start: how far, and the node it was first reached from."""

    node: PathNode
    depth: int
    via: PathNode


@dataclass(frozen=True)
class Reach:
    """Everything reachable from ``start``, each node once, nearest first (a shortest-path tree).

    Paths are not stored: :meth:`path_to` walks ``via`` back to the start (O(depth)), and
    :meth:`all_paths` builds every one (O(sum of depths): only when a caller asks for them).
    """

    start: PathNode
    items: list[Reached]

    @classmethod
    def build(
        cls, start: Node, order: Sequence[tuple[Node, Node]], names: Mapping[Node, str]
    ) -> Reach:
        """From :func:`breadth_first`'s answer and the nodes' names."""

        def as_path_node(n: Node) -> PathNode:
            return PathNode(type=n[0], id=n[1], name=names.get(n, ""))

        first = as_path_node(start)
        made: dict[Node, Reached] = {}
        items: list[Reached] = []
        for node, via in order:
            parent = made.get(via)
            item = Reached(
                node=as_path_node(node),
                depth=1 if parent is None else parent.depth + 1,
                via=first if parent is None else parent.node,
            )
            made[node] = item
            items.append(item)
        return cls(start=first, items=items)

    @cached_property
    def _by_node(self) -> dict[Node, Reached]:
        return {(i.node.type, i.node.id): i for i in self.items}

    def path_to(self, node: Node) -> list[PathNode]:
        """The shortest path from the start to a reached ``node`` (both ends included)."""
        by_node = self._by_node
        path: list[PathNode] = []
        item = by_node.get(node)
        if item is None:
            raise KeyError(node)
        while item is not None:
            path.append(item.node)
            item = by_node.get((item.via.type, item.via.id))
        path.append(self.start)
        path.reverse()
        return path

    def all_paths(self) -> list[list[PathNode]]:
        """Every item's shortest path, in the order of ``items``."""
        path_of: dict[Node, list[PathNode]] = {(self.start.type, self.start.id): [self.start]}
        paths: list[list[PathNode]] = []
        for item in self.items:
            path = [*path_of[(item.via.type, item.via.id)], item.node]
            path_of[(item.node.type, item.node.id)] = path
            paths.append(path)
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


async def _reach(
    session: AsyncSession, query: sa.TextClause, start: Node, *, backwards: bool = False
) -> Reach:
    edges = await _edges(session, query, start)
    if backwards:
        edges = [(target, source) for source, target in edges]
    order = breadth_first(start, edges)
    names = await node_names(session, [start, *(node for node, _ in order)])
    return Reach.build(start, order, names)


async def transitive_dependencies(session: AsyncSession, system_id: uuid.UUID) -> Reach:
    """Every node ``system_id`` depends on, transitively: each once, with its depth and the node
    it is first reached from on a shortest path from the system.

    Breadth-first order (nearest first). Cycles are safe; the system itself is never listed.
    An unknown system (or one of another organisation) has no dependencies.
    """
    return await _reach(session, _FORWARD, ("system", system_id))


async def direct_dependencies(session: AsyncSession, system_id: uuid.UUID) -> Reach:
    """Only the nodes ``system_id`` depends on directly (depth 1)."""
    reach = await transitive_dependencies(session, system_id)
    return Reach(start=reach.start, items=[i for i in reach.items if i.depth == 1])


async def transitive_dependents(session: AsyncSession, node_type: str, node_id: uuid.UUID) -> Reach:
    """Everything that depends on the node, transitively: each once, with its depth and ``via``,
    the node it depends on one step nearer the start (read paths backwards for the direction of
    the dependency)."""
    return await _reach(session, _REVERSE, (node_type, node_id), backwards=True)
