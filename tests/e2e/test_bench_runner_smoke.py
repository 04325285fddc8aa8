"""The benchmark runner (bench/run.py), short: it starts the apps as processes beside the bare
endpoint, seeds, measures the item GET and a CSV import against their baselines, and writes JSON.

The figures are not judged here (timed tests on a shared machine prove nothing); the run must
finish, every request must have succeeded, and each import must have created every row.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Not marked `engines`: it brings its own engines and processes (as the load smoke test does).
pytestmark = [pytest.mark.e2e, pytest.mark.load]


def test_the_runner_measures_each_benchmark_beside_its_baseline(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    arguments = ["--only", "inventory_get,import", "--rounds", "1", "--seconds", "1"]
    arguments += ["--import-rows", "40", "--json", str(out)]
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"inventory_get", "import"}

    (get,) = results["inventory_get"]["rounds"]
    for side in ("service", "bare"):
        assert get[side]["requests"] > 0 and get[side]["errors"] == 0, get
    assert get["ratio"] == pytest.approx(get["service"]["rps"] / get["bare"]["rps"])

    (imported,) = results["import"]["rounds"]
    assert imported["rows"] == 40
    assert imported["import_s"] > 0 and imported["copy_s"] > 0
    assert imported["ratio"] == pytest.approx(imported["copy_s"] / imported["import_s"])
    # The table names the baseline of each measure.
    assert "raw COPY" in run.stdout and "bare FastAPI" in run.stdout
