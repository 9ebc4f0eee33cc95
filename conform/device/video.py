"""The video node: capabilities, formats, frame sizes, decoder commands, events."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from conform.device.format import FormatDescription, FrameSizes, PixFormatMplane
from conform.transport import O_RDWR, Transport, TransportError
from conform.uapi import C, ffi


def cstr(chars: Any) -> str:
    """A fixed-size, NUL-padded char array of a UAPI struct as text."""
    return bytes(ffi.string(chars)).decode("utf-8", "replace")


def version_text(version: int) -> str:
    """KERNEL_VERSION(a, b, c) as ``a.b.c``."""
    return f"{version >> 16}.{(version >> 8) & 0xFF}.{version & 0xFF}"


@dataclass(frozen=True, slots=True)
class Capability:
    """``VIDIOC_QUERYCAP``."""

    driver: str
    card: str
    bus_info: str
    version: int
    capabilities: int
    device_caps: int

    @property
    def version_text(self) -> str:
        return version_text(self.version)


class VideoDevice:
    """One open file handle on a V4L2 video node, over any transport.

    Each open is its own decoding context for a mem2mem driver, so two ``VideoDevice``
    objects on the same path are independent.
    """

    def __init__(self, transport: Transport, path: str, flags: int = O_RDWR) -> None:
        self.transport = transport
        self.path = path
        self.fd = transport.open(path, flags)

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            self.transport.close(fd)

    def __enter__(self) -> VideoDevice:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def ioctl(self, request: int, arg: Any = None) -> int:
        return self.transport.ioctl(self.fd, request, arg)

    def querycap(self) -> Capability:
        cap = ffi.new("struct v4l2_capability *")
        self.ioctl(C.VIDIOC_QUERYCAP, cap)
        return Capability(
            cstr(cap.driver), cstr(cap.card), cstr(cap.bus_info),
            cap.version, cap.capabilities, cap.device_caps,
        )  # fmt: skip

    def enum_fmt(self, buf_type: int) -> list[FormatDescription]:
        found: list[FormatDescription] = []
        desc = ffi.new("struct v4l2_fmtdesc *")
        while True:
            ffi.memmove(desc, bytes(ffi.sizeof(desc[0])), ffi.sizeof(desc[0]))
            desc.index, desc.type = len(found), buf_type
            try:
                self.ioctl(C.VIDIOC_ENUM_FMT, desc)
            except TransportError as exc:
                if exc.errno == errno.EINVAL:  # ends the enumeration
                    return found
                raise
            found.append(
                FormatDescription(desc.index, desc.type, desc.flags, cstr(desc.description), desc.pixelformat)
            )

    def g_fmt(self, buf_type: int) -> PixFormatMplane:
        fmt = ffi.new("struct v4l2_format *")
        fmt.type = buf_type
        self.ioctl(C.VIDIOC_G_FMT, fmt)
        return PixFormatMplane.from_struct(fmt.fmt.pix_mp)

    def s_fmt(self, buf_type: int, fmt: PixFormatMplane) -> PixFormatMplane:
        raw = fmt.to_struct(buf_type)
        self.ioctl(C.VIDIOC_S_FMT, raw)
        return PixFormatMplane.from_struct(raw.fmt.pix_mp)

    def try_fmt(self, buf_type: int, fmt: PixFormatMplane) -> PixFormatMplane:
        raw = fmt.to_struct(buf_type)
        self.ioctl(C.VIDIOC_TRY_FMT, raw)
        return PixFormatMplane.from_struct(raw.fmt.pix_mp)

    def enum_framesizes(self, pixelformat: int) -> list[FrameSizes]:
        found: list[FrameSizes] = []
        fs = ffi.new("struct v4l2_frmsizeenum *")
        while True:
            ffi.memmove(fs, bytes(ffi.sizeof(fs[0])), ffi.sizeof(fs[0]))
            fs.index, fs.pixel_format = len(found), pixelformat
            try:
                self.ioctl(C.VIDIOC_ENUM_FRAMESIZES, fs)
            except TransportError as exc:
                if exc.errno == errno.EINVAL and found:
                    return found
                raise
            found.append(FrameSizes.from_struct(fs))
            if fs.type != C.V4L2_FRMSIZE_TYPE_DISCRETE:
                return found

    def decoder_cmd(self, cmd: int, flags: int = 0, *, try_only: bool = False) -> int:
        """(TRY_)DECODER_CMD; returns the flags the driver left in the struct."""
        arg = ffi.new("struct v4l2_decoder_cmd *")
        arg.cmd, arg.flags = cmd, flags
        self.ioctl(C.VIDIOC_TRY_DECODER_CMD if try_only else C.VIDIOC_DECODER_CMD, arg)
        return int(arg.flags)

    def subscribe_event(self, event_type: int, event_id: int = 0, flags: int = 0) -> None:
        sub = ffi.new("struct v4l2_event_subscription *")
        sub.type, sub.id, sub.flags = event_type, event_id, flags
        self.ioctl(C.VIDIOC_SUBSCRIBE_EVENT, sub)
