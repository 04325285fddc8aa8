"""The GraphQL schema without engines: the checked-in SDL, and the limits taken from settings."""

from __future__ import annotations

import pytest

from gateway.config import GatewaySettings
from gateway.export_schema import SCHEMA_FILE, render_sdl
from gateway.schema import build_schema


def test_checked_in_sdl_matches_the_live_schema() -> None:
    assert SCHEMA_FILE.read_text() == render_sdl(), (
        "schema.graphql is out of date: run `python -m gateway.export_schema` and commit it"
    )


DEEP = "{ aiSystems { edges { node { riskView { syncedAt } } } } }"


async def test_depth_limit_comes_from_settings() -> None:
    # Refused while validating: nothing is resolved, so no context or upstream is needed.
    shallow = build_schema(GatewaySettings(graphql_max_depth=3))
    result = await shallow.execute(DEEP)
    assert result.data is None
    assert result.errors
    assert "exceeds maximum operation depth of 3" in result.errors[0].message


async def test_token_limit_comes_from_settings() -> None:
    schema = build_schema(GatewaySettings(graphql_max_tokens=10))
    result = await schema.execute("{ " + "__typename " * 20 + "}")
    assert result.errors
    assert "tokens" in result.errors[0].message


@pytest.mark.parametrize(("aliases", "refused"), [(15, False), (16, True)])
async def test_alias_limit_comes_from_settings(aliases: int, refused: bool) -> None:
    schema = build_schema(GatewaySettings(graphql_max_aliases=15))
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(aliases)) + " }"
    result = await schema.execute(query)
    assert bool(result.errors) is refused
    if refused:
        assert result.errors is not None
        assert "16 aliases found. Allowed: 15" in result.errors[0].message
