"""Organisational context (ISO/IEC 42001 4.1, 4.2) through the REST API."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.engines

ISSUE = {
    "kind": "external",
    "framework": "pestle",
    "category": "legal",
    "title": "EU AI Act high-risk obligations",
    "impact": "Conformity assessment needed",
    "owner": "compliance@example.com",
}


async def create_issue(stack: Any, org: uuid.UUID, **fields: Any) -> dict[str, Any]:
    response = await stack.inventory.post(
        "/v1/context-issues", json={**ISSUE, **fields}, headers=stack.headers(org, "contributor")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_issue_category_must_belong_to_its_framework(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "contributor")
    wrong = await stack.inventory.post(
        "/v1/context-issues", json={**ISSUE, "framework": "swot"}, headers=headers
    )
    assert wrong.status_code == 422
    assert "SWOT" in wrong.text

    issue = await create_issue(stack, org, framework="swot", category="threat")
    patched = await stack.inventory.patch(
        f"/v1/context-issues/{issue['id']}",
        json={"category": "legal"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert patched.status_code == 422
    assert patched.json()["errors"][0]["location"] == ["body", "category"]

    both = await stack.inventory.patch(
        f"/v1/context-issues/{issue['id']}",
        json={"framework": "pestle", "category": "legal"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert both.status_code == 200, both.text
    assert both.json()["framework"] == "pestle" and both.json()["version"] == 2


async def test_issue_update_needs_etag_and_is_recorded_in_history(
    stack: Any, org: uuid.UUID
) -> None:
    issue = await create_issue(stack, org)
    url = f"/v1/context-issues/{issue['id']}"
    headers = stack.headers(org, "manager", subject="carol")
    assert (
        await stack.inventory.patch(url, json={"title": "x"}, headers=headers)
    ).status_code == 428
    updated = await stack.inventory.patch(
        url, json={"impact": "Budget for conformity"}, headers={**headers, "If-Match": '"1"'}
    )
    assert updated.status_code == 200
    assert updated.headers["etag"] == '"2"'
    stale = await stack.inventory.patch(
        url, json={"impact": "y"}, headers={**headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412

    history = (await stack.inventory.get(f"{url}/history", headers=stack.headers(org))).json()
    assert [h["action"] for h in history["items"]] == ["created", "updated"]
    change = history["items"][1]
    assert change["changed_by"] == "carol" and change["version"] == 2
    assert change["changes"] == {
        "impact": {"from": "Conformity assessment needed", "to": "Budget for conformity"}
    }


async def test_issues_filter_paginate_and_idempotent_create(stack: Any, org: uuid.UUID) -> None:
    headers = {**stack.headers(org, "contributor"), "Idempotency-Key": "issue-1"}
    first = await stack.inventory.post(
        "/v1/context-issues",
        json={**ISSUE, "next_review_at": "2020-01-01T00:00:00Z"},
        headers=headers,
    )
    again = await stack.inventory.post(
        "/v1/context-issues",
        json={**ISSUE, "next_review_at": "2020-01-01T00:00:00Z"},
        headers=headers,
    )
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    await create_issue(stack, org, next_review_at="2999-01-01T00:00:00Z")
    await create_issue(stack, org, kind="internal", framework="swot", category="strength")

    reader = stack.headers(org, "auditor")
    overdue = (
        await stack.inventory.get("/v1/context-issues?review_overdue=true", headers=reader)
    ).json()
    assert [i["id"] for i in overdue["items"]] == [first.json()["id"]]
    swot = (await stack.inventory.get("/v1/context-issues?framework=swot", headers=reader)).json()
    assert [i["category"] for i in swot["items"]] == ["strength"]

    page = (await stack.inventory.get("/v1/context-issues?limit=2", headers=reader)).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (
        await stack.inventory.get(
            f"/v1/context-issues?limit=2&after={page['next_cursor']}", headers=reader
        )
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


async def test_interested_parties_with_requirements(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "contributor")
    created = await stack.inventory.post(
        "/v1/interested-parties",
        json={
            "name": "Data protection authority",
            "type": "regulator",
            "requirements": [
                {"text": "DPIA for automated decisions", "addressed": True},
                {"text": "Explanations on request"},
            ],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    party = created.json()
    assert party["requirements"][1] == {
        "text": "Explanations on request",
        "addressed": False,
        "note": "",
    }
    bad = await stack.inventory.post(
        "/v1/interested-parties", json={"name": "X", "type": "alien"}, headers=headers
    )
    assert bad.status_code == 422

    open_ones = (
        await stack.inventory.get("/v1/interested-parties?unaddressed=true", headers=headers)
    ).json()
    assert [p["id"] for p in open_ones["items"]] == [party["id"]]

    url = f"/v1/interested-parties/{party['id']}"
    updated = await stack.inventory.patch(
        url,
        json={
            "requirements": [
                {"text": "DPIA for automated decisions", "addressed": True},
                {"text": "Explanations on request", "addressed": True, "note": "XAI report"},
            ]
        },
        headers={**headers, "If-Match": '"1"'},
    )
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    none_open = (
        await stack.inventory.get("/v1/interested-parties?unaddressed=true", headers=headers)
    ).json()
    assert none_open["items"] == []
    history = (await stack.inventory.get(f"{url}/history", headers=headers)).json()
    assert list(history["items"][1]["changes"]) == ["requirements"]


async def test_organisation_ai_roles(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "manager")
    empty = await stack.inventory.get("/v1/organisation/ai-roles", headers=headers)
    assert empty.status_code == 200
    assert empty.json()["roles"] == [] and empty.headers["etag"] == '"0"'

    body = {"roles": ["provider", "customer"], "note": "We sell an API and buy a model."}
    assert (
        await stack.inventory.put("/v1/organisation/ai-roles", json=body, headers=headers)
    ).status_code == 428
    put = await stack.inventory.put(
        "/v1/organisation/ai-roles", json=body, headers={**headers, "If-Match": '"0"'}
    )
    assert put.status_code == 200, put.text
    assert put.json()["roles"] == ["provider", "customer"] and put.json()["version"] == 1
    bad = await stack.inventory.put(
        "/v1/organisation/ai-roles",
        json={"roles": ["deployer"]},
        headers={**headers, "If-Match": '"1"'},
    )
    assert bad.status_code == 422
    twice = await stack.inventory.put(
        "/v1/organisation/ai-roles",
        json={"roles": ["provider", "provider"]},
        headers={**headers, "If-Match": '"1"'},
    )
    assert twice.status_code == 422
    auditor = await stack.inventory.put(
        "/v1/organisation/ai-roles",
        json=body,
        headers={**stack.headers(org, "auditor"), "If-Match": '"1"'},
    )
    assert auditor.status_code == 403
    history = (
        await stack.inventory.get("/v1/organisation/ai-roles/history", headers=headers)
    ).json()
    assert [h["action"] for h in history["items"]] == ["created"]


async def test_another_organisation_sees_no_context(stack: Any, org: uuid.UUID) -> None:
    issue = await create_issue(stack, org)
    other = stack.headers(uuid.uuid4(), "admin")
    assert (
        await stack.inventory.get(f"/v1/context-issues/{issue['id']}", headers=other)
    ).status_code == 404
    assert (await stack.inventory.get("/v1/context-issues", headers=other)).json()["items"] == []
    assert (
        await stack.inventory.patch(
            f"/v1/context-issues/{issue['id']}",
            json={"title": "mine"},
            headers={**other, "If-Match": '"1"'},
        )
    ).status_code == 404
