"""The hash-chained audit trail through every service's REST API, its CLI and its database.

Tampering is arranged as a rogue database owner would do it: directly in PostgreSQL with the
owner role (the app role cannot change or delete entries at all).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from shared.audit import Actor, AuditVerification, append_audit, pending_entries, verify_chain
from shared.db import Database, set_org, uuid7

pytestmark = pytest.mark.engines

ROOT = Path(__file__).resolve().parents[2]
TRAIL = "/v1/audit-trail"


async def register(stack: Any, org: uuid.UUID, name: str, subject: str = "alice") -> Any:
    response = await stack.inventory.post(
        "/v1/ai-systems",
        json={"name": name},
        headers=stack.headers(org, "contributor", subject=subject),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def trail(
    stack: Any, service: str, org: uuid.UUID, role: str = "auditor", **params: Any
) -> list[dict[str, Any]]:
    response = await stack.clients[service].get(
        TRAIL, params={"limit": 500, **params}, headers=stack.headers(org, role)
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def verify(stack: Any, org: uuid.UUID, service: str = "inventory") -> dict[str, Any]:
    response = await stack.clients[service].get(
        f"{TRAIL}/verify", headers=stack.headers(org, "auditor")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def chain_of(db: Database, org: uuid.UUID) -> AuditVerification:
    """The verification of ``org``'s chain, read through ``db``."""
    async with db.sessions() as session, session.begin():
        await set_org(session, org)
        return await verify_chain(session, org)


def problems(result: dict[str, Any]) -> list[tuple[int, str]]:
    return [(p["seq"], p["problem"]) for p in result["problems"]]


@pytest.fixture
async def owner(stack: Any) -> AsyncIterator[Any]:
    """Run SQL in the inventory database as its owner, scoped to one org (the tamperer)."""
    engine = create_async_engine(stack.engines.databases["inventory"].owner_url)

    async def run(org: uuid.UUID, *statements: str) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text("SELECT set_config('aims.org_id', :org, true)"), {"org": str(org)}
            )
            for statement in statements:
                await conn.execute(sa.text(statement), {"org": org})

    try:
        yield run
    finally:
        await engine.dispose()


async def four_systems(stack: Any, org: uuid.UUID) -> list[dict[str, Any]]:
    created = [await register(stack, org, f"System {n}") for n in range(1, 5)]
    assert [e["seq"] for e in await trail(stack, "inventory", org)] == [1, 2, 3, 4]
    assert (await verify(stack, org))["valid"] is True
    return created


# --- What the trail records -----------------------------------------------------------------------


async def test_changes_in_two_services_are_recorded_with_actor_before_and_after(
    stack: Any, org: uuid.UUID
) -> None:
    system = await register(stack, org, "Credit scoring", subject="alice")
    updated = await stack.inventory.patch(
        f"/v1/ai-systems/{system['id']}",
        json={"owner": "dpo@example.com"},
        headers={**stack.headers(org, "contributor", subject="bob"), "If-Match": '"1"'},
    )
    assert updated.status_code == 200, updated.text

    entries = await trail(stack, "inventory", org)
    assert [(e["seq"], e["action"], e["actor"]) for e in entries] == [
        (1, "aims.inventory.system.registered", "alice"),
        (2, "aims.inventory.system.updated", "bob"),
    ]
    created, changed = entries
    assert created["entity_type"] == "system" and created["entity_id"] == system["id"]
    assert created["actor_kind"] == "user"
    assert created["before"] is None
    assert created["after"]["name"] == "Credit scoring" and created["after"]["owner"] is None
    assert changed["before"] == created["after"]
    assert changed["after"]["owner"] == "dpo@example.com" and changed["after"]["version"] == 2
    assert changed["prev_hash"] == created["hash"] and created["prev_hash"] == "0" * 64

    risk = await stack.risk.post(
        "/v1/risks",
        json={
            "title": "Biased scoring",
            "domain_id": "1",
            "subdomain_id": "1.1",
            "entity": "ai",
            "intent": "unintentional",
            "timing": "post_deployment",
            "likelihood": 3,
            "severity": 4,
        },
        headers=stack.headers(org, "risk_owner", subject="carol"),
    )
    assert risk.status_code == 201, risk.text
    risk_entries = await trail(stack, "risk", org, entity_id=risk.json()["id"])
    assert [(e["action"], e["actor"]) for e in risk_entries] == [
        ("aims.risk.risk.created", "carol")
    ]
    assert risk_entries[0]["after"]["title"] == "Biased scoring"
    assert risk_entries[0]["before"] is None
    assert (await verify(stack, org, "risk"))["valid"] is True


