"""The decode parity probe: decode loops of all seven coded formats, case by case.

Each case is one decode session (visl-behaviour §6): a short request stream of one codec
at one size, into one decoded format and colorimetry, in one of several shapes (a plain
stream, controls omitted so stale values are used (§6.4), no controls at all (§5's
defaults), HOLD_CAPTURE_BUF multi-slice jobs (§6.2 step 9), a held CAPTURE buffer
released by a new timestamp, several slice elements in one request, another codec's
controls).  Its outcome is what userspace observes, compactly:

- per job: the OUTPUT dqbuf (sequence, flags, field, bytesused), the trace events the
  job emitted (event name and payload text, §8), and the CAPTURE dqbuf it returned, if
  any (md5 of the payload, index, sequence, timestamp, flags, field, bytesused);
- the debugfs bitstream dumps (§9) while streaming and after STREAMOFF (md5 or errno);
- the formats the session ran with, and the error, if a step failed.

Module parameters come from the kernel command line (c-visl) and RUST_VISL_PARAMS
(rust-visl); ``PARAM_SETS`` names the sets the parity test boots with.  tpg_verbose is
never set: its frame text holds the wall clock.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from conform.codecs.stream import DecodeRequest, StreamFormat
from conform.device import ControlValue, DequeuedBuffer, PixFormatMplane
from conform.device.queue import DeviceTimeout
from conform.device.trace import TracePipe, enable_systems
from conform.drivers import Nodes
from conform.errors import ConformError
from conform.probe.payloads import CONTROLS, Codec, Picture, controls_for
from conform.run.session import DecodeSession, SessionConfig
from conform.transport import Transport, TransportError
from conform.uapi import C, fourcc

PARAMS_DIR = "/sys/module/visl/parameters/"
PARAM_NAMES = (
    "bitstream_trace_frame_start", "bitstream_trace_nframes", "keep_bitstream_buffers", "tpg_verbose",
    "visl_debug", "visl_dprintk_frame_start", "visl_dprintk_nframes", "visl_transtime_ms",
)  # fmt: skip
# Load-time module parameters per set: one guest boot each.
PARAM_SETS: dict[str, dict[str, str]] = {
    "default": {},
    "dump": {"bitstream_trace_frame_start": "1", "bitstream_trace_nframes": "3",
             "keep_bitstream_buffers": "1"},
    "slow": {"visl_transtime_ms": "2", "bitstream_trace_frame_start": "0", "bitstream_trace_nframes": "2",
             "visl_debug": "1", "visl_dprintk_frame_start": "0", "visl_dprintk_nframes": "2"},
}  # fmt: skip
DUMP_DIR = "/sys/kernel/debug/visl/bitstream/"
FRAME_PERIOD_NS = 33_333_000
# Just under 2**32 ns: later timestamps exercise the 32-bit DPB text conversion (§7.3).
WRAP_TIMESTAMP_NS = 4_294_900_000
MAX_REFS = 4
# (colorspace, ycbcr_enc, quantization, xfer_func), all within the TPG's tables:
# SMPTE 170M limited, sRGB with defaults, BT.2020 constant luminance full range PQ, opRGB full,
# SMPTE 240M, DCI-P3 full, REC709 with xvYCC 709, 470 BG with xvYCC 601 and no transfer function.
COLORIMETRIES = ((1, 1, 2, 1), (8, 0, 0, 0), (10, 7, 1, 7), (9, 0, 1, 3), (2, 8, 2, 4), (12, 0, 1, 6),
                 (3, 4, 2, 1), (6, 3, 1, 5))  # fmt: skip
# Per codec: its minimum size, odd sizes, a middling one; big ones stay few (TCG renders slowly).
SIZES: dict[Codec, tuple[tuple[int, int], ...]] = {
    Codec.FWHT: ((640, 360), (641, 363), (1280, 720), (4096, 2160)),
    Codec.MPEG2: ((16, 16), (33, 17), (720, 576), (1920, 1152)),
    Codec.VP8: ((64, 64), (65, 67), (320, 240), (1280, 720)),
    Codec.VP9: ((64, 64), (99, 101), (352, 288), (1281, 721)),
    Codec.H264: ((64, 64), (177, 145), (640, 480), (1920, 1080)),
    Codec.HEVC: ((64, 64), (67, 65), (416, 240), (1280, 720)),
    Codec.AV1: ((64, 64), (129, 67), (480, 270), (1920, 1080)),
}
BIG = 1_000_000
"""Frames of at least this many pixels get one decoded format and two jobs."""
DECODED = ("NV12", "YU12")


class Shape(Enum):
    """How a case's request stream is built; values are the case-name spelling."""

    STREAM = "stream"
    OMIT = "omit"
    DEFAULTS = "defaults"
    SLICES = "slices"
    HOLD_RELEASE = "hold-release"
    ELEMENTS = "elements"
    FOREIGN = "foreign"


