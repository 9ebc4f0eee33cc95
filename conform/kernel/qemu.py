"""Boot the guest kernel under QEMU and run one command in it.

The guest's root is the host's ``/`` over virtio-9p, read-only, so the command runs the
host's own programs (conform's Python included) against the guest kernel's devices.  A
second, writable 9p share carries the command in and its stdout, stderr and exit status
out; the serial console comes back as the kernel log.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from conform.errors import ConformError
from conform.kernel.build import ensure_kernel
from conform.kernel.source import c_visl_dir

START_MARKER = "conform-guest: command starting"
OOPS = re.compile(r"Oops|BUG:|Kernel panic|general protection fault|KASAN|Call Trace:")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PARAM_VALUE = re.compile(r"^[A-Za-z0-9_.,:+-]*$")
# Host variables a guest command needs to find the same Python, packages and caches.
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "CONFORM_CACHE",
              "CONFORM_UAPI_HEADERS", "XDG_CACHE_HOME", "PYENV_ROOT", "PYENV_VERSION")  # fmt: skip
ROOT_FLAGS = "trans=virtio,version=9p2000.L,cache=loose,msize=262144"


class GuestError(ConformError):
    """The guest did not run the command: QEMU missing or failed, or no status came back."""


class GuestTimeout(GuestError):
    """The guest did not finish in time; ``console`` holds the end of its kernel log."""

    def __init__(self, message: str, console: str) -> None:
        super().__init__(message)
        self.console = console


@dataclass(frozen=True, slots=True)
class GuestRun:
    returncode: int
    stdout: str
    stderr: str
    console: str
    kernel_release: str
    boot_to_command_s: float
    """Host seconds from starting QEMU to the guest's init starting the command."""
    wall_s: float

    @property
    def oops(self) -> bool:
        """The kernel log shows an oops, BUG, panic or sanitizer report."""
        return bool(OOPS.search(self.console))


def _cmdline(params: Mapping[str, str]) -> str:
    args = ["console=ttyS0", "root=hostroot", "rootfstype=9p", f"rootflags={ROOT_FLAGS}", "ro",
            f"init={c_visl_dir().resolve() / 'guest-init.sh'}", "panic=-1"]  # fmt: skip
    for name, value in params.items():
        if not PARAM_NAME.match(name) or not PARAM_VALUE.match(value):
            raise GuestError(f"module parameter {name}={value!r} is not a plain name=value")
        args.append(f"visl.{name}={value}")
    return " ".join(args)


def _script(argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> str:
    lines = [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    lines += [f"cd {shlex.quote(cwd)}", "exec " + shlex.join(argv)]
    return "\n".join(lines) + "\n"


def _guest_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update({"CONFORM_GUEST": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra or {})
    return env


def run_in_guest(
    argv: Sequence[str],
    *,
    params: Mapping[str, str] | None = None,
    timeout: float = 600,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> GuestRun:
    """Boot the (cached) kernel, run ``argv`` as root in the guest, return what it did."""
    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        raise GuestError("qemu-system-x86_64 is missing; install it with: apt-get install qemu-system-x86")
    image = ensure_kernel()
    # The guest sees the host's caches read-only: make sure the UAPI declarations exist first.
    import conform.uapi  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="conform-guest-") as tmp:
        share = Path(tmp)
        (share / "cmd.sh").write_text(_script(argv, cwd or os.getcwd(), _guest_env(env)))
        cmd = [
            qemu, "-accel", "tcg", "-cpu", "max", "-m", "2048", "-smp", "1",
            "-nographic", "-no-reboot", "-nic", "none",
            "-kernel", str(image), "-append", _cmdline(params or {}),
            "-fsdev", "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap",
            "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
            "-fsdev", f"local,id=results,path={share},security_model=none",
            "-device", "virtio-9p-pci,fsdev=results,mount_tag=results",
        ]  # fmt: skip
        return _boot(cmd, share, timeout)


def _boot(cmd: list[str], share: Path, timeout: float) -> GuestRun:
    started = time.monotonic()
    console: list[str] = []
    command_started: list[float] = []
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def pump() -> None:
        assert proc.stdout is not None  # Popen was given stdout=PIPE
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").replace("\r", "")
            if START_MARKER in line and not command_started:
                command_started.append(time.monotonic())
            console.append(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        reader.join(5)
        raise GuestTimeout(f"guest did not finish within {timeout:g} s", "".join(console)[-4000:]) from None
    reader.join(5)
    wall = time.monotonic() - started
    log = "".join(console)
    status = share / "status"
    if not status.exists():
        raise GuestError(
            f"the guest ended without running the command (QEMU exit {proc.returncode}):\n{log[-3000:]}"
        )
    return GuestRun(
        returncode=int(status.read_text().strip()),
        stdout=(share / "stdout").read_text(errors="replace"),
        stderr=(share / "stderr").read_text(errors="replace"),
        console=log,
        kernel_release=(share / "release").read_text().strip(),
        boot_to_command_s=(command_started[0] - started) if command_started else wall,
        wall_s=wall,
    )
