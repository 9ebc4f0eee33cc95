"""The kernel transport: libc system calls on real device nodes, through cffi."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cffi

from conform.transport.base import (
    O_RDWR,
    PROT_READ,
    PROT_WRITE,
    Mapping,
    PollResult,
    Transport,
    TransportError,
)

_ffi = cffi.FFI()
_ffi.cdef(
    """
    struct pollfd { int fd; short events; short revents; };
    int open(const char *path, int flags, ...);
    int close(int fd);
    int ioctl(int fd, unsigned long request, ...);
    void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset);
    int munmap(void *addr, size_t length);
    int poll(struct pollfd *fds, unsigned long nfds, int timeout);
    ssize_t read(int fd, void *buf, size_t count);
    ssize_t write(int fd, const void *buf, size_t count);
    """
)
_libc: Any = _ffi.dlopen(None)  # functions declared above; cffi gives them no static types
_MAP_SHARED = 0x01
_MAP_FAILED = _ffi.cast("void *", -1)


def _check(result: int, call: str) -> int:
    if result < 0:
        raise TransportError(_ffi.errno, call)
    return result


class KernelTransport(Transport):
    """Real nodes of the running kernel (``/dev/videoN``, ``/dev/mediaN``)."""

    name = "kernel"

    def open(self, path: str, flags: int = O_RDWR) -> int:
        fd = _libc.open(path.encode(), _ffi.cast("int", flags))
        if fd < 0:
            raise TransportError(_ffi.errno, "open", path)
        return int(fd)

    def close(self, fd: int) -> None:
        _check(_libc.close(fd), "close")

    def _ioctl(self, fd: int, request: int, arg: Any) -> int:
        pointer = _ffi.NULL if arg is None else _ffi.cast("void *", arg)
        result = _libc.ioctl(fd, request, pointer)
        return int(result) if result >= 0 else -_ffi.errno

    def mmap(self, fd: int, offset: int, length: int, prot: int = PROT_READ | PROT_WRITE) -> Mapping:
        address = _libc.mmap(_ffi.NULL, length, prot, _MAP_SHARED, fd, offset)
        if address == _MAP_FAILED:
            raise TransportError(_ffi.errno, "mmap", f"offset {offset:#x} length {length}")
        readonly = not prot & PROT_WRITE
        view = memoryview(_ffi.buffer(address, length))
        return Mapping(int(_ffi.cast("uintptr_t", address)), length, view.toreadonly() if readonly else view)

    def munmap(self, mapping: Mapping) -> None:
        mapping.view.release()
        _check(_libc.munmap(_ffi.cast("void *", mapping.address), mapping.length), "munmap")

    def poll(self, fds: Sequence[tuple[int, int]], timeout_ms: int) -> list[PollResult]:
        entries = _ffi.new("struct pollfd[]", len(fds))
        for entry, (fd, events) in zip(entries, fds, strict=True):
            entry.fd, entry.events = fd, events
        _check(_libc.poll(entries, len(fds), timeout_ms), "poll")
        return [PollResult(e.fd, e.revents) for e in entries if e.revents]

    def read(self, fd: int, count: int) -> bytes:
        buf = _ffi.new("char[]", count)
        done = _check(_libc.read(fd, buf, count), "read")
        return bytes(_ffi.buffer(buf, done))

    def write(self, fd: int, data: bytes) -> int:
        return _check(_libc.write(fd, data, len(data)), "write")