@dataclass(frozen=True, slots=True)
class DecodeCase:
    codec: Codec
    width: int
    height: int
    capture: str = "NV12"
    colorimetry: tuple[int, int, int, int] | None = None
    shape: Shape = Shape.STREAM
    pictures: int = 3
    seed: int = 0

    @property
    def name(self) -> str:
        color = "derived" if self.colorimetry is None else "cs" + ",".join(map(str, self.colorimetry))
        return (f"{self.codec.value} {self.width}x{self.height} {self.capture} {color} {self.shape.value} "
                f"x{self.pictures} seed {self.seed}")  # fmt: skip

    def timestamp(self, n: int) -> int:
        base = WRAP_TIMESTAMP_NS if self.seed % 2 == 0 else 1_000 * (self.seed + 1)
        return base + n * FRAME_PERIOD_NS

    def picture(self, n: int, slice_: int = 0, slices: int = 1) -> Picture:
        refs = tuple(self.timestamp(r) for r in range(n - 1, max(n - 1 - MAX_REFS, -1), -1))
        return Picture(n, self.width, self.height, self.timestamp(n), refs, self.seed, slice_, slices)

    def format(self) -> StreamFormat:
        device: tuple[ControlValue, ...] = ()
        if self.codec in (Codec.H264, Codec.HEVC) and self.seed % 2:
            prefix = "V4L2_CID_STATELESS_" + self.codec.name
            device = (
                ControlValue(getattr(C, prefix + "_DECODE_MODE"), 1),  # FRAME_BASED
                ControlValue(getattr(C, prefix + "_START_CODE"), 1),  # ANNEX_B
            )
        colorspace = C.V4L2_COLORSPACE_REC709 if self.seed % 3 == 0 else C.V4L2_COLORSPACE_SMPTE170M
        return StreamFormat(self.codec.pixelformat, self.width, self.height, colorspace, device)

    def payload(self, n: int, slice_: int) -> bytes:
        start = b"\x00\x00\x00\x01" if self.codec in (Codec.H264, Codec.HEVC) else b""
        seed = hashlib.sha256(f"{self.name} {n} {slice_}".encode()).digest()
        return start + (seed * (1 + (n * 5 + slice_ * 3 + self.seed) % 9))[: 40 + 29 * n + 7 * slice_]

    def flags(self, n: int) -> int:
        kind = (C.V4L2_BUF_FLAG_KEYFRAME if n == 0
                else C.V4L2_BUF_FLAG_PFRAME if n % 2 else C.V4L2_BUF_FLAG_BFRAME)  # fmt: skip
        return int(kind | (C.V4L2_BUF_FLAG_TSTAMP_SRC_SOE if self.seed % 2 else 0))

    def requests(self) -> list[DecodeRequest]:
        return list(self._requests())

    def _requests(self) -> Iterator[DecodeRequest]:
        hold = C.V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF
        for n in range(self.pictures):
            if self.shape in (Shape.SLICES, Shape.HOLD_RELEASE):
                slices = 3 if n == 0 else 2
                for s in range(slices):
                    held = s < slices - 1 or (self.shape is Shape.HOLD_RELEASE and n == 0)
                    yield self._request(n, s, slices, hold if held else 0)
            else:
                yield self._request(n, 0, 1, 0)

    def _request(self, n: int, slice_: int, slices: int, extra_flags: int) -> DecodeRequest:
        pic = self.picture(n, slice_, slices)
        controls: tuple[ControlValue, ...]
        count = len(CONTROLS[self.codec])
        if self.shape is Shape.DEFAULTS:
            controls = ()
        elif self.shape is Shape.OMIT:
            # All, then only the last (picture-level) control, then none, then only the first.
            only = (tuple(range(count)), (count - 1,), (), (0,))[n % 4]
            controls = controls_for(self.codec, pic, only=only)
        elif self.shape is Shape.ELEMENTS:
            controls = controls_for(self.codec, pic, elements=3 + n)
        elif self.shape is Shape.FOREIGN:
            other = Codec.H264 if self.codec is not Codec.H264 else Codec.AV1
            own = controls_for(self.codec, pic) if n == 0 else ()
            controls = own + controls_for(other, pic)
        else:
            controls = controls_for(self.codec, pic)
        flags = self.flags(n) | extra_flags
        return DecodeRequest(controls, self.payload(n, slice_), self.timestamp(n), flags)


