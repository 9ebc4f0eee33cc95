"""Configure and build the guest kernel: tinyconfig plus c-visl's fragment, cached.

The cache key covers the pinned source, the fragment and this recipe, so any change to
what would be built gives a fresh build directory; an unchanged one is reused as is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conform.debian import cache_root, locked
from conform.errors import ConformError
from conform.kernel.source import SourcePin, c_visl_dir, fetch_deb, source_tree

# The build recipe, as data so that it is part of the cache key: editing a step rebuilds.
CONFIG_STEPS: tuple[tuple[str, ...], ...] = (
    ("make", "tinyconfig"),
    ("merge_config.sh", "-m", ".config", "<fragment>"),
    ("make", "olddefconfig"),
)
BUILD_TARGET = "bzImage"
RECIPE_VERSION = 2
# Program -> Debian package providing it.
BUILD_TOOLS = {
    "gcc": "gcc", "make": "make", "ld": "binutils", "flex": "flex", "bison": "bison", "bc": "bc",
    "perl": "perl", "xz": "xz-utils", "dpkg-deb": "dpkg",
}  # fmt: skip
# Header -> Debian package; objtool (always on for x86-64) links libelf.
BUILD_HEADERS = {"libelf.h": "libelf-dev"}
PROGRESS_EVERY_S = 30.0


class KernelBuildError(ConformError):
    """The kernel could not be configured or built; the message says which step and why."""


def fragment() -> Path:
    return c_visl_dir() / "visl-guest.config"


def build_key(pin: SourcePin) -> str:
    digest = hashlib.sha256()
    recipe = json.dumps([RECIPE_VERSION, CONFIG_STEPS, BUILD_TARGET])
    for part in (pin.suite, pin.spec, fragment().read_text(), recipe):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def build_dir(pin: SourcePin | None = None) -> Path:
    pin = pin or SourcePin.read()
    return cache_root() / "kernel" / "build" / f"{pin.version}-{build_key(pin)}"


def kernel_image(pin: SourcePin | None = None) -> Path:
    """Where the cached bzImage is (or will be); ``ensure_kernel`` makes sure it exists."""
    return build_dir(pin) / "bzImage"


def missing_build_tools() -> list[str]:
    """Debian packages that must be installed before the kernel can be built."""
    missing = [pkg for tool, pkg in BUILD_TOOLS.items() if shutil.which(tool) is None]
    include_dirs = [Path("/usr/include"), Path("/usr/local/include")]
    for header, pkg in BUILD_HEADERS.items():
        if not any((d / header).is_file() for d in include_dirs):
            missing.append(pkg)
    return missing


def _check_tools() -> None:
    missing = missing_build_tools()
    if missing:
        raise KernelBuildError(
            f"building the guest kernel needs {', '.join(missing)}; install with:\n"
            f"  apt-get install {' '.join(sorted(set(missing)))}"
        )


class _Build:
    """One build directory being filled: its log and the steps that write to it."""

    def __init__(self, tree: Path, out: Path, say: Callable[[str], None]) -> None:
        self.tree = tree
        self.out = out
        self.objects = out / "obj"
        self.log = out / "build.log"
        self.say = say

    def run(self, cmd: list[str], what: str, *, cwd: Path | None = None, watch: bool = False) -> None:
        with open(self.log, "a") as sink:
            sink.write(f"$ {' '.join(cmd)}\n")
            sink.flush()
            proc = subprocess.Popen(cmd, cwd=cwd or self.objects, stdout=sink, stderr=subprocess.STDOUT)
            started = time.monotonic()
            while True:
                try:
                    proc.wait(PROGRESS_EVERY_S if watch else None)
                    break
                except subprocess.TimeoutExpired:
                    # A cold build is minutes of silence otherwise; show it is moving.
                    elapsed = time.monotonic() - started
                    self.say(f"  {what}: {elapsed:.0f} s, {self._compiled()} files compiled")
        if proc.returncode:
            tail = "".join(self.log.read_text(errors="replace").splitlines(keepends=True)[-40:])
            raise KernelBuildError(f"{what} failed (exit {proc.returncode}; full log {self.log}):\n{tail}")

    def _compiled(self) -> int:
        with open(self.log, errors="replace") as log:
            return sum(1 for line in log if line.startswith("  CC "))

    def make(self, *targets: str, watch: bool = False) -> None:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        cmd = ["make", "-C", str(self.tree), f"O={self.objects}", f"-j{jobs}", *targets]
        self.run(cmd, f"make {' '.join(targets)}", watch=watch)

    def configure(self) -> None:
        for step in CONFIG_STEPS:
            if step[0] == "make":
                self.make(*step[1:])
            else:
                # merge_config.sh writes temporary files into its cwd: keep them out of the
                # shared source tree by running it in the build directory.
                args = [str(fragment()) if a == "<fragment>" else a for a in step[1:]]
                cmd = [str(self.tree / "scripts/kconfig" / step[0]), "-O", str(self.objects), *args]
                self.run(cmd, step[0])
        _check_config(self.objects / ".config")


def _check_config(config: Path) -> None:
    """Every ``=y`` of the fragment must survive olddefconfig, or visl may be silently absent."""
    wanted = re.findall(r"^(CONFIG_\w+)=y\s*$", fragment().read_text(), re.M)
    have = set(re.findall(r"^(CONFIG_\w+)=y$", config.read_text(), re.M))
    lost = [symbol for symbol in wanted if symbol not in have]
    if lost:
        raise KernelBuildError(
            f"{len(lost)} symbol(s) of {fragment().name} did not survive olddefconfig (unmet "
            f"dependencies or renamed in this kernel): {', '.join(lost)}"
        )


def ensure_kernel(*, force: bool = False, progress: bool = True) -> Path:
    """The cached bzImage, building it first when missing (or when ``force``).

    Concurrent callers (pytest-xdist workers) wait on one lock and build once.
    """
    pin = SourcePin.read()
    out = build_dir(pin)
    image = out / "bzImage"
    if image.is_file() and not force:
        return image
    with locked(out.parent / f"{out.name}.lock"):
        if image.is_file() and not force:
            return image
        _check_tools()
        return _build(pin, out, progress)


def _build(pin: SourcePin, out: Path, progress: bool) -> Path:
    def say(message: str) -> None:
        if progress:
            print(f"conform kernel: {message}", file=sys.stderr, flush=True)

    image = out / "bzImage"
    started = time.monotonic()
    say(f"fetching {pin.spec} from Debian {pin.suite}")
    fetch_deb(pin)
    fetched = time.monotonic()
    say("unpacking the kernel source (once per version)")
    tree = source_tree(pin)
    extracted = time.monotonic()
    image.unlink(missing_ok=True)
    shutil.rmtree(out / "obj", ignore_errors=True)
    (out / "obj").mkdir(parents=True)
    build = _Build(tree, out, say)
    build.log.write_text("")
    say(f"configuring tinyconfig + {fragment().name} (log {build.log})")
    build.configure()
    configured = time.monotonic()
    say(f"building {BUILD_TARGET} (a few minutes, once)")
    build.make(BUILD_TARGET, watch=True)
    built = time.monotonic()
    objects = build.objects
    shutil.copy2(objects / ".config", out / "config")
    stamp = {
        "pin": pin.spec,
        "suite": pin.suite,
        "release": (objects / "include/config/kernel.release").read_text().strip(),
        "key": build_key(pin),
        "fetch_s": round(fetched - started, 1),
        "extract_s": round(extracted - fetched, 1),
        "config_s": round(configured - extracted, 1),
        "build_s": round(built - configured, 1),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (out / "build.json").write_text(json.dumps(stamp, indent=1) + "\n")
    # The image appears last and atomically: its presence is what marks the build as done.
    shutil.copy2(objects / "arch/x86/boot/bzImage", out / "bzImage.tmp")
    (out / "bzImage.tmp").rename(image)
    say(f"built {image} in {built - started:.0f} s")
    return image


def build_info(pin: SourcePin | None = None) -> dict[str, object]:
    """What ``build.json`` recorded for the cached kernel (empty if not built)."""
    path = build_dir(pin) / "build.json"
    return json.loads(path.read_text()) if path.exists() else {}
