"""Boot the guest kernel under QEMU and run one command in it.

The guest's root is the host's ``/`` over virtio-9p, read-only, so the command runs the
host's own programs (conform's Python included) against the guest kernel's devices.  A
second, writable 9p share (a fresh temporary directory per run) carries the command in and
its stdout, stderr and exit status out; the serial console comes back as the kernel log.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from conform.errors import ConformError
from conform.kernel.build import ensure_kernel
from conform.kernel.source import c_visl_dir

# guest-init.sh prints these on the console around the command.
START_MARKER = "conform-guest: command starting"
OOPS = re.compile(r"Oops|BUG:|Kernel panic|general protection fault|KASAN|Call Trace:")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Values end up on the kernel command line: no spaces, quotes or anything the kernel splits on.
PARAM_VALUE = re.compile(r"^[A-Za-z0-9_.,:+-]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Host variables a guest command needs to find the same Python, packages and caches.
PASSED_ENV = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ",
    "PYTHONPATH", "PYTHONHASHSEED", "PYTHONWARNINGS", "PYTHONUTF8", "VIRTUAL_ENV",
    "PYENV_ROOT", "PYENV_VERSION", "XDG_CACHE_HOME", "CONFORM_CACHE", "CONFORM_UAPI_HEADERS",
)  # fmt: skip
HOST_ROOT_TAG = "hostroot"
RESULTS_TAG = "results"
# cache=loose: the root is read-only and nothing changes it underneath the guest during a
# run, so caching metadata and pages is safe and makes Python's many stat() calls cheap.
ROOT_FLAGS = "trans=virtio,version=9p2000.L,cache=loose,msize=262144"
CONSOLE_TAIL = 20000
OutputSink = Callable[[str, str], None]


class GuestError(ConformError):
    """The guest did not run the command: QEMU missing or failed, or no status came back.

    ``console`` holds the end of the guest's kernel log (empty when QEMU never started).
    """

    def __init__(self, message: str, console: str = "") -> None:
        super().__init__(message)
        self.console = console


class GuestTimeout(GuestError):
    """The guest did not finish in time and was killed; ``console`` holds its log's end."""


@dataclass(frozen=True, slots=True)
class GuestRun:
    """What one command did inside one guest boot."""

    returncode: int
    stdout: str
    stderr: str
    console: str
    """The guest kernel's serial log, from boot to power-off."""
    boot_to_command_s: float
    """Host seconds from starting QEMU to the guest's init starting the command."""
    wall_s: float
    """Host seconds from starting QEMU to QEMU exiting."""
    kernel_release: str

    @property
    def oops(self) -> bool:
        """The kernel log shows an oops, BUG, panic, warning splat or sanitizer report."""
        return bool(OOPS.search(self.console))


def kernel_cmdline(params: Mapping[str, str] | None = None) -> str:
    """The guest kernel's command line with ``params`` as ``visl.NAME=VALUE``."""
    init = c_visl_dir().resolve() / "guest-init.sh"
    if re.search(r"\s", str(init)):
        raise GuestError(f"{init} has white space in its path, which the kernel command line cannot carry")
    args = ["console=ttyS0", f"root={HOST_ROOT_TAG}", "rootfstype=9p", f"rootflags={ROOT_FLAGS}", "ro",
            "panic=-1", "init=/bin/sh"]  # fmt: skip
    for name, value in (params or {}).items():
        if not PARAM_NAME.match(name) or not PARAM_VALUE.match(value):
            raise GuestError(f"module parameter {name}={value!r} is not a plain name=value")
        args.append(f"visl.{name}={value}")
    # Everything after "--" is init's argv: the script runs through /bin/sh, so it needs no
    # exec bit (a wheel may not keep it).
    return " ".join([*args, "--", str(init)])


