"""visl's module parameters through sysfs: values, which may be written, and how each
write is parsed (kernel/params.c) — read, write and read back, in a fixed order."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from typing import Any

from conform.drivers import Nodes
from conform.transport import O_RDWR, Transport, TransportError

PARAMS_DIR = "/sys/module/visl/parameters/"
PARAMS = (
    "bitstream_trace_frame_start", "bitstream_trace_nframes", "keep_bitstream_buffers", "tpg_verbose",
    "visl_debug", "visl_dprintk_frame_start", "visl_dprintk_nframes", "visl_transtime_ms",
)  # fmt: skip
WRITES = (b"1", b"0", b"1\n", b"-1", b"abc", b"0x10", b"010", b"+3", b"Y", b"n", b"on", b"off", b"",
          b"4294967295", b"4294967296", b"12abc", b"1\n\n", b"t")  # fmt: skip


def _errno(exc: TransportError) -> str:
    return errno.errorcode.get(exc.errno or 0, str(exc.errno))


def _read(transport: Transport, path: str) -> Any:
    try:
        fd = transport.open(path, os.O_RDONLY)
    except TransportError as exc:
        return _errno(exc)
    try:
        first, second = transport.read(fd, 64), transport.read(fd, 64)
        return [first.decode(), second.decode()]
    finally:
        transport.close(fd)


def _write(transport: Transport, path: str, data: bytes, flags: int) -> Any:
    try:
        fd = transport.open(path, flags)
    except TransportError as exc:
        return ["open", _errno(exc)]
    try:
        return transport.write(fd, data)
    except TransportError as exc:
        return _errno(exc)
    finally:
        transport.close(fd)


def cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    transport = nodes.transport
    for name in PARAMS:
        path = PARAMS_DIR + name
        yield f"{name} read", _read(transport, path)
        for data in WRITES:
            yield f"{name} write {data!r}", _write(transport, path, data, os.O_WRONLY)
            yield f"{name} after {data!r}", _read(transport, path)
        yield f"{name} open O_RDWR", _write(transport, path, b"0", O_RDWR)
    yield "unknown parameter", _read(transport, PARAMS_DIR + "no_such_param")
