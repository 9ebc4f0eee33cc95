"""The V4L2 object model, written once over any transport."""

from conform.device.buffer import Buffer, DequeuedBuffer
from conform.device.controls import ControlInfo, Controls, ControlsError, ControlValue
from conform.device.format import FormatDescription, FrameSizes, PixFormatMplane, PlaneFormat
from conform.device.media import MediaDevice, MediaInfo, Topology
from conform.device.queue import Allocation, DeviceTimeout, Queue
from conform.device.request import Request
from conform.device.video import Capability, VideoDevice

__all__ = [
    "Allocation",
    "Buffer",
    "Capability",
    "ControlInfo",
    "ControlValue",
    "Controls",
    "ControlsError",
    "DequeuedBuffer",
    "DeviceTimeout",
    "FormatDescription",
    "FrameSizes",
    "MediaDevice",
    "MediaInfo",
    "PixFormatMplane",
    "PlaneFormat",
    "Queue",
    "Request",
    "Topology",
    "VideoDevice",
]
