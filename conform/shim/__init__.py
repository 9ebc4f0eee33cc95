"""The device-node shim: unmodified programs open an embedded vdev driver as /dev/videoN.

``vdev_shim.c`` is an ``LD_PRELOAD`` library over the vdev ABI (conform/transport/vdev.h).
conform compiles it with the host's C compiler into its cache (keyed by a hash of the
source, the compiler and the UAPI headers), writes the sysfs tree programs use to go from
a video node to its media device, and hands both to the command through the environment.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conform.debian import cache_root, locked
from conform.errors import ConformError

SOURCE = Path(__file__).with_name("vdev_shim.c")
VIDEO_MAJOR = 81
# The media major is dynamic; the guest kernel gives visl's /dev/media0 254:0.
MEDIA_MAJOR = 254


class ShimError(ConformError):
    """The shim could not be built or set up."""


@dataclass(frozen=True, slots=True)
class Node:
    """One device node: the path programs open, the library's path for it, its numbers."""

    host: str
    library: str
    major: int
    minor: int

    @property
    def spec(self) -> str:
        return f"{self.host}={self.library}@{self.major}:{self.minor}"

    @property
    def sysfs_name(self) -> str:
        return os.path.basename(self.host)


@dataclass(frozen=True, slots=True)
class ShimConfig:
    """Which nodes the shim answers and what sysfs says about them.

    ``video`` and ``media`` are the program-visible paths of the library's /dev/video0 and
    /dev/media0; ``driver`` names the platform device (``visl.0``) as the kernel does.
    """

    video: str = "/dev/video0"
    media: str = "/dev/media0"
    driver: str = "visl"
    extra: tuple[Node, ...] = field(default=())

    @property
    def video_node(self) -> Node:
        return Node(self.video, "/dev/video0", VIDEO_MAJOR, _index(self.video))

    @property
    def media_node(self) -> Node:
        return Node(self.media, "/dev/media0", MEDIA_MAJOR, _index(self.media))

    @property
    def nodes(self) -> tuple[Node, ...]:
        return (self.video_node, self.media_node, *self.extra)


