"""rust-visl, embedded: the Rust driver built as a shared library and called in-process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import conform
from conform.debian import cache_root, locked
from conform.drivers.base import Driver, DriverError, Nodes, in_guest, register_driver
from conform.transport import EmbeddedTransport

LIBRARY = "librust_visl.so"


def workspace() -> Path:
    return Path(conform.__file__).resolve().parents[1] / "rust-visl"


def target_dir() -> Path:
    return cache_root() / "rust-visl" / "target"


def library_path() -> Path:
    return target_dir() / "release" / LIBRARY


def build_library() -> Path:
    """``cargo build --release`` of the workspace against conform's UAPI headers (a no-op when fresh).

    Inside the kernel tier's guest the cache is read-only, so the library built on the
    host is used as it is.
    """
    library = library_path()
    if in_guest():
        if not library.is_file():
            raise DriverError(f"{library} was not built on the host before booting the guest")
        return library
    cargo = shutil.which("cargo")
    if cargo is None:
        raise DriverError("cargo is missing: rust-visl is built from rust-visl/ with the Rust toolchain")
    from conform.uapi.headers import include_dirs

    env = dict(os.environ, VISL_UAPI_INCLUDE=str(include_dirs()[0]))
    cmd = [cargo, "build", "--release", "--quiet", "--manifest-path", str(workspace() / "Cargo.toml"),
           "--target-dir", str(target_dir()), "-p", "vdev"]  # fmt: skip
    with locked(target_dir().parent / "build.lock"):
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode:
        print(done.stdout, file=sys.stderr)
        raise DriverError(f"building rust-visl failed (cargo exit {done.returncode})")
    return library


@register_driver
class RustVisl(Driver):
    name = "rust-visl"
    description = "this repository's Rust driver, embedded in-process through the vdev ABI"

    def connect(self) -> Nodes:
        return Nodes(EmbeddedTransport(build_library()), "/dev/video0", "/dev/media0")