async def test_filters_and_cursor_pagination(stack: Any, org: uuid.UUID) -> None:
    first = await register(stack, org, "First")
    await register(stack, org, "Second")
    await register(stack, org, "Third")

    only = await trail(stack, "inventory", org, entity_id=first["id"])
    assert [e["after"]["name"] for e in only] == ["First"]
    assert len(await trail(stack, "inventory", org, entity_type="system")) == 3
    assert await trail(stack, "inventory", org, entity_type="vendor") == []
    assert len(await trail(stack, "inventory", org, action="aims.inventory.system.registered")) == 3
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await trail(stack, "inventory", org, since=future) == []
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert len(await trail(stack, "inventory", org, since=past)) == 3

    headers = stack.headers(org, "manager")
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"after": cursor} if cursor else {})}
        page = (await stack.inventory.get(TRAIL, params=params, headers=headers)).json()
        seen += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [1, 2, 3]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"colour": "red"}, 400),
        ({"after": "not-a-cursor"}, 400),
        ({"after": "eyJzZXEiOiJ4In0"}, 400),  # {"seq":"x"}: a cursor we never issued
        ({"limit": 0}, 422),
        ({"limit": 10**30}, 422),
        ({"entity_id": "a\x00b"}, 422),
        ({"since": "yesterday"}, 422),
        ({"entity_type": "x" * 501}, 422),
    ],
)
async def test_bad_query_parameters_are_clear_4xx(
    stack: Any, org: uuid.UUID, params: dict[str, Any], status: int
) -> None:
    response = await stack.inventory.get(TRAIL, params=params, headers=stack.headers(org, "admin"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_auditor_reads_but_viewer_and_contributor_cannot(stack: Any, org: uuid.UUID) -> None:
    await register(stack, org, "Secret project")
    for service in ("inventory", "risk", "evidence", "gateway"):
        client = stack.clients[service]
        for role in ("admin", "manager", "auditor"):
            response = await client.get(TRAIL, headers=stack.headers(org, role))
            assert response.status_code == 200, (service, role, response.text)
        for role in ("viewer", "contributor", "risk_owner"):
            response = await client.get(TRAIL, headers=stack.headers(org, role))
            assert response.status_code == 403, (service, role)
            assert response.headers["content-type"].startswith("application/problem+json")
        for role, status in (("auditor", 200), ("admin", 200), ("manager", 403), ("viewer", 403)):
            response = await client.get(f"{TRAIL}/verify", headers=stack.headers(org, role))
            assert response.status_code == status, (service, role)
        assert (await client.get(TRAIL)).status_code == 401
    entries = await trail(stack, "inventory", org)
    assert [e["after"]["name"] for e in entries] == ["Secret project"]


async def test_another_organisation_sees_nothing_of_the_trail(stack: Any, org: uuid.UUID) -> None:
    await register(stack, org, "Ours")
    other = uuid7()
    assert await trail(stack, "inventory", other) == []
    result = await verify(stack, other)
    assert result == {
        "service": "inventory",
        "org_id": str(other),
        "entries": 0,
        "valid": True,
        "head_seq": None,
        "counts": {},
        "problems": [],
    }
    ours = await verify(stack, org)
    assert (ours["entries"], ours["valid"], ours["head_seq"]) == (1, True, 1)


async def test_credentials_never_reach_the_trail(stack: Any, org: uuid.UUID) -> None:
    created = await stack.inventory.post(
        "/v1/api-keys",
        json={"name": "GRC sync", "role": "viewer"},
        headers=stack.headers(org, "admin"),
    )
    if created.status_code == 404:
        pytest.skip("no API-key endpoint in this build")
    assert created.status_code == 201, created.text
    (entry,) = await trail(stack, "inventory", org, entity_type="apikey")
    assert entry["after"]["key_hash"] == "[redacted]"
    assert entry["after"]["name"] == "GRC sync"
    assert created.json()["key"] not in json.dumps(entry)


# --- Tampering ------------------------------------------------------------------------------------


async def test_the_app_role_cannot_change_or_delete_entries(stack: Any, org: uuid.UUID) -> None:
    await register(stack, org, "Immutable")
    engine = create_async_engine(stack.engines.databases["inventory"].app_url)
    try:
        for statement in (
            "UPDATE audit_entry SET actor = 'mallory' WHERE org_id = :org",
            "DELETE FROM audit_entry WHERE org_id = :org",
        ):
            async with engine.connect() as conn:
                await set_org_on(conn, org)
                with pytest.raises(DBAPIError, match="append-only"):
                    await conn.execute(sa.text(statement), {"org": org})
                await conn.rollback()
    finally:
        await engine.dispose()
    assert [e["actor"] for e in await trail(stack, "inventory", org)] == ["alice"]
    assert (await verify(stack, org))["valid"] is True


async def set_org_on(conn: AsyncConnection, org: uuid.UUID) -> None:
    await conn.execute(sa.text("SELECT set_config('aims.org_id', :org, true)"), {"org": str(org)})


async def test_an_edited_after_is_reported_at_its_seq(
    stack: Any, org: uuid.UUID, owner: Any
) -> None:
    await four_systems(stack, org)
    await owner(
        org,
        "UPDATE audit_entry SET after = jsonb_set(after, '{name}', '\"Forged\"') "
        "WHERE org_id = :org AND seq = 2",
    )
    result = await verify(stack, org)
    assert result["valid"] is False
    assert problems(result) == [(2, "edited")]
    assert result["counts"] == {"edited": 1}


async def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
    stack: Any, org: uuid.UUID, owner: Any
) -> None:
    await four_systems(stack, org)
    await owner(
        org,
        "UPDATE audit_entry SET actor = 'mallory', hash = repeat('a', 64) "
        "WHERE org_id = :org AND seq = 3",
    )
    assert problems(await verify(stack, org)) == [(3, "edited"), (4, "broken-link")]


async def test_a_deleted_middle_entry_is_reported(stack: Any, org: uuid.UUID, owner: Any) -> None:
    await four_systems(stack, org)
    await owner(org, "DELETE FROM audit_entry WHERE org_id = :org AND seq = 2")
    result = await verify(stack, org)
    assert problems(result) == [(2, "deleted")]
    assert result["entries"] == 3


async def test_two_swapped_entries_are_reported_as_reordered(
    stack: Any, org: uuid.UUID, owner: Any
) -> None:
    await four_systems(stack, org)
    await owner(
        org,
        "UPDATE audit_entry SET seq = -2 WHERE org_id = :org AND seq = 2",
        "UPDATE audit_entry SET seq = 2 WHERE org_id = :org AND seq = 3",
        "UPDATE audit_entry SET seq = 3 WHERE org_id = :org AND seq = -2",
    )
    assert sorted(problems(await verify(stack, org))) == [(2, "reordered"), (3, "reordered")]


async def test_a_deleted_last_entry_shows_against_the_head(
    stack: Any, org: uuid.UUID, owner: Any
) -> None:
    await four_systems(stack, org)
    await owner(org, "DELETE FROM audit_entry WHERE org_id = :org AND seq = 4")
    result = await verify(stack, org)
    assert problems(result) == [(4, "deleted")]
    assert (result["entries"], result["head_seq"]) == (3, 4)


async def test_concurrent_changes_in_one_org_keep_one_valid_chain(
    stack: Any, org: uuid.UUID
) -> None:
    await asyncio.gather(*(register(stack, org, f"Parallel {n}") for n in range(20)))
    entries = await trail(stack, "inventory", org)
    assert [e["seq"] for e in entries] == list(range(1, 21))
    assert len({e["entity_id"] for e in entries}) == 20
    result = await verify(stack, org)
    assert (result["valid"], result["entries"], result["head_seq"]) == (True, 20, 20)


async def test_two_open_writes_of_one_org_are_both_chained_in_commit_order(
    stack: Any, org: uuid.UUID
) -> None:
    """The head is locked only just before COMMIT: a second write of the org appends and
    commits while the first is still open (it used to wait for the first's COMMIT), and the
    chain takes them in the order they committed."""
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=2)
    actor = Actor("system:test", "system")
    try:
        async with db.sessions() as first, first.begin():
            await set_org(first, org)
            await append_audit(
                first, org_id=org, action="test.first", entity_type="sample", entity_id="a",
                before=None, after={"n": 1}, actor=actor,
            )  # fmt: skip
            assert pending_entries(first) == 1
            async with db.sessions() as second, second.begin():
                await set_org(second, org)
                await append_audit(
                    second, org_id=org, action="test.second", entity_type="sample",
                    entity_id="b", before=None, after={"n": 2}, actor=actor,
                )  # fmt: skip
                # Committing ``second`` must not wait for ``first`` (still open).
                await asyncio.wait_for(second.commit(), timeout=10)
            # Same entity as ``second``: ``before`` is read under the lock, at COMMIT.
            await append_audit(
                first, org_id=org, action="test.third", entity_type="sample", entity_id="b",
                after={"n": 3}, actor=actor,
            )  # fmt: skip
        result = await chain_of(db, org)
    finally:
        await db.dispose()
    assert (result.valid, result.entries, result.head_seq) == (True, 3, 3), result.problems
    entries = await trail(stack, "inventory", org)
    assert [e["action"] for e in entries] == ["test.second", "test.first", "test.third"]
    assert entries[2]["before"] == {"n": 2}
    # recorded_at follows the chain's order (it is taken when the entry is chained).
    stamps = [e["recorded_at"] for e in entries]
    assert stamps == sorted(stamps)


