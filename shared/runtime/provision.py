"""Create each service's database and its two roles, idempotently.

For a service ``svc`` and a prefix ``p``:

- database ``p_svc``, owned by ``p_svc_owner``, which runs the migrations and so owns every table;
- ``p_svc_app``, the role the service connects as: no superuser, no BYPASSRLS, DML only, so the
  row-level-security policies written by the owner always apply to it;
- nobody else may connect to ``p_svc`` (CONNECT is revoked from PUBLIC), so one service's app
  role cannot read another service's tables.

Role passwords are derived from the deployment's secret key (HMAC-SHA256 of the role name), so
``aims serve`` can compute the app role's URL from the admin URL without any shared state. A
deployment that must not hand that secret to its apps (least privilege: docker-compose.yml) gives
each app role's password explicitly instead: ``provision(..., app_passwords={service: password})``,
and each app only its own URL.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import URL, make_url

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
# PostgreSQL truncates identifiers beyond 63 bytes; refuse instead of silently colliding.
_MAX_IDENTIFIER = 63


@dataclass(frozen=True)
class ServiceDatabase:
    """One service's database and the URLs of its two roles (SQLAlchemy asyncpg URLs)."""

    name: str
    owner_url: str
    app_url: str


def role_password(secret_key: str, role: str) -> str:
    """The password of ``role``: hex HMAC-SHA256 keyed by the deployment's secret key."""
    return hmac.new(secret_key.encode(), role.encode(), hashlib.sha256).hexdigest()


def database_name(prefix: str, service: str) -> str:
    return _checked(f"{prefix}_{service}")


def owner_role(prefix: str, service: str) -> str:
    return _checked(f"{prefix}_{service}_owner")


def app_role(prefix: str, service: str) -> str:
    return _checked(f"{prefix}_{service}_app")


def _checked(identifier: str) -> str:
    if not _IDENTIFIER.match(identifier) or len(identifier) > _MAX_IDENTIFIER:
        raise ValueError(
            f"{identifier!r} is not a valid name: use lowercase letters, digits and '_', "
            f"at most {_MAX_IDENTIFIER} characters"
        )
    return identifier


def _parse(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed


def asyncpg_dsn(url: str, *, database: str | None = None) -> str:
    """A ``postgresql://`` DSN asyncpg accepts, from a libpq or SQLAlchemy URL."""
    parsed = _parse(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def sqlalchemy_url(url: str) -> str:
    """The same URL with the ``postgresql+asyncpg`` driver."""
    return _parse(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def derive_service_urls(
    admin_url: str, prefix: str, service: str, secret_key: str, *, app_password: str | None = None
) -> ServiceDatabase:
    """The database name and owner/app URLs of ``service``: same host as ``admin_url``, no I/O.

    ``app_password`` replaces the derived password of the app role when the deployment sets it.
    """
    name = database_name(prefix, service)
    base = _parse(admin_url).set(drivername="postgresql+asyncpg", database=name)

    def for_role(role: str, password: str | None = None) -> str:
        url = base.set(username=role, password=password or role_password(secret_key, role))
        return url.render_as_string(hide_password=False)

    return ServiceDatabase(
        name=name,
        owner_url=for_role(owner_role(prefix, service)),
        app_url=for_role(app_role(prefix, service), app_password),
    )


def explicit_app_password(url: str, prefix: str, service: str) -> str:
    """The app role's password from an explicit app URL, checked against the role it must name."""
    parsed = _parse(url)
    expected_role, expected_db = app_role(prefix, service), database_name(prefix, service)
    if parsed.username != expected_role or parsed.database != expected_db:
        raise ValueError(
            f"the {service} app URL must connect as {expected_role!r} to {expected_db!r}, "
            f"not as {parsed.username!r} to {parsed.database!r}"
        )
    if not parsed.password:
        raise ValueError(f"the {service} app URL has no password")
    return str(parsed.password)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def _ensure_role(conn: asyncpg.Connection, role: str, password: str, attributes: str) -> None:
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    # DDL takes no bind parameters; the password is hex and still quoted as a literal.
    await conn.execute(
        f"{verb} ROLE {_quote(role)} WITH LOGIN {attributes} PASSWORD {_literal(password)}"
    )


async def provision(
    admin_url: str,
    prefix: str,
    services: Sequence[str],
    secret_key: str,
    *,
    app_passwords: Mapping[str, str] | None = None,
) -> dict[str, ServiceDatabase]:
    """Create (or bring up to date) the databases and roles of ``services``; idempotent.

    ``app_passwords`` sets the app role's password of the services it names (instead of the one
    derived from ``secret_key``); re-provisioning with another password changes it.
    """
    explicit = dict(app_passwords or {})
    result: dict[str, ServiceDatabase] = {}
    admin = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        is_superuser = await admin.fetchval(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        for service in services:
            urls = derive_service_urls(
                admin_url, prefix, service, secret_key, app_password=explicit.get(service)
            )
            owner, app = owner_role(prefix, service), app_role(prefix, service)
            await _ensure_role(
                admin,
                owner,
                role_password(secret_key, owner),
                "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS",
            )
            await _ensure_role(
                admin,
                app,
                explicit.get(service) or role_password(secret_key, app),
                "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT",
            )
            if not is_superuser:
                # A managed server's admin (e.g. RDS) must be a member of the owner role to
                # create a database for it and to set its default privileges.
                await admin.execute(f"GRANT {_quote(owner)} TO CURRENT_USER")
            db_exists = await admin.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", urls.name
            )
            if not db_exists:
                await admin.execute(
                    f"CREATE DATABASE {_quote(urls.name)} OWNER {_quote(owner)} ENCODING 'UTF8' "
                    "TEMPLATE template0"
                )
            else:
                await admin.execute(f"ALTER DATABASE {_quote(urls.name)} OWNER TO {_quote(owner)}")
            await admin.execute(
                f"REVOKE ALL ON DATABASE {_quote(urls.name)} FROM PUBLIC;"
                f"GRANT CONNECT, TEMPORARY ON DATABASE {_quote(urls.name)} TO {_quote(app)}"
            )
            await _grant_inside(admin_url, urls.name, owner, app)
            result[service] = urls
    finally:
        await admin.close()
    return result


async def _grant_inside(admin_url: str, database: str, owner: str, app: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url, database=database))
    try:
        o, a = _quote(owner), _quote(app)
        async with conn.transaction():
            await conn.execute(
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
                f"GRANT USAGE, CREATE ON SCHEMA public TO {o};"
                f"GRANT USAGE ON SCHEMA public TO {a};"
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {a};"
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public "
                f"GRANT USAGE, SELECT ON SEQUENCES TO {a};"
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public "
                f"GRANT EXECUTE ON FUNCTIONS TO {a};"
                # Tables created before these defaults existed (re-provisioning an old database).
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {a};"
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {a};"
            )
    finally:
        await conn.close()


async def drop(admin_url: str, prefix: str, services: Sequence[str]) -> None:
    """Drop the databases and roles of ``services`` (tests use it to clean up their prefix)."""
    admin = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        for service in services:
            name = database_name(prefix, service)
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            await admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
            for role in (app_role(prefix, service), owner_role(prefix, service)):
                await admin.execute(f"DROP ROLE IF EXISTS {_quote(role)}")
    finally:
        await admin.close()
