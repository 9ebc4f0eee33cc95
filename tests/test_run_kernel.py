"""`conform run --against c-visl`: both drivers live, c-visl in the kernel tier."""

from __future__ import annotations

import json
import os

import pytest

from tests.test_run import REPO, conform

pytestmark = pytest.mark.kernel


def test_live_parity_run_is_ready() -> None:
    run_id = f"test-live-{os.getpid()}"
    done = conform(
        "run",
        "--driver",
        "rust-visl",
        "--against",
        "c-visl",
        "--probes",
        "streaming,commands",
        "--suites",
        "CROS-CODECS-H264",
        "-n",
        "2",
        "--run-id",
        run_id,
        timeout=900,
    )
    report = (REPO / "reports" / run_id / "report.txt").read_text()
    assert done.returncode == 0, report + done.stderr[-3000:]
    data = json.loads((REPO / "reports" / run_id / "report.json").read_text())
    assert data["reference"].startswith("upstream visl (c-visl, live)")
    assert len(data["items"]) == 6 and all(item["state"] == "identical" for item in data["items"])
    kcidb = json.loads((REPO / "reports" / run_id / "kcidb.json").read_text())
    assert {t["status"] for t in kcidb["tests"]} == {"PASS"}