AWKWARD = {
    "q": "quote \" and \\ back ' single",
    "dollars": "$$ $q$ $q0123456789ab$ $tag$ ends with $q",
    "n": [1.5, 1e20, None],
    "ü": "東京",
    "nested": {"prev_hash": "x", "recorded_at": "y", "v": 2},
}


async def test_a_known_before_is_chained_in_the_commit_message_and_verifies(
    stack: Any, org: uuid.UUID
) -> None:
    """An entry whose ``before`` is known (a creation) is locked, chained (the hash computed by
    PostgreSQL around the app's canonical JSON) and inserted by one statement that travels in
    the same message as ``COMMIT``, so the head is never locked across a round trip to the
    app; even the org's first entry (the head is created in that message). The chain verifies
    with values that need escaping, dollar quotes included."""
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    actor = Actor("system:test", "system")
    through_sqlalchemy: list[str] = []
    messages: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "audit_" in statement:
            through_sqlalchemy.append(statement)

    def log(logged: Any) -> None:  # asyncpg's query logger: every message sent
        messages.append(logged.query)

    try:
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        for index in range(3):
            messages.clear()
            async with db.sessions() as session, session.begin():
                await set_org(session, org)
                raw = await (await session.connection()).get_raw_connection()
                driver: Any = raw.driver_connection
                driver.add_query_logger(log)
                await append_audit(
                    session, org_id=org, action="test.created", entity_type="sample",
                    entity_id=f"{index} $q$", before=None, after=AWKWARD | {"i": index},
                    actor=actor,
                )  # fmt: skip
            assert through_sqlalchemy == []
            audit = [m for m in messages if "audit_" in m]
            assert len(audit) == 1 and "FOR UPDATE" in audit[0], messages
            assert audit[0].rstrip().endswith("COMMIT") and messages[-1] == audit[0]
            assert "COMMIT" not in messages[:-1]
            driver.remove_query_logger(log)
        result = await chain_of(db, org)
    finally:
        await db.dispose()
    assert (result.valid, result.entries) == (True, 3), result.problems
    entries = await trail(stack, "inventory", org)
    assert [e["after"] for e in entries] == [AWKWARD | {"i": i} for i in range(3)]
    assert [e["entity_id"] for e in entries] == [f"{i} $q$" for i in range(3)]
    assert [e["before"] for e in entries] == [None, None, None]
    stamps = [e["recorded_at"] for e in entries]
    assert stamps == sorted(stamps)


