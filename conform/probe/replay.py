"""Replays rust-visl/fuzz inputs (programs of vdev calls) through any conform transport.

The input format is rust-visl/fuzz/FORMAT.md; the selector bytes index
rust-visl/fuzz/vocabulary.txt.  The Rust harness (rust-visl/fuzz/src/lib.rs) and this
module decode the same bytes into the same calls, so a crash input found on rust-visl can
be replayed on upstream visl's real nodes in the kernel tier.  Every call is recorded as a
:class:`Call`: what it was and what came back (a value or ``-errno``).

Deviations on the kernel transport, where a call could block or disturb the replaying
process: ioctls and read() on a file opened without O_NONBLOCK run non-blocking, as
rust-visl answers both modes, DQBUF, DQEVENT and read() after polling the file for up to
``settle_ms`` (c-visl's jobs finish on a worker, rust-visl's inside QBUF); a closed fd's
slot becomes :data:`STALE_FD` (the kernel reuses numbers); TOUCH skips PROT_NONE
mappings.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from conform.transport import Mapping, Transport, TransportError
from conform.transport.base import O_NONBLOCK, O_RDWR
from conform.uapi import C, ffi

FUZZ_DIR = Path(__file__).resolve().parents[2] / "rust-visl" / "fuzz"
VOCABULARY = FUZZ_DIR / "vocabulary.txt"

MAX_OPS = 512
MAX_OFFSETS = 64
MAX_FDS = 32
STALE_FD = 999_999
"""A closed slot's fd on the kernel, which reuses numbers: never open, like rust-visl's stale fds."""
VIDEO_MAX_PLANES = 8
MAX_CTRLS = 1024
MAX_PAYLOAD = 1 << 20
MAX_TOPOLOGY = 64
NEXT_CTRL = 0x8000_0000
NEXT_COMPOUND = 0x4000_0000
O_WRONLY = 1
POLLWRNORM = 0x100


class Shape(Enum):
    """What an ioctl's argument holds besides plain bytes (vocabulary.txt's spelling)."""

    PLAIN = "plain"
    BUFFER = "buffer"
    EXT_CTRLS = "ext_ctrls"
    TOPOLOGY = "topology"
    QUERY_EXT_CTRL = "query_ext_ctrl"
    REQUEST_ALLOC = "request_alloc"


class Op(Enum):
    OPEN = 0
    CLOSE = 1
    IOCTL = 2
    MMAP = 3
    MUNMAP = 4
    POLL = 5
    READ = 6
    WRITE = 7
    TOUCH = 8


@dataclass(frozen=True, slots=True)
class IoctlEntry:
    name: str
    number: int
    shape: Shape

    @property
    def size(self) -> int:
        return (self.number >> 16) & 0x3FFF


@dataclass(frozen=True, slots=True)
class CtrlEntry:
    name: str
    id: int
    in_entry: bool
    """The value sits in the v4l2_ext_control itself (``value`` in vocabulary.txt)."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    paths: tuple[str, ...]
    ioctls: tuple[IoctlEntry, ...]
    ctrls: tuple[CtrlEntry, ...]

    @classmethod
    def load(cls, path: Path = VOCABULARY) -> Vocabulary:
        paths: list[str] = []
        ioctls: list[IoctlEntry] = []
        ctrls: list[CtrlEntry] = []
        for line in path.read_text().splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "path":
                paths.append(words[1])
            elif len(words) == 4 and words[0] == "ioctl":
                ioctls.append(IoctlEntry(words[1], int(words[2], 16), Shape(words[3])))
            elif len(words) == 4 and words[0] == "ctrl":
                ctrls.append(CtrlEntry(words[1], int(words[2], 16), words[3] == "value"))
        return cls(tuple(paths), tuple(ioctls), tuple(ctrls))

    def shape_of(self, request: int) -> Shape:
        return next((e.shape for e in self.ioctls if e.number == request), Shape.PLAIN)

    def ioctl_name(self, request: int) -> str:
        return next((e.name for e in self.ioctls if e.number == request), f"ioctl {request:#x}")

    def is_value_ctrl(self, cid: int) -> bool:
        return any(c.id == cid and c.in_entry for c in self.ctrls)

    def ctrl_index(self, cid: int) -> int | None:
        return next((i for i, c in enumerate(self.ctrls) if c.id == cid), None)

    def ioctl_index(self, request: int) -> int | None:
        return next((i for i, e in enumerate(self.ioctls) if e.number == request), None)


