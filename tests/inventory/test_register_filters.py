"""List filters of the register (issue 9): unknown parameters are refused, the filters users
asked for work and combine with keyset pagination; ``last_reviewed_at`` beside
``next_review_at``; NUL characters are a 422, not a failed statement."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from shared.db import uuid7

pytestmark = pytest.mark.engines

LIST = "/v1/ai-systems"


async def register(stack: Any, org: uuid.UUID, **body: Any) -> dict[str, Any]:
    response = await stack.inventory.post(
        LIST, json={"name": "System", **body}, headers=stack.headers(org, "contributor")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def names(stack: Any, org: uuid.UUID, params: Any) -> list[str]:
    response = await stack.inventory.get(LIST, params=params, headers=stack.headers(org))
    assert response.status_code == 200, response.text
    return sorted(s["name"] for s in response.json()["items"])


async def vendor(stack: Any, org: uuid.UUID, name: str) -> str:
    response = await stack.inventory.post(
        "/v1/vendors", json={"name": name}, headers=stack.headers(org, "admin")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def define(stack: Any, org: uuid.UUID, **body: Any) -> None:
    response = await stack.inventory.post(
        "/v1/custom-fields", json=body, headers=stack.headers(org, "admin")
    )
    assert response.status_code == 201, response.text


async def test_unknown_query_parameters_are_refused_naming_the_allowed_ones(
    stack: Any, org: uuid.UUID
) -> None:
    await register(stack, org, name="A")
    for path, params in [
        (LIST, {"colour": "red"}),
        (LIST, {"vendor": "x"}),
        (LIST, {"cursor": "abc"}),
        (LIST, {"cf.": "x"}),
        ("/v1/ai-systems/completeness", {"owner": "x"}),
        ("/v1/custom-fields", {"key": "x"}),
    ]:
        response = await stack.inventory.get(path, params=params, headers=stack.headers(org))
        assert response.status_code == 400, (path, params, response.text)
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert problem["code"] == "unknown-query-parameter"
        assert problem["unknown"] == list(params)
        assert "limit" in problem["allowed"]
    allowed = (
        await stack.inventory.get(LIST, params={"x": "1"}, headers=stack.headers(org))
    ).json()["allowed"]
    for name in (
        "vendor_id",
        "business_function",
        "ai_role",
        "tier",
        "in_scope",
        "lifecycle_stage",
        "cf.<key>",
    ):
        assert name in allowed


async def test_filters_by_vendor_business_function_role_stage_and_custom_field(
    stack: Any, org: uuid.UUID
) -> None:
    acme, globex = await vendor(stack, org, "Acme"), await vendor(stack, org, "Globex")
    await define(stack, org, key="cost_centre", label="Cost centre", type="text")
    await define(stack, org, key="budget", label="Budget", type="number")
    await define(stack, org, key="go_live", label="Go-live", type="date")
    await register(
        stack,
        org,
        name="A",
        vendor_id=acme,
        business_function="IT",
        ai_roles=["customer"],
        lifecycle_stage="deployed",
        custom_fields={"cost_centre": "HR-42", "budget": 1200, "go_live": "2027-01-15"},
    )
    await register(
        stack,
        org,
        name="B",
        vendor_id=globex,
        business_function="Human resources",
        ai_roles=["provider"],
        lifecycle_stage="deployed",
        custom_fields={"cost_centre": "FIN-1", "budget": 99.5},
    )
    await register(stack, org, name="C", business_function="it", ai_roles=["customer", "producer"])

    assert await names(stack, org, {"vendor_id": acme}) == ["A"]
    assert await names(stack, org, [("vendor_id", acme), ("vendor_id", globex)]) == ["A", "B"]
    assert await names(stack, org, {"business_function": "IT"}) == ["A", "C"]
    assert await names(stack, org, {"ai_role": "customer"}) == ["A", "C"]
    assert await names(stack, org, {"ai_role": "producer"}) == ["C"]
    assert await names(stack, org, {"lifecycle_stage": "deployed"}) == ["A", "B"]
    assert await names(stack, org, {"cf.cost_centre": "HR-42"}) == ["A"]
    assert await names(stack, org, [("cf.cost_centre", "HR-42"), ("cf.cost_centre", "FIN-1")]) == [
        "A",
        "B",
    ]
    assert await names(stack, org, {"cf.budget": "1200"}) == ["A"]
    assert await names(stack, org, {"cf.budget": "99.50"}) == ["B"]
    assert await names(stack, org, {"cf.go_live": "2027-01-15"}) == ["A"]
    # combined: AND across filters
    assert await names(stack, org, {"business_function": "it", "ai_role": "producer"}) == ["C"]
    assert await names(stack, org, {"business_function": "it", "vendor_id": globex}) == []
    assert await names(stack, org, {"tier": "high"}) == []  # nothing classified yet
    assert await names(stack, org, {"eu_ai_act_tier": "high", "in_scope": "true"}) == []
    # another organisation's vendor filters to nothing here
    assert await names(stack, uuid7(), {"vendor_id": acme}) == []

    for params, code in [
        ({"cf.colour": "red"}, "invalid-custom-field-filter"),
        ({"cf.budget": "lots"}, "invalid-custom-field-filter"),
        ({"cf.go_live": "soon"}, "invalid-custom-field-filter"),
    ]:
        response = await stack.inventory.get(LIST, params=params, headers=stack.headers(org))
        assert response.status_code == 400, response.text
        assert response.json()["code"] == code
    bad_vendor = await stack.inventory.get(
        LIST, params={"vendor_id": "not-a-uuid"}, headers=stack.headers(org)
    )
    assert bad_vendor.status_code == 422


async def test_filtered_pages_follow_the_cursor(stack: Any, org: uuid.UUID) -> None:
    for i in range(7):
        await register(stack, org, name=f"S{i}", business_function="IT" if i % 2 else "Sales")
    seen: list[str] = []
    after: str | None = None
    for _ in range(5):
        params = {"business_function": "it", "limit": 2, "sort": "name"}
        if after:
            params["after"] = after
        response = await stack.inventory.get(LIST, params=params, headers=stack.headers(org))
        assert response.status_code == 200, response.text
        seen.extend(s["name"] for s in response.json()["items"])
        after = response.json()["next_cursor"]
        if not after:
            break
    assert seen == ["S1", "S3", "S5"]


async def test_last_reviewed_at_is_recorded_beside_next_review_at(
    stack: Any, org: uuid.UUID
) -> None:
    created = await register(stack, org, last_reviewed_at="2026-01-10", next_review_at="2027-01-10")
    assert created["last_reviewed_at"] == "2026-01-10"
    assert created["next_review_at"] == "2027-01-10"
    url = f"{LIST}/{created['id']}"
    patched = await stack.inventory.patch(
        url,
        json={"last_reviewed_at": "2026-02-01"},
        headers={**stack.headers(org, "contributor"), "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["last_reviewed_at"] == "2026-02-01"
    assert patched.json()["next_review_at"] == "2027-01-10"
    history = await stack.inventory.get(f"{url}/history", headers=stack.headers(org))
    assert history.json()["items"][0]["changes"] == {
        "last_reviewed_at": {"from": "2026-01-10", "to": "2026-02-01"}
    }
    exported = await stack.inventory.get(
        "/v1/ai-systems/export.csv", headers=stack.headers(org, "viewer")
    )
    header, row = exported.text.lstrip("\ufeff").splitlines()[:2]
    assert "last_reviewed_at" in header.split(",") and "2026-02-01" in row

    future = (date.today() + timedelta(days=30)).isoformat()
    refused = await stack.inventory.patch(
        url,
        json={"last_reviewed_at": future},
        headers={**stack.headers(org, "contributor"), "If-Match": '"2"'},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["location"] == ["body", "last_reviewed_at"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "nul\x00name"},
        {"name": "x", "description": "a\x00b"},
        {"name": "x", "affected_stakeholders": ["a\x00"]},
        {"name": "x", "data_inputs": [{"category": "\x00"}]},
    ],
)
async def test_nul_characters_are_a_422_naming_the_field(
    stack: Any, org: uuid.UUID, body: dict[str, Any]
) -> None:
    response = await stack.inventory.post(LIST, json=body, headers=stack.headers(org, "admin"))
    assert response.status_code == 422, response.text
    assert "NUL" in response.text
    listed = await stack.inventory.get(LIST, params={"name": "a\x00"}, headers=stack.headers(org))
    assert listed.status_code == 422
    assert await names(stack, org, {}) == []


async def test_custom_field_with_nul_is_refused(stack: Any, org: uuid.UUID) -> None:
    await define(stack, org, key="note", label="Note", type="text")
    response = await stack.inventory.post(
        LIST, json={"name": "x", "custom_fields": {"note": "a\x00b"}}, headers=stack.headers(org)
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == ["body", "custom_fields", "note"]
