"""The ``aims`` command: run the stack, serve one app, migrate, and administer a local install.

Results meant for scripts (ids, keys, tokens) go to stdout; progress and tables go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shared.settings import DEFAULT_PORTS, SERVICE_NAMES, AIMSSettings, ServiceName

if TYPE_CHECKING:
    from shared.runtime.embedded import EmbeddedNats, EmbeddedPostgres
    from shared.settings import ServiceSettings

console = Console(stderr=True)
app = typer.Typer(
    name="aims",
    help="AIMS — the backend of an ISO/IEC 42001 AI management system.",
    no_args_is_help=True,
    add_completion=False,
)
org_app = typer.Typer(help="Organisations (tenants).", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for integrations.", no_args_is_help=True)
token_app = typer.Typer(help="Local JWTs (zero-setup mode).", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence blobs and their integrity.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(apikey_app, name="apikey")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(evidence_app, name="evidence")

ROLES = ("admin", "manager", "risk_owner", "contributor", "auditor", "viewer")
# Apps that serve the REST APIs start before the gateway that calls them.
START_ORDER: tuple[ServiceName, ...] = ("inventory", "risk", "evidence", "gateway")
HEALTH_TIMEOUT_SECONDS = 90.0
# A crashed app is started again after 1 s, then 2, 4 … up to 30 s while it keeps crashing; a
# minute of staying up resets the back-off.
RESTART_INITIAL_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
RESTART_RESET_SECONDS = 60.0
STOP_GRACE_SECONDS = 10


class CLIError(Exception):
    """A failure to report to the user as one clear line, without a traceback."""


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


# -- settings and engines --------------------------------------------------------------------


def _settings(var_dir: Path | None = None) -> AIMSSettings:
    settings = AIMSSettings()
    if var_dir is not None:
        settings = settings.model_copy(update={"var_dir": var_dir})
    resolved = settings.var_dir.expanduser().resolve()
    # Code that reads the environment itself (migrations finding the zero-setup webhook key)
    # must see the same folder as `--var-dir`.
    os.environ["AIMS_VAR_DIR"] = str(resolved)
    return settings.model_copy(update={"var_dir": resolved})


def _secret_key(settings: AIMSSettings) -> str:
    """``AIMS_SECRET_KEY``, or in non-production the one kept under ``var/``."""
    if settings.secret_key:
        return settings.secret_key
    if settings.environment == "production":
        raise CLIError("AIMS_SECRET_KEY is required when AIMS_ENVIRONMENT=production")
    from shared.runtime.keys import ensure_secret_key

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return ensure_secret_key(settings.var_dir)


@dataclass
class Engines:
    """The admin PostgreSQL URL and NATS URL, with whatever embedded engines were started."""

    database_url: str
    nats_url: str | None
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    # Stop an embedded PostgreSQL found already running, too (``aims up`` adopts a server left
    # behind by a killed run; one-off commands leave a running server alone).
    adopt: bool = False

    @property
    def embedded_database(self) -> bool:
        return self.postgres is not None

    def stop(self) -> None:
        """Stop, in reverse order, only the engines this process started."""
        if self.nats is not None:
            with console.status("Stopping NATS…"):
                self.nats.stop()
            self.nats = None
        if self.postgres is not None and (self.postgres.started_here or self.adopt):
            with console.status("Stopping PostgreSQL…"):
                self.postgres.stop()
        self.postgres = None


def _start_postgres(settings: AIMSSettings) -> EmbeddedPostgres:
    from shared.runtime.embedded import EmbeddedPostgres, find_free_port, port_is_free

    postgres = EmbeddedPostgres(settings.var_dir / "postgres", settings.embedded_pg_port)
    if not postgres.is_running() and not port_is_free(postgres.port):
        postgres.port = find_free_port()
        console.print(
            f"[yellow]port {settings.embedded_pg_port} is taken; PostgreSQL uses {postgres.port}[/]"
        )
    first_time = not (postgres.data_dir / "PG_VERSION").exists()
    label = "Initialising" if first_time else "Starting"
    with console.status(f"{label} embedded PostgreSQL in {postgres.data_dir}…"):
        postgres.start()
    verb = "started" if postgres.started_here else "already running"
    console.print(f"[green]✓[/] PostgreSQL {verb} on 127.0.0.1:{postgres.port}")
    return postgres


def _start_nats(settings: AIMSSettings) -> EmbeddedNats:
    from shared.runtime.embedded import EmbeddedNats, find_free_port, port_is_free

    nats = EmbeddedNats(settings.var_dir / "nats", settings.embedded_nats_port)
    if not port_is_free(nats.port):
        nats.port = find_free_port()
        console.print(
            f"[yellow]port {settings.embedded_nats_port} is taken; NATS uses {nats.port}[/]"
        )
    with console.status("Starting embedded NATS JetStream…"):
        nats.start()
    console.print(f"[green]✓[/] NATS JetStream started on 127.0.0.1:{nats.port}")
    return nats


@contextlib.contextmanager
def engines(settings: AIMSSettings, *, need_nats: bool, adopt: bool = False) -> Iterator[Engines]:
    """Yield the engine URLs, starting embedded engines for the missing ones, and stop those."""
    started = Engines(database_url="", nats_url=settings.nats_url, adopt=adopt)
    try:
        if settings.database_url:
            started.database_url = settings.database_url
        else:
            settings.var_dir.mkdir(parents=True, exist_ok=True)
            started.postgres = _start_postgres(settings)
            started.database_url = started.postgres.url
        if need_nats and not settings.nats_url:
            started.nats = _start_nats(settings)
            started.nats_url = started.nats.url
        yield started
    finally:
        started.stop()


def _provision_and_migrate(
    admin_url: str, prefix: str, services: tuple[str, ...], secret_key: str
) -> None:
    from shared.runtime.migrate import provision_and_migrate
    from shared.runtime.provision import explicit_app_password

    # Least privilege (docker-compose.yml): each app gets only its own app role's URL, and the
    # migration job sets those roles' passwords from the same URLs.
    app_passwords: dict[str, str] = {}
    for service in services:
        explicit = os.environ.get(f"AIMS_{service.upper()}_DATABASE_URL")
        if explicit:
            try:
                app_passwords[service] = explicit_app_password(explicit, prefix, service)
            except ValueError as exc:
                raise CLIError(f"AIMS_{service.upper()}_DATABASE_URL: {exc}") from None

    with console.status("Provisioning databases and roles, then migrating…") as status:

        def step(message: str) -> None:
            console.print(f"[green]✓[/] {message}")
            status.update(f"{message}…")

        asyncio.run(
            provision_and_migrate(
                admin_url, prefix, services, secret_key, app_passwords=app_passwords, on_step=step
            )
        )


# -- service settings ------------------------------------------------------------------------


def _settings_class(name: str) -> type[ServiceSettings]:
    if name == "inventory":
        from services.inventory.config import InventorySettings

        return InventorySettings
    if name == "risk":
        from services.risk.config import RiskSettings

        return RiskSettings
    if name == "evidence":
        from services.evidence.config import EvidenceSettings

        return EvidenceSettings
    if name == "gateway":
        from gateway.config import GatewaySettings

        return GatewaySettings
    raise CLIError(f"unknown app {name!r}; choose one of {', '.join(SERVICE_NAMES)}")


def _app_factory(name: str) -> Any:
    if name == "inventory":
        from services.inventory.main import create_app as inventory_app

        return inventory_app
    if name == "risk":
        from services.risk.main import create_app as risk_app

        return risk_app
    if name == "evidence":
        from services.evidence.main import create_app as evidence_app

        return evidence_app
    from gateway.main import create_app as gateway_app

    return gateway_app


def _app_database_url(name: str, settings: AIMSSettings, admin_url: str | None = None) -> str:
    explicit = os.environ.get(f"AIMS_{name.upper()}_DATABASE_URL")
    if explicit:
        from shared.runtime.provision import sqlalchemy_url

        return sqlalchemy_url(explicit)
    admin = admin_url or settings.database_url
    if not admin:
        raise CLIError(
            f"no database for {name}: set AIMS_{name.upper()}_DATABASE_URL, or AIMS_DATABASE_URL "
            "(admin URL) with AIMS_SECRET_KEY to derive it — or run `aims up`"
        )
    from shared.runtime.provision import derive_service_urls

    return derive_service_urls(admin, settings.database_prefix, name, _secret_key(settings)).app_url


def _service_settings(
    name: str, base: AIMSSettings, admin_url: str | None = None, **overrides: Any
) -> ServiceSettings:
    cls = _settings_class(name)
    values: dict[str, Any] = {
        "app_database_url": _app_database_url(name, base, admin_url),
        "var_dir": base.var_dir,
    }
    if base.secret_key is None and base.environment != "production":
        values["secret_key"] = _secret_key(base)
    default_public = base.var_dir / "keys" / "jwt_public.pem"
    if base.jwt_public_key_file is None and base.oidc_jwks_url is None and default_public.exists():
        values["jwt_public_key_file"] = default_public
    values.update(overrides)
    return cls(**values)


# -- aims up ---------------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float = field(default_factory=time.monotonic)
    # Crashes in a row (reset once the app has stayed up for RESTART_RESET_SECONDS).
    crashes: int = 0
    # When a crashed app is due to be started again (None while it runs).
    restart_at: float | None = None


def _log_tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _spawn(name: str, port: int, env: dict[str, str], log_dir: Path) -> Child:
    from shared.runtime.embedded import die_with_parent

    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aims", "serve", name, "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own session: Ctrl-C reaches only `aims up`, which stops the apps before the engines.
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
    return Child(name, port, process, log_path)


def _healthy(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _stop_children(children: list[Child]) -> None:
    for child in children:
        if child.process.poll() is None:
            child.process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


def _died(child: Child) -> CLIError:
    code = child.process.returncode
    return CLIError(
        f"{child.name} exited with code {code}; last lines of {child.log_path}:\n"
        f"{_log_tail(child.log_path)}"
    )


def _print_welcome(children: list[Child], engines_: Engines) -> None:
    ports = {child.name: child.port for child in children}
    table = Table(title="AIMS is running", title_justify="left", show_lines=False)
    table.add_column("what")
    table.add_column("where")
    table.add_row("GraphQL (GraphiQL)", f"http://127.0.0.1:{ports['gateway']}/graphql")
    for name in ("inventory", "risk", "evidence"):
        table.add_row(f"{name} REST docs", f"http://127.0.0.1:{ports[name]}/docs")
    table.add_row("health", f"http://127.0.0.1:{ports['gateway']}/healthz (each app)")
    database = "embedded, var/postgres" if engines_.embedded_database else "AIMS_DATABASE_URL"
    table.add_row("PostgreSQL", database)
    table.add_row("NATS", engines_.nats_url or "")
    table.add_row("logs", str(children[0].log_path.parent))
    console.print(table)
    console.print(
        "Create a tenant and a token (in another terminal):\n"
        "  [bold]aims org create --name 'Acme'[/]\n"
        "  [bold]aims token create --org <ORG_ID> --role admin[/]\n"
        "then call the APIs with [bold]Authorization: Bearer <token>[/]. Ctrl-C stops everything."
    )


class _Stop(Exception):
    pass


@app.command()
def up(
    port_base: Annotated[
        int, typer.Option(help="Port of the gateway; apps use the next three.")
    ] = 8000,
    var_dir: Annotated[
        Path | None, typer.Option(help="Where engine data, keys and logs live [env AIMS_VAR_DIR].")
    ] = None,
) -> None:
    """Run the whole stack on this machine: engines, migrations and the four apps."""
    settings = _settings(var_dir)
    shift = port_base - DEFAULT_PORTS["gateway"]
    ports = {name: DEFAULT_PORTS[name] + shift for name in SERVICE_NAMES}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # One stop at a time: a second Ctrl-C must not interrupt the orderly shutdown.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Stop

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: list[Child] = []
    try:
        from shared.runtime.embedded import port_is_free
        from shared.runtime.keys import ensure_signing_keys

        taken = [f"{n}:{p}" for n, p in ports.items() if not port_is_free(p)]
        if taken:
            raise CLIError(f"ports already in use ({', '.join(taken)}); try --port-base")
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        secret_key = _secret_key(settings)
        private_key, public_key = ensure_signing_keys(settings.var_dir)
        if settings.jwt_private_key_file is not None:
            private_key = settings.jwt_private_key_file
        if settings.jwt_public_key_file is not None:
            public_key = settings.jwt_public_key_file
        with engines(settings, need_nats=True, adopt=True) as started:
            _provision_and_migrate(
                started.database_url, settings.database_prefix, SERVICE_NAMES, secret_key
            )
            env = dict(os.environ)
            env.update(
                {
                    "AIMS_DATABASE_URL": started.database_url,
                    "AIMS_SECRET_KEY": secret_key,
                    "AIMS_NATS_URL": started.nats_url or "",
                    "AIMS_JWT_PUBLIC_KEY_FILE": str(public_key),
                    "AIMS_JWT_PRIVATE_KEY_FILE": str(private_key),
                    "AIMS_INVENTORY_URL": f"http://127.0.0.1:{ports['inventory']}",
                    "AIMS_RISK_URL": f"http://127.0.0.1:{ports['risk']}",
                    "AIMS_EVIDENCE_URL": f"http://127.0.0.1:{ports['evidence']}",
                    "AIMS_VAR_DIR": str(settings.var_dir),
                    "PYTHONUNBUFFERED": "1",
                }
            )
            log_dir = settings.var_dir / "logs"
            log_dir.mkdir(parents=True, exist_ok=True)
            try:
                for name in START_ORDER:
                    children.append(_spawn(name, ports[name], env, log_dir))
                _wait_healthy(children)
                _print_welcome(children, started)
                while True:
                    _supervise(children, env, log_dir)
                    time.sleep(0.5)
            finally:
                if children:
                    with console.status("Stopping apps…"):
                        _stop_children(children)
    except _Stop:
        console.print("[green]✓[/] stopped")
    except CLIError as exc:
        raise _fail(str(exc)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _supervise(children: list[Child], env: dict[str, str], log_dir: Path) -> None:
    """Restart apps that died since the last look, with back-off, and say so."""
    now = time.monotonic()
    for index, child in enumerate(children):
        if child.restart_at is not None:
            if now >= child.restart_at:
                fresh = _spawn(child.name, child.port, env, log_dir)
                fresh.crashes = child.crashes
                children[index] = fresh
                console.print(f"[green]↻[/] {child.name} started again (pid {fresh.process.pid})")
            continue
        code = child.process.poll()
        if code is None:
            if child.crashes and now - child.started_at > RESTART_RESET_SECONDS:
                child.crashes = 0
            continue
        child.crashes += 1
        delay = min(RESTART_MAX_SECONDS, RESTART_INITIAL_SECONDS * 2 ** (child.crashes - 1))
        child.restart_at = now + delay
        console.print(
            f"[yellow]![/] {child.name} exited with code {code} "
            f"(crash {child.crashes} in a row); restarting in {delay:.0f} s. "
            f"Last lines of {child.log_path}:\n{_log_tail(child.log_path, lines=10)}"
        )


def _wait_healthy(children: list[Child]) -> None:
    pending = list(children)
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    with console.status("Starting apps…") as status:
        while pending:
            for child in list(pending):
                if child.process.poll() is not None:
                    raise _died(child)
                if _healthy(child.port):
                    pending.remove(child)
                    console.print(f"[green]✓[/] {child.name} healthy on :{child.port}")
            if pending:
                status.update(f"Waiting for {', '.join(c.name for c in pending)}…")
                if time.monotonic() > deadline:
                    names = ", ".join(c.name for c in pending)
                    tails = "\n".join(f"--- {c.name}\n{_log_tail(c.log_path)}" for c in pending)
                    raise CLIError(
                        f"not healthy after {HEALTH_TIMEOUT_SECONDS:.0f}s: {names}\n{tails}"
                    )
                time.sleep(0.25)


# -- aims serve ------------------------------------------------------------------------------


@app.command()
def serve(
    name: Annotated[
        str, typer.Argument(metavar="APP", help="inventory, risk, evidence or gateway")
    ],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: the app's own).")] = None,
) -> None:
    """Serve one app (production style: uvicorn, no reload)."""
    import uvicorn

    if name not in SERVICE_NAMES:
        raise _fail(f"unknown app {name!r}; choose one of {', '.join(SERVICE_NAMES)}")
    bind_port = port if port is not None else DEFAULT_PORTS[name]
    try:
        base = _settings()
        settings = _service_settings(name, base, host=host, port=bind_port)
    except CLIError as exc:
        raise _fail(str(exc)) from None
    with contextlib.suppress(ImportError):
        from shared.observability import configure_logging

        configure_logging(settings.log_level, json_output=settings.log_json, service=name)
    application = _app_factory(name)(settings)
    uvicorn.run(application, **uvicorn_options(settings, host=host, port=bind_port))


def uvicorn_options(settings: ServiceSettings, *, host: str, port: int) -> dict[str, Any]:
    """How ``aims serve`` (and the benchmarks' stack) run one app's uvicorn server."""
    return {
        "host": host,
        "port": port,
        "log_config": None,
        "proxy_headers": True,
        "server_header": False,
        "timeout_graceful_shutdown": STOP_GRACE_SECONDS,
        "timeout_keep_alive": settings.http_keep_alive_seconds,
        # Subscription messages are small JSON documents: permessage-deflate cost 22-25 % of
        # the gateway's CPU per delivery for little saving (docs/performance.md, Subscriptions).
        "ws_per_message_deflate": False,
    }


# -- aims migrate ----------------------------------------------------------------------------


@app.command()
def migrate(
    service: Annotated[
        str | None, typer.Option(help="Only this service (default: all four).")
    ] = None,
    var_dir: Annotated[Path | None, typer.Option(help="Zero-setup data directory.")] = None,
) -> None:
    """Create the databases and roles, then upgrade every schema to head."""
    if service is not None and service not in SERVICE_NAMES:
        raise _fail(f"unknown service {service!r}; choose one of {', '.join(SERVICE_NAMES)}")
    services = (service,) if service else SERVICE_NAMES
    settings = _settings(var_dir)
    try:
        secret_key = _secret_key(settings)
        with engines(settings, need_nats=False) as started:
            _provision_and_migrate(
                started.database_url, settings.database_prefix, tuple(services), secret_key
            )
    except CLIError as exc:
        raise _fail(str(exc)) from None


# -- organisations and API keys --------------------------------------------------------------


def _run_service_admin(service: str, call: Any) -> Any:
    """Run ``call(settings)`` with ``service``'s settings (its app role's database URL),
    starting embedded engines if need be."""
    settings = _settings()
    explicit = os.environ.get(f"AIMS_{service.upper()}_DATABASE_URL")
    try:
        if explicit:
            return asyncio.run(call(_service_settings(service, settings, run_workers=False)))
        with engines(settings, need_nats=False) as started:
            if started.embedded_database:
                # A fresh checkout: make sure the database exists and is at head.
                _provision_and_migrate(
                    started.database_url,
                    settings.database_prefix,
                    (service,),
                    _secret_key(settings),
                )
            service_settings = _service_settings(
                service, settings, admin_url=started.database_url, run_workers=False
            )
            return asyncio.run(call(service_settings))
    except CLIError as exc:
        raise _fail(str(exc)) from None


def _run_inventory_admin(call: Any) -> dict[str, Any]:
    """Run ``call(settings)`` on the inventory database, starting embedded engines if need be."""
    result: dict[str, Any] = _run_service_admin("inventory", call)
    return result


def _emit(result: dict[str, Any]) -> None:
    typer.echo(json.dumps(result, default=str, indent=2))


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Option("--name", help="The organisation's name.")],
) -> None:
    """Create an organisation (tenant); prints it as JSON."""
    from services.inventory.admin import create_organisation

    async def call(settings: Any) -> dict[str, Any]:
        return await create_organisation(settings, name)

    organisation = _run_inventory_admin(call)
    console.print(
        f"[green]✓[/] organisation {organisation.get('name')!r} created; mint a token with\n"
        f"  aims token create --org {organisation.get('id')} --role admin"
    )
    _emit(organisation)


@apikey_app.command("create")
def apikey_create(
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
) -> None:
    """Create an API key; the plaintext key is printed once, never stored."""
    if role not in ROLES:
        raise _fail(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    from services.inventory.admin import create_api_key

    async def call(settings: Any) -> dict[str, Any]:
        return await create_api_key(settings, org, role, name)

    key = _run_inventory_admin(call)
    console.print("[yellow]Store the key now: it is not shown again.[/]")
    _emit(key)


# -- tokens ----------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    org: Annotated[str, typer.Option("--org", help="Organisation id (org_id claim).")],
    role: Annotated[list[str], typer.Option("--role", help="Role; repeat for several.")],
    sub: Annotated[str | None, typer.Option("--sub", help="Subject (default: local:<name>).")] = (
        None
    ),
    ttl: Annotated[int, typer.Option("--ttl", min=1, help="Lifetime in seconds.")] = 3600,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
) -> None:
    """Mint a JWT signed by the local key (var/keys/jwt_private.pem); prints only the token."""
    from shared.runtime.keys import ensure_signing_keys, mint_token

    unknown = [r for r in role if r not in ROLES]
    if unknown:
        raise _fail(f"unknown role(s) {', '.join(unknown)}; choose from {', '.join(ROLES)}")
    settings = _settings()
    private_key = settings.jwt_private_key_file
    if private_key is None:
        private_key, _ = ensure_signing_keys(settings.var_dir)
    elif not private_key.exists():
        raise _fail(f"AIMS_JWT_PRIVATE_KEY_FILE {private_key} does not exist")
    display = name or "aims-cli"
    token = mint_token(
        private_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        org_id=org,
        roles=role,
        subject=sub or f"local:{display}",
        ttl_seconds=ttl,
        name=display,
    )
    typer.echo(token)


# -- import ------------------------------------------------------------------------------------

import_app = typer.Typer(help="Import into the register from spreadsheets.", no_args_is_help=True)
app.add_typer(import_app, name="import")

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_PROBLEMS_SHOWN = 200


@import_app.command("systems")
def import_systems(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A .csv or .xlsx file.")
    ],
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; write nothing.")
    ] = False,
    subject: Annotated[
        str, typer.Option("--as", help="Who the history records as creator.")
    ] = "aims-cli",
) -> None:
    """Import AI systems from CSV or XLSX: every row or, when any row has a problem, none.

    A row with the `id` of a system (or, without one, the name of exactly one system,
    case-insensitively) updates it; other rows create systems. Importing a file twice, or an
    export back, changes nothing the second time."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from services.inventory.admin import import_systems as run_import

    media_type = XLSX_MEDIA_TYPE if file.suffix.lower() in (".xlsx", ".xlsm") else "text/csv"
    data = file.read_bytes()
    progress = Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def on_progress(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=max(total, 1))
        progress.update(tasks[phase], completed=done, total=max(total, 1))

    async def call(settings: Any) -> dict[str, Any]:
        return await run_import(
            settings,
            org,
            data,
            media_type,
            subject=subject,
            dry_run=dry_run,
            progress=on_progress,
        )

    try:
        with progress:
            result = _run_inventory_admin(call)
    except Exception as exc:
        if isinstance(exc, typer.Exit):
            raise
        detail = getattr(exc, "detail", None) or str(exc)
        raise _fail(detail) from None
    _print_import_summary(file, result)
    if not result["valid"]:
        raise typer.Exit(1)


