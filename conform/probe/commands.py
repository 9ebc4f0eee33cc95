"""Decoder commands: (TRY_)DECODER_CMD with every command and odd flags, as a stateless
decoder answers them before streaming (only FLUSH, flags cleared)."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

from conform.device import VideoDevice
from conform.drivers import Nodes
from conform.transport import TransportError
from conform.uapi import C, ffi

COMMANDS = ("V4L2_DEC_CMD_START", "V4L2_DEC_CMD_STOP", "V4L2_DEC_CMD_PAUSE", "V4L2_DEC_CMD_RESUME",
            "V4L2_DEC_CMD_FLUSH")  # fmt: skip


def _command(video: VideoDevice, request: int, cmd: int, flags: int) -> Any:
    dc = ffi.new("struct v4l2_decoder_cmd *")
    dc.cmd, dc.flags = cmd, flags
    dc.raw.data[0] = 0x5A5A5A5A
    try:
        video.ioctl(request, dc)
    except TransportError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc.errno))
    return {"cmd": dc.cmd, "flags": dc.flags, "raw0": dc.raw.data[0]}


def cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    with VideoDevice(nodes.transport, nodes.video) as video:
        for label, request in (("try", C.VIDIOC_TRY_DECODER_CMD), ("do", C.VIDIOC_DECODER_CMD)):
            for name in (*COMMANDS, None):
                cmd = getattr(C, name) if name else 99
                for flags in (0, 1, 0xFFFFFFFF):
                    yield f"{label} {name or cmd} flags {flags:#x}", _command(video, request, cmd, flags)
