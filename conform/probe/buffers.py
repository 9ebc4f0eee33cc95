"""Buffer ioctls on both queues: REQBUFS, CREATE_BUFS, QUERYBUF, REMOVE_BUFS and mmap over
memory types, counts, indices, plane arrays, sizes and offsets (vb2's rules as drivers
inherit them).  Raw structs are used so malformed requests reach the driver as written."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from typing import Any

from conform.device import PixFormatMplane, VideoDevice
from conform.drivers import Nodes
from conform.transport import PROT_READ, PROT_WRITE, TransportError
from conform.uapi import C, ffi

OUT, CAP = C.V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, C.V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
MEMORIES = (C.V4L2_MEMORY_MMAP, C.V4L2_MEMORY_USERPTR, C.V4L2_MEMORY_DMABUF, C.V4L2_MEMORY_OVERLAY, 0, 99)


def _outcome(call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)``'s result, or the errno name it failed with."""
    try:
        return call(*args)
    except TransportError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc.errno))


def _reqbufs(video: VideoDevice, buf_type: int, memory: int, count: int) -> dict[str, int]:
    req = ffi.new("struct v4l2_requestbuffers *")
    req.count, req.type, req.memory, req.flags = count, buf_type, memory, 0xFF
    req.capabilities = 0xFFFF
    video.ioctl(C.VIDIOC_REQBUFS, req)
    return {"count": req.count, "capabilities": req.capabilities, "flags": req.flags}


def _create(
    video: VideoDevice, buf_type: int, memory: int, count: int, planes: int, size: int
) -> dict[str, int]:
    create = ffi.new("struct v4l2_create_buffers *")
    create.count, create.memory, create.format.type = count, memory, buf_type
    video.g_fmt(buf_type).fill(create.format.fmt.pix_mp)
    create.format.fmt.pix_mp.num_planes = planes
    for i in range(min(planes, 8)):
        create.format.fmt.pix_mp.plane_fmt[i].sizeimage = size
    create.max_num_buffers = 7
    video.ioctl(C.VIDIOC_CREATE_BUFS, create)
    return {"index": create.index, "count": create.count, "capabilities": create.capabilities,
            "flags": create.flags, "max_num_buffers": create.max_num_buffers}  # fmt: skip


def _querybuf(video: VideoDevice, buf_type: int, index: int, length: int, with_planes: bool = True) -> Any:
    buf = ffi.new("struct v4l2_buffer *")
    planes = ffi.new("struct v4l2_plane[]", 8)
    buf.index, buf.type, buf.length = index, buf_type, length
    buf.m.planes = planes if with_planes else ffi.NULL
    video.ioctl(C.VIDIOC_QUERYBUF, buf)
    shown = [(p.length, p.bytesused, p.m.mem_offset, p.data_offset) for p in planes[0 : min(buf.length, 8)]]
    return {
        "index": buf.index,
        "flags": buf.flags,
        "field": buf.field,
        "memory": buf.memory,
        "length": buf.length,
        "sequence": buf.sequence,
        "planes": shown,
    }


def _remove(video: VideoDevice, buf_type: int, index: int, count: int) -> str:
    rm = ffi.new("struct v4l2_remove_buffers *")
    rm.index, rm.count, rm.type = index, count, buf_type
    video.ioctl(C.VIDIOC_REMOVE_BUFS, rm)
    return "ok"


def _mmap(video: VideoDevice, offset: int, length: int, prot: int) -> str:
    mapping = video.transport.mmap(video.fd, offset, length, prot)
    video.transport.munmap(mapping)
    return "ok"


def _export(video: VideoDevice, buf_type: int, index: int, plane: int, flags: int) -> int:
    exp = ffi.new("struct v4l2_exportbuffer *")
    exp.type, exp.index, exp.plane, exp.flags = buf_type, index, plane, flags
    video.ioctl(C.VIDIOC_EXPBUF, exp)
    return int(exp.fd)


def _expbuf(video: VideoDevice, buf_type: int, index: int, plane: int, flags: int) -> str:
    video.transport.close(_export(video, buf_type, index, plane, flags))
    return "ok"


def _dmabuf_sync(video: VideoDevice, buf_type: int, flags: int) -> str:
    fd = _export(video, buf_type, 0, 0, os.O_RDWR)
    try:
        sync = ffi.new("struct dma_buf_sync *")
        sync.flags = flags
        video.transport.ioctl(fd, C.DMA_BUF_IOCTL_SYNC, sync)
    finally:
        video.transport.close(fd)
    return "ok"


def _dmabuf_cases(video: VideoDevice, label: str, buf_type: int) -> Iterator[tuple[str, Any]]:
    """EXPBUF's argument checks, and DMA_BUF_IOCTL_SYNC on the exported buffer (GStreamer
    brackets every CPU access to a V4L2 dma-buf with it)."""
    rw = os.O_RDWR
    for index, plane, flags in ((0, 0, rw), (0, 0, os.O_RDONLY | os.O_CLOEXEC), (0, 1, rw), (2, 0, rw),
                                (0, 0, rw | os.O_CREAT)):  # fmt: skip
        name = f"{label} expbuf index {index} plane {plane} flags {flags:#x}"
        yield name, _outcome(_expbuf, video, buf_type, index, plane, flags)
    start, end = C.DMA_BUF_SYNC_START, C.DMA_BUF_SYNC_END
    for flags in (start | C.DMA_BUF_SYNC_READ, start | C.DMA_BUF_SYNC_RW, end | C.DMA_BUF_SYNC_WRITE,
                  start, end, 8, 1 << 40):  # fmt: skip
        yield f"{label} dma-buf sync flags {flags:#x}", _outcome(_dmabuf_sync, video, buf_type, flags)