def guest_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the guest command gets: host essentials, conform's flags, ``extra``."""
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update({"CONFORM_GUEST": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra or {})
    bad = [k for k in env if not ENV_NAME.match(k)]
    if bad:
        raise GuestError(f"environment variable names the guest shell cannot set: {', '.join(bad)}")
    return env


def command_script(argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> str:
    """``cmd.sh``: the guest init sources nothing from the cmdline, only this quoted script."""
    if not argv:
        raise GuestError("no command to run in the guest")
    lines = [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    complaint = shlex.quote(f"conform guest: cannot cd to {cwd} (not visible in the guest?)")
    lines.append(f"cd {shlex.quote(cwd)} || {{ echo {complaint} >&2; exit 125; }}")
    lines.append("exec " + shlex.join(argv))
    return "\n".join(lines) + "\n"


def qemu_command(image: Path, share: Path, params: Mapping[str, str] | None = None) -> list[str]:
    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        raise GuestError("qemu-system-x86_64 is missing; install it with: apt-get install qemu-system-x86")
    return [
        # KVM is not assumed (nested virtualisation is often missing); TCG always works.
        qemu, "-accel", "tcg", "-cpu", "max", "-m", "2048", "-smp", "1",
        "-nographic", "-no-reboot", "-nic", "none",
        "-kernel", str(image), "-append", kernel_cmdline(params),
        # multidevs=remap: the host's / spans several filesystems whose inode numbers collide.
        "-fsdev", f"local,id={HOST_ROOT_TAG},path=/,security_model=none,readonly=on,multidevs=remap",
        "-device", f"virtio-9p-pci,fsdev={HOST_ROOT_TAG},mount_tag={HOST_ROOT_TAG}",
        "-fsdev", f"local,id={RESULTS_TAG},path={share},security_model=none",
        "-device", f"virtio-9p-pci,fsdev={RESULTS_TAG},mount_tag={RESULTS_TAG}",
    ]  # fmt: skip


def run_in_guest(
    argv: Sequence[str],
    *,
    params: Mapping[str, str] | None = None,
    timeout: float = 600,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    on_output: OutputSink | None = None,
) -> GuestRun:
    """Boot the (cached) kernel, run ``argv`` as root in the guest, return what it did.

    The command runs in ``cwd`` (default: the host's current directory, which the guest
    sees read-only) with the host's essential environment plus ``env``.  ``on_output``,
    if given, is called with ``("stdout" | "stderr", text)`` as output arrives.
    """
    image = ensure_kernel()
    script = command_script(argv, cwd or os.getcwd(), guest_env(env))
    # The guest sees the host's caches read-only: make sure the UAPI declarations exist first.
    import conform.uapi  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="conform-guest-") as tmp:
        share = Path(tmp)
        (share / "cmd.sh").write_text(script)
        return _boot(qemu_command(image, share, params), share, timeout, on_output)


class _Tail:
    """Incremental reader of one output file the guest writes on the results share."""

    def __init__(self, path: Path, name: str, sink: OutputSink | None) -> None:
        self.path = path
        self.name = name
        self.sink = sink
        self.offset = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.parts: list[str] = []

    def poll(self, final: bool = False) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            data = b""
        self.offset += len(data)
        text = self.decoder.decode(data, final=final)
        if text:
            self.parts.append(text)
            if self.sink is not None:
                self.sink(self.name, text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _boot(cmd: list[str], share: Path, timeout: float, on_output: OutputSink | None) -> GuestRun:
    started = time.monotonic()
    console: list[str] = []
    command_started: list[float] = []
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def pump() -> None:
        assert proc.stdout is not None  # Popen was given stdout=PIPE
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").replace("\r", "")
            if not command_started and START_MARKER in line:
                command_started.append(time.monotonic())
            console.append(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    tails = [_Tail(share / "stdout", "stdout", on_output), _Tail(share / "stderr", "stderr", on_output)]
    deadline = started + timeout
    try:
        # Output is read as it is written (the results share is uncached), for on_output.
        while proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(0.2 if on_output else max(0.0, deadline - time.monotonic()))
            if on_output:
                for tail in tails:
                    tail.poll()
    except BaseException:
        # Ctrl-C or a failing on_output must not leave a QEMU behind.
        proc.kill()
        proc.wait()
        raise
    timed_out = proc.poll() is None
    if timed_out:
        proc.kill()
        proc.wait()
    reader.join(5)
    wall = time.monotonic() - started
    log = "".join(console)
    for tail in tails:
        tail.poll(final=True)
    if timed_out:
        raise GuestTimeout(f"guest did not finish within {timeout:g} s; console ends:\n{log[-2000:]}",
                           log[-CONSOLE_TAIL:])  # fmt: skip
    status = share / "status"
    if not status.exists():
        raise GuestError(
            f"the guest ended without a command status (QEMU exit {proc.returncode}); console ends:\n"
            f"{log[-3000:]}",
            log[-CONSOLE_TAIL:],
        )
    release = share / "release"
    return GuestRun(
        returncode=int(status.read_text().strip()),
        stdout=tails[0].text,
        stderr=tails[1].text,
        console=log,
        boot_to_command_s=(command_started[0] - started) if command_started else float("nan"),
        wall_s=wall,
        kernel_release=release.read_text().strip() if release.exists() else "",
    )
