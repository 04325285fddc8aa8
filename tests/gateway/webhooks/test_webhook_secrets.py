"""Webhook secrets: encrypted at rest, never in the idempotency table, never in a log line.

Stored rows are read straight from the gateway database as the PostgreSQL superuser (row-level
security does not hide them from it), the way an attacker with a database dump would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import secrets
import sys
import traceback
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from gateway.webhooks import service
from gateway.webhooks.secretbox import SecretKeyring, load_keyring, new_key
from shared.db import Database, idempotency_table, tenant_transaction
from shared.observability import JsonFormatter
from shared.testing import eventually
from tests.gateway.webhooks.test_delivery_webhooks import (
    Receiver,
    attempts,
    messages,
    register_system,
    subscribe,
)

pytestmark = pytest.mark.engines

BASE = "/v1/webhook-subscriptions"


def fresh_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def all_log_text(records: list[logging.LogRecord]) -> str:
    """Every record as the plain and the JSON formatter write it, tracebacks included."""
    plain, structured = logging.Formatter(), JsonFormatter()
    return "\n".join(plain.format(r) + "\n" + structured.format(r) for r in records)


# --- parameters are hidden from logs ------------------------------------------------------------


async def test_failing_insert_keeps_its_values_out_of_errors_and_logs(
    stack: Any, org: uuid.UUID, caplog: pytest.LogCaptureFixture
) -> None:
    """A write that fails in the database names no parameter and no stored value."""
    secret = fresh_secret()
    db = Database(stack.engines.databases["gateway"].app_url, pool_size=1)
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("aims.test")
    row = {
        "org_id": org,
        "key": secret,  # the key collides: PostgreSQL's DETAIL would quote it
        "fingerprint": "f",
        "status_code": 201,
        "body": {"secret": secret},
        "headers": {},
    }
    try:
        async with tenant_transaction(db, org) as session:
            await session.execute(sa.insert(idempotency_table).values(**row))
        with pytest.raises(sa.exc.IntegrityError) as raised:
            async with tenant_transaction(db, org) as session:
                await session.execute(sa.insert(idempotency_table).values(**row))
        try:
            raise raised.value
        except sa.exc.IntegrityError:
            logger.exception("create failed")
    finally:
        await db.dispose()
    text = "".join(traceback.format_exception(raised.value))
    assert "duplicate key" in text  # the error is still diagnosable
    assert secret not in text
    assert "hidden" in str(raised.value)
    assert secret not in all_log_text(caplog.records)


async def test_failing_webhook_create_logs_no_secret(
    stack: Any, org: uuid.UUID, caplog: pytest.LogCaptureFixture
) -> None:
    secret = fresh_secret()
    caplog.set_level(logging.DEBUG)
    # A client that gets the 500 answer instead of the app's exception re-raised in the test.
    transport = httpx.ASGITransport(app=stack.apps["gateway"], raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.post(
            BASE,
            json={
                "url": "http://127.0.0.1:9/hooks",
                "event_types": ["system.registered"],
                "secret": secret,
                "description": "NUL \u0000 in the middle",
            },
            headers=stack.headers(org, "admin"),
        )
    assert response.status_code >= 400
    assert secret not in response.text
    assert secret not in all_log_text(caplog.records)


# --- encrypted at rest ----------------------------------------------------------------------------


async def test_secret_is_encrypted_at_rest_and_still_signs(
    stack: Any, org: uuid.UUID, superuser: asyncpg.Connection
) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        sub = await subscribe(stack, org, receiver.url)
        row = await superuser.fetchrow(
            "SELECT * FROM webhook_subscription WHERE id = $1", uuid.UUID(sub["id"])
        )
        assert row is not None
        stored = json.dumps({k: str(v) for k, v in dict(row).items()})
        plain_key = sub["secret"].removeprefix("whsec_")
        assert plain_key not in stored and sub["secret"] not in stored
        assert row["secret_key_id"] == service.current_keyring().current_id
        await register_system(stack, org)
        [delivery] = await receiver.wait_for(1)
        Webhook(sub["secret"]).verify(delivery.body, delivery.headers)
    finally:
        await receiver.stop()


async def test_rotated_secret_is_encrypted_and_both_sign(
    stack: Any, org: uuid.UUID, superuser: asyncpg.Connection
) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        sub = await subscribe(stack, org, receiver.url)
        rotated = await stack.gateway.post(
            f"{BASE}/{sub['id']}/rotate-secret", headers=stack.headers(org, "admin")
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        row = await superuser.fetchrow(
            "SELECT secret, previous_secret, secret_key_id, previous_secret_key_id "
            "FROM webhook_subscription WHERE id = $1",
            uuid.UUID(sub["id"]),
        )
        assert row is not None
        stored = " ".join(str(v) for v in row.values())
        for plain in (sub["secret"], new):
            assert plain.removeprefix("whsec_") not in stored
        assert row["previous_secret_key_id"] is not None
        await register_system(stack, org)
        [delivery] = await receiver.wait_for(1)
        Webhook(new).verify(delivery.body, delivery.headers)
        Webhook(sub["secret"]).verify(delivery.body, delivery.headers)
    finally:
        await receiver.stop()


# --- no secret in the idempotency table -----------------------------------------------------------


async def test_idempotency_table_holds_no_secret_and_replay_is_honest(
    stack: Any, org: uuid.UUID, superuser: asyncpg.Connection
) -> None:
    body = {"url": "http://127.0.0.1:9/hooks", "event_types": ["system.registered"]}
    headers = {**stack.headers(org, "admin"), "Idempotency-Key": f"create-{uuid.uuid4()}"}
    first = await stack.gateway.post(BASE, json=body, headers=headers)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["secret"].startswith("whsec_")

    rows = await superuser.fetch("SELECT body, headers FROM idempotency_key WHERE org_id = $1", org)
    assert len(rows) == 1
    remembered = " ".join(str(v) for v in rows[0].values())
    assert created["secret"] not in remembered
    assert created["secret"].removeprefix("whsec_") not in remembered

    rotated = await stack.gateway.post(
        f"{BASE}/{created['id']}/rotate-secret", headers=stack.headers(org, "admin")
    )
    assert rotated.status_code == 200
    replay = await stack.gateway.post(BASE, json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    again = replay.json()
    assert again["id"] == created["id"]  # the same subscription, not a second one
    assert again["secret"] is None  # neither the stale secret nor the rotated one
    assert created["secret"] not in replay.text and rotated.json()["secret"] not in replay.text
    listed = await stack.gateway.get(BASE, headers=stack.headers(org, "viewer"))
    assert [s["id"] for s in listed.json()["items"]] == [created["id"]]


# --- key rotation ---------------------------------------------------------------------------------


async def run_reencrypt(stack: Any, keys: dict[str, str], current: str) -> dict[str, Any]:
    """``aims webhooks reencrypt`` as an operator runs it (a real process)."""
    engines = stack.engines
    env = {
        **os.environ,
        "AIMS_DATABASE_URL": engines.admin_url,
        "AIMS_DATABASE_PREFIX": engines.prefix,
        "AIMS_SECRET_KEY": engines.secret_key,
        "AIMS_WEBHOOK_SECRET_KEYS": json.dumps(keys),
        "AIMS_WEBHOOK_SECRET_KEY_ID": current,
        "AIMS_ENVIRONMENT": "test",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aims",
        "webhooks",
        "reencrypt",
        env=env,
        cwd=str(Path(__file__).resolve().parents[3]),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return dict(json.loads(out))


async def test_reencrypt_moves_every_secret_to_the_new_key(
    stack: Any, org: uuid.UUID, superuser: asyncpg.Connection
) -> None:
    ctx = stack.apps["gateway"].state.ctx
    before = load_keyring(ctx.settings)
    encoded = {k: base64.b64encode(v).decode() for k, v in before.keys.items()}
    new_id = f"k-{uuid.uuid4().hex[:8]}"
    both = {**encoded, new_id: new_key()}
    receiver = Receiver()
    await receiver.start()
    # The running gateway learns the new key first (as a rolling restart would do), still
    # encrypting under the old one.
    service.configure(
        allowed_targets=["127.0.0.0/8"],
        keyring=SecretKeyring.from_encoded(before.current_id, both),
    )
    try:
        sub = await subscribe(stack, org, receiver.url)
        sub_id = uuid.UUID(sub["id"])
        old_row = await superuser.fetchrow(
            "SELECT secret, secret_key_id FROM webhook_subscription WHERE id = $1", sub_id
        )
        assert old_row is not None and old_row["secret_key_id"] == before.current_id

        counts = await run_reencrypt(stack, both, new_id)
        assert counts["current_key_id"] == new_id
        assert counts["subscriptions"] >= 1 and counts["reencrypted"] >= 1
        row = await superuser.fetchrow(
            "SELECT secret, secret_key_id FROM webhook_subscription WHERE id = $1", sub_id
        )
        assert row is not None
        assert row["secret_key_id"] == new_id
        assert row["secret"] != old_row["secret"]
        assert sub["secret"].removeprefix("whsec_") not in row["secret"]
        leftover = await superuser.fetchval(
            "SELECT count(*) FROM webhook_subscription WHERE secret_key_id <> $1 "
            "OR previous_secret_key_id <> $1",
            new_id,
        )
        assert leftover == 0

        # The same secret still signs, decrypted under the new key.
        await register_system(stack, org)
        [delivery] = await receiver.wait_for(1)
        Webhook(sub["secret"]).verify(delivery.body, delivery.headers)

        # Running it again changes nothing.
        assert (await run_reencrypt(stack, both, new_id))["reencrypted"] == 0
    finally:
        # Back under the session's key, so the other tests' gateway reads every secret.
        await run_reencrypt(stack, both, before.current_id)
        service.configure(allowed_targets=["127.0.0.0/8"], keyring=before)
        await receiver.stop()


async def test_unknown_key_id_is_refused(stack: Any) -> None:
    ctx = stack.apps["gateway"].state.ctx
    keyring = load_keyring(ctx.settings)
    with pytest.raises(ValueError, match="not configured"):
        keyring.decrypt("no-such-key", "AAAA", uuid.uuid4())


async def test_secret_under_a_removed_key_fails_visibly_in_the_log(
    stack: Any, org: uuid.UUID
) -> None:
    ctx = stack.apps["gateway"].state.ctx
    before = load_keyring(ctx.settings)
    encoded = {k: base64.b64encode(v).decode() for k, v in before.keys.items()}
    gone_id = f"gone-{uuid.uuid4().hex[:8]}"
    service.configure(
        allowed_targets=["127.0.0.0/8"],
        keyring=SecretKeyring.from_encoded(gone_id, {**encoded, gone_id: new_key()}),
    )
    receiver = Receiver()
    await receiver.start()
    sub: dict[str, Any] = {}
    try:
        sub = await subscribe(stack, org, receiver.url)  # encrypted under the doomed key
        service.configure(allowed_targets=["127.0.0.0/8"], keyring=before)  # key removed
        await register_system(stack, org)

        async def logged() -> list[dict[str, Any]] | None:
            items = await messages(stack, org, sub["id"])
            if not items:
                return None
            log = await attempts(stack, org, items[0]["id"])
            return log if log and log[0]["completed_at"] else None

        [attempt] = await eventually(logged)
        assert attempt["status_code"] is None
        assert gone_id in attempt["error"] and "not configured" in attempt["error"]
        assert receiver.received == []
    finally:
        service.configure(allowed_targets=["127.0.0.0/8"], keyring=before)
        if sub:  # nothing may stay under a key nobody has (the re-encryption test reads all)
            deleted = await stack.gateway.delete(
                f"{BASE}/{sub['id']}", headers=stack.headers(org, "admin")
            )
            assert deleted.status_code == 204
        await receiver.stop()
