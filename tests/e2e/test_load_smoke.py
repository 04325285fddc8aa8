"""The load test (bench/load.py), short: 10 clients for 20 s against the four apps as processes.

The full run is ``python bench/load.py`` (50 clients, 5 minutes; docs/performance.md). Here the
same mix — GraphQL dashboards, registrations, evidence uploads, and every registration's webhook
delivered to a local receiver — must finish with no error, and every operation must have run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import OPERATIONS, Options, run_load

# Not marked `engines`: it brings its own engines and processes (as the crash suite does).
pytestmark = [pytest.mark.e2e, pytest.mark.load]


async def test_a_short_mixed_load_has_no_error(tmp_path: Path) -> None:
    report = await run_load(
        Options(users=10, duration=20, page_size=20, seed_systems=5, settle=90),
        json_path=tmp_path / "load.json",
        quiet=True,
    )
    assert report["errors"] == 0, report["error_samples"]
    for operation in OPERATIONS:
        row = report["operations"][operation]
        assert row["count"] > 0, (operation, report["operations"])
        assert row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]
    # Each registration's webhook arrived (none missing, counted above as errors).
    assert report["operations"]["webhook"]["count"] == report["operations"]["register"]["count"]
    assert (tmp_path / "load.json").exists()