def _index(path: str) -> int:
    digits = "".join(c for c in reversed(os.path.basename(path)) if c.isdigit())[::-1]
    tail = os.path.basename(path)
    return int(digits) if digits and tail.endswith(digits) else 0


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def build_shim() -> Path:
    """Compile vdev_shim.c into the cache (once per source, compiler and headers); return the .so."""
    from conform.uapi.headers import include_dirs

    cc = shutil.which(os.environ.get("CC", "gcc"))
    if cc is None:
        raise ShimError("a C compiler (gcc) is needed to build the device-node shim")
    includes = [str(d) for d in include_dirs()]
    version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    key = _digest(SOURCE.read_bytes(), version.encode(), "\n".join(includes).encode())
    out = cache_root() / "shim" / key / "vdev_shim.so"
    if out.is_file():
        return out
    with locked(out.parent.parent / "build.lock"):
        if out.is_file():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        # The 6.12 UAPI headers (linux/, asm/) are searched before the C library's older copies.
        cmd = [cc, "-shared", "-fPIC", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-Wno-nonnull-compare",
               "-fvisibility=hidden",
               *[f"-I{d}" for d in includes], "-o", str(tmp), str(SOURCE), "-ldl", "-lpthread"]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise ShimError(f"compiling {SOURCE.name} failed:\n{done.stderr.strip()}")
        tmp.rename(out)
    return out


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _link(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(target)


def sysfs_tree(config: ShimConfig) -> tuple[Path, list[str]]:
    """Write the sysfs entries of the shim's nodes, laid out as Linux 6.12 lays out visl's.

    Returns the tree's root and the absolute paths the shim redirects into it.
    """
    video, media = config.video_node, config.media_node
    platform = f"{config.driver}.0"
    key = _digest(repr(config).encode(), b"sysfs-1")
    root = cache_root() / "shim" / f"sysfs-{key}"
    redirects = [f"/sys/dev/char/{video.major}:{video.minor}", f"/sys/dev/char/{media.major}:{media.minor}",
                 f"/sys/class/video4linux/{video.sysfs_name}", f"/sys/bus/media/devices/{media.sysfs_name}",
                 f"/sys/devices/platform/{platform}"]  # fmt: skip
    if (root / ".complete").is_file():
        return root, redirects
    with locked(root.parent / "sysfs.lock"):
        dev = root / "sys" / "devices" / "platform" / platform
        _write(dev / "uevent", f"DRIVER={config.driver}\nMODALIAS=platform:{config.driver}\n")
        _write(dev / "modalias", f"platform:{config.driver}\n")
        vdir = dev / "video4linux" / video.sysfs_name
        _write(vdir / "uevent", f"MAJOR={video.major}\nMINOR={video.minor}\nDEVNAME={video.sysfs_name}\n")
        _write(vdir / "dev", f"{video.major}:{video.minor}\n")
        _write(vdir / "name", f"{config.driver}\n")
        _write(vdir / "index", "0\n")
        _link(vdir / "device", "../../../" + platform)
        _link(vdir / "subsystem", "../../../../../class/video4linux")
        mdir = dev / media.sysfs_name
        _write(mdir / "uevent", f"MAJOR={media.major}\nMINOR={media.minor}\nDEVNAME={media.sysfs_name}\n")
        _write(mdir / "dev", f"{media.major}:{media.minor}\n")
        _write(mdir / "model", f"{config.driver}\n")
        _link(mdir / "subsystem", "../../../../bus/media")
        sys_root = root / "sys"
        _link(sys_root / "dev" / "char" / f"{video.major}:{video.minor}",
              f"../../devices/platform/{platform}/video4linux/{video.sysfs_name}")  # fmt: skip
        _link(sys_root / "dev" / "char" / f"{media.major}:{media.minor}",
              f"../../devices/platform/{platform}/{media.sysfs_name}")  # fmt: skip
        _link(sys_root / "class" / "video4linux" / video.sysfs_name,
              f"../../devices/platform/{platform}/video4linux/{video.sysfs_name}")  # fmt: skip
        _link(sys_root / "bus" / "media" / "devices" / media.sysfs_name,
              f"../../../devices/platform/{platform}/{media.sysfs_name}")  # fmt: skip
        (root / ".complete").write_text("")
    return root, redirects


def shim_env(library: Path, config: ShimConfig | None = None,
             base: Mapping[str, str] | None = None) -> dict[str, str]:  # fmt: skip
    """The environment that runs a command on ``library`` through the shim."""
    config = config or ShimConfig()
    env = dict(os.environ if base is None else base)
    shim = build_shim()
    root, redirects = sysfs_tree(config)
    preload = env.get("LD_PRELOAD", "")
    env["LD_PRELOAD"] = f"{shim}:{preload}" if preload else str(shim)
    env["CONFORM_SHIM_LIBRARY"] = str(library)
    env["CONFORM_SHIM_NODES"] = ";".join(n.spec for n in config.nodes)
    env["CONFORM_SHIM_SYSFS"] = str(root)
    env["CONFORM_SHIM_REDIRECT"] = ";".join(redirects)
    return env


def with_sysfs_overlay(argv: Sequence[str], config: ShimConfig | None = None) -> list[str]:
    """``argv`` run in a private mount namespace whose /sys has the shim's tree overlaid.

    libudev (GStreamer finds decoders through it) walks sysfs component by component with
    openat() and checks the file system type, so only a mount makes the nodes visible to it;
    the shim reports the overlay as sysfs.  Root gets the namespace directly, anyone else
    through a user namespace.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        raise ShimError("unshare (util-linux) is needed to show the shim's nodes to libudev")
    root, _ = sysfs_tree(config or ShimConfig())
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    script = 'mount -t overlay conform-sysfs -o "lowerdir=$1:/sys" /sys && shift && exec "$@"'
    return [unshare, *user, "--mount", "--propagation", "private", "sh", "-c", script, "sh",
            str(root / "sys"), *argv]  # fmt: skip


def run(argv: Sequence[str], library: Path | None = None, config: ShimConfig | None = None,
        timeout: float | None = None, capture: bool = False,
        udev: bool = False,
        env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run ``argv`` with rust-visl (or ``library``) behind the shim's device nodes.

    ``udev`` also shows the nodes to libudev (see ``with_sysfs_overlay``); ``env`` is added
    to the command's environment.
    """
    if not argv:
        raise ShimError("no command to run through the shim")
    if library is None:
        from conform.drivers.rust_visl import build_library

        library = build_library()
    env = {**shim_env(library, config), **(env or {})}
    if udev:
        argv = with_sysfs_overlay(argv, config)
    return subprocess.run(list(argv), env=env, timeout=timeout, text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None)  # fmt: skip
