"""Issue 9: a misspelt filter on a list endpoint answers 400 naming the allowed parameters
instead of listing everything, on the risk service's and the inventory's component lists too
(impact assessments, risks, SoA, risk policy, vendors, components, dependencies, interfaces),
and on the lists the first audit found still ignoring them: the risk service's systems and
classifications, the inventory's context issues, interested parties, scope versions and
organisation AI roles."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.engines

RISK = [
    ("/v1/impact-assessments", {"system": "x"}, "system_id"),
    ("/v1/impact-assessments/required", {"missing_only": "true"}, "missing"),
    ("/v1/risks", {"vendor_id": "x"}, "system_id"),
    ("/v1/soa/entries", {"status": "proposed"}, "decision"),
    ("/v1/soa/versions", {"state": "draft"}, "limit"),
    ("/v1/risk-policy", {"x": "1"}, None),
    ("/v1/systems", {"tier": "high"}, "limit"),
    ("/v1/classifications/needed", {"tier": "high"}, "limit"),
    (f"/v1/classifications?system_id={uuid.uuid4()}", {"views": "summary"}, "view"),
    ("/v1/eu-ai-act/questionnaire", {"lang": "de"}, None),
]
INVENTORY = [
    ("/v1/vendors", {"vendor": "Acme"}, "limit"),
    ("/v1/components", {"system": "x"}, "system_id"),
    ("/v1/dependencies", {"from": "x"}, "limit"),
    ("/v1/interfaces", {"colour": "red"}, "limit"),
    ("/v1/context-issues", {"colour": "red"}, "limit"),
    ("/v1/interested-parties", {"colour": "red"}, "limit"),
    ("/v1/scope-versions", {"state": "draft"}, "limit"),
    ("/v1/organisation/ai-roles", {"role": "provider"}, None),
    ("/v1/organisation/ai-roles/history", {"colour": "red"}, "limit"),
]


@pytest.mark.parametrize(("service", "path", "params", "allowed"), [
    *(("risk", *case) for case in RISK),
    *(("inventory", *case) for case in INVENTORY),
])  # fmt: skip
async def test_unknown_filters_are_refused_naming_the_allowed_ones(
    stack: Any, org: uuid.UUID, service: str, path: str, params: dict[str, str], allowed: Any
) -> None:
    client = stack.clients[service]
    known = await client.get(path, headers=stack.headers(org, "viewer"))
    assert known.status_code == 200, known.text
    response = await client.get(path, params=params, headers=stack.headers(org, "viewer"))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "unknown-query-parameter"
    assert problem["unknown"] == list(params)
    if allowed is not None:
        assert allowed in problem["allowed"], problem
    else:
        assert problem["allowed"] == []
