"""``conform probe``: the device as a developer wants to see it, as text or data.

Gathers QUERYCAP, the media device, both queues' formats with frame-size ranges, every
control's QUERY_EXT_CTRL, and the media topology.
"""

from __future__ import annotations

import dataclasses
import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from conform.device import (
    Capability,
    ControlInfo,
    FormatDescription,
    FrameSizes,
    MediaDevice,
    MediaInfo,
    PixFormatMplane,
    Topology,
    VideoDevice,
)
from conform.device.controls import Controls
from conform.drivers import Nodes
from conform.transport import TransportError
from conform.uapi import C, fourcc_str

QUEUES = (
    ("OUTPUT_MPLANE", "V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE"),
    ("CAPTURE_MPLANE", "V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE"),
)


@dataclass(frozen=True, slots=True)
class QueueFormats:
    queue: str
    current: PixFormatMplane
    """G_FMT on a fresh file handle: the driver's defaults."""
    formats: tuple[FormatDescription, ...]
    framesizes: dict[int, tuple[FrameSizes, ...] | str]
    """Per pixelformat: its ranges, or the error ENUM_FRAMESIZES gave."""


@dataclass(frozen=True, slots=True)
class DeviceDescription:
    video: str
    media: str | None
    capability: Capability
    media_info: MediaInfo | None
    queues: tuple[QueueFormats, ...]
    controls: tuple[ControlInfo, ...]
    control_defaults: dict[int, int | str]
    topology: Topology | None

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for queue in data["queues"]:
            queue["framesizes"] = {fourcc_str(k): v for k, v in queue["framesizes"].items()}
        data["control_defaults"] = {f"{k:#010x}": v for k, v in self.control_defaults.items()}
        return data


def _framesizes(video: VideoDevice, pixelformat: int) -> tuple[FrameSizes, ...] | str:
    try:
        return tuple(video.enum_framesizes(pixelformat))
    except TransportError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc.errno))


def _defaults(controls: Controls, infos: list[ControlInfo]) -> dict[int, int | str]:
    """Default values: simple ones as numbers, payloads as md5 of their bytes."""
    import hashlib

    defaults: dict[int, int | str] = {}
    for info in infos:
        if info.flags & C.V4L2_CTRL_FLAG_WRITE_ONLY or info.type in (C.V4L2_CTRL_TYPE_CTRL_CLASS,):
            continue
        value = controls.get([info.id], which=C.V4L2_CTRL_WHICH_DEF_VAL)[0].value
        defaults[info.id] = value if isinstance(value, int) else "md5:" + hashlib.md5(value).hexdigest()
    return defaults


T = TypeVar("T")


def _unless_unsupported(query: Callable[[], T], absent: T) -> T:
    """A query's answer, or ``absent`` when the driver does not implement it (ENOTTY)."""
    try:
        return query()
    except TransportError as exc:
        if exc.errno == errno.ENOTTY:
            return absent
        raise


def describe(nodes: Nodes) -> DeviceDescription:
    with VideoDevice(nodes.transport, nodes.video) as video:
        cap = video.querycap()
        queues = []
        for label, const in QUEUES:
            formats = tuple(video.enum_fmt(getattr(C, const)))
            sizes = {f.pixelformat: _framesizes(video, f.pixelformat) for f in formats}
            queues.append(QueueFormats(label, video.g_fmt(getattr(C, const)), formats, sizes))
        controls = Controls(video)
        infos: list[ControlInfo] = _unless_unsupported(controls.enumerate, [])
        defaults = _defaults(controls, infos)
    media_info = topology = None
    if nodes.media:
        with MediaDevice(nodes.transport, nodes.media) as media:
            media_info = _unless_unsupported(media.info, None)
            topology = _unless_unsupported(media.topology, None)
    return DeviceDescription(
        nodes.video, nodes.media, cap, media_info, tuple(queues), tuple(infos), defaults, topology
    )
