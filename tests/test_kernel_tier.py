"""The kernel tier itself: the guest runs upstream visl and hands back what a command did.

Without QEMU or the kernel build these tests fail with the reason; they never skip.
"""

from __future__ import annotations

import os
import sys

import pytest

from conform.kernel import GuestError, GuestRun, build_info, ensure_kernel, run_in_guest
from conform.kernel.build import kernel_image

pytestmark = pytest.mark.kernel

SCRIPT = """
cat /sys/module/visl/parameters/tpg_verbose /sys/module/visl/parameters/bitstream_trace_nframes
ls /dev/video0 /dev/media0
pwd
{python} -c 'import sys; print("python", sys.version_info[:2])'
echo to-stderr >&2
exit 3
"""


@pytest.fixture(scope="module")
def run() -> GuestRun:
    script = SCRIPT.format(python=sys.executable)
    return run_in_guest(["sh", "-c", script], params={"tpg_verbose": "1", "bitstream_trace_nframes": "5"})


def test_module_parameters_reach_visl(run: GuestRun) -> None:
    assert run.stdout.splitlines()[:2] == ["Y", "5"]


def test_visl_nodes_exist(run: GuestRun) -> None:
    assert "/dev/video0" in run.stdout and "/dev/media0" in run.stdout


def test_status_streams_and_cwd_come_back(run: GuestRun) -> None:
    assert run.returncode == 3
    assert run.stderr == "to-stderr\n" and "to-stderr" not in run.stdout
    assert os.getcwd() in run.stdout.splitlines()
    assert f"python {tuple(sys.version_info[:2])}" in run.stdout


def test_guest_kernel_is_the_pinned_build(run: GuestRun) -> None:
    assert run.kernel_release == build_info()["release"] and run.kernel_release.startswith("6.12.")
    assert "Device registered as /dev/video0" in run.console
    assert not run.oops
    assert 0 < run.boot_to_command_s < run.wall_s


def test_build_is_cached() -> None:
    image = kernel_image()
    before = image.stat().st_mtime_ns
    assert ensure_kernel() == image
    assert image.stat().st_mtime_ns == before


def test_unsafe_module_parameter_is_refused() -> None:
    with pytest.raises(GuestError, match="plain name=value"):
        run_in_guest(["true"], params={"tpg_verbose": "1 init=/bin/sh"})