async def test_a_transaction_not_begun_by_set_org_chains_with_bound_parameters(
    stack: Any, org: uuid.UUID
) -> None:
    """The same one-statement chaining, as an ordinary statement before ``COMMIT``, when the
    transaction was begun by SQLAlchemy (here: a statement ran before ``set_org``)."""
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    actor = Actor("system:test", "system")
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "audit_" in statement:
            sent.append(statement)

    try:
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        for index in range(3):
            sent.clear()
            async with db.sessions() as session, session.begin():
                await session.execute(sa.text("SELECT 1"))
                await set_org(session, org)
                await append_audit(
                    session, org_id=org, action="test.created", entity_type="sample",
                    entity_id=str(index), before=None, after=AWKWARD | {"i": index}, actor=actor,
                )  # fmt: skip
            if index > 0:  # the first creates the org's head through the general path
                assert len(sent) == 1 and "FOR UPDATE" in sent[0], sent
        result = await chain_of(db, org)
    finally:
        await db.dispose()
    assert (result.valid, result.entries) == (True, 3), result.problems
    entries = await trail(stack, "inventory", org)
    assert [e["after"] for e in entries] == [AWKWARD | {"i": i} for i in range(3)]


async def test_a_failing_commit_message_chains_nothing_and_rolls_back(
    stack: Any, org: uuid.UUID
) -> None:
    """A value PostgreSQL refuses (``\\u0000`` in jsonb) fails the message: COMMIT is skipped,
    the error is raised from the commit, and neither the change nor the entry is stored."""
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    actor = Actor("system:test", "system")
    try:

        async def refused() -> None:
            async with db.sessions() as session, session.begin():
                await set_org(session, org)
                await append_audit(
                    session, org_id=org, action="test.created", entity_type="sample",
                    entity_id="bad", before=None, after={"nul": "a\x00b"}, actor=actor,
                )  # fmt: skip

        with pytest.raises(DBAPIError, match="unsupported Unicode escape"):
            await refused()
        async with db.sessions() as session, session.begin():
            await set_org(session, org)
            await append_audit(
                session, org_id=org, action="test.created", entity_type="sample",
                entity_id="good", before=None, after={"ok": True}, actor=actor,
            )  # fmt: skip
        result = await chain_of(db, org)
    finally:
        await db.dispose()
    assert (result.valid, result.entries, result.head_seq) == (True, 1, 1), result.problems
    entries = await trail(stack, "inventory", org)
    assert [e["entity_id"] for e in entries] == ["good"]


