"""`aims evidence verify` run as a process against the test session's evidence database."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.evidence.conftest import EvidenceStack
from tests.evidence.items_api import create_item, upload

pytestmark = pytest.mark.engines

ROOT = Path(__file__).resolve().parents[2]


def aims(stack: EvidenceStack, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIMS_EVIDENCE_DATABASE_URL": stack.engines.databases["evidence"].app_url,
        "AIMS_BLOB_STORE_URL": stack.blob_dir.as_uri(),
        "AIMS_VAR_DIR": str(tmp_path / "var"),
        "AIMS_ENVIRONMENT": "test",
        "COLUMNS": "250",
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


async def run_aims(
    stack: EvidenceStack, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(aims, stack, tmp_path, *args)


async def test_verify_reports_a_sound_store_then_a_corrupt_blob_with_exit_1(
    evidence_stack: EvidenceStack, org: uuid.UUID, tmp_path: Path
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org, title="Retention schedule")
    content = b"retention schedule, signed" * 1000
    assert (
        await upload(stack, org, item["id"], content, filename="schedule.pdf")
    ).status_code == 201
    other = await create_item(stack, org)
    assert (await upload(stack, org, other["id"], b"fine")).status_code == 201

    sound = await run_aims(stack, tmp_path, "evidence", "verify", "--org", str(org))
    assert sound.returncode == 0, sound.stderr
    summary = json.loads(sound.stdout)
    assert (summary["checked"], summary["ok"], summary["corrupt"]) == (2, 2, 0)
    assert "Verification summary" in sound.stderr

    blob = stack.blob_dir / "orgs" / str(org) / "sha256" / hashlib.sha256(content).hexdigest()
    data = bytearray(blob.read_bytes())
    data[0] ^= 0x20
    blob.write_bytes(bytes(data))

    broken = await run_aims(stack, tmp_path, "evidence", "verify", "--org", str(org))
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["corrupt"] == 1
    assert "Blobs that failed verification" in broken.stderr
    assert "schedule.pdf" in broken.stderr and item["id"] in broken.stderr
    assert "upload the original files again" in broken.stderr
    assert "Traceback" not in broken.stderr


async def test_verify_refuses_a_bad_organisation_id_cleanly(
    evidence_stack: EvidenceStack, tmp_path: Path
) -> None:
    result = await run_aims(evidence_stack, tmp_path, "evidence", "verify", "--org", "nope")
    assert result.returncode == 1
    assert "Not a valid organisation id" in result.stderr and "Traceback" not in result.stderr
