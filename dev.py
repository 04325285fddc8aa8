#!/usr/bin/env python3
"""The two commands a developer needs, with nothing installed but Python 3.11+.

    python3 dev.py up [aims up options]   # run the whole stack on this machine
    python3 dev.py test [pytest options]  # every check CI runs, stopping at the first failure

Both create ``.venv`` on first use and install the project with its development extras, pinned
by ``constraints.txt``; the install is skipped while pyproject.toml and constraints.txt are
unchanged. Standard library only: this file runs before any dependency exists.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".aims-install-stamp"
PYTEST_NO_TESTS_COLLECTED = 5


def say(message: str) -> None:
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    print(f"{bold}==> {message}{plain}", flush=True)


def install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        path = ROOT / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_environment() -> None:
    """Create .venv and install the project into it, unless the stamp says it is current."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs under any python3
        sys.exit(f"AIMS needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        say(f"Creating {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    fingerprint = install_fingerprint()
    if STAMP.exists() and STAMP.read_text().strip() == fingerprint and (BIN / "aims").exists():
        return
    say("Installing AIMS and its development tools (pinned by constraints.txt)")
    command = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if (ROOT / "constraints.txt").exists():
        command += ["-c", str(ROOT / "constraints.txt")]
    command += ["-e", f"{ROOT}[dev]"]
    result = subprocess.run(command, cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit(f"installation failed (pip exit code {result.returncode})")
    STAMP.write_text(fingerprint + "\n")


def run_step(name: str, command: list[str]) -> None:
    say(name)
    started = time.monotonic()
    code = subprocess.run(command, cwd=ROOT, check=False).returncode
    elapsed = time.monotonic() - started
    if code == PYTEST_NO_TESTS_COLLECTED and Path(command[0]).name == "pytest":
        print(f"FAILED: {name}: no tests were collected", flush=True)
        sys.exit(1)
    if code != 0:
        print(f"FAILED: {name} (exit code {code}, {elapsed:.1f}s)", flush=True)
        sys.exit(code)
    print(f"ok: {name} ({elapsed:.1f}s)", flush=True)


def test(extra: list[str]) -> None:
    run_step("ruff check", [str(BIN / "ruff"), "check", "."])
    run_step("ruff format --check", [str(BIN / "ruff"), "format", "--check", "."])
    run_step("mypy --strict", [str(BIN / "mypy"), "."])
    run_step("import contracts (lint-imports)", [str(BIN / "lint-imports")])
    run_step("pytest", [str(BIN / "pytest"), *extra])
    say("All checks passed")


def up(extra: list[str]) -> None:
    aims = BIN / "aims"
    sys.stdout.flush()
    os.execv(aims, [str(aims), "up", *extra])  # noqa: S606 - hand the terminal to aims


def main(argv: list[str]) -> None:
    commands = {"up": up, "test": test}
    if not argv or argv[0] not in commands:
        sys.exit(__doc__)
    ensure_environment()
    commands[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