async def test_entries_of_a_rolled_back_savepoint_or_transaction_are_not_chained(
    stack: Any, org: uuid.UUID
) -> None:
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    actor = Actor("system:test", "system")

    async def add(session: Any, action: str) -> None:
        await append_audit(
            session, org_id=org, action=action, entity_type="sample", entity_id="s",
            after={"action": action}, actor=actor,
        )  # fmt: skip

    try:
        async with db.sessions() as session, session.begin():
            await set_org(session, org)
            await add(session, "test.kept")
            with contextlib.suppress(RuntimeError):
                async with session.begin_nested():
                    await add(session, "test.undone")
                    raise RuntimeError("roll the savepoint back")
            async with session.begin_nested():
                await add(session, "test.released")
        async with db.sessions() as session:
            await set_org(session, org)
            await add(session, "test.rolled-back")
            await session.rollback()
            assert pending_entries(session) == 0
    finally:
        await db.dispose()
    entries = await trail(stack, "inventory", org)
    assert [e["action"] for e in entries] == ["test.kept", "test.released"]
    assert entries[1]["before"] == {"action": "test.kept"}
    assert (await verify(stack, org))["valid"] is True


async def test_an_entry_for_another_organisation_is_refused_when_appended(
    stack: Any, org: uuid.UUID
) -> None:
    """Entries are chained at COMMIT, when the seal scopes itself to each entry's organisation;
    row-level security is therefore decided at append time: a transaction scoped to one
    organisation cannot queue an entry for another, and nothing reaches either chain."""
    other = uuid7()
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    try:
        async with db.sessions() as session, session.begin():
            await set_org(session, org)
            with pytest.raises(PermissionError, match="scoped to"):
                await append_audit(
                    session, org_id=other, action="test.foreign", entity_type="sample",
                    entity_id="s", after={}, actor=Actor("system:test", "system"),
                )  # fmt: skip
            assert pending_entries(session) == 0
    finally:
        await db.dispose()
    assert await trail(stack, "inventory", other) == []
    assert [e for e in await trail(stack, "inventory", org) if e["action"] == "test.foreign"] == []


