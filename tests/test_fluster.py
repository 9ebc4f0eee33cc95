"""conform as a fluster decoder: `conform fluster -- run -d conform-H.264` on rust-visl."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

from conform.codecs.frontend import build_request_stream
from conform.drivers import resolve_driver
from conform.run.session import DecodeSession, SessionConfig
from conform.run.suite import load_suites
from conform.run.vector import search_path
from conform.uapi import C

REPO = Path(__file__).parents[1]


def _own_md5(name: str) -> str:
    """The whole-stream md5 of rust-visl's YU12 frames, from conform's own session."""
    suite = next(s for s in load_suites() if s.name == "CROS-CODECS-H264").resolve(search_path())
    stream = build_request_stream("H.264", suite.vector(name).read())
    session = DecodeSession(
        resolve_driver("rust-visl").connect(),
        stream.format,
        SessionConfig(capture_pixelformat=C.V4L2_PIX_FMT_YUV420),
    )
    md5 = hashlib.md5()
    try:
        for frame in session.decode(stream.requests):
            md5.update(frame.data)
    finally:
        session.close()
    return md5.hexdigest()


def test_fluster_runs_conform_decoders(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO), CONFORM_FLUSTER_DRIVER="rust-visl")
    cmd = [
        sys.executable,
        "-m",
        "conform",
        "fluster",
        "--store-resources",
        str(tmp_path / "res"),
        "--",
        "-tsd",
        str(REPO / "vectors" / "suites" / "h264"),
        "-o",
        str(tmp_path / "out"),
        "run",
        "-d",
        "conform-H.264",
        "-ts",
        "CROS-CODECS-H264",
        "-j",
        "1",
    ]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "Running test suite CROS-CODECS-H264 with decoder conform-H.264" in output, output
    # The suite carries no expected md5s (visl draws test patterns), so fluster prints what it got.
    got = dict(re.findall(r"\+ ([0-9a-f]{32}) : (\S+)", output)[i][::-1] for i in range(4))
    assert set(got) == {"64x64-I", "64x64-I-P", "64x64-I-P-B-P", "test-25fps"}, output
    assert got["64x64-I-P"] == _own_md5("64x64-I-P")
