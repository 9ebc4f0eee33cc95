"""The kernel tier itself: the guest runs upstream visl and hands back what a command did.

Without QEMU or the kernel build these tests fail with the reason; they never skip.  One
boot serves most tests; the timeout, panic and CLI paths need a boot each.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import pytest

from conform.cli import kernel as kernel_cli
from conform.kernel import (
    GuestError,
    GuestRun,
    GuestTimeout,
    build_info,
    ensure_kernel,
    kernel_image,
    run_in_guest,
)

pytestmark = pytest.mark.kernel

PROBE = r"""
import json, os, sys
def read(path):
    with open(path) as f:
        return f.read().strip()
params = "/sys/module/visl/parameters/"
print(json.dumps({
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "executable": sys.executable,
    "version": list(sys.version_info[:3]),
    "env": {k: os.environ.get(k) for k in ("CONFORM_TEST_VAR", "CONFORM_GUEST", "PYTHONDONTWRITEBYTECODE",
                                           "HOME", "PATH")},
    "nodes": {n: os.path.exists(n) for n in ("/dev/video0", "/dev/media0")},
    "params": {p: read(params + p) for p in ("tpg_verbose", "bitstream_trace_nframes")},
    "mounts": sorted({line.split()[1] for line in open("/proc/mounts")}),
    "tmpdir_writable": os.access(os.environ["TMPDIR"], os.W_OK),
}))
print("to-stderr", file=sys.stderr)
sys.exit(3)
"""
# Shell metacharacters and quotes that must reach the guest command untouched.
AWKWARD = ["two words", "it's", '"$HOME"', "*", "a\nb", ""]
AWKWARD_ENV = "a b'c\"$d `e`"


@pytest.fixture(scope="module")
def run() -> GuestRun:
    return run_in_guest(
        [sys.executable, "-c", PROBE, *AWKWARD],
        params={"tpg_verbose": "1", "bitstream_trace_nframes": "5"},
        env={"CONFORM_TEST_VAR": AWKWARD_ENV},
        timeout=300,
    )


@pytest.fixture(scope="module")
def seen(run: GuestRun) -> dict[str, Any]:
    assert run.stdout, f"no stdout from the guest; stderr:\n{run.stderr}\nconsole:\n{run.console[-3000:]}"
    return dict(json.loads(run.stdout))


def test_visl_nodes_exist(seen: dict[str, Any], run: GuestRun) -> None:
    assert seen["nodes"] == {"/dev/video0": True, "/dev/media0": True}
    assert "Device registered as /dev/video0" in run.console


def test_module_parameters_reach_visl(seen: dict[str, Any]) -> None:
    assert seen["params"] == {"tpg_verbose": "Y", "bitstream_trace_nframes": "5"}


def test_exit_status_propagates(run: GuestRun) -> None:
    assert run.returncode == 3


def test_stdout_and_stderr_are_separate(run: GuestRun) -> None:
    assert run.stderr == "to-stderr\n"
    assert "to-stderr" not in run.stdout


def test_command_runs_in_the_hosts_cwd_with_its_argv_and_env(seen: dict[str, Any]) -> None:
    assert seen["cwd"] == os.getcwd()
    assert seen["argv"] == AWKWARD
    assert seen["env"] == {
        "CONFORM_TEST_VAR": AWKWARD_ENV,
        "CONFORM_GUEST": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": os.environ["HOME"],
        "PATH": os.environ["PATH"],
    }


def test_guest_runs_the_hosts_python(seen: dict[str, Any]) -> None:
    assert seen["executable"] == sys.executable
    assert seen["version"] == list(sys.version_info[:3])


def test_guest_has_its_filesystems(seen: dict[str, Any]) -> None:
    for mount in ("/", "/proc", "/sys", "/dev", "/run", "/run/conform", "/sys/kernel/debug",
                  "/sys/kernel/tracing"):  # fmt: skip
        assert mount in seen["mounts"]
    assert seen["tmpdir_writable"]


def test_guest_kernel_is_the_pinned_build(run: GuestRun) -> None:
    assert run.kernel_release == build_info()["release"]
    assert run.kernel_release.startswith("6.12.")
    assert not run.oops, run.console[-3000:]
    assert 0 < run.boot_to_command_s < run.wall_s


def test_build_is_cached() -> None:
    image = ensure_kernel()
    stamp = image.parent / "build.json"
    before = (image.stat().st_mtime_ns, stamp.stat().st_mtime_ns)
    assert ensure_kernel() == image == kernel_image()
    assert (image.stat().st_mtime_ns, stamp.stat().st_mtime_ns) == before


def test_unsafe_module_parameter_is_refused() -> None:
    with pytest.raises(GuestError, match="plain name=value"):
        run_in_guest(["true"], params={"tpg_verbose": "1 init=/bin/sh"})
    with pytest.raises(GuestError, match="plain name=value"):
        run_in_guest(["true"], params={"tpg verbose": "1"})


def test_oops_is_read_from_the_console() -> None:
    def with_console(console: str) -> GuestRun:
        return GuestRun(0, "", "", console, 1.0, 2.0, "6.12.117")

    assert with_console("[ 3.1] BUG: kernel NULL pointer dereference, address: 0000000000000000").oops
    assert with_console("[ 3.1] Kernel panic - not syncing: sysrq triggered crash").oops
    assert not with_console("[ 1.2] visl visl.0: Device registered as /dev/video0").oops


def test_guest_that_overruns_is_killed() -> None:
    started = time.monotonic()
    with pytest.raises(GuestTimeout) as caught:
        run_in_guest(["sleep", "600"], timeout=6)
    assert 6 <= time.monotonic() - started < 30
    assert "] devtmpfs: " in caught.value.console  # the kernel log's tail comes with it


def test_kernel_panic_ends_the_guest_with_its_log() -> None:
    # panic=-1 plus -no-reboot must end QEMU at once, not leave it spinning until the timeout.
    with pytest.raises(GuestError) as caught:
        run_in_guest(["sh", "-c", "echo c > /proc/sysrq-trigger"], timeout=120)
    assert not isinstance(caught.value, GuestTimeout)
    assert "Kernel panic" in caught.value.console


def test_cli_run_relays_output_and_status(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    kernel_cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["kernel", "run", "--param", "tpg_verbose=1", "--", "sh", "-c",
         "cat /sys/module/visl/parameters/tpg_verbose; echo err >&2; exit 4"]
    )  # fmt: skip
    assert args.func(args) == 4
    out, err = capsys.readouterr()
    assert out == "Y\n"
    assert err.startswith("err\n") and "conform kernel: Linux 6.12." in err
