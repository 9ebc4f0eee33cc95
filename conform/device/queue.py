"""A vb2 queue seen from userspace: allocation, mapping, QBUF/DQBUF, streaming."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conform.device.buffer import Buffer, DequeuedBuffer, PlaneInfo, set_timestamp, timestamp_ns
from conform.device.format import PixFormatMplane
from conform.errors import ConformError
from conform.transport import O_RDWR, POLLIN, POLLOUT
from conform.uapi import C, ffi

if TYPE_CHECKING:
    from conform.device.video import VideoDevice


class DeviceTimeout(ConformError):
    """The driver did not produce what was waited for in time: the item fails, the run goes on."""


class QueueError(ConformError):
    """A queue is in no state for the operation asked of it."""


@dataclass(frozen=True, slots=True)
class Allocation:
    """REQBUFS/CREATE_BUFS result: buffers granted and the queue's capability bits."""

    index: int
    count: int
    capabilities: int
    max_num_buffers: int = 0


def is_output(buf_type: int) -> bool:
    return buf_type in (C.V4L2_BUF_TYPE_VIDEO_OUTPUT, C.V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE)


class Queue:
    """One of the node's queues (OUTPUT or CAPTURE, multi-planar) with one memory type."""

    def __init__(self, video: VideoDevice, buf_type: int, memory: int = C.V4L2_MEMORY_MMAP) -> None:
        self.video = video
        self.type = buf_type
        self.memory = memory
        self.buffers: dict[int, Buffer] = {}

    @property
    def name(self) -> str:
        return "OUTPUT" if is_output(self.type) else "CAPTURE"

    def reqbufs(self, count: int) -> Allocation:
        if count == 0:
            self.unmap_all()
        req = ffi.new("struct v4l2_requestbuffers *")
        req.count, req.type, req.memory = count, self.type, self.memory
        self.video.ioctl(C.VIDIOC_REQBUFS, req)
        self.buffers = {i: self.querybuf(i) for i in range(req.count)}
        return Allocation(0, req.count, req.capabilities)

    def create_bufs(self, count: int, fmt: PixFormatMplane | None = None) -> Allocation:
        """CREATE_BUFS with ``fmt`` (default: the queue's current format)."""
        create = ffi.new("struct v4l2_create_buffers *")
        create.count, create.memory = count, self.memory
        create.format.type = self.type
        (fmt or self.video.g_fmt(self.type)).fill(create.format.fmt.pix_mp)
        self.video.ioctl(C.VIDIOC_CREATE_BUFS, create)
        for i in range(create.index, create.index + create.count):
            self.buffers[i] = self.querybuf(i)
        return Allocation(create.index, create.count, create.capabilities, create.max_num_buffers)

    def _v4l2_buffer(self, index: int) -> tuple[Any, Any]:
        buf = ffi.new("struct v4l2_buffer *")
        planes = ffi.new("struct v4l2_plane[]", C.VIDEO_MAX_PLANES)
        buf.index, buf.type, buf.memory = index, self.type, self.memory
        buf.m.planes, buf.length = planes, C.VIDEO_MAX_PLANES
        return buf, planes

    def querybuf(self, index: int) -> Buffer:
        buf, planes = self._v4l2_buffer(index)
        self.video.ioctl(C.VIDIOC_QUERYBUF, buf)
        infos = tuple(PlaneInfo(planes[p].length, planes[p].m.mem_offset) for p in range(buf.length))
        return Buffer(index, infos)

    def map(self, index: int) -> Buffer:
        buffer = self.buffers[index]
        if not buffer.mappings:
            transport, fd = self.video.transport, self.video.fd
            buffer.mappings = [transport.mmap(fd, plane.mem_offset, plane.length) for plane in buffer.planes]
        return buffer

    def unmap_all(self) -> None:
        for buffer in self.buffers.values():
            for mapping in buffer.mappings:
                self.video.transport.munmap(mapping)
            buffer.mappings = []

    def qbuf(
        self,
        index: int,
        *,
        payload: bytes | None = None,
        bytesused: int | None = None,
        timestamp_ns: int = 0,
        flags: int = 0,
        request_fd: int | None = None,
        field: int = C.V4L2_FIELD_NONE,
    ) -> None:
        """Queue buffer ``index``; ``payload`` is first copied into its plane 0 (OUTPUT).

        With ``request_fd`` the buffer joins that request instead of the queue.
        """
        if payload is not None:
            view = self.map(index).mappings[0].view
            if len(payload) > len(view):
                raise ConformError(
                    f"{self.name} buffer {index}: payload {len(payload)} B > plane {len(view)} B"
                )
            view[: len(payload)] = payload
        buf, planes = self._v4l2_buffer(index)
        buffer = self.buffers.get(index)
        buf.length = len(buffer.planes) if buffer else 1
        used = bytesused if bytesused is not None else (len(payload) if payload is not None else 0)
        planes[0].bytesused = used
        buf.flags, buf.field = flags, field
        set_timestamp(buf.timestamp, timestamp_ns)
        if request_fd is not None:
            buf.flags |= C.V4L2_BUF_FLAG_REQUEST_FD
            buf.request_fd = request_fd
        self.video.ioctl(C.VIDIOC_QBUF, buf)

    def dqbuf(self, timeout: float = 5.0) -> DequeuedBuffer:
        """Wait up to ``timeout`` seconds for a done buffer, then DQBUF it.

        DQBUF is only called once poll says a buffer is ready, so it cannot block even on
        a blocking file handle; a poll error (queue not streaming, nothing queued) raises.
        """
        events = POLLOUT if is_output(self.type) else POLLIN
        ready = self.video.transport.poll([(self.video.fd, events)], int(timeout * 1000))
        if not ready:
            raise DeviceTimeout(f"{self.video.path}: no {self.name} buffer done within {timeout:g} s")
        if not ready[0].revents & events:
            raise QueueError(
                f"{self.video.path}: {self.name} has nothing to dequeue (poll revents {ready[0].revents:#x}: "
                "not streaming, or no buffer queued)"
            )
        buf, planes = self._v4l2_buffer(0)
        self.video.ioctl(C.VIDIOC_DQBUF, buf)
        return DequeuedBuffer(
            index=buf.index,
            type=buf.type,
            sequence=buf.sequence,
            timestamp_ns=timestamp_ns(buf.timestamp),
            flags=buf.flags,
            field=buf.field,
            bytesused=tuple(planes[p].bytesused for p in range(buf.length)),
            request_fd=buf.request_fd,
        )

    def payload(self, done: DequeuedBuffer, plane: int = 0) -> bytes:
        """The bytes a dequeued buffer carries in ``plane``."""
        view = self.map(done.index).mappings[plane].view
        return bytes(view[: done.bytesused[plane]])

    def expbuf(self, index: int, plane: int = 0, flags: int = O_RDWR) -> int:
        exp = ffi.new("struct v4l2_exportbuffer *")
        exp.type, exp.index, exp.plane, exp.flags = self.type, index, plane, flags
        self.video.ioctl(C.VIDIOC_EXPBUF, exp)
        return int(exp.fd)

    def remove_bufs(self, index: int, count: int) -> None:
        rm = ffi.new("struct v4l2_remove_buffers *")
        rm.index, rm.count, rm.type = index, count, self.type
        self.video.ioctl(C.VIDIOC_REMOVE_BUFS, rm)
        for i in range(index, index + count):
            buffer = self.buffers.pop(i, None)
            for mapping in buffer.mappings if buffer else ():
                self.video.transport.munmap(mapping)

    def streamon(self) -> None:
        self.video.ioctl(C.VIDIOC_STREAMON, ffi.new("int *", self.type))

    def streamoff(self) -> None:
        self.video.ioctl(C.VIDIOC_STREAMOFF, ffi.new("int *", self.type))
