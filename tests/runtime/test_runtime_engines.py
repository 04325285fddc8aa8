"""Embedded engines, provisioning and migrations against real PostgreSQL and NATS.

Provisioning runs against ``AIMS_TEST_DATABASE_URL`` when set (CI: the system PostgreSQL 15),
otherwise against the embedded PostgreSQL 18 these tests start.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest

from shared.runtime.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    find_free_port,
    port_accepts_connections,
)
from shared.runtime.migrate import migrations_dir, upgrade, wait_for_postgres
from shared.runtime.provision import asyncpg_dsn, drop, provision

pytestmark = pytest.mark.engines

SERVICES = ("inventory", "risk")


def _processes_using(path: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if any(str(path) in part for part in cmdline):
            found.append(process)
    return found


@pytest.fixture(scope="module")
def embedded_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    var = tmp_path_factory.mktemp("var")
    postgres = EmbeddedPostgres(var / "postgres", find_free_port())
    postgres.start()
    yield postgres
    postgres.stop()


@pytest.fixture(scope="module")
def admin_url(embedded_postgres: EmbeddedPostgres) -> str:
    return os.environ.get("AIMS_TEST_DATABASE_URL") or embedded_postgres.url


@pytest.fixture
async def provisioned(admin_url: str) -> AsyncIterator[tuple[str, str, dict[str, object]]]:
    prefix = f"t{secrets.token_hex(4)}"
    secret = secrets.token_hex(16)
    databases = await provision(admin_url, prefix, SERVICES, secret)
    yield prefix, secret, dict(databases)
    await drop(admin_url, prefix, SERVICES)


async def test_embedded_postgres_keeps_its_cluster_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var" / "postgres"
    postgres = EmbeddedPostgres(data_dir, find_free_port())
    url = postgres.start()
    assert postgres.started_here
    assert (tmp_path / "var" / "postgres.password").stat().st_mode & 0o077 == 0

    conn = await asyncpg.connect(url)
    await conn.execute("CREATE TABLE marker (note text); INSERT INTO marker VALUES ('kept')")
    await conn.close()

    # A second handle on a running cluster reuses it rather than starting another server.
    again = EmbeddedPostgres(data_dir, find_free_port())
    assert again.start() == url
    assert not again.started_here

    postgres.stop()
    assert not postgres.is_running()
    assert _processes_using(data_dir) == []
    assert not port_accepts_connections(postgres.port)

    # Restart: no second initdb, the data is still there.
    url = postgres.start()
    conn = await asyncpg.connect(url)
    assert await conn.fetchval("SELECT note FROM marker") == "kept"
    await conn.close()
    postgres.stop()
    assert _processes_using(data_dir) == []


async def test_embedded_postgres_requires_the_password_over_tcp(
    embedded_postgres: EmbeddedPostgres,
) -> None:
    wrong = embedded_postgres.url.replace(embedded_postgres.url.split(":")[2].split("@")[0], "x")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(wrong)


async def test_embedded_nats_serves_jetstream_and_stops_cleanly(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", find_free_port())
    url = server.start()
    pid = server.pid
    assert pid is not None

    client = await nats.connect(url)
    stream = f"T{secrets.token_hex(4)}"
    jetstream = client.jetstream()
    await jetstream.add_stream(name=stream, subjects=[f"{stream}.>"])
    ack = await jetstream.publish(f"{stream}.hello", b"hi")
    assert ack.seq == 1
    await client.close()

    server.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not port_accepts_connections(server.port)


async def test_provisioned_app_role_is_bound_by_row_level_security(
    admin_url: str, provisioned: tuple[str, str, dict[str, object]]
) -> None:
    prefix, secret, databases = provisioned
    inventory = databases["inventory"]
    assert hasattr(inventory, "app_url")
    app = await asyncpg.connect(asyncpg_dsn(inventory.app_url))
    try:
        row = await app.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole "
            "FROM pg_roles WHERE rolname = current_user"
        )
        assert row is not None
        assert tuple(row) == (False, False, False, False)
        # The app role changes data, never the schema.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("CREATE TABLE smuggled (id int)")
    finally:
        await app.close()

    # Provisioning again changes nothing and still works.
    assert await provision(admin_url, prefix, SERVICES, secret) == databases


async def test_one_service_cannot_connect_to_another_services_database(
    provisioned: tuple[str, str, dict[str, object]],
) -> None:
    prefix, _, databases = provisioned
    risk_app = databases["risk"]
    assert hasattr(risk_app, "app_url")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(asyncpg_dsn(risk_app.app_url, database=f"{prefix}_inventory"))


_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "r1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "note",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
    )
    op.execute("ALTER TABLE note ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE note FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY note_org ON note "
        "USING (org_id = current_setting('app.org_id', true)) "
        "WITH CHECK (org_id = current_setting('app.org_id', true))"
    )


def downgrade() -> None:
    op.drop_table("note")
"""


async def test_migrations_run_as_owner_and_rls_applies_to_the_app_role(
    tmp_path: Path, provisioned: tuple[str, str, dict[str, object]]
) -> None:
    _, _, databases = provisioned
    inventory = databases["inventory"]
    assert hasattr(inventory, "owner_url")
    assert hasattr(inventory, "app_url")
    # The real inventory environment, with one throw-away revision instead of the repo's own.
    location = tmp_path / "inventory"
    shutil.copytree(migrations_dir("inventory"), location)
    for existing in (location / "versions").glob("*.py"):
        existing.unlink()
    (location / "versions" / "20250101_note.py").write_text(_REVISION)

    upgrade("inventory", inventory.owner_url, script_location=location)
    upgrade("inventory", inventory.owner_url, script_location=location)  # already at head

    await wait_for_postgres(inventory.app_url, timeout=5)
    app = await asyncpg.connect(asyncpg_dsn(inventory.app_url))
    try:
        assert await app.fetchval("SELECT version_num FROM alembic_version_inventory") == "r1"
        assert (
            await app.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'note'")
            == (inventory.owner_url.split("//")[1].split(":")[0])
        )
        await app.execute("SELECT set_config('app.org_id', 'org-a', false)")
        await app.execute("INSERT INTO note (id, org_id) VALUES (1, 'org-a')")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("INSERT INTO note (id, org_id) VALUES (2, 'org-b')")
        await app.execute("SELECT set_config('app.org_id', 'org-b', false)")
        # A query without any WHERE still sees only its own organisation's rows.
        assert await app.fetch("SELECT * FROM note") == []
    finally:
        await app.close()