def matrix() -> Iterator[DecodeCase]:
    """The full probe under the default parameters."""
    for codec in Codec:
        sizes = SIZES[codec]
        for seed, (w, h) in enumerate(sizes):
            big = w * h >= BIG
            for capture in DECODED[:1] if big else DECODED:
                yield DecodeCase(codec, w, h, capture, pictures=2 if big else 3, seed=seed)
        w, h = sizes[1]
        for k, color in enumerate(COLORIMETRIES):
            yield DecodeCase(codec, w, h, DECODED[k % 2], color, pictures=2, seed=k)
        w, h = sizes[0]
        yield DecodeCase(codec, w, h, "YU12", shape=Shape.OMIT, pictures=5, seed=1)
        yield DecodeCase(codec, w, h, shape=Shape.DEFAULTS, pictures=2)
        yield DecodeCase(codec, w, h, shape=Shape.SLICES, pictures=2, seed=2)
        if codec in (Codec.MPEG2, Codec.H264, Codec.HEVC):
            yield DecodeCase(codec, w, h, shape=Shape.HOLD_RELEASE, pictures=3, seed=3)
        if codec in (Codec.HEVC, Codec.AV1):
            yield DecodeCase(codec, w, h, "YU12", shape=Shape.ELEMENTS, pictures=2, seed=1)
        if codec in (Codec.VP8, Codec.MPEG2):
            yield DecodeCase(codec, w, h, shape=Shape.FOREIGN, pictures=2)


def dump_matrix() -> Iterator[DecodeCase]:
    """A smaller probe for the non-default parameter sets: dumps, sleeps, debug prints."""
    for codec in Codec:
        w, h = SIZES[codec][0]
        yield DecodeCase(codec, w, h, pictures=5, seed=int(codec is Codec.H264))
        yield DecodeCase(codec, w, h, "YU12", shape=Shape.SLICES, pictures=2, seed=2)
    w, h = SIZES[Codec.H264][1]
    yield DecodeCase(Codec.H264, w, h, shape=Shape.OMIT, pictures=4, seed=1)
    yield DecodeCase(Codec.H264, w, h, shape=Shape.HOLD_RELEASE, pictures=3, seed=3)
    # A second identical session: with keep_bitstream_buffers its dumps collide with the first's.
    yield DecodeCase(Codec.H264, w, h, shape=Shape.OMIT, pictures=4, seed=1)


def _errno_name(exc: BaseException) -> str:
    err = getattr(exc, "errno", None)
    return errno.errorcode.get(err, str(err)) if err else type(exc).__name__


def _read_file(transport: Transport, path: str) -> bytes | str:
    """The whole file's bytes, or the errno name open or read failed with."""
    try:
        fd = transport.open(path, os.O_RDONLY)
    except TransportError as exc:
        return _errno_name(exc)
    try:
        chunks = []
        while chunk := transport.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except TransportError as exc:
        return _errno_name(exc)
    finally:
        transport.close(fd)


def parameters(transport: Transport) -> dict[str, str]:
    """Every module parameter as sysfs shows it."""
    out = {}
    for name in PARAM_NAMES:
        value = _read_file(transport, PARAMS_DIR + name)
        out[name] = value.decode().strip() if isinstance(value, bytes) else value
    return out


