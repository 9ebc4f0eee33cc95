"""A decode session: one file handle, both queues, one request per DecodeRequest."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from conform.codecs.stream import DecodeRequest, StreamFormat
from conform.device import (
    Controls,
    DequeuedBuffer,
    MediaDevice,
    PixFormatMplane,
    Queue,
    VideoDevice,
)
from conform.drivers import Nodes
from conform.errors import ConformError
from conform.uapi import C


class SessionError(ConformError):
    """A decode session step failed; the message names the request index and the step."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One dequeued CAPTURE buffer and what it held."""

    buffer: DequeuedBuffer
    md5: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    capture_pixelformat: int = C.V4L2_PIX_FMT_NV12
    output_buffers: int = 2
    capture_buffers: int = 4
    timeout: float = 10.0
    """Seconds to wait for each request to complete and each buffer to come back."""
    capture_colorimetry: tuple[int, int, int, int] | None = None
    """(colorspace, ycbcr_enc, quantization, xfer_func) asked for in S_FMT(CAPTURE); None
    keeps what the driver derived from OUTPUT."""


JobDone = Callable[[int, DecodeRequest, DequeuedBuffer], None]
"""Called once per request with its number, the request and its dequeued OUTPUT buffer."""


class DecodeSession:
    """Runs a request stream on a driver, one request in flight at a time.

    One in flight keeps the order of completions trivially deterministic, which is what
    parity needs; throughput is measured elsewhere.
    """

    def __init__(self, nodes: Nodes, stream: StreamFormat, config: SessionConfig | None = None) -> None:
        if nodes.media is None:
            raise SessionError(f"{nodes.video} has no media device: stateless decoding needs requests")
        self.config = config or SessionConfig()
        self.video = VideoDevice(nodes.transport, nodes.video)
        self.media = MediaDevice(nodes.transport, nodes.media)
        self.controls = Controls(self.video)
        self.output = Queue(self.video, C.V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE)
        self.capture = Queue(self.video, C.V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
        self._setup(stream)

    def _setup(self, stream: StreamFormat) -> None:
        cfg = self.config
        self.stream = stream
        """The coded format in effect (a resolution change replaces it)."""
        coded = PixFormatMplane(stream.width, stream.height, stream.pixelformat, colorspace=stream.colorspace)
        self.output_format = self.video.s_fmt(self.output.type, coded)
        # As a client does: take the CAPTURE format the driver derived, change only the pixel format.
        derived = self.video.g_fmt(self.capture.type)
        derived = dataclasses.replace(derived, pixelformat=cfg.capture_pixelformat)
        if cfg.capture_colorimetry is not None:
            colorspace, ycbcr_enc, quantization, xfer_func = cfg.capture_colorimetry
            derived = dataclasses.replace(derived, colorspace=colorspace, ycbcr_enc=ycbcr_enc,
                                          quantization=quantization, xfer_func=xfer_func)  # fmt: skip
        self.capture_format = self.video.s_fmt(self.capture.type, derived)
        if stream.device_controls:
            self.controls.set(stream.device_controls)
        self.output.reqbufs(cfg.output_buffers)
        self.capture.reqbufs(cfg.capture_buffers)
        for index in self.capture.buffers:
            self.capture.map(index)
            self.capture.qbuf(index)
        self.output.streamon()
        self.capture.streamon()
        self._free_output = list(self.output.buffers)

    def decode(self, requests: Iterable[DecodeRequest], job_done: JobDone | None = None) -> Iterator[Frame]:
        """Queue each request and yield the CAPTURE frames as they come back.

        ``job_done``, if given, runs after each request's OUTPUT buffer is dequeued and
        before its CAPTURE buffer is (none is while the request holds it).
        """
        for number, req in enumerate(requests):
            try:
                yield from self._one(number, req, job_done)
            except ConformError as exc:
                raise SessionError(f"request {number} (timestamp {req.timestamp_ns}): {exc}") from exc

    def _one(self, number: int, req: DecodeRequest, job_done: JobDone | None) -> Iterator[Frame]:
        if req.new_format is not None:
            # One request in flight: nothing is left to drain before the queues stop.
            self._stop()
            self._setup(req.new_format)
        index = self._free_output.pop()
        with self.media.request_alloc() as request:
            if req.controls:
                self.controls.set(req.controls, request_fd=request.fd)
            self.output.qbuf(index, payload=req.payload, timestamp_ns=req.timestamp_ns,
                             flags=req.flags, request_fd=request.fd)  # fmt: skip
            request.queue()
            request.wait(self.config.timeout)
        source = self.output.dqbuf(self.config.timeout)
        self._free_output.append(source.index)
        if job_done is not None:
            job_done(number, req, source)
        if req.flags & C.V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF:
            return
        done = self.capture.dqbuf(self.config.timeout)
        data = self.capture.payload(done)
        yield Frame(done, hashlib.md5(data).hexdigest(), data)
        self.capture.qbuf(done.index)

    def __enter__(self) -> DecodeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stop(self) -> None:
        for queue in (self.output, self.capture):
            queue.streamoff()
            queue.reqbufs(0)

    def close(self) -> None:
        """Stop both queues and free their buffers; the files close even if that fails."""
        try:
            self._stop()
        finally:
            self.media.close()
            self.video.close()


def decode_frames(nodes: Nodes, stream: StreamFormat, requests: Iterable[DecodeRequest]) -> list[Frame]:
    """Every CAPTURE frame of ``requests`` decoded on ``nodes`` in one session."""
    with DecodeSession(nodes, stream) as session:
        return list(session.decode(requests))