def _print_import_summary(file: Path, result: dict[str, Any]) -> None:
    for warning in result["warnings"]:
        console.print(f"[yellow]warning:[/] column {warning['column']!r}: {warning['message']}")
    problems = result["problems"]
    if problems:
        table = Table(title=f"Problems in {file.name}", title_justify="left")
        table.add_column("row", justify="right")
        table.add_column("column")
        table.add_column("problem")
        for problem in problems[:MAX_PROBLEMS_SHOWN]:
            table.add_row(str(problem["row"]), problem["column"] or "", problem["message"])
        console.print(table)
        if len(problems) > MAX_PROBLEMS_SHOWN:
            console.print(f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
    summary = Table(title="Import summary", title_justify="left")
    summary.add_column("")
    summary.add_column("", justify="right")
    summary.add_row("rows", str(result["rows"]))
    summary.add_row("valid rows", str(result["valid_rows"]))
    summary.add_row("invalid rows", str(result["invalid_rows"]))
    summary.add_row("created", str(result["created"]))
    summary.add_row("updated", str(result["updated"]))
    summary.add_row("unchanged", str(result["unchanged"]))
    if result["dry_run"]:
        planned = result["planned"]
        summary.add_row(
            "would create / update / leave",
            f"{planned['created']} / {planned['updated']} / {planned['unchanged']}",
        )
    summary.add_row("dry run", "yes" if result["dry_run"] else "no")
    summary.add_row("duration", f"{result['duration_ms'] / 1000:.2f} s")
    console.print(summary)
    if not result["valid"]:
        console.print("[bold red]error:[/] nothing was imported; fix the rows above")
    keys = ("rows", "created", "updated", "unchanged", "dry_run", "valid", "duration_ms")
    _emit({**{k: result[k] for k in keys}, "planned": result["planned"]})


def main() -> None:
    """Console-script entry point."""
    app()


# -- audit trail -----------------------------------------------------------------------------


def _verify_audit_chain(service: str, org: str) -> dict[str, Any]:
    """Walk ``org``'s audit chain in ``service``'s database (as its app role)."""

    async def call(settings: Any) -> dict[str, Any]:
        from shared.audit import verify_org_chain
        from shared.db import Database

        db = Database(settings.app_database_url, pool_size=1, application_name="aims-cli")
        try:
            result = await verify_org_chain(db, org, service=service)
        finally:
            await db.dispose()
        return result.model_dump(mode="json")

    verification: dict[str, Any] = _run_service_admin(service, call)
    return verification


def _print_audit_verification(result: dict[str, Any]) -> None:
    state = "[green]valid[/]" if result["valid"] else "[bold red]BROKEN[/]"
    title = f"{result['service']}: {state}, {result['entries']} entries"
    if result["valid"]:
        console.print(f"[green]✓[/] {title}")
        return
    table = Table(title=title, title_justify="left")
    table.add_column("seq", justify="right")
    table.add_column("problem")
    table.add_column("detail")
    for problem in result["problems"]:
        table.add_row(str(problem["seq"]), problem["problem"], problem["detail"])
    console.print(table)
    listed, total = len(result["problems"]), sum(result["counts"].values())
    if total > listed:
        console.print(f"… and {total - listed} more problems")


@audit_app.command("verify")
def audit_verify(
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
    service: Annotated[
        str | None, typer.Option("--service", help="Only this service (default: all four).")
    ] = None,
) -> None:
    """Verify the hash chain of an organisation's audit trail; exit 1 when any is broken."""
    import uuid

    try:
        org_id = str(uuid.UUID(org))
    except ValueError:
        raise _fail(f"--org {org!r} is not an organisation id (a UUID)") from None
    if service is not None and service not in SERVICE_NAMES:
        raise _fail(f"unknown service {service!r}; choose one of {', '.join(SERVICE_NAMES)}")
    services = (service,) if service else SERVICE_NAMES
    results = [_verify_audit_chain(name, org_id) for name in services]
    for result in results:
        _print_audit_verification(result)
    valid = all(r["valid"] for r in results)
    _emit({"org_id": org_id, "valid": valid, "services": results})
    if not valid:
        console.print("[bold red]error:[/] the audit trail was tampered with (see above)")
        raise typer.Exit(1)


# -- evidence --------------------------------------------------------------------------------


@evidence_app.command("verify")
def evidence_verify(
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
) -> None:
    """Check every evidence blob of an organisation against its SHA-256; exit 1 on any
    corrupt or missing blob (each is recorded and emits `blob.integrity_failed`)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from services.evidence.items.integrity import verify_for_cli

    progress = Progress(
        TextColumn("verify"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TextColumn("{task.fields[blobs]}"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("verify", total=1, blobs="")

    def on_progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        progress.update(
            task, completed=done_bytes, total=max(total_bytes, 1), blobs=f"{done}/{total} blobs"
        )

    async def call(settings: Any) -> dict[str, Any]:
        return await verify_for_cli(settings, org, progress=on_progress)

    try:
        with progress:
            report: dict[str, Any] = _run_service_admin("evidence", call)
    except Exception as exc:
        if isinstance(exc, typer.Exit):
            raise
        raise _fail(getattr(exc, "detail", None) or str(exc)) from None
    problems = report["problems"]
    if problems:
        table = Table(title="Blobs that failed verification", title_justify="left")
        table.add_column("state")
        table.add_column("sha256")
        table.add_column("size", justify="right")
        table.add_column("files (items)")
        for problem in problems[:MAX_PROBLEMS_SHOWN]:
            files = ", ".join(
                f"{f['filename']} ({f['item_id']} v{f['version_number']})"
                for f in problem["files"][:3]
            )
            more = problem["file_count"] - min(3, len(problem["files"]))
            table.add_row(
                problem["state"],
                problem["sha256"],
                str(problem["size_bytes"]),
                files + (f" … and {more} more" if more > 0 else ""),
            )
        console.print(table)
    summary = Table(title="Verification summary", title_justify="left")
    summary.add_column("")
    summary.add_column("", justify="right")
    for key in ("checked", "ok", "corrupt", "missing", "bytes_checked"):
        summary.add_row(key.replace("_", " "), str(report[key]))
    summary.add_row("duration", f"{report['duration_ms'] / 1000:.2f} s")
    console.print(summary)
    _emit({k: v for k, v in report.items() if k != "problems"} | {"org_id": org})
    if report["corrupt"] or report["missing"]:
        console.print(
            "[bold red]error:[/] some evidence content is corrupt or missing; upload the "
            "original files again to repair it"
        )
        raise typer.Exit(1)


# -- audit package ---------------------------------------------------------------------------


@app.command("verify-package")
def verify_package(
    file: Annotated[Path, typer.Argument(help="The audit package (zip) to check.")],
) -> None:
    """Check an audit package offline: every file against the SHA-256 in its `manifest.json`.
    Names every altered, missing and unlisted file; exit 1 on any problem."""
    from gateway.exports.verify import verify_package as check_package

    if not file.is_file():
        raise _fail(f"{file} is not a file")
    result = check_package(file)
    problems = Table(title="Files that failed verification", title_justify="left")
    problems.add_column("problem")
    problems.add_column("path")
    problems.add_column("detail")
    for entry in result.altered:
        problems.add_row("altered", entry["path"], str(entry.get("reason", "")))
    for name in result.missing:
        problems.add_row("missing", name, "listed in the manifest, absent from the zip")
    for name in result.unlisted:
        problems.add_row("unlisted", name, "in the zip, not in the manifest")
    for error in result.errors:
        problems.add_row("error", "", error)
    if problems.row_count:
        console.print(problems)
    for entry in result.unavailable:
        if isinstance(entry, dict):
            console.print(
                f"[yellow]note:[/] {entry.get('what', '?')} was unavailable when the package "
                f"was made ({entry.get('reason', '?')})"
            )
    console.print(
        f"checked {result.checked} files ({result.bytes_checked} bytes): {result.ok} ok, "
        f"{len(result.altered)} altered, {len(result.missing)} missing, "
        f"{len(result.unlisted)} unlisted; manifest SHA-256 {result.manifest_sha256}"
    )
    _emit(result.as_dict())
    if not result.valid:
        console.print("[bold red]error:[/] the package does not match its manifest (see above)")
        raise typer.Exit(1)


# -- webhook secrets -------------------------------------------------------------------------

webhooks_app = typer.Typer(help="Webhook subscriptions: secrets at rest.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("reencrypt")
def webhooks_reencrypt(
    var_dir: Annotated[Path | None, typer.Option(help="Zero-setup data directory.")] = None,
) -> None:
    """Re-encrypt every webhook secret under the current key (AIMS_WEBHOOK_SECRET_KEY_ID).

    Runs as the gateway database's owner, like `aims migrate` (AIMS_DATABASE_URL and
    AIMS_SECRET_KEY, or the zero-setup engines); prints the counts as JSON.
    """
    from gateway.config import GatewaySettings
    from gateway.webhooks.secretbox import WebhookKeyError, load_keyring, reencrypt_database
    from shared.runtime.provision import derive_service_urls

    settings = _settings(var_dir)
    try:
        keyring = load_keyring(GatewaySettings(var_dir=settings.var_dir))
        secret_key = _secret_key(settings)
        with engines(settings, need_nats=False) as started:
            owner_url = derive_service_urls(
                started.database_url, settings.database_prefix, "gateway", secret_key
            ).owner_url
            counts = asyncio.run(reencrypt_database(owner_url, keyring))
    except (CLIError, WebhookKeyError) as exc:
        raise _fail(str(exc)) from None
    _emit({"current_key_id": keyring.current_id, **counts})
