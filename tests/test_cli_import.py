"""`aims import systems` run as a process against the test session's inventory database."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.engines

ROOT = Path(__file__).resolve().parents[1]


def aims(stack: Any, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIMS_INVENTORY_DATABASE_URL": stack.engines.databases["inventory"].app_url,
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


async def run_aims(stack: Any, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(aims, stack, tmp_path, *args)


async def names(stack: Any, org: str) -> list[str]:
    response = await stack.inventory.get(
        "/v1/ai-systems", params={"limit": 100}, headers=stack.headers(org)
    )
    assert response.status_code == 200, response.text
    return sorted(s["name"] for s in response.json()["items"])


async def new_org(stack: Any, tmp_path: Path) -> str:
    created = await run_aims(stack, tmp_path, "org", "create", "--name", "CLI import test")
    assert created.returncode == 0, created.stderr
    return str(json.loads(created.stdout)["id"])


async def test_cli_imports_a_file_with_progress_and_summary(stack: Any, tmp_path: Path) -> None:
    org = await new_org(stack, tmp_path)
    file = tmp_path / "systems.csv"
    file.write_text("Name,Lifecycle stage,Owner\nLedger AI,deployed,cfo@example.com\nBot,idea,\n")

    dry = await run_aims(stack, tmp_path, "import", "systems", str(file), "--org", org, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["created"] == 0
    assert await names(stack, org) == []

    real = await run_aims(
        stack, tmp_path, "import", "systems", str(file), "--org", org, "--as", "alice"
    )
    assert real.returncode == 0, real.stderr
    assert json.loads(real.stdout) | {"duration_ms": 0, "planned": None} == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "dry_run": False,
        "valid": True,
        "duration_ms": 0,
        "planned": None,
    }
    for phase in ("parse", "validate", "write", "Import summary"):
        assert phase in real.stderr
    assert await names(stack, org) == ["Bot", "Ledger AI"]
    listed = await stack.inventory.get("/v1/ai-systems", headers=stack.headers(org))
    assert {s["created_by"] for s in listed.json()["items"]} == {"alice"}


async def test_cli_refuses_an_invalid_file_and_prints_every_problem(
    stack: Any, tmp_path: Path
) -> None:
    org = await new_org(stack, tmp_path)
    file = tmp_path / "systems.csv"
    file.write_text("name,lifecycle_stage\nGood,idea\n,idea\nAlso bad,someday\n")

    result = await run_aims(stack, tmp_path, "import", "systems", str(file), "--org", org)
    assert result.returncode == 1
    assert "Problems in systems.csv" in result.stderr
    assert "someday" not in result.stdout
    assert re.search(r"│\s+3\s+│ name\s+│ Field required", result.stderr), result.stderr
    assert re.search(r"│\s+4\s+│ lifecycle_stage\s+│ .*'someday'", result.stderr), result.stderr
    assert await names(stack, org) == []


async def test_cli_unknown_organisation_fails_cleanly(stack: Any, tmp_path: Path) -> None:
    file = tmp_path / "systems.csv"
    file.write_text("name\nA\n")
    result = await run_aims(
        stack, tmp_path, "import", "systems", str(file), "--org", str(uuid.uuid4())
    )
    assert result.returncode == 1
    assert "No organisation" in result.stderr and "Traceback" not in result.stderr


async def test_cli_import_is_an_upsert_and_reports_updated_and_unchanged(
    stack: Any, tmp_path: Path
) -> None:
    org = await new_org(stack, tmp_path)
    file = tmp_path / "systems.csv"
    file.write_text("System name,Owner email\nLedger AI,cfo@example.com\nBot,\n")
    first = await run_aims(stack, tmp_path, "import", "systems", str(file), "--org", org)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["created"] == 2

    again = await run_aims(stack, tmp_path, "import", "systems", str(file), "--org", org)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 2)
    assert re.search(r"unchanged\s+│\s+2", again.stderr), again.stderr
    assert await names(stack, org) == ["Bot", "Ledger AI"]

    file.write_text("System name,Owner email\nledger ai,cto@example.com\nBot,\n")
    dry = await run_aims(stack, tmp_path, "import", "systems", str(file), "--org", org, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["planned"] | {"matched_by_name": 0} == {
        "created": 0,
        "updated": 1,
        "unchanged": 1,
        "matched_by_id": 0,
        "matched_by_name": 0,
    }
    edited = await run_aims(stack, tmp_path, "import", "systems", str(file), "--org", org)
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["updated"] == 1
    listed = await stack.inventory.get("/v1/ai-systems", headers=stack.headers(org))
    owners = {s["name"]: s["owner"] for s in listed.json()["items"]}
    assert owners == {"Ledger AI": "cto@example.com", "Bot": None}
