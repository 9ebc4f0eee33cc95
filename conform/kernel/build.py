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
from pathlib import Path

from conform.debian import cache_root, locked
from conform.errors import ConformError
from conform.kernel.source import SourcePin, c_visl_dir, source_tree

# Bump when the steps below change in a way that changes the kernel.
RECIPE = "tinyconfig + merge_config -m fragment + olddefconfig + bzImage, v1"
BUILD_TOOLS = {"gcc": "gcc", "make": "make", "flex": "flex", "bison": "bison", "bc": "bc", "xz": "xz-utils"}


class KernelBuildError(ConformError):
    """The kernel could not be configured or built; the message says which step and why."""


def fragment() -> Path:
    return c_visl_dir() / "visl-guest.config"


def build_key(pin: SourcePin) -> str:
    digest = hashlib.sha256()
    for part in (pin.suite, pin.spec, fragment().read_text(), RECIPE):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def build_dir(pin: SourcePin | None = None) -> Path:
    pin = pin or SourcePin.read()
    return cache_root() / "kernel" / "build" / f"{pin.version}-{build_key(pin)}"


def _check_tools() -> None:
    missing = [pkg for tool, pkg in BUILD_TOOLS.items() if shutil.which(tool) is None]
    if not Path("/usr/include/libelf.h").exists():
        missing.append("libelf-dev")
    if missing:
        raise KernelBuildError(
            f"kernel build tools missing; install them with: apt-get install {' '.join(missing)}"
        )


def _make(tree: Path, out: Path, log: Path, *targets: str) -> None:
    cmd = ["make", "-C", str(tree), f"O={out}", f"-j{os.cpu_count() or 1}", *targets]
    with open(log, "a") as sink:
        done = subprocess.run(cmd, stdout=sink, stderr=subprocess.STDOUT)
    if done.returncode:
        tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
        raise KernelBuildError(f"make {' '.join(targets)} failed (log {log}):\n{tail}")


def _check_config(config: Path) -> None:
    """Every ``=y`` of the fragment must survive olddefconfig, or visl may be silently absent."""
    wanted = re.findall(r"^(CONFIG_\w+)=y$", fragment().read_text(), re.M)
    have = set(re.findall(r"^(CONFIG_\w+)=y$", config.read_text(), re.M))
    lost = [symbol for symbol in wanted if symbol not in have]
    if lost:
        raise KernelBuildError(f"the fragment's symbols did not survive olddefconfig: {', '.join(lost)}")


def kernel_image(pin: SourcePin | None = None) -> Path:
    return build_dir(pin) / "bzImage"


def ensure_kernel(*, force: bool = False, progress: bool = True) -> Path:
    """The cached bzImage, building it first when missing (or when ``force``)."""
    pin = SourcePin.read()
    out = build_dir(pin)
    image = out / "bzImage"
    if image.is_file() and not force:
        return image
    with locked(out.parent / f"{out.name}.lock"):
        if image.is_file() and not force:
            return image
        _check_tools()

        def say(message: str) -> None:
            if progress:
                print(f"conform kernel: {message}", file=sys.stderr, flush=True)

        started = time.monotonic()
        say(f"fetching {pin.spec} ({pin.suite})")
        tree = source_tree(pin)
        fetched = time.monotonic()
        objects = out / "obj"
        shutil.rmtree(objects, ignore_errors=True)
        objects.mkdir(parents=True)
        log = out / "build.log"
        log.write_text("")
        say(f"configuring (log {log})")
        _make(tree, objects, log, "tinyconfig")
        merge = [str(tree / "scripts/kconfig/merge_config.sh"), "-m", "-O", str(objects),
                 str(objects / ".config"), str(fragment())]  # fmt: skip
        with open(log, "a") as sink:
            if subprocess.run(merge, cwd=tree, stdout=sink, stderr=subprocess.STDOUT).returncode:
                raise KernelBuildError(f"merge_config.sh failed (log {log})")
        _make(tree, objects, log, "olddefconfig")
        _check_config(objects / ".config")
        say(f"building bzImage with {os.cpu_count()} jobs (a few minutes, once)")
        _make(tree, objects, log, "bzImage")
        shutil.copy2(objects / "arch/x86/boot/bzImage", image.with_suffix(".tmp"))
        shutil.copy2(objects / ".config", out / "config")
        release = (objects / "include/config/kernel.release").read_text().strip()
        stamp = {
            "pin": pin.spec,
            "suite": pin.suite,
            "release": release,
            "key": build_key(pin),
            "fetch_s": round(fetched - started, 1),
            "build_s": round(time.monotonic() - fetched, 1),
        }
        (out / "build.json").write_text(json.dumps(stamp, indent=1) + "\n")
        image.with_suffix(".tmp").rename(image)
        say(f"built {image} in {time.monotonic() - started:.0f} s")
        return image


def build_info(pin: SourcePin | None = None) -> dict[str, object]:
    """What ``build.json`` recorded for the cached kernel (empty if not built)."""
    path = build_dir(pin) / "build.json"
    return json.loads(path.read_text()) if path.exists() else {}