# --- What PostgreSQL gives back hashes the same ---------------------------------------------------


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63 - 1, -(2**70), rng.randrange(-(10**6), 10**6)])
    if kind == 3:
        return rng.choice(
            [0.1, -0.0, 1.0, 1e20, 1.5e300, 1e-7, 2.5e-308, 123456.789, rng.uniform(-1e9, 1e9)]
        )
    if kind == 4:
        return rng.choice(["", "Zürich", "東京 🚀", 'quote " and \\ back', "tab\tnew\nline", "é"])
    if kind == 5:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(["a", "b", "ä", "long key", "1", "b2"]): random_json(rng, depth + 1)
        for _ in range(rng.randrange(4))
    }


async def test_values_round_tripped_through_jsonb_still_verify(stack: Any, org: uuid.UUID) -> None:
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    rng = random.Random(42)
    values: list[Any] = [
        {"floats": [1.0, 1e20, 0.1, -0.0, 1.5e300, 1e-7], "text": "naïve 東京", "none": None},
        [[], {}, [[None]], {"z": {"y": [1, "2", 3.5]}}],
        "just a string",
        12345678901234567890123,
    ] + [random_json(rng) for _ in range(60)]
    try:
        for index, value in enumerate(values):
            async with db.sessions() as session, session.begin():
                await set_org(session, org)
                await append_audit(
                    session,
                    org_id=org,
                    action="test.recorded",
                    entity_type="sample",
                    entity_id=str(index % 5),
                    after=value,
                    actor=Actor("system:test", "system"),
                )
        result = await chain_of(db, org)
    finally:
        await db.dispose()
    assert (result.valid, result.entries) == (True, len(values)), result.problems
    entries = await trail(stack, "inventory", org, entity_id="0")
    # before is the entity's previous after: every update shows both states.
    assert [e["before"] for e in entries[1:]] == [e["after"] for e in entries[:-1]]


# --- CLI ------------------------------------------------------------------------------------------


