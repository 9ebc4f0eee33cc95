"""The embedded transport: a driver library implementing the vdev ABI, in-process."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import cffi

from conform.errors import ConformError
from conform.transport.base import (
    O_RDWR,
    PROT_READ,
    PROT_WRITE,
    Mapping,
    PollResult,
    Transport,
    TransportError,
)


class EmbeddedLibraryError(ConformError):
    """The driver library cannot be loaded or does not export the vdev ABI."""


def vdev_declarations() -> str:
    """The vdev.h prototypes as cffi cdef text; the header stays the one source of truth."""
    header = resources.files("conform.transport").joinpath("vdev.h").read_text()
    header = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    lines = [line for line in header.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    text = "\n".join(lines)
    return text.replace("struct pollfd;", "struct pollfd { int fd; short events; short revents; };")


_ffi = cffi.FFI()
_ffi.cdef(vdev_declarations())
VDEV_FUNCTIONS = tuple(re.findall(r"\b(vdev_\w+)\s*\(", vdev_declarations()))


class EmbeddedTransport(Transport):
    """Calls ``vdev_*`` of one driver library; fds and paths are the library's own."""

    name = "embedded"

    def __init__(self, library: Path) -> None:
        if not library.is_file():
            raise EmbeddedLibraryError(f"driver library {library} does not exist")
        try:
            self.lib: Any = _ffi.dlopen(str(library))
            missing = [fn for fn in VDEV_FUNCTIONS if not hasattr(self.lib, fn)]
        except (OSError, AttributeError) as exc:
            raise EmbeddedLibraryError(f"cannot load {library}: {exc}") from exc
        if missing:
            raise EmbeddedLibraryError(f"{library} lacks vdev ABI functions: {', '.join(missing)}")
        self.library = library
        self._mappings: dict[int, Any] = {}

    @staticmethod
    def _check(result: int, call: str, detail: str = "") -> int:
        if result < 0:
            raise TransportError(-result, call, detail)
        return result

    def open(self, path: str, flags: int = O_RDWR) -> int:
        return self._check(self.lib.vdev_open(path.encode(), flags), "open", path)

    def close(self, fd: int) -> None:
        self._check(self.lib.vdev_close(fd), "close")

    def _ioctl(self, fd: int, request: int, arg: Any) -> int:
        pointer = _ffi.NULL if arg is None else _ffi.cast("void *", arg)
        return int(self.lib.vdev_ioctl(fd, request, pointer))

    def mmap(self, fd: int, offset: int, length: int, prot: int = PROT_READ | PROT_WRITE) -> Mapping:
        out = _ffi.new("void **")
        self._check(self.lib.vdev_mmap(fd, offset, length, prot, out), "mmap", f"offset {offset:#x}")
        view = memoryview(_ffi.buffer(out[0], length))
        return Mapping(
            int(_ffi.cast("uintptr_t", out[0])), length, view if prot & PROT_WRITE else view.toreadonly()
        )

    def munmap(self, mapping: Mapping) -> None:
        mapping.view.release()
        self._check(self.lib.vdev_munmap(_ffi.cast("void *", mapping.address), mapping.length), "munmap")

    def poll(self, fds: Sequence[tuple[int, int]], timeout_ms: int) -> list[PollResult]:
        entries = _ffi.new("struct pollfd[]", len(fds))
        for entry, (fd, events) in zip(entries, fds, strict=True):
            entry.fd, entry.events = fd, events
        self._check(self.lib.vdev_poll(entries, len(fds), timeout_ms), "poll")
        return [PollResult(e.fd, e.revents) for e in entries if e.revents]

    def read(self, fd: int, count: int) -> bytes:
        buf = _ffi.new("char[]", count)
        done = self._check(self.lib.vdev_read(fd, buf, count), "read")
        return bytes(_ffi.buffer(buf, done))

    def write(self, fd: int, data: bytes) -> int:
        return self._check(self.lib.vdev_write(fd, data, len(data)), "write")

    def reset(self) -> None:
        """Unbind and re-probe the driver (module parameters take effect); EBUSY while open."""
        self._check(self.lib.vdev_reset(), "vdev_reset")
