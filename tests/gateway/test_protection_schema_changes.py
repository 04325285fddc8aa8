"""``python -m gateway.export_schema --breaking``: what the code changes against the SDL file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.export_schema import main, render_sdl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sdl() -> str:
    return render_sdl()


def run_breaking(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(["--breaking", "--output", str(path)])
        status = 0
    except SystemExit as exit_:
        status = int(exit_.code or 0) if isinstance(exit_.code, int) else 2
    return status, capsys.readouterr().out


def test_no_changes_against_the_code_own_sdl(
    sdl: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "schema.graphql"
    path.write_text(sdl)
    assert run_breaking(path, capsys) == (0, f"No breaking or dangerous changes against {path}.\n")


def test_a_field_clients_rely_on_that_the_code_dropped_is_breaking(
    sdl: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The checked-in file has a field (and a type) the code no longer has.
    old = sdl.replace("type Query {\n", "type Query {\n  retiredReport: RetiredReport\n", 1)
    old += "\ntype RetiredReport {\n  title: String!\n}\n"
    path = tmp_path / "schema.graphql"
    path.write_text(old)
    status, out = run_breaking(path, capsys)
    assert status == 1
    assert "Breaking changes against" in out
    assert "FIELD_REMOVED: Field Query.retiredReport was removed." in out
    assert "TYPE_REMOVED: RetiredReport was removed." in out


def test_an_enum_value_the_code_added_is_dangerous_not_breaking(
    sdl: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    match = re.search(r"enum (\w+) \{\n((?:  .*\n)+?)\}", sdl)
    assert match is not None
    enum, values = match.group(1), match.group(2).splitlines()
    last = values[-1].strip()
    old = sdl.replace(match.group(0), f"enum {enum} {{\n" + "\n".join(values[:-1]) + "\n}", 1)
    path = tmp_path / "schema.graphql"
    path.write_text(old)
    status, out = run_breaking(path, capsys)
    assert status == 0
    assert "Breaking" not in out
    assert f"VALUE_ADDED_TO_ENUM: Enum value {enum}.{last} was added." in out


def test_the_command_line_exits_non_zero_on_a_breaking_change(sdl: str, tmp_path: Path) -> None:
    path = tmp_path / "schema.graphql"
    path.write_text(sdl.replace("type Query {\n", "type Query {\n  gone: Int\n", 1))
    done = subprocess.run(
        [sys.executable, "-m", "gateway.export_schema", "--breaking", "--output", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "FIELD_REMOVED: Field Query.gone was removed." in done.stdout
