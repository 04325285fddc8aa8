"""docker-compose.yml: valid against the Compose specification, and least privilege by design.

No Docker engine is at hand on a developer's machine or in CI, so the file is checked the way
Compose itself would read it: YAML parsed (merge keys resolved), then its strings interpolated
(``${VAR:?message}`` fails when unset), then validated against the Compose specification's JSON
schema (vendored in ``tests/data``). Then who gets which secret is checked on the result.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from shared.runtime.provision import app_role, database_name, explicit_app_password

ROOT = Path(__file__).resolve().parent.parent
APPS = ("inventory", "risk", "evidence", "gateway")
ENV = {
    "POSTGRES_PASSWORD": "pg-superuser-secret",
    "AIMS_SECRET_KEY": "deployment-secret",
    "AIMS_WEBHOOK_SECRET_KEYS": '{"2026-11": "d2ViaG9vay1rZXktd2ViaG9vay1rZXktd2ViaG9vay0="}',
    **{f"AIMS_{app.upper()}_DB_PASSWORD": f"{app}-app-password" for app in APPS},
}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ escapes.
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


class MissingVariable(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = env.get(name)
        empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op and op.endswith("?") and empty:
            raise MissingVariable(f"{name}: {arg}")
        if op and op.endswith("-") and empty:
            return arg or ""
        return value or ""

    return _VARIABLE.sub(replace, text)


def _interpolated(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, dict):
        return {key: _interpolated(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolated(item, env) for item in value]
    return value


def load(env: dict[str, str]) -> dict[str, Any]:
    """Parse the YAML (merge keys resolved), then interpolate its strings, as Compose does."""
    loaded = _interpolated(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), env)
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(ENV)


def test_the_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose_spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_check_can_fail() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose_spec.json").read_text())
    broken = load(ENV)
    broken["services"]["inventory"]["depends_on"]["migrate"]["condition"] = "when_ready"
    broken["services"]["risk"]["restart_policy"] = "always"
    assert len(list(jsonschema.Draft201909Validator(schema).iter_errors(broken))) >= 2


@pytest.mark.parametrize("missing", sorted(ENV))
def test_every_secret_is_required_never_defaulted(missing: str) -> None:
    with pytest.raises(MissingVariable, match=missing):
        load({name: value for name, value in ENV.items() if name != missing})


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    assert isinstance(environment, dict), "use the mapping form of environment"
    return {str(k): str(v) for k, v in environment.items()}


def test_only_the_migration_job_sees_the_superuser_url_and_the_secret(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, service in services.items():
        flat = json.dumps(service)
        if name in ("migrate", "postgres"):
            continue
        assert ENV["POSTGRES_PASSWORD"] not in flat, f"{name} sees the superuser password"
        assert ENV["AIMS_SECRET_KEY"] not in flat, f"{name} sees the deployment secret"
        assert "AIMS_DATABASE_URL" not in _environment(service), name
    migrate = _environment(services["migrate"])
    assert migrate["AIMS_SECRET_KEY"] == ENV["AIMS_SECRET_KEY"]
    assert ENV["POSTGRES_PASSWORD"] in migrate["AIMS_DATABASE_URL"]
    assert services["migrate"]["restart"] == "no"
    # The webhook-secret keys go to the gateway (and to migrate, for upgrades) only.
    keys = ENV["AIMS_WEBHOOK_SECRET_KEYS"]
    holders = {name for name, service in services.items() if keys in _environment(service).values()}
    assert holders == {"gateway", "migrate"}


@pytest.mark.parametrize("app", APPS)
def test_each_app_gets_only_its_own_app_role(compose: dict[str, Any], app: str) -> None:
    services = compose["services"]
    environment = _environment(services[app])
    own = f"AIMS_{app.upper()}_DATABASE_URL"
    assert set(k for k in environment if k.endswith("_DATABASE_URL")) == {own}
    url = environment[own]
    # The URL names the app role of its own database (what `aims migrate` provisions) ...
    assert explicit_app_password(url, "aims", app) == ENV[f"AIMS_{app.upper()}_DB_PASSWORD"]
    assert f"/{database_name('aims', app)}" in url and f"//{app_role('aims', app)}:" in url
    # ... no other app's password is visible to it ...
    for other in APPS:
        if other != app:
            assert ENV[f"AIMS_{other.upper()}_DB_PASSWORD"] not in json.dumps(services[app])
    # ... and the migration job sets that role's password from the very same URL.
    assert _environment(services["migrate"])[own] == url
    assert services[app]["depends_on"]["migrate"]["condition"] == ("service_completed_successfully")


def test_an_app_url_naming_another_role_is_refused() -> None:
    with pytest.raises(ValueError, match="aims_risk_app"):
        explicit_app_password("postgresql://postgres:x@postgres:5432/aims_risk", "aims", "risk")
    with pytest.raises(ValueError, match="no password"):
        explicit_app_password("postgresql://aims_risk_app@postgres:5432/aims_risk", "aims", "risk")
