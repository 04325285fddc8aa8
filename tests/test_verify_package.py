"""The audit package's zip writer and ``aims verify-package``: no engine involved.

Packages here are written by the product's own streaming writer (``gateway.exports.package``)
with a manifest as the gateway writes it, then read back by Python's ``zipfile`` (an
independent reader) and checked by the CLI as an auditor would run it, in a subprocess with no
database, broker or service configured.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.exports.package import ZipStream, check_entry_name
from gateway.exports.verify import verify_package

ROOT = Path(__file__).resolve().parents[1]


async def _chunks(content: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(content), size):
        yield content[start : start + size]


async def _build(files: dict[str, bytes], *, chunk: int = 7, sized: bool = True) -> bytes:
    zs = ZipStream(modified_at=datetime(2026, 11, 28, 10, 30, tzinfo=UTC))
    out = bytearray()
    for name, content in files.items():
        hint = len(content) if sized else None
        async for part in zs.entry(name, _chunks(content, chunk), size_hint=hint):
            out += part
    manifest = {
        "format": "aims-audit-package",
        "org_id": "org",
        "files": [
            {"path": e.path, "size_bytes": e.size_bytes, "sha256": e.sha256} for e in zs.written
        ],
        "unavailable": [],
    }
    async for part in zs.bytes_entry("manifest.json", json.dumps(manifest).encode()):
        out += part
    out += zs.finish()
    assert zs.bytes_written == len(out)
    return bytes(out)


def build(files: dict[str, bytes], **options: Any) -> bytes:
    return asyncio.run(_build(files, **options))


def aims_offline(*args: str) -> subprocess.CompletedProcess[str]:
    """``aims …`` with no engine settings at all: verification must not need any."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMS_")}
    env["COLUMNS"] = "250"
    return subprocess.run(
        [sys.executable, "-m", "aims", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


FILES = {
    "scope.json": b'{"statement": "AI in recruitment"}',
    "evidence/one/v1/policy.pdf": b"%PDF-1.7 policy" * 100,
    "evidence/two/v1/log.csv": b"a,b\n1,2\n",
}


def rewrite(source: Path, target: Path, *, drop: str | None = None, replace: Any = None) -> None:
    """A tampered copy: ``drop`` removed, ``replace`` = (name, bytes) rewritten, rest kept."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            if info.filename == drop:
                continue
            data = zin.read(info.filename)
            if replace and info.filename == replace[0]:
                data = replace[1]
            zout.writestr(info.filename, data)


def test_the_writer_produces_a_zip_any_reader_opens_with_every_byte(tmp_path: Path) -> None:
    for sized in (True, False):  # classic and ZIP64 data descriptors
        path = tmp_path / f"package-{sized}.zip"
        path.write_bytes(build(FILES, sized=sized))
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
            assert {n: archive.read(n) for n in FILES} == FILES
            manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert entry["sha256"] == hashlib.sha256(FILES[entry["path"]]).hexdigest()
            assert entry["size_bytes"] == len(FILES[entry["path"]])
        assert verify_package(path).valid


def test_verify_package_passes_an_intact_package_and_names_tampered_files(tmp_path: Path) -> None:
    intact = tmp_path / "intact.zip"
    intact.write_bytes(build(FILES))
    ok = aims_offline("verify-package", str(intact))
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["valid"] is True
    assert report["checked"] == report["ok"] == 3

    tampered = tmp_path / "tampered.zip"
    rewrite(
        intact,
        tampered,
        drop="evidence/two/v1/log.csv",
        replace=("evidence/one/v1/policy.pdf", b"%PDF-1.7 forged"),
    )
    bad = aims_offline("verify-package", str(tampered))
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert [a["path"] for a in report["altered"]] == ["evidence/one/v1/policy.pdf"]
    assert report["missing"] == ["evidence/two/v1/log.csv"]
    assert "evidence/one/v1/policy.pdf" in bad.stderr
    assert "evidence/two/v1/log.csv" in bad.stderr


def test_bytes_changed_inside_the_zip_and_added_files_are_reported(tmp_path: Path) -> None:
    raw = bytearray(build(FILES))
    # Flip one byte of a stored entry's content in place: sizes stay, the CRC no longer fits.
    at = bytes(raw).index(b"%PDF-1.7 policy") + 3
    raw[at] ^= 0xFF
    flipped = tmp_path / "flipped.zip"
    flipped.write_bytes(bytes(raw))
    result = verify_package(flipped)
    assert not result.valid
    assert [a["path"] for a in result.altered] == ["evidence/one/v1/policy.pdf"]

    intact = tmp_path / "intact.zip"
    intact.write_bytes(build(FILES))
    extra = tmp_path / "extra.zip"
    rewrite(intact, extra)
    with zipfile.ZipFile(extra, "a") as archive:
        archive.writestr("evidence/smuggled.pdf", b"not from AIMS")
    result = verify_package(extra)
    assert result.unlisted == ["evidence/smuggled.pdf"]
    assert not result.valid


def test_a_file_that_is_no_package_fails_clearly(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip")
    run = aims_offline("verify-package", str(junk))
    assert run.returncode == 1
    assert "not a readable zip file" in run.stdout

    no_manifest = tmp_path / "bare.zip"
    with zipfile.ZipFile(no_manifest, "w") as archive:
        archive.writestr("scope.json", b"{}")
    result = verify_package(no_manifest)
    assert not result.valid
    assert "manifest.json is missing" in result.errors[0]
    assert aims_offline("verify-package", str(tmp_path / "absent.zip")).returncode == 1


def test_more_entries_than_the_classic_format_holds_use_zip64_end_records(tmp_path: Path) -> None:
    files = {f"evidence/{i:05d}.txt": str(i).encode() for i in range(70_000)}
    path = tmp_path / "many.zip"
    path.write_bytes(build(files, chunk=1 << 16))
    assert b"PK\x06\x06" in path.read_bytes()[-200:]  # the ZIP64 end of central directory
    with zipfile.ZipFile(path) as archive:
        assert len(archive.infolist()) == 70_001
        assert archive.read("evidence/69999.txt") == b"69999"
    assert verify_package(path).ok == 70_000


def test_unsafe_archive_paths_are_refused() -> None:
    for name in ("", "/etc/passwd", "../x", "a/../b", "a\\b", "a//b", "a/./b", "tab\there"):
        try:
            check_entry_name(name)
        except ValueError:
            continue
        raise AssertionError(f"{name!r} was accepted")
    assert check_entry_name("evidence/1/v2/report.pdf") == "evidence/1/v2/report.pdf"


names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_characters="/\\"),
    min_size=1,
    max_size=30,
).filter(lambda n: n not in (".", ".."))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.dictionaries(
        st.lists(names, min_size=1, max_size=3).map("/".join),
        st.binary(max_size=3000),
        max_size=8,
    ).filter(lambda f: "manifest.json" not in f),
    chunk=st.integers(min_value=1, max_value=4096),
    sized=st.booleans(),
)
def test_any_names_and_contents_round_trip_and_verify(
    tmp_path: Path, files: dict[str, bytes], chunk: int, sized: bool
) -> None:
    path = tmp_path / "prop.zip"
    path.write_bytes(build(files, chunk=chunk, sized=sized))
    with zipfile.ZipFile(path) as archive:
        assert {n: archive.read(n) for n in files} == files
    result = verify_package(path)
    assert result.valid, result.as_dict()
    assert result.ok == len(files)
