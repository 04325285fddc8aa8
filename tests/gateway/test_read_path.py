"""The gateway's read path: prefetched per-system fields, the document cache, fast encoding.

The schema runs in-process over canned upstream answers (an ``httpx.MockTransport``): what is
checked is what the gateway does with them: which calls it makes, what it answers, and that a
document is parsed and validated once but refused every time it is invalid.
"""

from __future__ import annotations

import base64
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


RISK_IDS = [uuid.UUID(int=1000 + n) for n in range(3)]


def _risk(risk_id: uuid.UUID) -> dict[str, Any]:
    return {
        "id": str(risk_id),
        "version": 2,
        "system_id": str(IDS[0]),
        "title": f"Risk {risk_id.int}",
        "description": "",
        "domain_id": "2",
        "subdomain_id": "2.1",
        "entity": "human",
        "intent": "unintentional",
        "timing": "post_deployment",
        "affected_stakeholders": ["users"],
        "fundamental_rights": False,
        "matrix_version": 1,
        "likelihood": 3,
        "severity": 4,
        "inherent_level": "high",
        "assessed_at": NOW,
        "treatment": "mitigate",
        "control_ids": ["A.6.2.4"],
        "status": "open",
        "above_tolerance": True,
        "missing_controls": False,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _summary(full: dict[str, Any]) -> dict[str, Any]:
    """What ``view=summary`` of the risk service answers for a classification."""
    keys = ("id", "system_id", "version", "current", "tier", "route", "articles")
    return {
        **{k: full[k] for k in keys},
        "risk_level": full["tier"],
        "role": full["answers"]["role"],
        "classified_at": full["classified_at"],
        "classified_by": full["classified_by"],
        "reclassification_requested": None,
    }


class Upstreams:
    """Canned answers of the three services, counting the calls by path."""

    def __init__(self, *, failing: str | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.views: Counter[str] = Counter()  # of /v1/classifications
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
            found = [_classification(i) for i in asked]
            self.views[request.url.params.get("view", "full")] += 1
            if request.url.params.get("view") == "summary":
                found = [_summary(c) for c in found]
            return httpx.Response(200, json={"items": found})
        if path == "/v1/risks":
            risks = [_risk(i) for i in RISK_IDS]
            if asked:
                risks = [r for r in risks if uuid.UUID(r["id"]) in asked]
            return httpx.Response(200, json={"items": risks, "next_cursor": None})
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


def test_only_a_document_naming_idempotency_key_is_walked_for_literal_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from graphql import GraphQLError, parse

    from gateway.protection import limits

    graphql_schema = build_schema(GatewaySettings())._schema
    walked: list[int] = []
    visit = limits.visit  # type: ignore[attr-defined]

    def counting(document: Any, visitor: Any) -> Any:
        walked.append(1)
        return visit(document, visitor)

    monkeypatch.setattr(limits, "visit", counting)

    def check(text: str, *, no_location: bool = False) -> None:
        document = parse(text, no_location=no_location)
        operation = document.definitions[0]
        limits.check_idempotency_keys(graphql_schema, document, operation, None)  # type: ignore[arg-type]

    check(PAGE)  # a read: nothing to look for, not walked
    assert walked == []
    literal = (
        'mutation { registerAISystem(input: {name: "L", idempotencyKey: "Équipe"}) '
        "{ errors { code } } }"
    )
    with pytest.raises(GraphQLError, match="idempotencyKey"):
        check(literal)
    with pytest.raises(GraphQLError, match="idempotencyKey"):
        check(literal, no_location=True)  # no source text to look in: walked
    assert len(walked) == 2


async def test_a_listed_page_primes_the_risk_loader_once_for_all_its_risks(
    monkeypatch: pytest.MonkeyPatch, schema: Any
) -> None:
    from gateway.loaders.risks import RiskLoader

    primed: list[int] = []
    prime_many = RiskLoader.prime_many

    def counting(self: RiskLoader, data: Any, force: bool = False) -> None:
        primed.append(len(data))
        prime_many(self, data, force)

    monkeypatch.setattr(RiskLoader, "prime_many", counting)
    query = f"{{ risks(first: 3) {{ edges {{ node {{ {RISK_FIELDS} }} }} }} }}"
    upstreams = Upstreams()
    result = await run(schema, upstreams, query, {})
    assert result.errors is None
    assert primed == [len(RISK_IDS)]


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


SUMMARY_PAGE = """
query Summary($first: Int!) { aiSystems(first: $first) { edges { node {
  id
  classification {
    systemId version tier route role articles classifiedAt classifiedBy
    reclassificationRequested reclassificationRequest { changedFacts }
  }
} } } }
"""
FULL_PAGE = """
query Full($first: Int!) { aiSystems(first: $first) { edges { node {
  id
  classification {
    systemId version tier route role articles classifiedAt classifiedBy
    reclassificationRequested reclassificationRequest { changedFacts }
    obligations { article } answers: gpaiModel
  }
} } } }
"""


async def test_a_page_selecting_only_summary_fields_reads_the_summary_batch(schema: Any) -> None:
    summary_calls, full_calls = Upstreams(), Upstreams()
    summary = await run(schema, summary_calls, SUMMARY_PAGE, {"first": 5})
    full = await run(schema, full_calls, FULL_PAGE, {"first": 5})
    assert summary.errors is None and full.errors is None
    assert summary_calls.views == Counter({"summary": 1})
    assert full_calls.views == Counter({"full": 1})
    # The summary's fields answer what the full classification answers.
    for s, f in zip(
        summary.data["aiSystems"]["edges"], full.data["aiSystems"]["edges"], strict=True
    ):
        expected = {
            k: v
            for k, v in f["node"]["classification"].items()
            if k not in ("obligations", "answers")
        }
        assert s["node"]["classification"] == expected
        assert expected["role"] == "PROVIDER" and expected["articles"] == ["6(2)"]


async def test_a_page_needing_more_than_the_summary_anywhere_reads_the_full_batch_once(
    schema: Any,
) -> None:
    # Two aliases of one field: one needs the full classification; one call serves both.
    query = """
    query Mixed($first: Int!) { aiSystems(first: $first) { edges { node {
      short: classification { tier }
      ...Long
    } } } }
    fragment Long on AISystem { long: classification { tier obligations { article } } }
    """
    upstreams = Upstreams()
    result = await run(schema, upstreams, query, {"first": 5})
    assert result.errors is None
    assert upstreams.views == Counter({"full": 1})
    for edge in result.data["aiSystems"]["edges"]:
        assert edge["node"]["short"] == {"tier": "HIGH"}
        assert edge["node"]["long"] == {"tier": "HIGH", "obligations": []}


async def test_one_system_reads_the_view_its_selection_needs(schema: Any) -> None:
    for selection, view in (("tier role", "summary"), ("tier reasons", "full")):
        upstreams = Upstreams()
        query = (
            f"query One($id: ID!) {{ aiSystem(id: $id) {{ classification {{ {selection} }} }} }}"
        )
        result = await run(schema, upstreams, query, {"id": str(IDS[0])})
        assert result.errors is None
        assert upstreams.views == Counter({view: 1})
        assert result.data["aiSystem"]["classification"]["tier"] == "HIGH"


RISK_FIELDS = """
  id systemId title likelihood severity inherentLevel residualLevel status treatment owner
  controlIds affectedStakeholders aboveTolerance updatedAt
"""


async def test_a_listed_risk_answers_as_the_same_risk_read_by_its_id(schema: Any) -> None:
    listed = await run(
        schema, Upstreams(), f"{{ risks(first: 3) {{ edges {{ node {{ {RISK_FIELDS} }} }} }} }}", {}
    )
    assert listed.errors is None
    nodes = [e["node"] for e in listed.data["risks"]["edges"]]
    assert [base64.b64decode(n["id"]).decode() for n in nodes] == [f"Risk:{i}" for i in RISK_IDS]
    assert nodes[0]["status"] == "OPEN" and nodes[0]["treatment"] == "MITIGATE"
    assert nodes[0]["controlIds"] == ["A.6.2.4"] and nodes[0]["residualLevel"] is None
    for node in nodes:
        query = f"query($id: ID!) {{ node(id: $id) {{ ... on Risk {{ {RISK_FIELDS} }} }} }}"
        found = await run(schema, Upstreams(), query, {"id": node["id"]})
        assert found.errors is None
        assert found.data["node"] == node
