"""The pinned linux-source package: fetched with conform's private apt state, unpacked once."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
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
    if packaged.is_dir():
        return packaged
    checkout = Path(conform.__file__).resolve().parents[1] / "c-visl"
    if not checkout.is_dir():
        raise KernelSourceError(f"c-visl/ is neither at {packaged} nor at {checkout}")
    return checkout


@dataclass(frozen=True, slots=True)
class SourcePin:
    """``linux-source.pin``: one line, ``SUITE PACKAGE=VERSION``."""

    suite: str
    package: str
    version: str

    @property
    def spec(self) -> str:
        return f"{self.package}={self.version}"

    @classmethod
    def read(cls) -> SourcePin:
        path = c_visl_dir() / "linux-source.pin"
        fields = path.read_text().split()
        package, _, version = fields[1].partition("=") if len(fields) == 2 else ("", "", "")
        if not package or not version:
            raise KernelSourceError(f"{path} should hold 'SUITE PACKAGE=VERSION', not {' '.join(fields)!r}")
        return cls(fields[0], package, version)


def _src_root(pin: SourcePin) -> Path:
    return cache_root() / "kernel" / "src" / pin.version


def fetch_deb(pin: SourcePin | None = None) -> Path:
    """The pinned package's .deb in the private apt cache (downloaded on first use)."""
    pin = pin or SourcePin.read()
    return DebianSuite(pin.suite).download(pin.spec)


def source_tree(pin: SourcePin | None = None) -> Path:
    """The unpacked kernel tree of the pinned package (fetched and extracted on first use).

    The tree is shared by every build of this version and never written to: builds go to
    their own ``O=`` directories.
    """
    pin = pin or SourcePin.read()
    root = _src_root(pin)
    tree = root / pin.package
    if (tree / "Makefile").is_file():
        return tree
    with locked(root / "lock"):
        if (tree / "Makefile").is_file():
            return tree
        deb = fetch_deb(pin)
        for stale in root.glob(".extract-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed extraction
        # Extract beside the final place and rename, so a killed extraction leaves no half tree.
        with tempfile.TemporaryDirectory(dir=root, prefix=".extract-") as tmp:
            _extract(deb, Path(tmp), pin)
            extracted = [p for p in Path(tmp).iterdir() if (p / "Makefile").is_file()]
            if len(extracted) != 1:
                raise KernelSourceError(f"{deb}'s tarball did not hold one kernel tree")
            shutil.rmtree(tree, ignore_errors=True)
            extracted[0].rename(tree)
    return tree


def _extract(deb: Path, dest: Path, pin: SourcePin) -> None:
    """The .deb holds ``/usr/src/<package>.tar.xz``; stream that member straight into ``tar -xJ``.

    Streaming avoids writing the 150 MB tarball to disk only to read it back once.  The rest
    of the package is read to its end too, so dpkg-deb exits cleanly rather than of SIGPIPE.
    """
    member = f"./usr/src/{pin.package}.tar.xz"
    debtar = subprocess.Popen(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    untar = subprocess.Popen(["tar", "-xJ", "-C", str(dest)], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert debtar.stdout is not None and untar.stdin is not None  # both were given PIPE
    found = False
    try:
        with tarfile.open(fileobj=debtar.stdout, mode="r|") as outer:
            for entry in outer:
                if entry.name == member:
                    fileobj = outer.extractfile(entry)
                    if fileobj is not None:
                        shutil.copyfileobj(fileobj, untar.stdin, 1 << 20)
                        found = True
    except (tarfile.TarError, BrokenPipeError) as exc:
        untar.kill()
        raise KernelSourceError(f"reading {deb} failed: {exc}") from exc
    finally:
        untar.stdin.close()
        debtar.stdout.close()
        untar_err = _finish(untar)
        debtar_err = _finish(debtar)
    if not found:
        raise KernelSourceError(f"{deb} holds no {member}")
    if untar.returncode:
        raise KernelSourceError(f"unpacking {member} from {deb} failed:\n{untar_err}")
    if debtar.returncode:
        raise KernelSourceError(f"dpkg-deb --fsys-tarfile {deb} failed:\n{debtar_err}")


def _finish(proc: subprocess.Popen[bytes]) -> str:
    """Wait for one stage of the pipeline; its stderr, which is small, is read in full first."""
    err = proc.stderr.read() if proc.stderr else b""
    proc.wait()
    return err.decode(errors="replace").strip()
