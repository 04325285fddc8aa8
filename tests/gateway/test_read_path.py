"""The gateway's read path: prefetched per-system fields, the document cache, fast encoding.

The schema runs in-process over canned upstream answers (an ``httpx.MockTransport``): what is
checked is what the gateway does with them: which calls it makes, what it answers, and that a
document is parsed and validated once but refused every time it is invalid.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.clients import Deadline, UpstreamClients
from gateway.config import GatewaySettings
from gateway.loaders import Loaders
from gateway.protection.cache import DocumentCache
from gateway.schema import build_schema
from gateway.schema.context import GraphQLContext

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat()
IDS = [uuid.UUID(int=n + 1) for n in range(5)]

PAGE = """
query Page($first: Int!, $noRisks: Boolean! = false) {
  aiSystems(first: $first) { edges { node {
    id name
    classification { tier route articles }
    riskSummary @skip(if: $noRisks) { openCount highestResidualLevel }
    ...Evidence
  } } }
}
fragment Evidence on AISystem { evidenceSummary { fileCount totalBytes } }
"""
ONE = """
query One($id: ID!) { aiSystem(id: $id) {
  id name classification { tier route articles }
  riskSummary { openCount highestResidualLevel } evidenceSummary { fileCount totalBytes }
} }
"""


def _system(n: int, system_id: uuid.UUID) -> dict[str, Any]:
    return {
        "id": str(system_id),
        "name": f"System {n}",
        "description": "",
        "lifecycle_stage": "deployed",
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _classification(system_id: uuid.UUID) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "system_id": str(system_id),
        "version": 1,
        "current": True,
        "tier": "high",
        "route": "annex_iii",
        "articles": ["6(2)"],
        "obligations": [],
        "reasons": [],
        "gpai_model": False,
        "gpai_systemic_risk": False,
        "answers": {"role": "provider"},
        "classified_at": NOW,
        "classified_by": "someone",
    }


class Upstreams:
    """Canned answers of the three services, counting the calls by path."""

    def __init__(self, *, failing: str | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.failing = failing

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls[path] += 1
        if path == self.failing:
            return httpx.Response(503)
        asked = [
            uuid.UUID(v) for k, v in request.url.params.multi_items() if k in ("id", "system_id")
        ]
        if path == "/v1/ai-systems":
            items: list[dict[str, Any]] = [_system(n, i) for n, i in enumerate(IDS)]
            if asked:
                items = [s for s in items if uuid.UUID(s["id"]) in asked]
            return httpx.Response(200, json={"items": items, "next_cursor": None})
        if path == "/v1/classifications":
            return httpx.Response(200, json={"items": [_classification(i) for i in asked]})
        if path == "/v1/risks/summary":
            summaries = [
                {"id": str(i), "open_count": 2, "highest_residual_level": "high"} for i in asked
            ]
            return httpx.Response(200, json={"items": summaries})
        if path == "/v1/systems":  # evidence: only the first two systems are known
            known = [
                {"id": str(i), "file_count": 1, "total_bytes": 4096, "source_version": 1}
                for i in asked
                if i in IDS[:2]
            ]
            return httpx.Response(200, json={"items": known, "next_cursor": None})
        return httpx.Response(404)


class Principal:
    org_id = uuid.UUID(int=99)
    authorization = "Bearer test"


@pytest.fixture(scope="module")
def schema() -> Any:
    return build_schema(GatewaySettings())


async def run(schema: Any, upstreams: Upstreams, query: str, variables: dict[str, Any]) -> Any:
    settings = GatewaySettings()
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstreams)) as http:
        clients = UpstreamClients.for_caller(
            http, settings, "Bearer test", deadline=Deadline.after(15)
        )
        context = GraphQLContext(
            principal=Principal(),  # type: ignore[arg-type]
            clients=clients,
            loaders=Loaders.for_clients(clients),
            db=None,  # type: ignore[arg-type]
            settings=settings,
        )
        return await schema.execute(query, variable_values=variables, context_value=context)


async def test_a_page_costs_one_call_per_service_batch_and_answers_as_one_system_does(
    schema: Any,
) -> None:
    upstreams = Upstreams()
    result = await run(schema, upstreams, PAGE, {"first": 5})
    assert result.errors is None
    assert upstreams.calls == Counter(
        {"/v1/ai-systems": 1, "/v1/classifications": 1, "/v1/risks/summary": 1, "/v1/systems": 1}
    )
    nodes = [edge["node"] for edge in result.data["aiSystems"]["edges"]]
    assert [n["evidenceSummary"] for n in nodes] == [{"fileCount": 1, "totalBytes": 4096}] * 2 + [
        None
    ] * 3
    # The same fields of one system, resolved without a prefetching page, answer the same.
    for node in nodes:
        one = await run(schema, Upstreams(), ONE, {"id": node["id"]})
        assert one.errors is None
        assert one.data["aiSystem"] == node


async def test_a_skipped_field_costs_no_call(schema: Any) -> None:
    upstreams = Upstreams()
    result = await run(schema, upstreams, PAGE, {"first": 5, "noRisks": True})
    assert result.errors is None
    assert "/v1/risks/summary" not in upstreams.calls
    assert all("riskSummary" not in e["node"] for e in result.data["aiSystems"]["edges"])


async def test_a_failing_batch_fails_only_the_fields_it_serves(schema: Any) -> None:
    upstreams = Upstreams(failing="/v1/classifications")
    result = await run(schema, upstreams, PAGE, {"first": 5})
    nodes = [edge["node"] for edge in result.data["aiSystems"]["edges"]]
    assert [n["classification"] for n in nodes] == [None] * 5
    assert all(n["riskSummary"] == {"openCount": 2, "highestResidualLevel": "high"} for n in nodes)
    assert sorted(e.path for e in result.errors) == sorted(
        ["aiSystems", "edges", i, "node", "classification"] for i in range(5)
    )
    assert {e.extensions["code"] for e in result.errors} == {"upstream-unavailable"}
    assert upstreams.calls["/v1/classifications"] == 1  # not asked again field by field


async def test_a_document_is_parsed_and_validated_once_but_refused_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import strawberry.schema.schema as strawberry_schema

    schema = build_schema(GatewaySettings())  # a cache of its own

    validated: list[str] = []
    validate = strawberry_schema.validate_document

    def counting(schema_: Any, document: Any, rules: Any) -> Any:
        validated.append(document.definitions[0].name.value)
        return validate(schema_, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    for _ in range(3):
        result = await run(schema, Upstreams(), PAGE, {"first": 5})
        assert result.errors is None
    assert validated == ["Page"]
    assert any(isinstance(e, DocumentCache) for e in schema.get_extensions())

    deep = (
        'query Deep { __type(name: "AISystem") { ' + "ofType { " * 20 + "name" + " }" * 20 + " } }"
    )
    for _ in range(2):
        result = await run(schema, Upstreams(), deep, {})
        assert result.data is None
        assert [e.extensions["code"] for e in result.errors] == ["query-depth-limit"]
    assert validated.count("Deep") == 2  # an invalid document is validated (refused) each time


def test_the_encoder_writes_what_json_reads() -> None:
    from gateway.protection.router import ProtectedGraphQLRouter

    router = ProtectedGraphQLRouter(build_schema(GatewaySettings()), max_json_depth=64)
    data = {"data": {"name": "Système ✓", "n": 2**40, "big": 2**70, "x": None}}
    assert json.loads(router.encode_json(data)) == data


QUERY_PACKAGES = ("/gateway/", "/strawberry/", "/graphql/")


async def tasks_of(schema: Any, query: str, variables: dict[str, Any]) -> list[str]:
    """The coroutines run as Tasks while ``query`` executes, by name."""
    import asyncio

    loop = asyncio.get_running_loop()
    created: list[str] = []
    previous = loop.get_task_factory()

    def counting(loop_: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        # Only the query's own Tasks: in the full suite, the garbage collector may close an
        # earlier test's SQLAlchemy session while the query runs (a Task of its own).
        code = getattr(coro, "cr_code", None)
        if code is None or not any(part in code.co_filename for part in QUERY_PACKAGES):
            return asyncio.Task(coro, loop=loop_, **kwargs)
        created.append(getattr(coro, "__qualname__", "?"))
        return asyncio.Task(coro, loop=loop_, **kwargs)

    loop.set_task_factory(counting)
    try:
        result = await run(schema, Upstreams(), query, variables)
    finally:
        loop.set_task_factory(previous)
    assert result.errors is None
    return created


async def test_the_per_system_fields_of_a_page_resolve_without_a_task_each(schema: Any) -> None:
    # A page: one Task per loader batch, none per field (three per system before).
    page = await tasks_of(schema, PAGE, {"first": 5})
    assert sorted(page) == ["dispatch_batch"] * 3
    # One system reached by id: its fields are awaited as before (a Task each).
    one = await tasks_of(schema, ONE, {"id": str(IDS[0])})
    assert one.count("dispatch_batch") == 4
    assert len(one) > 4
