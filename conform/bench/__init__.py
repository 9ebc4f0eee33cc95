"""``conform bench``: speed figures and their ratios, each measured within one run.

- rust-visl jobs per second at 1080p and 2160p, NV12 and YU12, next to a plain copy of
  the same bytes (rust-visl/vdev/examples/bench.rs: no Python in the loop);
- conform's own cost per frame outside the driver (a Python decode session);
- requests built per second per codec front-end;
- a suite run with 1 and 2 workers (scaling);
- the kernel tier: warm boot to first command, and c-visl against rust-visl per job in
  the same guest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conform.drivers.rust_visl import build_library, target_dir, workspace
from conform.errors import ConformError

REPO = Path(__file__).resolve().parents[2]


def driver_throughput(jobs_1080: int = 300, jobs_2160: int = 60) -> list[dict[str, Any]]:
    from conform.uapi.headers import include_dirs

    env = dict(os.environ, VISL_UAPI_INCLUDE=str(include_dirs()[0]))
    subprocess.run(
        [
            "cargo",
            "build",
            "--release",
            "--quiet",
            "--manifest-path",
            str(workspace() / "Cargo.toml"),
            "--target-dir",
            str(target_dir()),
            "-p",
            "vdev",
            "--example",
            "bench",
        ],
        env=env,
        check=True,
    )
    binary = target_dir() / "release" / "examples" / "bench"
    out = []
    for width, height, jobs in ((1920, 1080, jobs_1080), (3840, 2160, jobs_2160)):
        for fmt in ("NV12", "YU12"):
            done = subprocess.run(
                [str(binary), str(width), str(height), fmt, str(jobs)],
                check=True,
                capture_output=True,
                text=True,
            )
            out.append(json.loads(done.stdout))
    return out


def python_overhead(frames: int = 60) -> dict[str, Any]:
    """Seconds per frame of a Python decode session at 1080p, minus the driver's own job time."""
    from conform.drivers import resolve_driver
    from conform.probe.smoke import SmokeStream
    from conform.run.session import DecodeSession

    nodes = resolve_driver("rust-visl").connect()
    stream = SmokeStream(1920, 1080, frames)
    session = DecodeSession(nodes, stream.format())
    started = time.perf_counter()
    count = sum(1 for _ in session.decode(stream.requests()))
    elapsed = time.perf_counter() - started
    session.close()
    return {"frames": count, "session_s_per_frame": elapsed / max(count, 1)}


def request_building() -> dict[str, Any]:
    """Pictures per second each front-end turns into requests, over the suites' streams."""
    from conform.codecs.frontend import FRONTENDS, build_request_stream
    from conform.run.suite import load_suites
    from conform.run.vector import search_path

    out: dict[str, Any] = {}
    for suite in load_suites():
        if suite.codec.value not in FRONTENDS:
            continue
        entry = out.setdefault(suite.codec.value, {"pictures": 0, "seconds": 0.0})
        for vector in suite.resolve(search_path()).test_vectors:
            data = vector.read()
            started = time.perf_counter()
            try:
                stream = build_request_stream(suite.codec.value, data)
            except ConformError:  # streams a front-end does not support are not timed
                continue
            entry["seconds"] += time.perf_counter() - started
            entry["pictures"] += len(stream.requests)
    for entry in out.values():
        entry["pictures_per_s"] = round(entry["pictures"] / entry["seconds"], 1) if entry["seconds"] else None
    return out


def suite_scaling() -> dict[str, Any]:
    """Wall time of the same run with 1 and 2 workers."""
    times = {}
    for workers in (1, 2):
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "conform",
                "run",
                "--against",
                "none",
                "--probes",
                "hostile,formats,decode",
                "--suites",
                "all",
                "-n",
                str(workers),
                "--run-id",
                f"bench-scaling-{workers}-{os.getpid()}",
            ],
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        times[workers] = time.monotonic() - started
    return {
        "one_worker_s": round(times[1], 1),
        "two_workers_s": round(times[2], 1),
        "speedup": round(times[1] / times[2], 2),
    }


GUEST_JOBS = """
import json, sys, time
from conform.drivers import resolve_driver
from conform.probe.smoke import SmokeStream
from conform.run.session import DecodeSession
out = {}
for name in ("c-visl", "rust-visl"):
    nodes = resolve_driver(name).connect()
    stream = SmokeStream(1280, 720, 30)
    session = DecodeSession(nodes, stream.format())
    started = time.perf_counter()
    count = sum(1 for _ in session.decode(stream.requests()))
    out[name] = (time.perf_counter() - started) / count
    session.close()
print(json.dumps(out))
"""


def kernel_tier() -> dict[str, Any]:
    from conform.kernel import run_in_guest

    boot = run_in_guest(["true"], timeout=120)
    jobs = run_in_guest([sys.executable, "-c", GUEST_JOBS], env={"PYTHONPATH": str(REPO)}, timeout=600)
    per_job = json.loads(jobs.stdout) if jobs.returncode == 0 else {}
    return {
        "warm_boot_to_command_s": round(boot.boot_to_command_s, 2),
        "warm_run_true_s": round(boot.wall_s, 2),
        "session_s_per_job_720p": per_job,
        "rust_over_c": round(per_job["rust-visl"] / per_job["c-visl"], 3) if per_job else None,
    }


def run_all(kernel: bool = True, scaling: bool = True) -> dict[str, Any]:
    build_library()
    result: dict[str, Any] = {
        "driver": driver_throughput(),
        "python": python_overhead(),
        "requests": request_building(),
    }
    job_1080 = next(r for r in result["driver"] if r["height"] == 1080 and r["format"] == "NV12")
    result["python"]["overhead_s_per_frame"] = (
        result["python"]["session_s_per_frame"] - job_1080["driver_s"] / job_1080["jobs"]
    )
    bounds = {
        "1080p within 2x of a copy": {
            "holds": job_1080["ratio_to_copy"] <= 2.0,
            "detail": f"{job_1080['ratio_to_copy']:.2f}x the copy time",
        }
    }
    if scaling:
        result["scaling"] = suite_scaling()
        bounds["2-worker scaling above 1.8x"] = {
            "holds": result["scaling"]["speedup"] > 1.8,
            "detail": f"{result['scaling']['speedup']}x",
        }
    if kernel:
        result["kernel"] = kernel_tier()
        ratio = result["kernel"]["rust_over_c"]
        bounds["no slower than upstream visl in the same guest"] = {
            "holds": ratio is not None and ratio <= 1.0,
            "detail": f"rust/c per job {ratio}",
        }
    result["bounds"] = bounds
    return result
