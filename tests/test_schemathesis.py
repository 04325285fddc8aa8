"""Schemathesis against every service's OpenAPI document and the gateway's GraphQL schema.

Every operation of every app gets generated requests — valid ones (positive) and ones that break
the schema (negative) — sent in-process to the real stack (real PostgreSQL and NATS, the apps'
real lifespans) with an admin's token of an organisation of the test's own; stateful sequences
follow the OpenAPI links from each create to the operations on what it created
(:func:`shared.openapi.document_problems` adds them). Every response
must be no 5xx and match what the document says: status code, content type, headers, body.

CI runs a bounded version; ``AIMS_SCHEMATHESIS_EXAMPLES`` (per operation and mode, default 3)
and ``AIMS_SCHEMATHESIS_SCENARIOS`` (stateful sequences of up to 6 calls per service, default 10)
run it longer, e.g.::

    AIMS_SCHEMATHESIS_EXAMPLES=100 pytest tests/test_schemathesis.py -s

Findings are collected (one per operation and kind) and printed with the request and response
that showed them, so one run lists all of them; the test fails if there is any.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.graphql import nodes
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.db import uuid7
from tests.conftest import Stack

pytestmark = pytest.mark.engines

EXAMPLES = int(os.environ.get("AIMS_SCHEMATHESIS_EXAMPLES", "3"))
SCENARIOS = int(os.environ.get("AIMS_SCHEMATHESIS_SCENARIOS", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SERVICES = ("inventory", "risk", "evidence", "gateway")
GRAPHQL_INTROSPECTION = (
    "query { __schema { queryType { name } mutationType { name } subscriptionType { name } "
    "types { ...T } directives { name locations args { ...V } } } } "
    "fragment T on __Type { kind name fields(includeDeprecated: true) { name args { ...V } "
    "type { ...R } isDeprecated deprecationReason } inputFields { ...V } interfaces { ...R } "
    "enumValues(includeDeprecated: true) { name isDeprecated deprecationReason } "
    "possibleTypes { ...R } } "
    "fragment V on __InputValue { name type { ...R } defaultValue } "
    "fragment R on __Type { kind name ofType { kind name ofType { kind name ofType { kind name "
    "ofType { kind name ofType { kind name ofType { kind name } } } } } } }"
)


@dataclass
class Findings:
    """What the run saw: counts, and one finding per (operation, kind of failure)."""

    requests: int = 0
    server_errors: int = 0
    unsendable: int = 0  # generated requests no HTTP client would send (a query over 64 KiB)
    by_key: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, label: str, failure: Failure, request: str, response: httpx.Response) -> None:
        key = (label, failure.title)
        if key in self.by_key:
            return
        body = response.text[:300].replace("\n", " ")
        self.by_key[key] = (
            f"{label}: {failure.title}\n    request: {request}\n"
            f"    response: {response.status_code} {response.headers.get('content-type')} {body}"
        )

    def report(self, what: str) -> str:
        lines = [
            f"schemathesis {what}: {self.requests} requests, {self.server_errors} 5xx, "
            f"{len(self.by_key)} findings"
            + (f" ({self.unsendable} unsendable requests skipped)" if self.unsendable else "")
        ]
        lines += sorted(self.by_key.values())
        return "\n".join(lines)


class Bridge:
    """Sends requests from Hypothesis' worker thread through the session loop's clients."""

    def __init__(self, stack: Stack, loop: asyncio.AbstractEventLoop) -> None:
        self.stack = stack
        self.loop = loop

    def send(self, app: str, kwargs: dict[str, Any]) -> httpx.Response:
        request = dict(kwargs)
        data = request.pop("data", None)
        if isinstance(data, str | bytes):
            request["content"] = data
        elif data is not None:
            request["data"] = data
        request.pop("auth", None)
        request.pop("verify", None)
        request.pop("cookies", None)
        future = asyncio.run_coroutine_threadsafe(
            self.stack.clients[app].request(**request), self.loop
        )
        return future.result(timeout=120)

    def sendable(self, kwargs: dict[str, Any]) -> bool:
        """Whether httpx can build the request at all (it refuses a query over 64 KiB)."""
        try:
            httpx.Request(kwargs["method"], kwargs["url"], params=kwargs.get("params"))
        except httpx.InvalidURL:
            return False
        return True


def _describe(kwargs: dict[str, Any]) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in {"headers", "method", "url"}}
    return f"{kwargs['method']} {kwargs['url']} {str(shown)[:300]}"


def _validate(
    case: Any,
    response: httpx.Response,
    kwargs: dict[str, Any],
    label: str,
    findings: Findings,
) -> None:
    findings.requests += 1
    if response.status_code >= 500:
        findings.server_errors += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))
    except FailureGroup as group:
        for failure in group.exceptions:
            findings.add(label, failure, _describe(kwargs), response)
    except Failure as failure:
        findings.add(label, failure, _describe(kwargs), response)


def _fuzz_operation(
    run: Callable[[Any], None], strategy: st.SearchStrategy[Any], examples: int
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        run(case)

    # Nothing to generate is fine (no negative input exists for an operation without input).
    with contextlib.suppress(Unsatisfiable):
        fuzz()


def _fuzz_openapi(bridge: Bridge, app: str, document: dict[str, Any], org: uuid.UUID) -> Findings:
    findings = Findings()
    schema = schemathesis.openapi.from_dict(document)
    headers = bridge.stack.headers(org, "admin", subject=f"schemathesis-{app}")
    base_url = f"http://{app}"
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operation = result.ok()
        label = f"{app} {operation.method.upper()} {operation.path}"

        def run(case: Any, label: str = label) -> None:
            kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
            if not bridge.sendable(kwargs):
                findings.unsendable += 1
                return
            response = bridge.send(app, kwargs)
            _validate(case, response, kwargs, label, findings)

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(run, operation.as_strategy(generation_mode=mode), EXAMPLES)
    return findings


def _stateful_openapi(bridge: Bridge, app: str, document: dict[str, Any]) -> Findings:
    """Sequences along the documented links (a create, then operations on what it made)."""
    findings = Findings()
    schema = schemathesis.openapi.from_dict(document)
    base_url = f"http://{app}"
    machine = schema.as_state_machine()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            # Each scenario in an organisation of its own: what one left behind never changes
            # what the next one sees (Hypothesis requires that, and so does a clear finding).
            self.headers = bridge.stack.headers(uuid7(), "admin", subject=f"stateful-{app}")

        def call(self, case: Any, **kwargs: Any) -> Response:
            sent = case.as_transport_kwargs(base_url=base_url, headers=self.headers)
            response = bridge.send(app, sent)
            _validate(case, response, sent, f"{app} {case.operation.label} (stateful)", findings)
            return Response.from_any(response)

        def validate_response(self, response: Response, case: Any, **kwargs: Any) -> None:
            return None  # validated in ``call``, with every finding kept

    Workflow.TestCase.settings = settings(
        max_examples=SCENARIOS,
        stateful_step_count=6,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),
    )
    Workflow.TestCase().runTest()
    return findings


async def test_openapi_documents_hold_under_schemathesis(stack: Stack) -> None:
    loop = asyncio.get_running_loop()
    bridge = Bridge(stack, loop)
    org = uuid7()
    reports: list[str] = []
    total = Findings()
    operations = 0
    for app in SERVICES:
        document = stack.apps[app].openapi()
        operations += sum(
            1 for item in document["paths"].values() for method in item if method != "parameters"
        )
        findings = await asyncio.to_thread(_fuzz_openapi, bridge, app, document, org)
        reports.append(findings.report(app))
        total.requests += findings.requests
        total.server_errors += findings.server_errors
        total.by_key |= findings.by_key
    summary = (
        f"schemathesis OpenAPI: {operations} operations, {EXAMPLES} examples per operation "
        f"and mode, {total.requests} requests, {total.server_errors} 5xx, "
        f"{len(total.by_key)} findings"
    )
    print("\n" + summary + "\n" + "\n".join(reports))
    assert not total.by_key, summary + "\n" + "\n".join(reports)


async def test_stateful_links_hold_under_schemathesis(stack: Stack) -> None:
    loop = asyncio.get_running_loop()
    bridge = Bridge(stack, loop)
    reports: list[str] = []
    found = 0
    links = 0
    for app in SERVICES:
        document = stack.apps[app].openapi()
        links += sum(
            len(response.get("links", {}))
            for item in document["paths"].values()
            for operation in item.values()
            if isinstance(operation, dict)
            for response in operation.get("responses", {}).values()
        )
        findings = await asyncio.to_thread(_stateful_openapi, bridge, app, document)
        reports.append(findings.report(f"{app} stateful"))
        found += len(findings.by_key)
    print(f"\nschemathesis stateful: {links} links, {SCENARIOS} scenarios per service")
    print("\n".join(reports))
    assert links, "no OpenAPI links to follow"
    assert not found, "\n".join(reports)


def _fuzz_graphql(bridge: Bridge, introspection: dict[str, Any], org: uuid.UUID) -> Findings:
    findings = Findings()
    # The `JSON` scalar (custom fields, properties, model cards): any JSON value.
    schemathesis.graphql.scalar(
        "JSON",
        st.one_of(st.text(max_size=20).map(nodes.String), st.integers().map(nodes.Int)),
    )
    schema = schemathesis.graphql.from_dict(introspection)
    headers = bridge.stack.headers(org, "admin", subject="schemathesis-graphql")
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operation = result.ok()
        label = f"graphql {operation.label}"

        def run(case: Any, label: str = label) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://gateway/graphql", headers=headers)
            response = bridge.send("gateway", kwargs)
            _validate_graphql(case, response, kwargs, label, findings)

        _fuzz_operation(run, operation.as_strategy(), EXAMPLES)
    return findings


def _validate_graphql(
    case: Any,
    response: httpx.Response,
    kwargs: dict[str, Any],
    label: str,
    findings: Findings,
) -> None:
    """A GraphQL answer is JSON with `data` and/or `errors`. Errors a caller can fix (a bad id,
    a missing permission: ``extensions.status`` 4xx) are the API working; a 5xx status, an
    error with a 5xx ``extensions.status``, or a masked "Unexpected error." (the GraphQL form of
    a 500) is a finding. (Schemathesis' own GraphQL check counts every error as a server error.)"""
    findings.requests += 1
    if response.status_code >= 500:
        findings.server_errors += 1
        findings.add(label, _Malformed("Server error"), _describe(kwargs), response)
        return
    try:
        body = response.json()
    except ValueError:
        findings.add(label, _Malformed("Not JSON"), _describe(kwargs), response)
        return
    if not isinstance(body, dict) or not ({"data", "errors"} & set(body)):
        findings.add(label, _Malformed("Neither data nor errors"), _describe(kwargs), response)
        return
    for error in body.get("errors") or ():
        status = (error.get("extensions") or {}).get("status")
        if "Unexpected error" in str(error.get("message")) or (
            isinstance(status, int) and status >= 500
        ):
            findings.server_errors += 1
            findings.add(label, _Malformed("Unexpected error"), _describe(kwargs), response)
            return


class _Malformed(Failure):
    def __init__(self, title: str) -> None:
        super().__init__(operation="graphql", title=title, message=title)


async def test_graphql_schema_holds_under_schemathesis(stack: Stack) -> None:
    org = uuid7()
    answer = await stack.gateway.post(
        "/graphql", json={"query": GRAPHQL_INTROSPECTION}, headers=stack.headers(org, "admin")
    )
    assert answer.status_code == 200, answer.text
    introspection = answer.json()["data"]
    bridge = Bridge(stack, asyncio.get_running_loop())
    findings = await asyncio.to_thread(_fuzz_graphql, bridge, introspection, org)
    fields = sum(
        len(t.get("fields") or ())
        for t in introspection["__schema"]["types"]
        if t["name"] in {"Query", "Mutation"}
    )
    report = findings.report(f"GraphQL ({fields} root fields, {EXAMPLES} examples each)")
    print("\n" + report)
    assert not findings.by_key, report
