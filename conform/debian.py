"""Fetch Debian packages into a private cache without touching the system's apt setup.

The kernel tier needs packages from a newer suite than the host runs (trixie's
``linux-source-6.12``, ``linux-libc-dev`` 6.12 and ``v4l-utils`` 1.30 on a bookworm host).
Installing them would upgrade the host's libc, so they are downloaded with apt options
that point every list, archive and status path into the cache and unpacked with
``dpkg -x``.  The host's ``/etc/apt`` is only read for its keyring.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from conform.errors import ConformError

DEBIAN_MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class AptError(ConformError):
    """An apt or dpkg command failed while filling the package cache."""


def cache_root() -> Path:
    """The user cache directory conform keeps downloads and builds in."""
    base = os.environ.get("CONFORM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "conform"
    )
    return Path(base)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise cache fills between concurrent conform processes (xdist workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@dataclass(frozen=True, slots=True)
class DebianSuite:
    """One Debian suite seen through its own apt state directory under the cache."""

    suite: str

    @property
    def root(self) -> Path:
        return cache_root() / "apt" / self.suite

    def _options(self) -> list[str]:
        root = self.root
        return [
            "-o", f"Dir::Etc::SourceList={root}/sources.list",
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State={root}/state",
            "-o", f"Dir::State::Lists={root}/lists",
            "-o", "Dir::State::status=/dev/null",
            "-o", f"Dir::Cache={root}/cache",
            "-o", f"Dir::Cache::Archives={root}/archives",
            "-o", "APT::Get::List-Cleanup=0",
            "-o", "Debug::NoLocking=1",
        ]  # fmt: skip

    def _apt(self, tool: str, *args: str) -> str:
        cmd = [tool, *self._options(), *args]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise AptError(f"{' '.join([tool, *args])} failed ({done.returncode}):\n{done.stderr.strip()}")
        return done.stdout

    def update(self) -> None:
        """Write the suite's private sources list and refresh its package lists."""
        root = self.root
        for sub in ("lists/partial", "archives/partial", "cache", "state", "debs"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "sources.list").write_text(f"deb [signed-by={KEYRING}] {DEBIAN_MIRROR} {self.suite} main\n")
        self._apt("apt-get", "update")

    def _has_lists(self) -> bool:
        lists = self.root / "lists"
        return lists.is_dir() and any(lists.glob("*_Packages*"))

    def download(self, package: str) -> Path:
        """Download one package's .deb (``name`` or ``name=version``) and return its path."""
        with locked(self.root / "lock"):
            debs = self.root / "debs"
            name, _, version = package.partition("=")
            found = self._cached_deb(name, version)
            if found:
                return found
            if not self._has_lists():
                self.update()
            try:
                self._apt_download(package)
            except AptError:
                self.update()
                self._apt_download(package)
            found = self._cached_deb(name, version)
            if not found:
                raise AptError(f"apt-get download {package} left no .deb in {debs}")
            return found

    def _apt_download(self, package: str) -> None:
        cmd = ["apt-get", *self._options(), "download", package]
        done = subprocess.run(cmd, cwd=self.root / "debs", capture_output=True, text=True)
        if done.returncode != 0:
            raise AptError(f"apt-get download {package} failed:\n{done.stderr.strip()}")

    def _cached_deb(self, name: str, version: str) -> Path | None:
        # Debian file names escape the epoch colon as %3a.
        pattern = f"{name}_{version.replace(':', '%3a') if version else '*'}_*.deb"
        hits = sorted((self.root / "debs").glob(pattern))
        return hits[-1] if hits else None

    def unpack(self, package: str, dest: Path) -> Path:
        """Download ``package`` and ``dpkg -x`` it into ``dest`` (kept if already there)."""
        stamp = dest / f".unpacked-{package.replace('/', '_')}"
        if stamp.exists():
            return dest
        deb = self.download(package)
        dest.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["dpkg", "-x", str(deb), str(dest)], capture_output=True, text=True)
        if done.returncode != 0:
            raise AptError(f"dpkg -x {deb} failed:\n{done.stderr.strip()}")
        stamp.write_text(str(deb) + "\n")
        return dest
