"""The webhook subscription REST API: validation, SSRF refusal, roles, ETags, pagination.

Unsafe targets here are only validated, never contacted.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.engines

BASE = "/v1/webhook-subscriptions"
RECEIVER = "http://127.0.0.1:9/hooks"  # allowed by the test gateway's allow-list; never called


async def create(stack: Any, org: uuid.UUID, **fields: Any) -> Any:
    body = {"url": RECEIVER, "event_types": ["system.registered"], **fields}
    return await stack.gateway.post(BASE, json=body, headers=stack.headers(org, "admin"))


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = dict(response.json())
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://169.254.169.254/latest/meta-data/", "unsafe-webhook-target"),
        ("http://10.0.0.1/", "unsafe-webhook-target"),
        ("http://192.168.1.10:8080/hook", "unsafe-webhook-target"),
        ("http://[::ffff:10.0.0.1]/", "unsafe-webhook-target"),
        ("http://0.0.0.0/", "unsafe-webhook-target"),
        ("http://0x7f.1/", "validation-failed"),  # non-canonical IPv4: refused as malformed
    ],
)
async def test_unsafe_targets_are_refused(stack: Any, org: uuid.UUID, url: str, code: str) -> None:
    body = assert_problem(await create(stack, org, url=url), 422, code)
    assert body["detail"]
    listed = await stack.gateway.get(BASE, headers=stack.headers(org, "viewer"))
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "https://user:pw@example.com/", "not a url", "/relative"]
)
async def test_malformed_urls_are_refused(stack: Any, org: uuid.UUID, url: str) -> None:
    assert_problem(await create(stack, org, url=url), 422, "validation-failed")


@pytest.mark.parametrize("filters", [[], ["risk*"], ["*.assessed"], ["system"], [""], ["Risk.*"]])
async def test_malformed_filters_are_refused(
    stack: Any, org: uuid.UUID, filters: list[str]
) -> None:
    assert_problem(await create(stack, org, event_types=filters), 422, "validation-failed")


async def test_create_read_list_update_delete(stack: Any, org: uuid.UUID) -> None:
    created = await create(
        stack, org, event_types=["system.*", "risk.*", "system.*"], description="GRC"
    )
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["secret"].startswith("whsec_")
    assert sub["event_types"] == ["system.*", "risk.*"]  # duplicates dropped
    assert sub["enabled"] is True
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"{BASE}/{sub['id']}"

    viewer = stack.headers(org, "viewer")
    read = await stack.gateway.get(f"{BASE}/{sub['id']}", headers=viewer)
    assert read.status_code == 200
    assert "secret" not in read.json()
    assert read.headers["ETag"] == '"1"'

    second = (await create(stack, org)).json()
    page = await stack.gateway.get(BASE, params={"limit": 1}, headers=viewer)
    assert [s["id"] for s in page.json()["items"]] == [sub["id"]]
    cursor = page.json()["next_cursor"]
    assert cursor
    rest = await stack.gateway.get(BASE, params={"limit": 1, "after": cursor}, headers=viewer)
    assert [s["id"] for s in rest.json()["items"]] == [second["id"]]
    batch = await stack.gateway.get(BASE, params={"id": [second["id"]]}, headers=viewer)
    assert [s["id"] for s in batch.json()["items"]] == [second["id"]]

    admin = stack.headers(org, "manager")
    path = f"{BASE}/{sub['id']}"
    assert_problem(await stack.gateway.patch(path, json={"description": "x"}, headers=admin), 428)
    assert_problem(
        await stack.gateway.patch(
            path, json={"description": "x"}, headers={**admin, "If-Match": '"7"'}
        ),
        412,
    )
    patched = await stack.gateway.patch(
        path,
        json={"description": "ServiceNow", "event_types": ["finding.*"], "enabled": False},
        headers={**admin, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2
    assert patched.json()["event_types"] == ["finding.*"]
    assert patched.json()["enabled"] is False
    assert patched.json()["disabled_reason"]
    assert patched.headers["ETag"] == '"2"'

    assert_problem(
        await stack.gateway.patch(
            path, json={"url": "http://10.1.2.3/"}, headers={**admin, "If-Match": '"2"'}
        ),
        422,
        "unsafe-webhook-target",
    )
    # Replaying into a disabled endpoint is refused until it is enabled again.
    assert_problem(
        await stack.gateway.post(
            f"{path}/replay", params={"since": "2026-01-01T00:00:00Z"}, headers=admin
        ),
        409,
        "webhook-subscription-disabled",
    )
    enabled = await stack.gateway.post(f"{path}/enable", headers=admin)
    assert enabled.json()["enabled"] is True
    assert enabled.json()["version"] == 3

    deleted = await stack.gateway.delete(path, headers=admin)
    assert deleted.status_code == 204
    assert_problem(
        await stack.gateway.get(path, headers=viewer), 404, "webhook-subscription-not-found"
    )


async def test_roles(stack: Any, org: uuid.UUID) -> None:
    for role in ("viewer", "auditor", "contributor", "risk_owner"):
        response = await stack.gateway.post(
            BASE,
            json={"url": RECEIVER, "event_types": ["*"]},
            headers=stack.headers(org, role),
        )
        assert_problem(response, 403, "forbidden")
    sub = (await create(stack, org)).json()
    auditor = stack.headers(org, "auditor")
    assert (await stack.gateway.get(f"{BASE}/{sub['id']}", headers=auditor)).status_code == 200
    assert (
        await stack.gateway.get(f"{BASE}/{sub['id']}/messages", headers=auditor)
    ).status_code == 200
    assert_problem(
        await stack.gateway.post(f"{BASE}/{sub['id']}/rotate-secret", headers=auditor), 403
    )
    assert_problem(await stack.gateway.delete(f"{BASE}/{sub['id']}", headers=auditor), 403)
    assert_problem(await stack.gateway.get(BASE), 401, "unauthenticated")


async def test_idempotent_create_returns_the_first_result(stack: Any, org: uuid.UUID) -> None:
    headers = {**stack.headers(org, "admin"), "Idempotency-Key": "create-hook-1"}
    body = {"url": RECEIVER, "event_types": ["*"]}
    first = await stack.gateway.post(BASE, json=body, headers=headers)
    again = await stack.gateway.post(BASE, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    # The same subscription; its secret is shown once and never kept for replays
    # (test_webhook_secrets.py).
    assert again.json() == {**first.json(), "secret": None}
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = await stack.gateway.get(BASE, headers=stack.headers(org, "viewer"))
    assert len(listed.json()["items"]) == 1


async def test_client_supplied_secret_is_validated(stack: Any, org: uuid.UUID) -> None:
    assert_problem(await create(stack, org, secret="whsec_tooshort"), 422, "validation-failed")
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes
    created = await create(stack, org, secret=secret)
    assert created.status_code == 201, created.text
    assert created.json()["secret"] == secret


async def test_replay_since_needs_an_offset_and_unknown_ids_are_404(
    stack: Any, org: uuid.UUID
) -> None:
    sub = (await create(stack, org)).json()
    admin = stack.headers(org, "admin")
    naive = await stack.gateway.post(
        f"{BASE}/{sub['id']}/replay", params={"since": "2026-01-01T00:00:00"}, headers=admin
    )
    assert_problem(naive, 422, "validation-failed")
    missing = await stack.gateway.post(f"{BASE}/{sub['id']}/replay", headers=admin)
    assert_problem(missing, 422, "validation-failed")
    unknown = uuid.uuid4()
    assert_problem(
        await stack.gateway.get(f"/v1/webhook-messages/{unknown}/attempts", headers=admin),
        404,
        "webhook-message-not-found",
    )
    assert_problem(
        await stack.gateway.post(f"/v1/webhook-messages/{unknown}/replay", headers=admin),
        404,
        "webhook-message-not-found",
    )
    assert_problem(
        await stack.gateway.get(f"{BASE}/{unknown}/messages", headers=admin),
        404,
        "webhook-subscription-not-found",
    )