class Cursor:
    """The input front to back; past its end every byte reads as zero."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def bytes(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk + bytes(n - len(chunk))

    def u8(self) -> int:
        return self.bytes(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.bytes(2), "little")

    def u32(self) -> int:
        return int.from_bytes(self.bytes(4), "little")


@dataclass(frozen=True, slots=True)
class Call:
    """One replayed call: ``what`` names it (``ioctl VIDIOC_QBUF fd#2``), ``result`` is the
    return value or ``-errno``, None when the call was skipped on this transport."""

    what: str
    result: int | None

    def as_json(self) -> list[Any]:
        return [self.what, self.result]


@dataclass(slots=True)
class _Fd:
    number: int
    open: bool = True
    nonblocking: bool = False


@dataclass(slots=True)
class _Map:
    mapping: Mapping
    prot: int


@dataclass(slots=True)
class Replay:
    """The state of one program: the tables the selector bytes index (FORMAT.md)."""

    transport: Transport
    vocabulary: Vocabulary
    kernel: bool = False
    rename: dict[str, str] = field(default_factory=dict)
    """Vocabulary paths to this driver's own (``/dev/video0`` to the node it answers on)."""
    settle_ms: int = 200
    calls: list[Call] = field(default_factory=list)
    fds: list[_Fd] = field(default_factory=list)
    offsets: list[tuple[int, int]] = field(default_factory=list)
    maps: list[_Map] = field(default_factory=list)

    # -- selectors -------------------------------------------------------------------
    def fd(self, selector: int) -> int:
        if selector == 0xFF or not self.fds:
            return -1
        entry = self.fds[selector % len(self.fds)]
        return STALE_FD if self.kernel and not entry.open else entry.number

    def _fd_entry(self, number: int) -> _Fd | None:
        return next((e for e in self.fds if e.number == number and e.open), None)

    def named(self, selector: int) -> tuple[int, str]:
        """The fd a selector names and its slot's name (``fd#3``, ``fd#-`` for none), which
        is the same on every transport whatever numbers the fds have."""
        if selector == 0xFF or not self.fds:
            return -1, "fd#-"
        return self.fd(selector), f"fd#{selector % len(self.fds)}"

    def _record(self, what: str, result: int | None) -> None:
        self.calls.append(Call(what, result))

    # -- one op ----------------------------------------------------------------------
    def step(self, cur: Cursor) -> None:
        op = Op(cur.u8() % 9)
        if op is Op.OPEN:
            path = self.vocabulary.paths[cur.u8() % len(self.vocabulary.paths)]
            bits = cur.u8()
            mode = (0, O_WRONLY, O_RDWR, O_RDWR)[(bits >> 1) & 3] | (O_NONBLOCK if bits & 1 else 0)
            if len(self.fds) >= MAX_FDS:
                return
            try:
                number = self.transport.open(self.rename.get(path, path), mode)
            except TransportError as exc:
                self._record(f"open {path} {mode:#o}", _neg(exc))
                return
            self.fds.append(_Fd(number, nonblocking=bool(bits & 1)))
            self._record(f"open {path} {mode:#o} -> fd#{len(self.fds) - 1}", 0)
        elif op is Op.CLOSE:
            number, name = self.named(cur.u8())
            result = self._errno_of(lambda: self.transport.close(number))
            if result == 0:
                for entry in self.fds:
                    if entry.number == number:
                        entry.open = False
            self._record(f"close {name}", result)
        elif op is Op.IOCTL:
            self._ioctl(cur)
        elif op is Op.MMAP:
            self._mmap(cur)
        elif op is Op.MUNMAP:
            slot = cur.u8()
            if self.maps:
                victim = self.maps.pop(slot % len(self.maps))
                self._record("munmap", self._errno_of(lambda: self.transport.munmap(victim.mapping)))
        elif op is Op.POLL:
            count = cur.u8() % 4 + 1
            entries = []
            names: list[str] = []
            for _ in range(count):
                number, name = self.named(cur.u8())
                bits = cur.u8()
                entries.append((number, (bits & 0x7F) | (POLLWRNORM if bits & 0x80 else 0)))
                names.append(name)
            what = "poll " + " ".join(f"{n}:{ev:#x}" for n, (_, ev) in zip(names, entries, strict=True))
            try:
                ready = self.transport.poll(entries, 0)
                self._record(what + " -> " + ",".join(f"{r.revents:#x}" for r in ready), len(ready))
            except TransportError as exc:
                self._record(what, _neg(exc))
        elif op is Op.READ:
            number, name = self.named(cur.u8())
            count = cur.u16()
            self._settle(number)
            with self._nonblocking(number):
                try:
                    data = self.transport.read(number, count)
                    self._record(f"read {name} {count}", len(data))
                except TransportError as exc:
                    self._record(f"read {name} {count}", _neg(exc))
        elif op is Op.WRITE:
            number, name = self.named(cur.u8())
            data = cur.bytes(cur.u8())
            try:
                result = self.transport.write(number, data)
            except TransportError as exc:
                result = _neg(exc)
            self._record(f"write {name} {data!r}", result)
        else:
            slot, offset, n = cur.u8(), cur.u32(), cur.u16()
            data = cur.bytes(n)
            if self.maps:
                target = self.maps[slot % len(self.maps)]
                start = offset % target.mapping.length
                n = min(n, target.mapping.length - start)
                if target.prot & 2:
                    target.mapping.view[start : start + n] = data[:n]
                elif target.prot or not self.kernel:
                    bytes(target.mapping.view[start : start + n])

    @staticmethod
    def _errno_of(call: Any) -> int:
        try:
            call()
        except TransportError as exc:
            return _neg(exc)
        return 0

    def _settle(self, number: int) -> None:
        """On the kernel, give c-visl's worker time before a call that would block."""
        entry = self._fd_entry(number)
        if self.kernel and entry is not None and not entry.nonblocking:
            try:
                poller = select.poll()
                poller.register(number, select.POLLIN | select.POLLOUT | select.POLLPRI)
                poller.poll(self.settle_ms)
            except OSError:
                pass

    def _nonblocking(self, number: int) -> _NonBlocking:
        entry = self._fd_entry(number)
        return _NonBlocking(number if self.kernel and entry is not None and not entry.nonblocking else None)

    def _mmap(self, cur: Cursor) -> None:
        number, name = self.named(cur.u8())
        slot, raw_offset, raw_length, prot = cur.u8(), cur.u32(), cur.u32(), cur.u8() & 3
        if slot == 0xFF or not self.offsets:
            offset, length = raw_offset, raw_length or 4096
        else:
            offset, known = self.offsets[slot % len(self.offsets)]
            length = raw_length or known
        what = f"mmap {name} {offset:#x} {length} prot={prot}"
        try:
            mapping = self.transport.mmap(number, offset, length, prot)
        except TransportError as exc:
            self._record(what, _neg(exc))
            return
        self.maps.append(_Map(mapping, prot))
        self._record(what, 0)

    def _ioctl(self, cur: Cursor) -> None:
        number, name = self.named(cur.u8())
        selector = cur.u8()
        table = self.vocabulary.ioctls
        request = cur.u32() if selector == 0xFF else table[selector % len(table)].number
        shape = self.vocabulary.shape_of(request)
        size = (request >> 16) & 0x3FFF
        arg = ffi.new("char[]", max(size, 1))
        ffi.memmove(arg, cur.bytes(size), size)
        keep: list[Any] = []  # memory the argument's pointers point to
        planes: Any = None
        planes_allocated = 0
        if shape is Shape.BUFFER:
            choice, req = cur.u8(), cur.u8()
            given = 0 if choice == 0xFF else choice % (VIDEO_MAX_PLANES + 1)
            b = ffi.cast("struct v4l2_buffer *", arg)
            if req & 0x80:
                b.request_fd = self.fd(req & 0x7F)
            planes_allocated = max(given, min(b.length, VIDEO_MAX_PLANES))
            plane_size = ffi.sizeof("struct v4l2_plane")
            planes = ffi.new("struct v4l2_plane[]", max(planes_allocated, 1))
            ffi.memmove(planes, cur.bytes(given * plane_size), given * plane_size)
            if choice == 0xFF:
                b.m.planes = ffi.NULL
                planes_allocated = 0
            else:
                b.m.planes = planes
            keep.append(planes)
        elif shape is Shape.EXT_CTRLS:
            self._ext_ctrls(cur, arg, keep)
        elif shape is Shape.TOPOLOGY:
            topo = ffi.cast("struct media_v2_topology *", arg)
            for kind, ctype in (("entities", "media_v2_entity"), ("interfaces", "media_v2_interface"),
                                ("pads", "media_v2_pad"), ("links", "media_v2_link")):  # fmt: skip
                choice = cur.u8()
                if choice == 0xFF:
                    setattr(topo, f"ptr_{kind}", 0)
                    continue
                given = choice & 0x3F
                if not choice & 0x40:
                    setattr(topo, f"num_{kind}", given)
                room = max(given, min(getattr(topo, f"num_{kind}"), MAX_TOPOLOGY), 1)
                array = ffi.new(f"struct {ctype}[]", room)
                keep.append(array)
                setattr(topo, f"ptr_{kind}", int(ffi.cast("uintptr_t", array)))
        elif shape is Shape.QUERY_EXT_CTRL:
            sel = cur.u8()
            query = ffi.cast("struct v4l2_query_ext_ctrl *", arg)
            if (sel & 0x3F) < len(self.vocabulary.ctrls):
                query.id = (self.vocabulary.ctrls[sel & 0x3F].id | (NEXT_CTRL if sel & 0x40 else 0)
                            | (NEXT_COMPOUND if sel & 0x80 else 0))  # fmt: skip
        what = f"ioctl {self.vocabulary.ioctl_name(request)} {name}"
        if request in (C.VIDIOC_DQBUF, C.VIDIOC_DQEVENT):
            self._settle(number)
        with self._nonblocking(number):
            result = self.transport._ioctl(number, request, arg if size else None)
        self._record(what, result)
        if result < 0:
            return
        if shape is Shape.REQUEST_ALLOC:
            self.fds.append(_Fd(int(ffi.cast("int *", arg)[0])))
        elif shape is Shape.BUFFER and request == C.VIDIOC_QUERYBUF and planes_allocated:
            b = ffi.cast("struct v4l2_buffer *", arg)
            if b.memory == C.V4L2_MEMORY_MMAP:
                for plane in planes[0 : min(b.length, planes_allocated)]:
                    if len(self.offsets) < MAX_OFFSETS:
                        self.offsets.append((plane.m.mem_offset, plane.length))

    def _ext_ctrls(self, cur: Cursor, arg: Any, keep: list[Any]) -> None:
        choice, req = cur.u8(), cur.u8()
        given = 0 if choice == 0xFF else choice & 0x3F
        entries = []
        entry_size = ffi.sizeof("struct v4l2_ext_control")
        for _ in range(given):
            entry = ffi.new("struct v4l2_ext_control *")
            ffi.memmove(entry, cur.bytes(entry_size), entry_size)
            sel, length = cur.u8(), cur.u16()
            payload = cur.bytes(length)
            if (sel & 0x3F) < len(self.vocabulary.ctrls):
                entry.id = self.vocabulary.ctrls[sel & 0x3F].id
            if sel & 0x40 or not self.vocabulary.is_value_ctrl(entry.id):
                raw_size = entry.size
                if not sel & 0x80:
                    entry.size = length
                if length == 0:
                    entry.ptr = ffi.NULL
                else:
                    room = max(length, min(raw_size, MAX_PAYLOAD)) if sel & 0x80 else length
                    memory = ffi.new("char[]", room)
                    ffi.memmove(memory, payload, length)
                    keep.append(memory)
                    entry.ptr = memory
            entries.append(entry)
        header = ffi.cast("struct v4l2_ext_controls *", arg)
        if req & 0x80:
            header.request_fd = self.fd(req & 0x7F)
        if not choice & 0x40:
            header.count = given
        if choice == 0xFF:
            header.controls = ffi.NULL
            return
        room = max(given, min(header.count, MAX_CTRLS), 1)
        array = ffi.new("struct v4l2_ext_control[]", room)
        for i, entry in enumerate(entries):
            array[i] = entry[0]
        keep.append(array)
        header.controls = array

    def teardown(self) -> None:
        for victim in self.maps:
            with contextlib.suppress(TransportError):
                self.transport.munmap(victim.mapping)
        self.maps.clear()
        for entry in self.fds:
            if entry.open:
                with contextlib.suppress(TransportError):
                    self.transport.close(entry.number)
                entry.open = False


def _neg(exc: TransportError) -> int:
    """The ``-errno`` a vdev call would have returned."""
    return -(exc.errno or 0)


class _NonBlocking:
    """Makes a real fd non-blocking for one call (kernel transport only); None does nothing."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd if fd is not None and fd >= 0 else None
        self.was_blocking = False

    def __enter__(self) -> None:
        if self.fd is not None:
            try:
                self.was_blocking = os.get_blocking(self.fd)
                os.set_blocking(self.fd, False)
            except OSError:
                self.fd = None

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None and self.was_blocking:
            with contextlib.suppress(OSError):
                os.set_blocking(self.fd, True)


def replay(
    transport: Transport,
    data: bytes,
    *,
    vocabulary: Vocabulary | None = None,
    kernel: bool = False,
    rename: dict[str, str] | None = None,
) -> list[Call]:
    """Run one program on ``transport`` and close what it left open; the recorded calls.

    The caller resets the driver between programs where it can (EmbeddedTransport.reset)
    or restores its sysfs files (:func:`snapshot_sysfs`).
    """
    state = Replay(transport, vocabulary or Vocabulary.load(), kernel=kernel, rename=rename or {})
    cur = Cursor(data)
    ops = 0
    try:
        while not cur.at_end() and ops < MAX_OPS:
            state.step(cur)
            ops += 1
    finally:
        state.teardown()
    return state.calls


def snapshot_sysfs(transport: Transport, vocabulary: Vocabulary) -> dict[str, bytes]:
    """The text of every writable sysfs/tracefs file the vocabulary names, to restore later."""
    saved: dict[str, bytes] = {}
    for path in vocabulary.paths:
        if not path.startswith("/sys/") or path.endswith("trace_pipe") or "/debug/" in path:
            continue
        try:
            fd = transport.open(path, O_RDWR)
        except TransportError:
            continue
        try:
            saved[path] = transport.read(fd, 64)
        except TransportError:
            pass
        finally:
            transport.close(fd)
    return saved


def restore_sysfs(transport: Transport, saved: dict[str, bytes]) -> None:
    for path, text in saved.items():
        with contextlib.suppress(TransportError):
            fd = transport.open(path, O_RDWR)
            try:
                transport.write(fd, text)
            finally:
                transport.close(fd)


def replay_files(driver: str, files: Sequence[Path]) -> dict[str, list[list[Any]]]:
    """Replay each file on one conform driver (``rust-visl``, ``c-visl``, ``kernel:/dev/videoN``),
    a fresh driver (or restored parameters) for each; the calls by file name."""
    from conform.drivers import resolve_driver
    from conform.transport import EmbeddedTransport

    nodes = resolve_driver(driver).connect()
    transport = nodes.transport
    embedded = isinstance(transport, EmbeddedTransport)
    vocabulary = Vocabulary.load()
    rename = {"/dev/video0": nodes.video, **({"/dev/media0": nodes.media} if nodes.media else {})}
    saved = {} if embedded else snapshot_sysfs(transport, vocabulary)
    out: dict[str, list[list[Any]]] = {}
    for path in files:
        calls = replay(
            transport, path.read_bytes(), vocabulary=vocabulary, kernel=not embedded, rename=rename
        )
        if isinstance(transport, EmbeddedTransport):
            try:
                transport.reset()
            except TransportError as exc:  # a leak: report it as the program's last call
                calls.append(Call("vdev_reset", _neg(exc)))
        else:
            restore_sysfs(transport, saved)
        out[path.name] = [c.as_json() for c in calls]
    return out


def main(argv: Sequence[str]) -> int:
    """``python3 -m conform.probe.replay DRIVER[,DRIVER...] FILE...``: JSON of every call by
    driver and file, as tests/test_fuzz_regressions.py reads it from the kernel tier."""
    import json

    if len(argv) < 2:
        print(main.__doc__)
        return 2
    files = [Path(f) for f in argv[1:]]
    print(json.dumps({driver: replay_files(driver, files) for driver in argv[0].split(",")}))
    return 0


def agreement(a: Sequence[Call], b: Sequence[Call]) -> tuple[int, int]:
    """How many calls of two replays of one program agree (same call, same result), of how many."""
    same = sum(1 for x, y in zip(a, b, strict=False) if x == y)
    return same, max(len(a), len(b))


def errno_name(result: int | None) -> str:
    if result is None:
        return "skipped"
    return str(result) if result >= 0 else errno.errorcode.get(-result, str(result))


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
