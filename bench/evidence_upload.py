"""Benchmark: upload a 1 GiB evidence file through HTTP to a real uvicorn process.

Targets (issues 7 and 12): the service's peak memory grows by less than 64 MiB during the
upload, and the upload's throughput is at least 60 % of ``cp`` of the same file on the same disk
(``sync`` before each), measured in the same run. Prints figures; it is not a timed test.

    .venv/bin/python bench/evidence_upload.py [--size-mib 1024] [--profile]

Starts throwaway engines (``TestEngines``: the machine's engines when ``AIMS_TEST_DATABASE_URL``
/ ``AIMS_TEST_NATS_URL`` are set, embedded ones otherwise), then the evidence service as its own
process (uvicorn on a loopback socket) with its blobs in a folder beside the test file. The
client streams the file with ``curl -T`` (no whole-file buffering, little CPU) so that the
figures are the server's. Memory is the server process's resident set, sampled every 5 ms, and
its kernel-recorded peak (``VmHWM``). ``--profile`` records the server with py-spy during the
upload and prints where its time went.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.db import uuid7  # noqa: E402
from shared.runtime.embedded import find_free_port  # noqa: E402
from shared.testing import TestEngines  # noqa: E402

MIB = 1024 * 1024


def serve(settings_json: str, port: int) -> None:
    """The server process: the evidence app under uvicorn, as ``aims serve`` runs it."""
    import uvicorn

    from services.evidence.config import EvidenceSettings
    from services.evidence.main import create_app

    app = create_app(EvidenceSettings(**json.loads(settings_json)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def write_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)
    with path.open("wb") as out:
        for index in range(size // MIB):
            # Vary each block a little so that nothing below could deduplicate it.
            out.write(index.to_bytes(8, "big") + block[8:])
        out.write(block[: size % MIB])
        out.flush()
        os.fsync(out.fileno())


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def reset_hwm(pid: int) -> bool:
    """Reset the kernel's peak-RSS mark (writing 5 to clear_refs), when allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.interval)


def summarise_profile(raw: Path, top: int = 15) -> None:
    """Self time per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        own[stack.split(";")[-1]] += n
    print(f"  py-spy: {total} samples; self time by function:")
    for frame, n in own.most_common(top):
        print(f"    {100 * n / max(total, 1):5.1f} %  {frame[:110]}")


async def main(size_mib: int, profile: bool) -> None:
    size = size_mib * MIB
    print(f"starting engines … ({size_mib} MiB upload)")
    engines = await TestEngines.start()
    work = Path(tempfile.mkdtemp(prefix="aims-bench-upload-", dir=engines.work_dir))
    server: subprocess.Popen[bytes] | None = None
    try:
        source = work / "evidence.bin"
        t0 = time.perf_counter()
        write_file(source, size)
        print(f"test file written in {time.perf_counter() - t0:.1f} s: {source}")

        # cp of the same file on the same disk (page cache warm, as the upload's read is).
        copy = work / "copy.bin"
        # Both start with no dirty pages queued for writeback (as bench/run.py does): otherwise
        # whichever runs second pays for the first one's writes.
        os.sync()
        t0 = time.perf_counter()
        # Blocking on purpose here and below: nothing else runs on the loop while timing.
        subprocess.run(["cp", str(source), str(copy)], check=True)  # noqa: ASYNC221
        cp_seconds = time.perf_counter() - t0
        copy.unlink()

        port = find_free_port()
        env = {
            **engines.settings_env("evidence"),
            "blob_store_url": (work / "blobs").as_uri(),
            "max_upload_bytes": size + MIB,
        }
        settings_json = json.dumps(env, default=str)
        server = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, __file__, "--serve", settings_json, str(port)], cwd=ROOT
        )
        base = f"http://127.0.0.1:{port}"
        org = uuid7()
        headers = engines.headers(org, "admin")
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            for _ in range(300):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the evidence service did not start")
            item = await client.post("/v1/evidence", json={"title": "bench"}, headers=headers)
            item_id = item.json()["id"]
            # Warm up: code paths loaded, pools opened, before the baseline is taken.
            warm = await client.post(
                f"/v1/evidence/{item_id}/versions/1/files",
                params={"filename": "warm.bin"},
                content=os.urandom(8 * MIB),
                headers=headers,
            )
            assert warm.status_code == 201, warm.text
            await asyncio.sleep(0.5)

        pid = server.pid
        baseline = psutil.Process(pid).memory_info().rss
        hwm_reset = reset_hwm(pid)
        sampler = RssSampler(pid)
        sampler.start()
        spy: subprocess.Popen[bytes] | None = None
        raw = work / "profile.txt"
        if profile:
            spy = subprocess.Popen(  # noqa: ASYNC220
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            await asyncio.sleep(1)
        url = f"{base}/v1/evidence/{item_id}/versions/1/files?filename=evidence.bin"
        os.sync()
        cpu0 = psutil.Process(pid).cpu_times()
        t0 = time.perf_counter()
        result = subprocess.run(  # noqa: ASYNC221
            [
                "curl",
                "-sS",
                "-X",
                "POST",
                "-T",
                str(source),
                "-H",
                f"Authorization: {headers['Authorization']}",
                "-H",
                "Content-Type: application/octet-stream",
                "-H",
                "Expect:",
                url,
            ],
            capture_output=True,
            check=True,
        )
        upload_seconds = time.perf_counter() - t0
        cpu1 = psutil.Process(pid).cpu_times()
        server_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        sampler.stop.set()
        sampler.join()
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=30)
        body: dict[str, Any] = json.loads(result.stdout)
        assert body.get("size_bytes") == size, result.stdout[:500]
        peak = max(sampler.peak, vm_hwm(pid) if hwm_reset else 0)

        cp_rate = size / cp_seconds / MIB
        upload_rate = size / upload_seconds / MIB
        growth = (peak - baseline) / MIB
        print(f"cp of the file           {cp_seconds:7.2f} s  {cp_rate:8.1f} MiB/s")
        print(f"HTTP upload (1 request)  {upload_seconds:7.2f} s  {upload_rate:8.1f} MiB/s")
        print(f"  throughput vs cp       {100 * upload_rate / cp_rate:7.1f} %   (target ≥ 60 %)")
        print(f"server CPU (user+sys)    {server_cpu:7.2f} s  during the upload")
        print(f"server RSS before        {baseline / MIB:7.1f} MiB")
        print(
            f"server RSS peak         {peak / MIB:7.1f} MiB  (sampled every 5 ms"
            f"{'; VmHWM reset before the upload' if hwm_reset else ''})"
        )
        print(f"  peak growth            {growth:7.1f} MiB   (target < 64 MiB)")
        print(f"sha256 {body['sha256']}")
        if profile and raw.exists():
            summarise_profile(raw)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
        await engines.stop()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--profile", action="store_true", help="record the server with py-spy")
    args = parser.parse_args()
    asyncio.run(main(args.size_mib, args.profile))
