"""The syscall surface every layer above talks through, whatever carries it."""

from __future__ import annotations

import errno as errno_mod
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conform.errors import ConformError

# Poll bits are the same numbers on every Linux architecture conform runs on.
POLLIN = 0x001
POLLPRI = 0x002
POLLOUT = 0x004
POLLERR = 0x008
POLLHUP = 0x010

O_RDWR = os.O_RDWR
O_NONBLOCK = os.O_NONBLOCK

PROT_READ = 0x1
PROT_WRITE = 0x2


class TransportError(OSError, ConformError):
    """A call into the driver failed; ``errno`` is the driver's, ``call`` names what failed.

    For ioctls ``call`` is the ioctl's name (``VIDIOC_S_EXT_CTRLS``), so a failure reads the
    way a kernel developer would write it.
    """

    def __init__(self, err: int, call: str, detail: str = "") -> None:
        message = f"{call}: {os.strerror(err)} ({errno_mod.errorcode.get(err, err)})"
        if detail:
            message += f": {detail}"
        super().__init__(err, message)
        self.call = call

    def __str__(self) -> str:
        return str(self.strerror)


@dataclass(slots=True)
class Mapping:
    """One mmap()ed range; ``view`` is writable when mapped with PROT_WRITE."""

    address: int
    length: int
    view: memoryview


@dataclass(frozen=True, slots=True)
class PollResult:
    fd: int
    revents: int


class Transport(ABC):
    """open/close/ioctl/mmap/munmap/poll/read/write on one driver, real or embedded.

    Every method raises :class:`TransportError` on failure; ``ioctl`` names the ioctl
    through ``conform.uapi.ioctl_name``.  ``arg`` is a cffi pointer (or None).
    """

    name: str

    @abstractmethod
    def open(self, path: str, flags: int = O_RDWR) -> int: ...

    @abstractmethod
    def close(self, fd: int) -> None: ...

    @abstractmethod
    def _ioctl(self, fd: int, request: int, arg: Any) -> int:
        """Return the raw result: >= 0, or -errno."""

    @abstractmethod
    def mmap(self, fd: int, offset: int, length: int, prot: int = PROT_READ | PROT_WRITE) -> Mapping: ...

    @abstractmethod
    def munmap(self, mapping: Mapping) -> None: ...

    @abstractmethod
    def poll(self, fds: Sequence[tuple[int, int]], timeout_ms: int) -> list[PollResult]:
        """Poll (fd, events) pairs; return those with non-zero revents (empty on timeout)."""

    @abstractmethod
    def read(self, fd: int, count: int) -> bytes: ...

    @abstractmethod
    def write(self, fd: int, data: bytes) -> int: ...

    def ioctl(self, fd: int, request: int, arg: Any = None) -> int:
        result = self._ioctl(fd, request, arg)
        if result < 0:
            from conform.uapi import ioctl_name

            raise TransportError(-result, ioctl_name(request))
        return result
