"""Offline verification of an audit package: every file against ``manifest.json``.

Standard library only, no engine, no network: an auditor runs ``aims verify-package FILE`` on
the zip they were handed. Each listed file is re-read and hashed (SHA-256, streamed in 1 MiB
chunks, so a package of any size fits in memory); a file whose bytes differ is *altered*, a
listed file absent from the zip is *missing*, a file in the zip the manifest does not list is
*unlisted*. The manifest protects the files, not itself: pair the package with the manifest's
own SHA-256 sent through another channel (printed by the command) when that matters.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
_CHUNK = 1 << 20


@dataclass
class PackageCheck:
    """The outcome of checking one package."""

    checked: int = 0
    ok: int = 0
    bytes_checked: int = 0
    altered: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unavailable: list[dict[str, Any]] = field(default_factory=list)
    manifest_sha256: str | None = None
    org_id: str | None = None
    generated_at: str | None = None

    @property
    def valid(self) -> bool:
        return not (self.altered or self.missing or self.unlisted or self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "org_id": self.org_id,
            "generated_at": self.generated_at,
            "manifest_sha256": self.manifest_sha256,
            "checked": self.checked,
            "ok": self.ok,
            "bytes_checked": self.bytes_checked,
            "altered": self.altered,
            "missing": self.missing,
            "unlisted": self.unlisted,
            "errors": self.errors,
            "unavailable": self.unavailable,
        }


def _hash_member(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with archive.open(name) as member:
        while chunk := member.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _read_manifest(archive: zipfile.ZipFile, result: PackageCheck) -> dict[str, Any] | None:
    try:
        raw = archive.read(MANIFEST)
    except KeyError:
        result.errors.append(f"{MANIFEST} is missing: nothing can be verified")
        return None
    except (zipfile.BadZipFile, OSError) as exc:
        result.errors.append(f"{MANIFEST} cannot be read: {exc}")
        return None
    result.manifest_sha256 = hashlib.sha256(raw).hexdigest()
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        result.errors.append(f"{MANIFEST} is not valid JSON: {exc}")
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        result.errors.append(f"{MANIFEST} has no list of files")
        return None
    return manifest


def verify_package(path: Path) -> PackageCheck:
    """Check every file of the package at ``path`` against its manifest."""
    result = PackageCheck()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        result.errors.append(f"not a readable zip file: {exc}")
        return result
    with archive:
        manifest = _read_manifest(archive, result)
        if manifest is None:
            return result
        result.org_id = manifest.get("org_id")
        result.generated_at = manifest.get("generated_at")
        unavailable = manifest.get("unavailable")
        result.unavailable = unavailable if isinstance(unavailable, list) else []
        present = {i.filename for i in archive.infolist() if not i.is_dir()}
        listed: set[str] = set()
        for entry in manifest["files"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                result.errors.append(f"{MANIFEST} holds a malformed entry: {entry!r:.200}")
                continue
            name = entry["path"]
            listed.add(name)
            if name not in present:
                result.missing.append(name)
                continue
            result.checked += 1
            try:
                sha256, size = _hash_member(archive, name)
            except (zipfile.BadZipFile, OSError) as exc:
                # A CRC mismatch: the bytes were changed inside the zip.
                result.altered.append({"path": name, "reason": str(exc)})
                continue
            result.bytes_checked += size
            if sha256 != entry.get("sha256") or size != entry.get("size_bytes"):
                result.altered.append(
                    {
                        "path": name,
                        "reason": "content differs from the manifest",
                        "expected_sha256": entry.get("sha256"),
                        "actual_sha256": sha256,
                        "expected_size": entry.get("size_bytes"),
                        "actual_size": size,
                    }
                )
                continue
            source = entry.get("source_sha256")
            if source and source != sha256:
                result.altered.append(
                    {
                        "path": name,
                        "reason": "content differs from the evidence service's SHA-256",
                        "expected_sha256": source,
                        "actual_sha256": sha256,
                    }
                )
                continue
            result.ok += 1
        result.unlisted = sorted(present - listed - {MANIFEST})
        result.missing.sort()
    return result
