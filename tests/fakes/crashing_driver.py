"""DELIBERATELY BROKEN test drivers, registered only when a test names this module in
CONFORM_DRIVER_MODULES: they exist to check that conform's runs survive a driver that
crashes or hangs, and report it.  They are rust-visl until their Nth ioctl, then:

- ``crash-test``: the process dies of SIGSEGV (as a driver bug inside the process would);
- ``hang-test``: the call never returns.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from typing import Any

from conform.drivers import Driver, Nodes, register_driver
from conform.drivers.rust_visl import RustVisl
from conform.transport.base import O_RDWR, PROT_READ, PROT_WRITE, Mapping, PollResult, Transport

FAIL_AT_IOCTL = 40


class _Breaking(Transport):
    def __init__(self, inner: Transport, action: str) -> None:
        self.inner, self.action, self.calls = inner, action, 0

    def _ioctl(self, fd: int, request: int, arg: Any) -> int:
        self.calls += 1
        if self.calls == FAIL_AT_IOCTL:
            if self.action == "crash":
                os.kill(os.getpid(), signal.SIGSEGV)
            while True:
                time.sleep(60)
        return self.inner._ioctl(fd, request, arg)

    def open(self, path: str, flags: int = O_RDWR) -> int:
        return self.inner.open(path, flags)

    def close(self, fd: int) -> None:
        self.inner.close(fd)

    def mmap(self, fd: int, offset: int, length: int, prot: int = PROT_READ | PROT_WRITE) -> Mapping:
        return self.inner.mmap(fd, offset, length, prot)

    def munmap(self, mapping: Mapping) -> None:
        self.inner.munmap(mapping)

    def poll(self, fds: Sequence[tuple[int, int]], timeout_ms: int) -> list[PollResult]:
        return self.inner.poll(fds, timeout_ms)

    def read(self, fd: int, count: int) -> bytes:
        return self.inner.read(fd, count)

    def write(self, fd: int, data: bytes) -> int:
        return self.inner.write(fd, data)


def _breaking_nodes(action: str) -> Nodes:
    nodes = RustVisl("rust-visl").connect()
    return Nodes(_Breaking(nodes.transport, action), nodes.video, nodes.media)


@register_driver
class CrashTest(Driver):
    name = "crash-test"
    description = "TEST ONLY: rust-visl that dies of SIGSEGV at its 40th ioctl"

    def connect(self) -> Nodes:
        return _breaking_nodes("crash")


@register_driver
class HangTest(Driver):
    name = "hang-test"
    description = "TEST ONLY: rust-visl whose 40th ioctl never returns"

    def connect(self) -> Nodes:
        return _breaking_nodes("hang")
