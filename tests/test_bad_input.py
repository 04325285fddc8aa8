"""Bad input always gets a clear 4xx problem+json answer, never a 500, and loses nothing."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.engines

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = dict(response.json())
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"] and body["detail"]
    if code:
        assert body["code"] == code
    return body


async def test_malformed_json_is_400(stack: Any, org: uuid.UUID) -> None:
    response = await stack.inventory.post(
        "/v1/ai-systems",
        content=b'{"name": "x",',
        headers={**stack.headers(org), "content-type": "application/json"},
    )
    assert_problem(response, 400, "bad-request")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 42}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "lifecycle_stage": "launched"}, "lifecycle_stage"),
        ({"name": "ok", "colour": "blue"}, "colour"),  # unknown fields are refused
        ([], None),
    ],
)
async def test_invalid_payloads_are_422_with_locations(
    stack: Any, org: uuid.UUID, body: Any, field: str | None
) -> None:
    response = await stack.inventory.post("/v1/ai-systems", json=body, headers=stack.headers(org))
    problem = assert_problem(response, 422, "validation-failed")
    if field:
        assert any(field in e["location"] for e in problem["errors"])


async def test_oversized_body_is_413(stack: Any, org: uuid.UUID) -> None:
    big = {"name": "x", "description": "y" * (2 * 1024 * 1024)}
    response = await stack.inventory.post("/v1/ai-systems", json=big, headers=stack.headers(org))
    assert_problem(response, 413, "payload-too-large")


async def test_chunked_oversized_body_is_413(stack: Any, org: uuid.UUID) -> None:
    async def chunks() -> Any:
        yield b'{"name": "x", "description": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    response = await stack.inventory.post(
        "/v1/ai-systems",
        content=chunks(),
        headers={**stack.headers(org), "content-type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


def _foreign_token(org: uuid.UUID) -> str:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    claims = {
        "iss": "aims-local",
        "aud": "aims",
        "sub": "mallory",
        "org_id": str(org),
        "roles": ["admin"],
        "exp": int(time.time()) + 600,
    }
    return jwt.encode(claims, pem, algorithm="EdDSA")


def _signed(private_key: Path, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "iss": "aims-local",
        "aud": "aims",
        "sub": "tester",
        "org_id": str(uuid.uuid4()),
        "roles": ["admin"],
        "exp": int(time.time()) + 600,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
    return jwt.encode(claims, key, algorithm="EdDSA")  # type: ignore[arg-type]


@pytest.mark.parametrize("service", ["inventory", "risk", "evidence"])
async def test_bad_credentials_are_401_or_403(stack: Any, org: uuid.UUID, service: str) -> None:
    client = stack.clients[service]
    path = "/v1/ai-systems" if service == "inventory" else "/v1/systems"
    key = stack.engines.private_key
    cases = {
        "none": ({}, 401),
        "not bearer": ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        "garbage": ({"Authorization": "Bearer not-a-jwt"}, 401),
        "foreign key": ({"Authorization": f"Bearer {_foreign_token(org)}"}, 401),
        "expired": ({"Authorization": f"Bearer {_signed(key, exp=int(time.time()) - 60)}"}, 401),
        "wrong audience": ({"Authorization": f"Bearer {_signed(key, aud='other')}"}, 401),
        "no org": ({"Authorization": f"Bearer {_signed(key, org_id='nope')}"}, 401),
        "no role": ({"Authorization": f"Bearer {_signed(key, roles=['superhero'])}"}, 403),
        "unknown api key": ({"Authorization": "Bearer aims_deadbeef_nope"}, 401),
    }
    for name, (headers, status) in cases.items():
        response = await client.get(path, headers=headers)
        assert response.status_code == status, (name, response.text)
        assert response.headers["content-type"].startswith(PROBLEM), name
        if status == 401:
            assert response.headers.get("www-authenticate") == "Bearer", name


async def test_bad_if_match_and_cursors_and_ids(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org)
    created = await stack.inventory.post("/v1/ai-systems", json={"name": "x"}, headers=headers)
    url = f"/v1/ai-systems/{created.json()['id']}"
    bad_etag = await stack.inventory.patch(
        url, json={"name": "y"}, headers={**headers, "If-Match": "banana"}
    )
    assert_problem(bad_etag, 412, "precondition-failed")
    assert_problem(
        await stack.inventory.get("/v1/ai-systems", params={"after": "%%%"}, headers=headers),
        400,
        "invalid-cursor",
    )
    assert_problem(
        await stack.inventory.get("/v1/ai-systems", params={"limit": 0}, headers=headers), 422
    )
    assert_problem(
        await stack.inventory.get("/v1/ai-systems", params={"limit": 10_000}, headers=headers), 422
    )
    assert_problem(await stack.inventory.get("/v1/ai-systems/not-a-uuid", headers=headers), 422)
    assert_problem(
        await stack.inventory.get(f"/v1/ai-systems/{uuid.uuid4()}", headers=headers), 404
    )
    assert_problem(await stack.inventory.get("/v1/nothing-here", headers=headers), 404)
    # Nothing was lost on the way.
    assert (await stack.inventory.get(url, headers=headers)).json()["name"] == "x"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.dictionaries(
        st.sampled_from(
            ["name", "description", "owner", "business_function", "lifecycle_stage", "x"]
        ),
        json_values,
        max_size=5,
    )
)
async def test_no_payload_makes_a_500(stack: Any, org: uuid.UUID, body: dict[str, Any]) -> None:
    headers = {**stack.headers(org), "content-type": "application/json"}
    response = await stack.inventory.post(
        "/v1/ai-systems", content=json.dumps(body).encode(), headers=headers
    )
    assert response.status_code in (201, 400, 422), response.text
    if response.status_code != 201:
        assert response.headers["content-type"].startswith(PROBLEM)
