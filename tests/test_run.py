"""`conform run` end to end on the embedded driver: records, crashes, hangs, resume.

The broken drivers are tests/fakes/crashing_driver.py, named as such; everything else is
the real rust-visl.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).parents[1]


def conform(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "conform", *args],
        cwd=REPO,
        env=full_env,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def records(run_id: str, driver: str) -> dict[str, dict[str, object]]:
    folder = REPO / "reports" / run_id / "records" / driver
    return {json.loads(p.read_text())["name"]: json.loads(p.read_text()) for p in folder.glob("*.json")}


def test_crashing_and_hanging_drivers_yield_records_and_a_complete_report() -> None:
    env = {"CONFORM_DRIVER_MODULES": "tests.fakes.crashing_driver"}
    for driver, status in (("crash-test", "crashed"), ("hang-test", "timeout")):
        run_id = f"test-{driver}-{os.getpid()}"
        done = conform(
            "run",
            "--driver",
            driver,
            "--against",
            "none",
            "--probes",
            "streaming,commands,buffers",
            "--suites",
            "none",
            "-n",
            "2",
            "--timeout",
            "20",
            "--run-id",
            run_id,
            env=env,
        )
        got = records(run_id, driver)
        expected = ["probe/buffers", "probe/commands", "probe/streaming"]
        assert sorted(got) == expected, done.stdout + done.stderr
        # streaming and buffers make more than 40 ioctls; commands fewer.
        assert got["probe/streaming"]["status"] == status
        assert got["probe/buffers"]["status"] == status
        assert got["probe/commands"]["status"] == "ok"
        report = (REPO / "reports" / run_id / "report.txt").read_text()
        assert "NOT READY" in report and status in report
        assert done.returncode == 1


def _summary(run_id: str) -> list[tuple[str, str, object]]:
    data = json.loads((REPO / "reports" / run_id / "report.json").read_text())
    return [(r["name"], r["status"], None) for r in data["records"]]


def test_a_killed_run_resumes_to_the_same_report() -> None:
    selection = [
        "--driver",
        "rust-visl",
        "--against",
        "none",
        "--probes",
        "streaming,commands,describe",
        "--suites",
        "CROS-CODECS-H264,CONFORM-H264",
        "-n",
        "1",
    ]
    whole = f"test-whole-{os.getpid()}"
    assert conform("run", *selection, "--run-id", whole).returncode == 1
    killed = f"test-killed-{os.getpid()}"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "conform", "run", *selection, "--run-id", killed],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    folder = REPO / "reports" / killed / "records" / "rust-visl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(folder.glob("*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(list(folder.glob("*.json")))
    assert 3 <= partial < len(records(whole, "rust-visl")), "the kill must land half-way"
    assert conform("run", *selection, "--run-id", killed, "--resume").returncode == 1
    assert _summary(killed) == _summary(whole)
    evidence = {name: r["evidence"] for name, r in records(whole, "rust-visl").items()}
    assert {name: r["evidence"] for name, r in records(killed, "rust-visl").items()} == evidence


def test_run_against_the_committed_references_is_ready() -> None:
    """rust-visl against what upstream visl recorded (vectors/references): a CI-sized subset."""
    run_id = f"test-references-{os.getpid()}"
    done = conform(
        "run",
        "--driver",
        "rust-visl",
        "--probes",
        "streaming,describe,commands,buffers",
        "--suites",
        "CROS-CODECS-H264,CONFORM-H264",
        "-n",
        "2",
        "--run-id",
        run_id,
    )
    report = (REPO / "reports" / run_id / "report.txt").read_text()
    assert done.returncode == 0, report
    assert "verdict: READY" in report
    data = json.loads((REPO / "reports" / run_id / "report.json").read_text())
    assert len(data["items"]) == 13 and all(item["state"] == "identical" for item in data["items"])
    junit = (REPO / "reports" / run_id / "junit.xml").read_text()
    assert 'tests="13"' in junit and 'failures="0"' in junit
