"""Benchmark: stream an audit package of 10,000 evidence files (1 GiB) through a real gateway.

Target (issue 8): the package is streamed with the gateway's memory growing by less than
64 MiB. Prints figures; it is not a timed test.

    .venv/bin/python bench/audit_package.py [--files 10000] [--size-mib 1024] [--keep]

Starts throwaway engines (``TestEngines``: the machine's engines when ``AIMS_TEST_DATABASE_URL``
/ ``AIMS_TEST_NATS_URL`` are set, embedded ones otherwise), then the inventory, risk and
evidence services and the gateway as processes of their own (uvicorn on loopback sockets, as
``aims up`` runs them). The evidence files (random bytes, so nothing compresses or
deduplicates) are arranged through the evidence service's REST API, eight uploads at a time.
The package is downloaded with ``curl`` to a file, then checked with ``aims verify-package``.
Memory is the gateway process's resident set, sampled every 5 ms, and its kernel-recorded
peak (``VmHWM``, reset before the download when the kernel allows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.evidence_upload import RssSampler, reset_hwm, vm_hwm  # noqa: E402
from shared.db import uuid7  # noqa: E402
from shared.runtime.embedded import find_free_port  # noqa: E402
from shared.testing import TestEngines  # noqa: E402

MIB = 1024 * 1024
SERVICES = ("inventory", "risk", "evidence", "gateway")


def serve(name: str, settings_json: str, port: int) -> None:
    """One server process: the named app under uvicorn."""
    import uvicorn

    settings: dict[str, Any] = json.loads(settings_json)
    app: Any
    if name == "inventory":
        from services.inventory.config import InventorySettings
        from services.inventory.main import create_app as create_inventory

        app = create_inventory(InventorySettings(**settings))
    elif name == "risk":
        from services.risk.config import RiskSettings
        from services.risk.main import create_app as create_risk

        app = create_risk(RiskSettings(**settings))
    elif name == "evidence":
        from services.evidence.config import EvidenceSettings
        from services.evidence.main import create_app as create_evidence

        app = create_evidence(EvidenceSettings(**settings))
    else:
        from gateway.config import GatewaySettings
        from gateway.main import create_app as create_gateway

        app = create_gateway(GatewaySettings(**settings))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def wait_healthy(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(600):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


async def arrange(
    base: str, headers: dict[str, str], files: int, file_size: int, per_item: int = 1
) -> float:
    """``files`` evidence files, ``per_item`` of them in each item's first version, uploaded
    eight at a time (many files per item makes arranging 10,000 files affordable)."""
    block = os.urandom(file_size + files)
    gate = asyncio.Semaphore(8)
    done = 0
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def upload(item_id: str, index: int) -> None:
            nonlocal done
            async with gate:
                uploaded = await client.post(
                    f"/v1/evidence/{item_id}/versions/1/files",
                    params={"filename": f"evidence-{index:05d}.bin"},
                    content=block[index : index + file_size],
                    headers={**headers, "Content-Type": "application/octet-stream"},
                )
            assert uploaded.status_code == 201, uploaded.text
            done += 1
            if done % 1000 == 0:
                rate = done / (time.perf_counter() - t0)
                print(f"  arranged {done}/{files} files ({rate:.0f} files/s)", flush=True)

        async def one(first: int) -> None:
            async with gate:
                item = await client.post(
                    "/v1/evidence", json={"title": f"Evidence {first:05d}"}, headers=headers
                )
            assert item.status_code == 201, item.text
            last = min(first + per_item, files)
            await asyncio.gather(*(upload(item.json()["id"], i) for i in range(first, last)))

        await asyncio.gather(*(one(i) for i in range(0, files, per_item)))
    return time.perf_counter() - t0


async def main(files: int, size_mib: int, keep: bool, per_item: int) -> None:
    file_size = size_mib * MIB // files
    total = files * file_size / MIB
    print(f"starting engines … ({files} files of {file_size} bytes = {total:.0f} MiB)")
    engines = await TestEngines.start()
    work = Path(tempfile.mkdtemp(prefix="aims-bench-package-", dir=engines.work_dir))
    servers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        ports = {name: find_free_port() for name in SERVICES}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        settings: dict[str, dict[str, Any]] = {
            "inventory": engines.settings_env("inventory"),
            "risk": engines.settings_env("risk"),
            "evidence": {
                **engines.settings_env("evidence"),
                "blob_store_url": (work / "blobs").as_uri(),
            },
            "gateway": {
                **engines.settings_env("gateway"),
                "inventory_url": urls["inventory"],
                "risk_url": urls["risk"],
                "evidence_url": urls["evidence"],
                "upstream_timeout_seconds": 60,
            },
        }
        for name in SERVICES:
            servers[name] = subprocess.Popen(  # noqa: ASYNC220
                [
                    sys.executable,
                    __file__,
                    "--serve",
                    name,
                    json.dumps(settings[name], default=str),
                    str(ports[name]),
                ],
                cwd=ROOT,
            )
        for name in SERVICES:
            await wait_healthy(urls[name])
        org = uuid7()
        headers = engines.headers(org, "admin")
        print("arranging evidence through the evidence service's REST API …")
        arrange_seconds = await arrange(urls["evidence"], headers, files, file_size, per_item)
        print(f"arranged {files} items with files in {arrange_seconds:.0f} s")

        # Warm up the gateway's export path (imports, pools) before the baseline.
        async with httpx.AsyncClient(base_url=urls["gateway"], timeout=60) as client:
            warm = await client.get("/v1/exports/soa.html", headers=headers)
            assert warm.status_code == 200, warm.text
        await asyncio.sleep(0.5)

        pid = servers["gateway"].pid
        baseline = psutil.Process(pid).memory_info().rss
        hwm_reset = reset_hwm(pid)
        sampler = RssSampler(pid)
        sampler.start()
        package = work / "package.zip"
        t0 = time.perf_counter()
        curl = subprocess.run(  # noqa: ASYNC221
            [
                "curl",
                "-sS",
                "--fail-with-body",
                "-o",
                str(package),
                "-w",
                "%{http_code} %{size_download} %{time_starttransfer}",
                "-H",
                f"Authorization: {headers['Authorization']}",
                f"{urls['gateway']}/v1/exports/audit-package",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
        peak = max(sampler.peak, vm_hwm(pid) if hwm_reset else 0)
        status, size, first_byte = curl.stdout.split()
        assert status == "200", curl.stdout

        t1 = time.perf_counter()
        verify = subprocess.run(  # noqa: ASYNC221
            [sys.executable, "-m", "aims", "verify-package", str(package)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        verify_seconds = time.perf_counter() - t1
        report = json.loads(verify.stdout)
        with zipfile.ZipFile(package) as archive:
            manifest = json.loads(archive.read("manifest.json"))

        size_mib_done = int(size) / MIB
        print(f"evidence files in package {manifest['counts']['evidence_files']:8d}")
        print(f"package size              {size_mib_done:8.1f} MiB")
        print(f"first byte after          {float(first_byte):8.2f} s")
        print(f"download (curl → file)    {seconds:8.2f} s  {size_mib_done / seconds:7.1f} MiB/s")
        print(f"gateway RSS before        {baseline / MIB:8.1f} MiB")
        print(
            f"gateway RSS peak          {peak / MIB:8.1f} MiB  (sampled every 5 ms"
            f"{'; VmHWM reset before the download' if hwm_reset else ''})"
        )
        print(f"  peak growth             {(peak - baseline) / MIB:8.1f} MiB   (target < 64 MiB)")
        print(
            f"aims verify-package       {verify_seconds:8.2f} s  valid={report['valid']} "
            f"ok={report['ok']} altered={len(report['altered'])} "
            f"missing={len(report['missing'])}"
        )
        if keep:
            kept = Path(tempfile.gettempdir()) / "aims-bench-package.zip"
            shutil.move(package, kept)
            print(f"kept {kept}")
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
        await engines.stop()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--keep", action="store_true", help="keep the package in the temp dir")
    parser.add_argument(
        "--files-per-item", type=int, default=50, help="files in each evidence item's version"
    )
    args = parser.parse_args()
    asyncio.run(main(args.files, args.size_mib, args.keep, args.files_per_item))
