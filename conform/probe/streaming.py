"""Streaming and the request API, step by step: QBUF/PREPARE_BUF/DQBUF argument checks,
STREAMON/OFF ordering, jobs with and without requests, and the request state machine
(empty, controls only, two buffers, queued twice, reinit, closed while queued, polled,
mixed with plain QBUF, HOLD_CAPTURE_BUF slices, per-request control values).

Each scenario runs on fresh file handles and records every step's outcome in order: the
errno name, or what the call returned (buffer fields, poll bits, control values).  File
handles are non-blocking, and every observation after a job waits for the job with poll
first, so the kernel's worker-thread jobs and the embedded driver's immediate ones give
the same record.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

from conform.device import Controls, ControlValue, MediaDevice, PixFormatMplane, Queue, VideoDevice
from conform.device.buffer import set_timestamp, timestamp_ns
from conform.drivers import Nodes
from conform.transport import O_NONBLOCK, O_RDWR, POLLIN, POLLOUT, POLLPRI, TransportError
from conform.uapi import C, ffi

OUT, CAP = C.V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, C.V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
# Wide enough that the frame text shows the timestamp, POC and DPB lines.
WIDTH, HEIGHT = 320, 240
SETTLE_MS = 2000
PAYLOAD = b"\x00\x00\x00\x01\x65" + bytes(range(59))


def _errno_name(exc: TransportError) -> str:
    return errno.errorcode.get(exc.errno or 0, str(exc.errno))


class Scenario:
    """Fresh video and media file handles with an H.264 coded format, and the step log."""

    def __init__(self, nodes: Nodes, name: str) -> None:
        assert nodes.media is not None
        self.nodes, self.name = nodes, name
        self.video = VideoDevice(nodes.transport, nodes.video, O_RDWR | O_NONBLOCK)
        self.media = MediaDevice(nodes.transport, nodes.media)
        self.controls = Controls(self.video)
        self.output = Queue(self.video, OUT)
        self.capture = Queue(self.video, CAP)
        self.requests: dict[str, int] = {}
        self.log: list[tuple[str, Any]] = []
        self.video.s_fmt(OUT, PixFormatMplane(WIDTH, HEIGHT, C.V4L2_PIX_FMT_H264_SLICE))

    def step(self, label: str, call: Callable[[], Any]) -> Any:
        """Run ``call``; log its result or errno name under ``label``."""
        try:
            result = call()
            outcome = "ok" if result is None else result
        except TransportError as exc:
            result, outcome = None, _errno_name(exc)
        self.log.append((f"{self.name}/{len(self.log):02d} {label}", outcome))
        return result

    def close(self) -> None:
        for fd in self.requests.values():
            with contextlib.suppress(TransportError):
                self.nodes.transport.close(fd)
        self.media.close()
        self.video.close()

    # -- buffers ---------------------------------------------------------------------
    def buffers(self, outputs: int = 2, captures: int = 2) -> None:
        self.step("reqbufs OUTPUT", lambda: self.output.reqbufs(outputs).count)
        self.step("reqbufs CAPTURE", lambda: self.capture.reqbufs(captures).count)
        for index in range(outputs):
            self.output.map(index).mappings[0].view[: len(PAYLOAD)] = PAYLOAD

    def raw_buffer(self, buf_type: int, index: int, **fields: Any) -> tuple[Any, Any]:
        buf = ffi.new("struct v4l2_buffer *")
        planes = ffi.new("struct v4l2_plane[]", 8)
        buf.index, buf.type, buf.memory = index, buf_type, C.V4L2_MEMORY_MMAP
        buf.m.planes, buf.length = planes, 1
        if buf_type == OUT:
            planes[0].bytesused = len(PAYLOAD)
        for name, value in fields.items():
            if name == "bytesused":
                planes[0].bytesused = value
            elif name == "data_offset":
                planes[0].data_offset = value
            elif name == "planes_null":
                buf.m.planes = ffi.NULL
            elif name == "timestamp_ns":
                set_timestamp(buf.timestamp, value)
            else:
                setattr(buf, name, value)
        return buf, planes

    @staticmethod
    def describe(buf: Any, planes: Any) -> dict[str, Any]:
        return {
            "index": buf.index,
            "flags": hex(buf.flags),
            "field": buf.field,
            "sequence": buf.sequence,
            "timestamp": timestamp_ns(buf.timestamp),
            "request_fd": "set" if buf.flags & C.V4L2_BUF_FLAG_REQUEST_FD else buf.request_fd,
            "bytesused": planes[0].bytesused,
            "length": buf.length,
        }

    def qbuf(self, label: str, buf_type: int, index: int, request: str | None = None, **fields: Any) -> None:
        def call() -> dict[str, Any]:
            if request is not None:
                fields.setdefault("flags", 0)
                fields["flags"] |= C.V4L2_BUF_FLAG_REQUEST_FD
                fields["request_fd"] = self.requests[request]
            buf, planes = self.raw_buffer(buf_type, index, **fields)
            self.video.ioctl(C.VIDIOC_QBUF, buf)
            return self.describe(buf, planes)

        self.step(label, call)

    def ioctl_buffer(self, label: str, request: int, buf_type: int, index: int, **fields: Any) -> None:
        def call() -> dict[str, Any]:
            buf, planes = self.raw_buffer(buf_type, index, **fields)
            self.video.ioctl(request, buf)
            return self.describe(buf, planes)

        self.step(label, call)

    def querybuf(self, buf_type: int, index: int) -> None:
        self.ioctl_buffer(f"querybuf {'OUTPUT' if buf_type == OUT else 'CAPTURE'} {index}",
                          C.VIDIOC_QUERYBUF, buf_type, index)  # fmt: skip

    def dqbuf(self, buf_type: int) -> None:
        """Wait for the queue's poll bit, then DQBUF; the frame's md5 for CAPTURE."""
        events = POLLOUT if buf_type == OUT else POLLIN

        def call() -> dict[str, Any]:
            self.nodes.transport.poll([(self.video.fd, events)], SETTLE_MS)
            buf, planes = self.raw_buffer(buf_type, 0)
            self.video.ioctl(C.VIDIOC_DQBUF, buf)
            shown = self.describe(buf, planes)
            if buf_type == CAP:
                view = self.capture.map(buf.index).mappings[0].view
                shown["md5"] = hashlib.md5(bytes(view[: planes[0].bytesused])).hexdigest()
            return shown

        self.step(f"dqbuf {'OUTPUT' if buf_type == OUT else 'CAPTURE'}", call)

    def streamon(self, buf_type: int) -> None:
        self.step(
            f"streamon {buf_type}",
            lambda: self.video.ioctl(C.VIDIOC_STREAMON, ffi.new("int *", buf_type)) and None,
        )

    def streamoff(self, buf_type: int) -> None:
        self.step(
            f"streamoff {buf_type}",
            lambda: self.video.ioctl(C.VIDIOC_STREAMOFF, ffi.new("int *", buf_type)) and None,
        )

    def poll_video(self) -> None:
        def call() -> str:
            ready = self.nodes.transport.poll([(self.video.fd, POLLIN | POLLOUT)], 0)
            return hex(ready[0].revents) if ready else "0x0"

        self.step("poll video", call)

    # -- requests --------------------------------------------------------------------
    def alloc(self, name: str) -> None:
        def call() -> None:
            fd = ffi.new("int *")
            self.media.transport.ioctl(self.media.fd, C.MEDIA_IOC_REQUEST_ALLOC, fd)
            self.requests[name] = int(fd[0])

        self.step(f"alloc {name}", call)

    def request_ioctl(self, name: str, request: int, label: str) -> None:
        self.step(
            f"{label} {name}", lambda: self.nodes.transport.ioctl(self.requests[name], request) and None
        )

    def queue(self, name: str) -> None:
        self.request_ioctl(name, C.MEDIA_REQUEST_IOC_QUEUE, "queue")

    def reinit(self, name: str) -> None:
        self.request_ioctl(name, C.MEDIA_REQUEST_IOC_REINIT, "reinit")

    def poll_request(self, name: str, timeout_ms: int = 0) -> None:
        def call() -> str:
            ready = self.nodes.transport.poll([(self.requests[name], POLLPRI)], timeout_ms)
            return hex(ready[0].revents) if ready else "0x0"

        self.step(f"poll {name}", call)

    def close_request(self, name: str) -> None:
        self.step(f"close {name}", lambda: self.nodes.transport.close(self.requests.pop(name)))

    def set_poc(self, lsb: int, request: str | None = None, which_try: bool = False) -> None:
        """S_EXT_CTRLS (or TRY) of H.264 decode params whose POC shows in the frame text."""
        dp = ffi.new("struct v4l2_ctrl_h264_decode_params *")
        dp.pic_order_cnt_lsb = lsb
        dp.frame_num = lsb % 16
        value = ControlValue.of(C.V4L2_CID_STATELESS_H264_DECODE_PARAMS, dp)
        fd = self.requests.get(request) if request else None

        def call() -> None:
            if which_try:
                self.controls.try_([value], request_fd=fd)
            else:
                self.controls.set([value], request_fd=fd)

        self.step(f"{'try' if which_try else 'set'} poc {lsb}" + (f" in {request}" if request else ""), call)

    def get_poc(self, request: str | None = None) -> None:
        fd = self.requests.get(request) if request else None

        def call() -> int:
            got = self.controls.get([C.V4L2_CID_STATELESS_H264_DECODE_PARAMS], request_fd=fd)
            dp = ffi.from_buffer("struct v4l2_ctrl_h264_decode_params *", bytearray(got[0].value))
            return int(dp.pic_order_cnt_lsb)

        self.step("get poc" + (f" of {request}" if request else ""), call)


def _streaming_order(s: Scenario) -> None:
    s.streamon(OUT)
    s.streamon(CAP)
    s.streamoff(OUT)
    s.streamon(99)
    s.streamon(C.V4L2_BUF_TYPE_VIDEO_CAPTURE)
    s.buffers()
    s.streamon(OUT)
    s.streamon(OUT)
    s.poll_video()
    s.streamon(CAP)
    s.poll_video()
    s.dqbuf(OUT)
    s.streamoff(CAP)
    s.streamoff(CAP)
    s.streamoff(C.V4L2_BUF_TYPE_VIDEO_OUTPUT)


def _qbuf_checks(s: Scenario) -> None:
    s.buffers()
    s.qbuf("index past the end", OUT, 7)
    s.qbuf("wrong memory", OUT, 0, memory=C.V4L2_MEMORY_DMABUF)
    s.qbuf("userptr memory", OUT, 0, memory=C.V4L2_MEMORY_USERPTR)
    s.qbuf("no planes", OUT, 0, length=0)
    s.qbuf("nine planes", OUT, 0, length=9)
    s.qbuf("bytesused past length", OUT, 0, bytesused=1 << 24)
    s.qbuf("data_offset past bytesused", OUT, 0, bytesused=8, data_offset=8)
    s.qbuf("field alternate", OUT, 0, field=C.V4L2_FIELD_ALTERNATE)
    s.qbuf("capture with request flag", CAP, 0, flags=C.V4L2_BUF_FLAG_REQUEST_FD, request_fd=-1)
    s.qbuf("bad request fd", OUT, 0, flags=C.V4L2_BUF_FLAG_REQUEST_FD, request_fd=-1)
    s.qbuf("video fd as request", OUT, 0, flags=C.V4L2_BUF_FLAG_REQUEST_FD, request_fd=s.video.fd)
    s.querybuf(OUT, 0)
    s.qbuf(
        "plain output", OUT, 0, timestamp_ns=1_000, flags=C.V4L2_BUF_FLAG_KEYFRAME | C.V4L2_BUF_FLAG_TIMECODE
    )
    s.qbuf("same output again", OUT, 0)
    s.querybuf(OUT, 0)
    s.alloc("r")
    s.qbuf("request after plain", OUT, 1, request="r")
    s.qbuf("plain capture", CAP, 0, flags=C.V4L2_BUF_FLAG_LAST | C.V4L2_BUF_FLAG_KEYFRAME)
    s.querybuf(CAP, 0)
    s.ioctl_buffer("dqbuf not streaming", C.VIDIOC_DQBUF, OUT, 0)
    s.ioctl_buffer("dqbuf wrong type", C.VIDIOC_DQBUF, 99, 0)


def _prepare_buf(s: Scenario) -> None:
    s.buffers()
    s.ioctl_buffer("prepare output", C.VIDIOC_PREPARE_BUF, OUT, 0, bytesused=20)
    s.querybuf(OUT, 0)
    s.ioctl_buffer("prepare twice", C.VIDIOC_PREPARE_BUF, OUT, 0)
    s.ioctl_buffer(
        "prepare with request flag", C.VIDIOC_PREPARE_BUF, OUT, 1, flags=C.V4L2_BUF_FLAG_REQUEST_FD
    )
    s.ioctl_buffer("prepare capture", C.VIDIOC_PREPARE_BUF, CAP, 1)
    s.querybuf(CAP, 1)
    s.qbuf("queue prepared output", OUT, 0, bytesused=40)
    s.querybuf(OUT, 0)


def _plain_decode(s: Scenario) -> None:
    s.buffers()
    s.set_poc(6)
    s.qbuf("output", OUT, 0, timestamp_ns=5_000_000_000, flags=C.V4L2_BUF_FLAG_PFRAME)
    s.qbuf("capture", CAP, 0)
    s.qbuf("capture", CAP, 1)
    s.streamon(CAP)
    s.streamon(OUT)
    s.dqbuf(OUT)
    s.dqbuf(CAP)
    s.dqbuf(CAP)
    s.qbuf("output", OUT, 1, timestamp_ns=5_033_000_000)
    s.dqbuf(CAP)
    s.dqbuf(OUT)
    s.querybuf(CAP, 0)
    s.querybuf(CAP, 1)


def _request_states(s: Scenario) -> None:
    s.buffers()
    s.alloc("empty")
    s.poll_request("empty")
    s.queue("empty")
    s.reinit("empty")
    s.alloc("ctrls")
    s.set_poc(2, request="ctrls")
    s.get_poc(request="ctrls")
    s.set_poc(3, request="ctrls", which_try=True)
    s.queue("ctrls")
    s.alloc("two")
    s.qbuf("first of two", OUT, 0, request="two")
    s.qbuf("second of two", OUT, 1, request="two")
    s.queue("two")
    s.querybuf(OUT, 0)
    s.reinit("two")
    s.querybuf(OUT, 0)
    s.querybuf(OUT, 1)
    s.alloc("fresh")
    s.set_poc(9, request="fresh", which_try=True)


def _request_decode(s: Scenario) -> None:
    s.buffers(captures=3)
    for index in range(3):
        s.qbuf("capture", CAP, index)
    s.streamon(OUT)
    s.streamon(CAP)
    s.set_poc(1)
    s.alloc("a")
    s.set_poc(4, request="a")
    s.qbuf("output in a", OUT, 0, request="a", timestamp_ns=2_000)
    s.querybuf(OUT, 0)
    s.poll_request("a")
    s.get_poc()
    s.queue("a")
    s.poll_request("a", SETTLE_MS)
    s.queue("a")
    s.set_poc(5, request="a")
    s.get_poc(request="a")
    s.get_poc()
    s.dqbuf(OUT)
    s.dqbuf(CAP)
    s.reinit("a")
    s.poll_request("a")
    s.alloc("b")
    s.qbuf("output in b (no controls)", OUT, 1, request="b", timestamp_ns=3_000)
    s.queue("b")
    s.poll_request("b", SETTLE_MS)
    s.get_poc(request="b")
    s.dqbuf(CAP)
    s.dqbuf(OUT)
    s.qbuf("plain output after requests", OUT, 0)
    s.set_poc(7, request="a")
    s.qbuf("reused a", OUT, 0, request="a", timestamp_ns=4_000)
    s.close_request("a")
    s.poll_video()
    s.streamoff(CAP)
    s.streamoff(OUT)
    s.querybuf(OUT, 0)


def _queued_before_capture(s: Scenario) -> None:
    s.buffers()
    s.streamon(OUT)
    s.alloc("a")
    s.set_poc(8, request="a")
    s.qbuf("output in a", OUT, 0, request="a", timestamp_ns=10_000)
    s.queue("a")
    s.poll_request("a")
    s.close_request("a")
    s.alloc("b")
    s.qbuf("output in b", OUT, 1, request="b", timestamp_ns=20_000)
    s.queue("b")
    s.streamoff(OUT)
    s.poll_request("b", SETTLE_MS)
    s.querybuf(OUT, 0)
    s.querybuf(OUT, 1)
    s.streamon(OUT)
    s.reinit("b")
    s.qbuf("output in b again", OUT, 1, request="b", timestamp_ns=30_000)
    s.queue("b")
    s.qbuf("capture", CAP, 0)
    s.streamon(CAP)
    s.poll_request("b", SETTLE_MS)
    s.dqbuf(CAP)
    s.dqbuf(OUT)
    s.get_poc()


def _hold_capture(s: Scenario) -> None:
    s.buffers(outputs=4, captures=2)
    for index in range(2):
        s.qbuf("capture", CAP, index)
    s.streamon(OUT)
    s.streamon(CAP)
    hold = C.V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF
    for n, (ts, flags) in enumerate(
        [(1_000_000, hold), (1_000_000, hold), (1_000_000, 0), (2_000_000, hold)]
    ):
        name = f"slice{n}"
        s.alloc(name)
        s.set_poc(n, request=name)
        s.qbuf(f"slice {n}", OUT, n, request=name, timestamp_ns=ts, flags=flags)
        s.queue(name)
        s.poll_request(name, SETTLE_MS)
        s.dqbuf(OUT)
        s.poll_video()
    s.dqbuf(CAP)
    s.dqbuf(CAP)
    s.step("decoder cmd flush", lambda: s.video.decoder_cmd(C.V4L2_DEC_CMD_FLUSH))
    s.dqbuf(CAP)
    s.querybuf(CAP, 0)
    s.querybuf(CAP, 1)


def _subscribe(s: Scenario, event_type: int, cid: int, flags: int = 0, *, unsubscribe: bool = False) -> None:
    def call() -> None:
        sub = ffi.new("struct v4l2_event_subscription *")
        sub.type, sub.id, sub.flags = event_type, cid, flags
        s.video.ioctl(C.VIDIOC_UNSUBSCRIBE_EVENT if unsubscribe else C.VIDIOC_SUBSCRIBE_EVENT, sub)

    verb = "unsubscribe" if unsubscribe else "subscribe"
    s.step(f"{verb} type {event_type} id {cid:#x} flags {flags}", call)


def _dqevent(s: Scenario) -> None:
    """DQEVENT without its timestamp (a clock reading)."""

    def call() -> dict[str, Any]:
        ev = ffi.new("struct v4l2_event *")
        s.video.ioctl(C.VIDIOC_DQEVENT, ev)
        c = ev.u.ctrl
        return {
            "type": ev.type, "id": hex(ev.id), "pending": ev.pending, "sequence": ev.sequence,
            "changes": c.changes, "ctrl_type": c.type, "value64": c.value64, "flags": hex(c.flags),
            "limits": (c.minimum, c.maximum, c.step, c.default_value),
        }  # fmt: skip

    s.step("dqevent", call)


def _poll_pri(s: Scenario) -> None:
    def call() -> str:
        ready = s.nodes.transport.poll([(s.video.fd, POLLPRI)], 0)
        return hex(ready[0].revents) if ready else "0x0"

    s.step("poll pri", call)


def _control_events(s: Scenario) -> None:
    ctrl = C.V4L2_EVENT_CTRL
    decode = C.V4L2_CID_STATELESS_H264_DECODE_PARAMS
    mode = C.V4L2_CID_STATELESS_H264_DECODE_MODE
    _dqevent(s)
    _subscribe(s, C.V4L2_EVENT_ALL, 0)
    _subscribe(s, C.V4L2_EVENT_SOURCE_CHANGE, 0)
    _subscribe(s, C.V4L2_EVENT_EOS, 0)
    _subscribe(s, ctrl, 0x00981234)
    _subscribe(s, ctrl, C.V4L2_CID_CODEC_STATELESS_CLASS, C.V4L2_EVENT_SUB_FL_SEND_INITIAL)
    _poll_pri(s)
    _subscribe(s, ctrl, mode, C.V4L2_EVENT_SUB_FL_SEND_INITIAL)
    _subscribe(s, ctrl, decode, C.V4L2_EVENT_SUB_FL_SEND_INITIAL)
    _subscribe(s, ctrl, decode, C.V4L2_EVENT_SUB_FL_SEND_INITIAL)
    _poll_pri(s)
    _dqevent(s)
    _dqevent(s)
    _dqevent(s)
    s.set_poc(3)
    _dqevent(s)
    mode_value = ControlValue(mode, C.V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED)
    s.step("set decode mode", lambda: s.controls.set([mode_value]))
    _dqevent(s)
    _subscribe(s, ctrl, mode, C.V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK, unsubscribe=True)
    _subscribe(s, ctrl, mode, C.V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK)
    s.step("set decode mode back", lambda: s.controls.set([ControlValue(mode, 0)]))
    s.step("set decode mode again", lambda: s.controls.set([ControlValue(mode, 0)]))
    s.step("set decode mode frame", lambda: s.controls.set([mode_value]))
    _dqevent(s)
    _dqevent(s)
    s.buffers()
    s.qbuf("capture", CAP, 0)
    s.streamon(OUT)
    s.streamon(CAP)
    s.alloc("a")
    s.set_poc(11, request="a")
    _dqevent(s)
    s.qbuf("output in a", OUT, 0, request="a", timestamp_ns=1_000_000)
    s.queue("a")
    s.poll_request("a", SETTLE_MS)
    _poll_pri(s)
    _dqevent(s)
    _dqevent(s)
    _subscribe(s, C.V4L2_EVENT_ALL, 0, unsubscribe=True)
    s.set_poc(12)
    _dqevent(s)


def _close_while_queued(s: Scenario) -> None:
    s.buffers()
    s.streamon(OUT)
    s.alloc("a")
    s.qbuf("output in a", OUT, 0, request="a", timestamp_ns=1)
    s.queue("a")
    s.close_request("a")
    s.querybuf(OUT, 0)
    s.qbuf("capture", CAP, 0)
    s.streamon(CAP)
    s.dqbuf(OUT)
    s.dqbuf(CAP)


SCENARIOS: dict[str, Callable[[Scenario], None]] = {
    "streaming-order": _streaming_order,
    "qbuf-checks": _qbuf_checks,
    "prepare-buf": _prepare_buf,
    "plain-decode": _plain_decode,
    "request-states": _request_states,
    "request-decode": _request_decode,
    "queued-before-capture": _queued_before_capture,
    "hold-capture": _hold_capture,
    "close-while-queued": _close_while_queued,
    "control-events": _control_events,
}


def cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    """Every scenario's steps, in order."""
    for name, run in SCENARIOS.items():
        scenario = Scenario(nodes, name)
        try:
            run(scenario)
        finally:
            scenario.close()
        yield from scenario.log