def _g_fmt_width(video: VideoDevice, buf_type: int, fmt: PixFormatMplane) -> int:
    return video.s_fmt(buf_type, fmt).width


def cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    rw = PROT_READ | PROT_WRITE
    for label, buf_type in (("OUTPUT", OUT), ("CAPTURE", CAP)):
        with _fresh(nodes) as video:
            for memory in MEMORIES:
                for count in (0, 1, 2, 33, 0):
                    name = f"{label} reqbufs memory {memory} count {count}"
                    yield name, _outcome(_reqbufs, video, buf_type, memory, count)
            for bad_type in (C.V4L2_BUF_TYPE_VIDEO_CAPTURE, C.V4L2_BUF_TYPE_VIDEO_OUTPUT, 0, 99):
                yield f"reqbufs type {bad_type}", _outcome(_reqbufs, video, bad_type, 1, 1)
        with _fresh(nodes) as video:
            yield from _allocated_cases(video, label, buf_type, rw)


def _fresh(nodes: Nodes) -> VideoDevice:
    video = VideoDevice(nodes.transport, nodes.video)
    video.s_fmt(
        OUT, PixFormatMplane(320, 240, C.V4L2_PIX_FMT_H264_SLICE, colorspace=C.V4L2_COLORSPACE_REC709)
    )
    return video


def _allocated_cases(video: VideoDevice, label: str, buf_type: int, rw: int) -> Iterator[tuple[str, Any]]:
    yield f"{label} reqbufs 2", _outcome(_reqbufs, video, buf_type, C.V4L2_MEMORY_MMAP, 2)
    for index in (0, 1, 2, 31, 32, 1 << 31):
        for length in (0, 1, 8, 9):
            yield (
                f"{label} querybuf {index} length {length}",
                _outcome(_querybuf, video, buf_type, index, length),
            )
    yield f"{label} querybuf without planes", _outcome(_querybuf, video, buf_type, 0, 1, False)
    size, _, offset, _ = _querybuf(video, buf_type, 1, 1)["planes"][0]
    page_tail = (4096 - size % 4096) % 4096
    for delta, extra, prot in ((0, 0, rw), (0, 0, PROT_READ), (0, page_tail, rw), (0, page_tail + 1, rw),
                               (4096, 0, rw), (1 << 15, 0, rw), (-(1 << 15), 0, rw)):  # fmt: skip
        name = f"{label} mmap offset+{delta} length+{extra} prot {prot}"
        yield name, _outcome(_mmap, video, offset + delta, size + extra, prot)
    yield from _dmabuf_cases(video, label, buf_type)
    mapping = video.transport.mmap(video.fd, offset, size, rw)
    yield f"{label} querybuf while mapped", _outcome(_querybuf, video, buf_type, 1, 1)
    other = PixFormatMplane(640, 480, C.V4L2_PIX_FMT_H264_SLICE)
    yield f"{label} s_fmt OUTPUT with buffers", _outcome(_g_fmt_width, video, OUT, other)
    for index, count in ((0, 0), (5, 1), (0, 3), (1, 1), (1, 1), (31, 2)):
        yield f"{label} remove_bufs {index} {count}", _outcome(_remove, video, buf_type, index, count)
    yield f"{label} remove_bufs wrong type", _outcome(_remove, video, OUT + CAP - buf_type, 0, 1)
    yield f"{label} querybuf removed", _outcome(_querybuf, video, buf_type, 1, 1)
    sizeimage = video.g_fmt(buf_type).planes[0].sizeimage
    for count, planes, size_ in ((0, 1, sizeimage), (1, 0, sizeimage), (1, 2, sizeimage), (1, 9, sizeimage),
                                 (1, 1, 0), (1, 1, 1), (1, 1, sizeimage - 1), (1, 1, sizeimage),
                                 (2, 1, 2 * sizeimage), (40, 1, sizeimage)):  # fmt: skip
        name = f"{label} create_bufs count {count} planes {planes} size {size_}"
        yield name, _outcome(_create, video, buf_type, C.V4L2_MEMORY_MMAP, count, planes, size_)
    dmabuf = _outcome(_create, video, buf_type, C.V4L2_MEMORY_DMABUF, 1, 1, sizeimage)
    yield f"{label} create_bufs dmabuf after mmap", dmabuf
    yield f"{label} querybuf 3 after create", _outcome(_querybuf, video, buf_type, 3, 1)
    yield f"{label} reqbufs 0 while mapped", _outcome(_reqbufs, video, buf_type, C.V4L2_MEMORY_MMAP, 0)
    yield f"{label} orphan still readable", bytes(mapping.view[:16]).hex()
    video.transport.munmap(mapping)
    yield f"{label} querybuf after free", _outcome(_querybuf, video, buf_type, 0, 1)