def dumps(transport: Transport, count: int) -> list[Any]:
    """bitstream0..bitstream<count-1>: [length, md5 prefix] each, or the errno name."""
    out: list[Any] = []
    for n in range(count):
        data = _read_file(transport, f"{DUMP_DIR}bitstream{n}")
        out.append([len(data), hashlib.md5(data).hexdigest()[:16]] if isinstance(data, bytes) else data)
    return out


def _dqbuf(buf: DequeuedBuffer) -> dict[str, Any]:
    return {"index": buf.index, "sequence": buf.sequence, "timestamp": buf.timestamp_ns,
            "flags": buf.flags, "field": buf.field, "bytesused": list(buf.bytesused)}  # fmt: skip


def _format(fmt: PixFormatMplane) -> list[Any]:
    return [fmt.fourcc, fmt.width, fmt.height, fmt.colorspace, fmt.ycbcr_enc, fmt.quantization,
            fmt.xfer_func, [[p.sizeimage, p.bytesperline] for p in fmt.planes]]  # fmt: skip


def _events(pipe: TracePipe | None) -> list[list[str]] | str:
    return [event.as_json() for event in pipe.read_events()] if pipe is not None else "no trace_pipe"


def run_case(nodes: Nodes, pipe: TracePipe | None, case: DecodeCase) -> dict[str, Any]:
    """One session of ``case``; whatever happens, the outcome says how far it got."""
    requests = case.requests()
    outcome: dict[str, Any] = {"jobs": []}
    jobs: list[dict[str, Any]] = outcome["jobs"]
    if pipe is not None:
        pipe.drain()
    config = SessionConfig(capture_pixelformat=fourcc(case.capture), capture_colorimetry=case.colorimetry,
                           timeout=20.0)  # fmt: skip
    try:
        session = DecodeSession(nodes, case.format(), config)
    except ConformError as exc:
        outcome["error"] = ["setup", _errno_name(exc)]
        return outcome

    def job_done(number: int, request: DecodeRequest, source: DequeuedBuffer) -> None:
        jobs.append({"output": _dqbuf(source), "trace": _events(pipe), "capture": None})

    try:
        outcome["formats"] = [_format(session.output_format), _format(session.capture_format)]
        for frame in session.decode(requests, job_done):
            md5 = frame.md5
            jobs[-1]["capture"] = {"md5": md5, **_dqbuf(frame.buffer)}
        late = []
        while True:
            try:
                done = session.capture.dqbuf(0)
            except DeviceTimeout:
                break
            late.append({"md5": hashlib.md5(session.capture.payload(done)).hexdigest(), **_dqbuf(done)})
        outcome["late_capture"] = late
        outcome["dumps_streaming"] = dumps(nodes.transport, len(requests) + 2)
    except ConformError as exc:
        outcome["error"] = [f"job {len(jobs)}", _errno_name(exc)]
    finally:
        try:
            session.close()
        except ConformError as exc:
            outcome["close_error"] = _errno_name(exc)
    outcome["dumps_stopped"] = dumps(nodes.transport, len(requests) + 2)
    try:
        outcome["trace_after"] = _events(pipe)
    except ConformError as exc:
        outcome["trace_after"] = _errno_name(exc)
    return outcome


def _run(nodes: Nodes, decode_cases: Sequence[DecodeCase]) -> Iterator[tuple[str, Any]]:
    transport = nodes.transport
    yield "parameters", parameters(transport)
    yield "trace enable", enable_systems(transport)
    pipe: TracePipe | None = None
    try:
        pipe = TracePipe(transport)
        yield "trace_pipe open", "ok"
    except TransportError as exc:
        yield "trace_pipe open", _errno_name(exc)
    try:
        for case in decode_cases:
            yield case.name, run_case(nodes, pipe, case)
    finally:
        if pipe is not None:
            pipe.close()


def cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    """The full matrix (run it under the default parameters)."""
    yield from _run(nodes, list(matrix()))


def dump_cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    """The smaller matrix for the dump and slow parameter sets."""
    yield from _run(nodes, list(dump_matrix()))


def rust_visl_params(cmdline: str) -> str:
    """RUST_VISL_PARAMS ("name=value ...") from the ``visl.name=value`` words of a kernel command line."""
    words = cmdline.split(" -- ", 1)[0].split()
    return " ".join(word.removeprefix("visl.") for word in words if word.startswith("visl."))


