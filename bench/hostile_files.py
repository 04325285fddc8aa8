"""Benchmark: how long each hostile spreadsheet takes to be refused (issue 10).

Builds the hostile workbooks of ``tests/test_hostile_input.py`` (a 1.5 KB sheet declaring
``A1:XFD20000``, a shared-strings zip bomb, a far-away cell, a row numbered a billion, a declared
area of 6 million cells) and times the import's own check (``imports.service.check_file``: the
pre-parse inspection, then the parse and validation) on each, with the default limits; an
ordinary workbook of ``--rows`` rows is timed for contrast. CPU only: no database needed.

    .venv/bin/python bench/hostile_files.py [--rows 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.inventory.imports import service
from services.inventory.imports.parser import XLSX_MEDIA_TYPE
from shared.errors import DomainError
from tests.test_hostile_input import HOSTILE_FILES


def ordinary_workbook(rows: int) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["name", "owner", "description", "lifecycle_stage"])
    for i in range(rows):
        sheet.append([f"System {i}", f"owner{i}@example.com", "A system " * 5, "development"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def timed(data: bytes, repeat: int) -> tuple[float, str]:
    """The median seconds ``check_file`` takes on ``data``, and how it ended."""
    seconds: list[float] = []
    outcome = ""
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            report = service.check_file(data, XLSX_MEDIA_TYPE)
            outcome = f"accepted ({report.rows} rows)"
        except DomainError as error:
            limit = error.extensions.get("limit", "")
            outcome = f"{error.status} {error.code}" + (f" ({limit})" if limit else "")
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cases: dict[str, Callable[[], bytes]] = {
        name: build for name, (build, _) in HOSTILE_FILES.items()
    }
    cases[f"ordinary workbook, {args.rows} rows"] = lambda: ordinary_workbook(args.rows)
    service.check_file(ordinary_workbook(2), XLSX_MEDIA_TYPE)  # warm up: openpyxl's import
    print(f"{'file':<34} {'size':>10} {'refused/parsed in':>18}  outcome")
    for name, build in cases.items():
        data = build()
        seconds, outcome = timed(data, args.repeat)
        print(f"{name:<34} {len(data):>8,} B {seconds * 1000:>15.1f} ms  {outcome}")


if __name__ == "__main__":
    main()
