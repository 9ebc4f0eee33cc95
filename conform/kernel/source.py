"""The pinned linux-source package: fetched with conform's private apt state, unpacked once."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import conform
from conform.debian import DebianSuite, cache_root, locked
from conform.errors import ConformError


class KernelSourceError(ConformError):
    """The kernel source could not be fetched or unpacked."""


def c_visl_dir() -> Path:
    """The kernel tier's inputs: packaged beside this module, or at the repository root."""
    packaged = Path(__file__).parent / "c-visl"
    return packaged if packaged.is_dir() else Path(conform.__file__).resolve().parents[1] / "c-visl"


@dataclass(frozen=True, slots=True)
class SourcePin:
    suite: str
    package: str
    version: str

    @property
    def spec(self) -> str:
        return f"{self.package}={self.version}"

    @classmethod
    def read(cls) -> SourcePin:
        suite, spec = (c_visl_dir() / "linux-source.pin").read_text().split()
        package, _, version = spec.partition("=")
        return cls(suite, package, version)


def source_tree(pin: SourcePin | None = None) -> Path:
    """The unpacked kernel tree of the pinned package (fetched and extracted on first use)."""
    pin = pin or SourcePin.read()
    root = cache_root() / "kernel" / "src" / pin.version
    tree = root / pin.package
    if (tree / "Makefile").is_file():
        return tree
    with locked(root / "lock"):
        if (tree / "Makefile").is_file():
            return tree
        deb = DebianSuite(pin.suite).download(pin.spec)
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            _extract(deb, Path(tmp), pin)
            extracted = next(p for p in Path(tmp).iterdir() if (p / "Makefile").is_file())
            shutil.move(str(extracted), tree)
    return tree


def _extract(deb: Path, dest: Path, pin: SourcePin) -> None:
    """The .deb holds /usr/src/<package>.tar.xz; unpack that tarball into ``dest``."""
    tarball = f"./usr/src/{pin.package}.tar.xz"
    script = f"dpkg-deb --fsys-tarfile '{deb}' | tar -xO '{tarball}' | tar -xJ -C '{dest}'"
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    if done.returncode:
        raise KernelSourceError(f"unpacking {tarball} from {deb} failed:\n{done.stderr.strip()}")