def aims(stack: Any, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **{
            f"AIMS_{name.upper()}_DATABASE_URL": db.app_url
            for name, db in stack.engines.databases.items()
        },
        "AIMS_VAR_DIR": str(tmp_path / "var"),
        "AIMS_ENVIRONMENT": "test",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "aims", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_verify_reports_valid_then_tampered_with_exit_code(
    stack: Any, org: uuid.UUID, owner: Any, tmp_path: Path
) -> None:
    await four_systems(stack, org)
    good = await asyncio.to_thread(aims, stack, tmp_path, "audit", "verify", "--org", str(org))
    assert good.returncode == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["valid"] is True
    entries = {s["service"]: s["entries"] for s in report["services"]}
    assert list(entries) == ["inventory", "risk", "evidence", "gateway"]
    # The four registrations; the evidence service may also have recorded its readiness
    # recomputation for the new organisation by now (a consumer of those events).
    assert entries["inventory"] == 4 and entries["risk"] == 0 and entries["gateway"] == 0
    assert all(s["valid"] for s in report["services"])

    await owner(org, "DELETE FROM audit_entry WHERE org_id = :org AND seq = 3")
    bad = await asyncio.to_thread(
        aims, stack, tmp_path, "audit", "verify", "--org", str(org), "--service", "inventory"
    )
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["services"][0]["problems"][0]["seq"] == 3
    assert "inventory: BROKEN" in bad.stderr and "deleted" in bad.stderr
    assert "Traceback" not in bad.stderr

    wrong = await asyncio.to_thread(aims, stack, tmp_path, "audit", "verify", "--org", "nope")
    assert wrong.returncode == 1 and "not an organisation id" in wrong.stderr


async def test_changes_that_emit_no_event_are_recorded_too(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "admin", subject="dana")
    created = await stack.inventory.post(
        "/v1/custom-fields",
        json={"key": "appetite", "label": "Appetite", "type": "text", "required": False},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    field = created.json()
    deleted = await stack.inventory.delete(
        f"/v1/custom-fields/{field['id']}", headers={**headers, "If-Match": '"1"'}
    )
    assert deleted.status_code == 204, deleted.text
    entries = await trail(stack, "inventory", org, entity_id=field["id"])
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("aims.inventory.custom_field.created", "dana"),
        ("aims.inventory.custom_field.deleted", "dana"),
    ]
    assert entries[0]["before"] is None and entries[0]["after"]["key"] == "appetite"
    assert entries[1]["before"] == entries[0]["after"] and entries[1]["after"] is None
    assert (await verify(stack, org))["valid"] is True


async def test_an_imported_file_is_recorded_entry_by_entry(stack: Any, org: uuid.UUID) -> None:
    await register(stack, org, "Before the import")
    csv = "name,lifecycle_stage\n" + "".join(f"Imported {n},idea\n" for n in range(30))
    response = await stack.inventory.post(
        "/v1/ai-systems/import",
        content=csv.encode(),
        headers={**stack.headers(org, "manager", subject="erin"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    entries = await trail(stack, "inventory", org)
    assert [e["seq"] for e in entries] == list(range(1, 32))
    assert {e["actor"] for e in entries[1:]} == {"erin"}
    assert {e["action"] for e in entries[1:]} == {"aims.inventory.system.registered"}
    assert sorted(e["after"]["name"] for e in entries[1:]) == sorted(
        f"Imported {n}" for n in range(30)
    )
    assert (await verify(stack, org))["valid"] is True


async def test_webhook_subscription_changes_are_recorded_without_secrets(
    stack: Any, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "admin", subject="gina")
    created = await stack.gateway.post(
        "/v1/webhook-subscriptions",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["evidence.*"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    sub = created.json()
    rotated = await stack.gateway.post(
        f"/v1/webhook-subscriptions/{sub['id']}/rotate-secret", headers=headers
    )
    assert rotated.status_code == 200, rotated.text
    deleted = await stack.gateway.delete(f"/v1/webhook-subscriptions/{sub['id']}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    entries = await trail(stack, "gateway", org, entity_id=sub["id"])
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("aims.gateway.webhook_subscription.created", "gina"),
        ("aims.gateway.webhook_subscription.secret_rotated", "gina"),
        ("aims.gateway.webhook_subscription.deleted", "gina"),
    ]
    assert entries[0]["after"]["event_types"] == ["evidence.*"]
    assert entries[2]["after"] is None and entries[2]["before"]["id"] == sub["id"]
    recorded = str(entries)
    assert sub["secret"] not in recorded and rotated.json()["secret"] not in recorded
    assert (await verify(stack, org, "gateway"))["valid"] is True
