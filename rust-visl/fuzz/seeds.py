"""Seed corpus for the vdev fuzzer: conform's probes recorded as fuzz programs (FORMAT.md).

A recording transport wraps EmbeddedTransport (rust-visl) and writes every call the
streaming, smoke and hostile probes make as the op that the harness decodes back into
the same call: struct bytes as passed, plane and control arrays and payloads inline,
fds, request fds and mmap offsets as slots of the harness's tables.  A program ends when
every file is closed (a scenario's end) or before it outgrows the harness's op limit.

Usage: python3 rust-visl/fuzz/seeds.py [OUT_DIR]   (default rust-visl/fuzz/seeds)
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conform.drivers.rust_visl import build_library
from conform.probe.replay import MAX_OFFSETS, NEXT_COMPOUND, NEXT_CTRL, Op, Shape, Vocabulary
from conform.transport import EmbeddedTransport, Mapping, PollResult, Transport, TransportError
from conform.transport.base import O_NONBLOCK, PROT_READ, PROT_WRITE
from conform.uapi import C, ffi

BYTE_BUDGET = 32 * 1024  # libFuzzer mutates small inputs faster
OP_BUDGET = 480  # under the harness's 512, with room for the re-opens of a split


class Recorder(Transport):
    """Passes every call to ``inner`` and appends it to the program being recorded."""

    name = "recorder"

    def __init__(self, inner: EmbeddedTransport, vocabulary: Vocabulary) -> None:
        self.inner, self.vocabulary = inner, vocabulary
        self.programs: list[bytes] = []
        self._begin()

    # -- program state, mirrored from the harness ------------------------------------
    def _begin(self) -> None:
        self.ops: list[bytes] = []
        self.slots: list[int] = []  # fd numbers, in the harness's FDS order
        self.open_paths: dict[int, tuple[str, int]] = {}  # open fd -> (path, flags byte)
        self.offsets: list[tuple[int, int]] = []
        self.maps: list[tuple[Mapping, bytearray | None]] = []
        self.closed: set[int] = set()

    def _flush(self) -> None:
        if self.ops:
            self.programs.append(b"".join(self.ops))
        self._begin()

    def _emit(self, op: Op, body: bytes) -> None:
        self.ops.append(bytes([op.value]) + body)

    def _split_if_long(self) -> None:
        """Start a new program that re-opens the open files (request fds and maps are lost)."""
        if len(self.ops) < OP_BUDGET and sum(map(len, self.ops)) < BYTE_BUDGET:
            return
        reopen = [(fd, self.open_paths[fd]) for fd in self.slots if fd in self.open_paths]
        self._flush()
        for fd, (path, flags) in reopen:
            self._emit(Op.OPEN, bytes([self.vocabulary.paths.index(path), flags]))
            self.slots.append(fd)
            self.open_paths[fd] = (path, flags)

    def slot(self, fd: int) -> int:
        for index in range(len(self.slots) - 1, -1, -1):
            if self.slots[index] == fd and index < 0x7F:
                return index
        return 0xFF

    def _sync_maps(self) -> None:
        """TOUCH ops for what the probe wrote into writable mappings since the last call."""
        for index, (mapping, shadow) in enumerate(self.maps):
            if shadow is None:
                continue
            now = bytes(mapping.view)
            if now == shadow:
                continue
            first = next(i for i in range(len(now)) if now[i] != shadow[i])
            last = next(i for i in range(len(now) - 1, -1, -1) if now[i] != shadow[i])
            for start in range(first, last + 1, 0xFFFF):
                chunk = now[start : min(last + 1, start + 0xFFFF)]
                self._emit(Op.TOUCH, struct.pack("<BIH", index, start, len(chunk)) + chunk)
            shadow[:] = now

    # -- the transport ---------------------------------------------------------------
    def open(self, path: str, flags: int = 2) -> int:
        self._split_if_long()
        fd = self.inner.open(path, flags)  # a failed open is not recorded: it changes nothing
        if path in self.vocabulary.paths:
            access = {0: 0, 1: 1}.get(flags & 3, 2)
            bits = (access << 1) | (1 if flags & O_NONBLOCK else 0)
            self._emit(Op.OPEN, bytes([self.vocabulary.paths.index(path), bits]))
            self.slots.append(fd)
            self.open_paths[fd] = (path, bits)
        return fd

    def close(self, fd: int) -> None:
        self._sync_maps()
        self._emit(Op.CLOSE, bytes([self.slot(fd)]))
        self.open_paths.pop(fd, None)
        try:
            self.inner.close(fd)
        finally:
            self.closed.add(fd)
            if set(self.slots) <= self.closed:  # mappings of closed files end with the program
                self._flush()

    def _ioctl(self, fd: int, request: int, arg: Any) -> int:
        self._sync_maps()
        self._split_if_long()
        index = self.vocabulary.ioctl_index(request)
        selector = bytes([index]) if index is not None else b"\xff" + struct.pack("<I", request)
        head = bytes([self.slot(fd)]) + selector
        size = (request >> 16) & 0x3FFF
        raw = bytes(ffi.buffer(ffi.cast("char *", arg), size)) if arg is not None and size else bytes(size)
        shape = self.vocabulary.shape_of(request)
        extra = b""
        if shape is Shape.BUFFER:
            extra = self._buffer(arg)
        elif shape is Shape.EXT_CTRLS:
            extra = self._ext_ctrls(arg)
        elif shape is Shape.TOPOLOGY:
            topo = ffi.cast("struct media_v2_topology *", arg)
            for kind in ("entities", "interfaces", "pads", "links"):
                num = getattr(topo, f"num_{kind}")
                given = num if num < 64 else 0x40 | 63
                extra += bytes([0xFF if getattr(topo, f"ptr_{kind}") == 0 else given])
        elif shape is Shape.QUERY_EXT_CTRL:
            cid = ffi.cast("struct v4l2_query_ext_ctrl *", arg).id
            found = self.vocabulary.ctrl_index(cid & ~(NEXT_CTRL | NEXT_COMPOUND))
            extra = bytes([0x3F if found is None else found | (0x40 if cid & NEXT_CTRL else 0)
                           | (0x80 if cid & NEXT_COMPOUND else 0)])  # fmt: skip
        self._emit(Op.IOCTL, head + raw + extra)
        result = self.inner._ioctl(fd, request, arg)
        for mapping, shadow in self.maps:  # what the driver wrote is not the program's doing
            if shadow is not None:
                shadow[:] = mapping.view
        if result >= 0 and shape is Shape.REQUEST_ALLOC:
            self.slots.append(int(ffi.cast("int *", arg)[0]))
        if result >= 0 and request == C.VIDIOC_QUERYBUF:
            b = ffi.cast("struct v4l2_buffer *", arg)
            if b.memory == C.V4L2_MEMORY_MMAP and b.m.planes != ffi.NULL:
                for plane in b.m.planes[0 : min(b.length, 8)]:
                    if len(self.offsets) < MAX_OFFSETS:
                        self.offsets.append((plane.m.mem_offset, plane.length))
        return result

    def _buffer(self, arg: Any) -> bytes:
        b = ffi.cast("struct v4l2_buffer *", arg)
        mplane = b.type in (C.V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, C.V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
        req = self.slot(b.request_fd) if b.request_fd > 0 else 0xFF
        req_byte = 0x80 | req if req != 0xFF else 0
        if not mplane or b.m.planes == ffi.NULL:
            return bytes([0xFF, req_byte])
        count = min(b.length, 8)
        planes = bytes(ffi.buffer(b.m.planes, count * ffi.sizeof("struct v4l2_plane")))
        return bytes([count, req_byte]) + planes

    def _ext_ctrls(self, arg: Any) -> bytes:
        h = ffi.cast("struct v4l2_ext_controls *", arg)
        req = self.slot(h.request_fd) if h.request_fd > 0 else 0xFF
        req_byte = 0x80 | req if req != 0xFF else 0
        if h.controls == ffi.NULL:
            return bytes([0xFF, req_byte])
        given = min(h.count, 63)
        out = bytes([given | (0x40 if h.count > 63 else 0), req_byte])
        for i in range(given):
            entry = h.controls[i]
            raw = bytes(ffi.buffer(ffi.addressof(h.controls, i), ffi.sizeof("struct v4l2_ext_control")))
            found = self.vocabulary.ctrl_index(entry.id)
            sel = 0x3F if found is None else found
            if self.vocabulary.is_value_ctrl(entry.id):
                out += raw + bytes([sel]) + b"\0\0"
                continue
            sel |= 0x40
            if entry.ptr == ffi.NULL or entry.size == 0:
                out += raw + bytes([sel | 0x80]) + b"\0\0"
                continue
            length = min(entry.size, 4096)  # a larger payload keeps its size, zero beyond
            if length != entry.size:
                sel |= 0x80
            payload = bytes(ffi.buffer(ffi.cast("char *", entry.ptr), length))
            out += raw + bytes([sel]) + struct.pack("<H", length) + payload
        return out

    def mmap(self, fd: int, offset: int, length: int, prot: int = PROT_READ | PROT_WRITE) -> Mapping:
        self._sync_maps()
        known = [i for i, (o, _) in enumerate(self.offsets) if o == offset]
        if known:
            slot, raw_length = known[0], 0 if self.offsets[known[0]][1] == length else length
        else:
            slot, raw_length = 0xFF, length
        self._emit(Op.MMAP, struct.pack("<BBIIB", self.slot(fd), slot, offset, raw_length, prot & 3))
        mapping = self.inner.mmap(fd, offset, length, prot)
        self.maps.append((mapping, bytearray(mapping.view) if prot & PROT_WRITE else None))
        return mapping

    def munmap(self, mapping: Mapping) -> None:
        self._sync_maps()
        index = next((i for i, (m, _) in enumerate(self.maps) if m is mapping), None)
        if index is not None:
            self._emit(Op.MUNMAP, bytes([index]))
            self.maps.pop(index)
        self.inner.munmap(mapping)

    def poll(self, fds: Sequence[tuple[int, int]], timeout_ms: int) -> list[PollResult]:
        self._sync_maps()
        for start in range(0, len(fds), 4):
            chunk = fds[start : start + 4]
            body = bytes([len(chunk) - 1])
            for fd, events in chunk:
                body += bytes([self.slot(fd), (events & 0x7F) | (0x80 if events & 0x100 else 0)])
            self._emit(Op.POLL, body)
        return self.inner.poll(fds, timeout_ms)

    def read(self, fd: int, count: int) -> bytes:
        self._emit(Op.READ, struct.pack("<BH", self.slot(fd), min(count, 0xFFFF)))
        return self.inner.read(fd, count)

    def write(self, fd: int, data: bytes) -> int:
        self._emit(Op.WRITE, bytes([self.slot(fd), min(len(data), 255)]) + data[:255])
        return self.inner.write(fd, data)

    def reset(self) -> None:
        self._flush()
        self.inner.reset()


def record(probe: str, recorder: Recorder) -> None:
    from conform.drivers import Nodes

    nodes = Nodes(recorder, "/dev/video0", "/dev/media0")
    if probe == "streaming":
        from conform.probe import streaming

        list(streaming.cases(nodes))
    elif probe == "hostile":
        from conform.probe import hostile

        list(hostile.cases(nodes))
    elif probe == "smoke":
        from conform.probe.smoke import SmokeStream
        from conform.run.session import DecodeSession, SessionConfig

        for width, height, count in ((64, 64, 4), (176, 144, 3)):
            stream = SmokeStream(width, height, count)
            config = SessionConfig(capture_pixelformat=C.V4L2_PIX_FMT_NV12)
            session = DecodeSession(nodes, stream.format(), config)
            try:
                list(session.decode(stream.requests()))
            finally:
                session.close()
    recorder._flush()


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent / "seeds"
    out.mkdir(parents=True, exist_ok=True)
    vocabulary = Vocabulary.load()
    inner = EmbeddedTransport(build_library())
    total = 0
    for probe in ("streaming", "smoke", "hostile"):
        recorder = Recorder(inner, vocabulary)
        record(probe, recorder)
        with contextlib.suppress(TransportError):  # a probe may leave a mapping behind
            inner.reset()
        for program in recorder.programs:
            digest = hashlib.sha1(program).hexdigest()[:16]
            (out / f"{probe}-{digest}").write_bytes(program)
        total += len(recorder.programs)
        print(f"{probe}: {len(recorder.programs)} programs, {sum(map(len, recorder.programs))} bytes")
    print(f"{total} seeds in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
