"""The video node: capabilities, formats, frame sizes, decoder commands, events."""

from __future__ import annotations

import errno
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from conform.device.format import FormatDescription, FrameSizes, PixFormatMplane
from conform.device.node import OpenFile
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


class VideoDevice(OpenFile):
    """One open file handle on a V4L2 video node, over any transport.

    Each open is its own decoding context for a mem2mem driver, so two ``VideoDevice``
    objects on the same path are independent.
    """

    def __init__(self, transport: Transport, path: str, flags: int = O_RDWR) -> None:
        super().__init__(transport, transport.open(path, flags))
        self.path = path

    def ioctl(self, request: int, arg: Any = None) -> int:
        return self.transport.ioctl(self.fd, request, arg)

    def querycap(self) -> Capability:
        cap = ffi.new("struct v4l2_capability *")
        self.ioctl(C.VIDIOC_QUERYCAP, cap)
        return Capability(
            cstr(cap.driver), cstr(cap.card), cstr(cap.bus_info),
            cap.version, cap.capabilities, cap.device_caps,
        )  # fmt: skip

    def _enumerate(
        self, request: int, ctype: str, fill: Callable[[Any, int], None], *, may_be_empty: bool
    ) -> Iterator[Any]:
        """Index 0, 1, ... of an ENUM ioctl until the driver answers EINVAL.

        An EINVAL at index 0 ends an empty list when ``may_be_empty``, else it is raised
        (ENUM_FRAMESIZES says so for a format it does not know).
        """
        arg = ffi.new(ctype)
        for index in itertools.count():
            ffi.memmove(arg, bytes(ffi.sizeof(arg[0])), ffi.sizeof(arg[0]))
            fill(arg, index)
            try:
                self.ioctl(request, arg)
            except TransportError as exc:
                if exc.errno == errno.EINVAL and (index > 0 or may_be_empty):
                    return
                raise
            yield arg

    def enum_fmt(self, buf_type: int) -> list[FormatDescription]:
        def fill(desc: Any, index: int) -> None:
            desc.index, desc.type = index, buf_type

        return [
            FormatDescription(desc.index, desc.type, desc.flags, cstr(desc.description), desc.pixelformat)
            for desc in self._enumerate(C.VIDIOC_ENUM_FMT, "struct v4l2_fmtdesc *", fill, may_be_empty=True)
        ]

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
        """Discrete sizes, or the one stepwise/continuous range (EINVAL for an unknown format)."""

        def fill(fs: Any, index: int) -> None:
            fs.index, fs.pixel_format = index, pixelformat

        found = []
        for fs in self._enumerate(
            C.VIDIOC_ENUM_FRAMESIZES, "struct v4l2_frmsizeenum *", fill, may_be_empty=False
        ):
            found.append(FrameSizes.from_struct(fs))
            if fs.type != C.V4L2_FRMSIZE_TYPE_DISCRETE:
                break
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
