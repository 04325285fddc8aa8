"""The gateway's executor (``gateway/schema/execution.py``): plain leaf fields completed in place
answer exactly what graphql-core's own path answers (values, errors, their paths, null
propagation), and on the gateway's schema a page's leaves no longer each take that path.

Each case runs one schema twice, once with Strawberry's executor and once with the gateway's,
and compares the whole results.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import SchemaExtension

from gateway.schema import build_schema
from gateway.schema.execution import (
    EXECUTOR_MATCHES,
    PLAIN_LEAF,
    GatewayExecutor,
    mark_plain_leaves,
)
from tests.gateway.test_read_path import RISK_FIELDS, Upstreams, run


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Later:
    """An awaitable an attribute may hold (not a coroutine: no warning when left unawaited)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, str]:
        yield from asyncio.sleep(0).__await__()
        return self.value


@strawberry.type
class Item:
    name: str
    count: int
    ratio: float
    flag: bool
    colour: Colour
    maybe: str | None
    when: datetime
    ref: uuid.UUID
    code: strawberry.ID
    gid: relay.GlobalID
    later: str  # holds an awaitable: graphql-core awaits it

    @strawberry.field
    def shout(self) -> str:  # a resolver of its own: not a plain leaf
        return self.name.upper()


@strawberry.type
class Holder:
    item: Item  # non-null: a null inside propagates to the holder


def _item(n: int, **overrides: Any) -> Item:
    values: dict[str, Any] = {
        "name": f"item {n}",
        "count": n,
        "ratio": n / 4,
        "flag": n % 2 == 0,
        "colour": Colour.GREEN if n % 2 else Colour.RED,
        "maybe": None if n % 2 else "set",
        "when": datetime(2026, 1, 2, 3, 4, n, tzinfo=UTC),
        "ref": uuid.UUID(int=n),
        "code": strawberry.ID(f"c{n}"),
        "gid": relay.GlobalID("Item", str(n)),
        "later": f"later {n}",
    }
    values.update(overrides)
    item = object.__new__(Item)
    item.__dict__.update(values)  # what the gateway's ``from_upstream`` builders do
    return item


def _broken_items() -> list[Item | None]:
    missing = _item(5)
    del missing.__dict__["name"]  # reading it raises AttributeError
    return [
        _item(1, later=Later("later 1")),
        _item(2, count=2**31),  # beyond GraphQL's Int
        _item(3, count=None),  # null in a non-null field: the item becomes null
        _item(4, colour="not a colour"),
        missing,
        _item(6, flag=0),  # coerced to false, as graphql-core does
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return _broken_items()

    @strawberry.field
    def holder(self) -> Holder | None:
        return Holder(item=_item(7, name=None))


def _schema(executor: type | None, extensions: list[Any] | None = None) -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query, execution_context_class=executor, extensions=extensions or []
    )
    if executor is not None:
        mark_plain_leaves(schema._schema)
    return schema


QUERY = """
query {
  items {
    name alias: name count ratio flag colour maybe when ref code gid later shout __typename
    ... on Item { again: count colour }
  }
  holder { item { name count } }
}
"""


def _outcome(result: Any) -> tuple[Any, list[tuple[str, Any, Any]]]:
    errors = [
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or ()])
        for e in result.errors or ()
    ]
    return result.data, errors


async def test_plain_leaves_answer_what_graphql_core_answers_values_and_errors() -> None:
    stock = _outcome(await _schema(None).execute(QUERY))
    gateway = _outcome(await _schema(GatewayExecutor).execute(QUERY))
    assert gateway == stock
    data, errors = gateway
    # The cases the comparison covers are really there.
    items = data["items"]
    assert items[0]["colour"] == "GREEN" and items[0]["later"] == "later 1"
    assert items[0]["when"] == "2026-01-02T03:04:01+00:00" and items[0]["maybe"] is None
    assert items[2] is None and data["holder"] is None
    assert items[5]["flag"] is False
    messages = " | ".join(message for message, _, _ in errors)
    assert "Int cannot represent non 32-bit signed integer value" in messages
    assert "Cannot return null for non-nullable field Item.count." in messages
    assert "no attribute 'name'" in messages
    assert ["items", 2, "count"] in [path for _, path, _ in errors]


class Shout(SchemaExtension):
    """Wraps every resolver (graphql-core middleware): no field may bypass it."""

    seen: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        Shout.seen.append(info.field_name)
        result = _next(root, info, *args, **kwargs)
        return result.upper() if isinstance(result, str) else result


async def test_a_resolver_middleware_still_sees_every_field() -> None:
    query = "{ items { name count } }"
    Shout.seen = []
    stock = _outcome(await _schema(None, [Shout]).execute(query))
    stock_seen, Shout.seen = Shout.seen, []
    gateway = _outcome(await _schema(GatewayExecutor, [Shout]).execute(query))
    assert gateway == stock
    assert Shout.seen == stock_seen and Shout.seen.count("name") == 6
    assert gateway[0]["items"][0]["name"] == "ITEM 1"


def test_the_pinned_graphql_core_is_the_executor_the_short_cut_follows() -> None:
    # On another graphql-core the gateway executes every field the stock way (slower, same
    # answers); this fails first, so that the short cut is checked again before an upgrade.
    assert EXECUTOR_MATCHES


def test_the_gateway_schema_marks_the_plain_leaves_and_only_them() -> None:
    types = build_schema()._schema.type_map
    risk = types["Risk"].fields  # type: ignore[attr-defined]
    plain = {name for name, field in risk.items() if PLAIN_LEAF in field.extensions}
    assert {"id", "title", "likelihood", "status", "updatedAt", "systemId"} <= plain
    # Lists, and fields with resolvers or arguments, keep graphql-core's path.
    assert "controlIds" not in plain and "affectedStakeholders" not in plain
    connection = types["RiskConnection"].fields  # type: ignore[attr-defined]
    assert not any(PLAIN_LEAF in f.extensions for f in connection.values())


async def test_a_page_of_risks_builds_no_resolver_info_per_plain_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[str] = []
    original = GatewayExecutor.build_resolve_info

    def counting(self: GatewayExecutor, field_def: Any, nodes: Any, *args: Any) -> Any:
        built.append(nodes[0].name.value)
        return original(self, field_def, nodes, *args)

    monkeypatch.setattr(GatewayExecutor, "build_resolve_info", counting)
    query = (
        "{ risks(first: 3) { pageInfo { endCursor } edges { cursor node { "
        + RISK_FIELDS
        + " } } } }"
    )
    result = await run(build_schema(), Upstreams(), query, {})
    assert result.errors is None and len(result.data["risks"]["edges"]) == 3
    # Only the objects and lists: the connection, its page info and edges, each node and the
    # two list fields of each risk. Before, each of the 3 × 12 other risk fields, each cursor
    # and the end cursor built one too.
    assert set(built) == {
        "risks", "pageInfo", "edges", "node", "affectedStakeholders", "controlIds"
    }  # fmt: skip
    assert len(built) == 3 + 3 + 3 * 2


def test_an_error_is_still_a_graphql_error_with_the_field_path() -> None:
    # ``handle_field_error`` is graphql-core's: located errors, as the gateway's error masking
    # and error codes expect (tests/gateway/test_typed_errors.py covers their rendering).
    result = asyncio.run(_schema(GatewayExecutor).execute("{ items { count } }"))
    assert result.errors is not None
    assert all(isinstance(e, GraphQLError) and e.path for e in result.errors)
