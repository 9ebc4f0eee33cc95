"""Drivers reached through real device nodes of a running kernel."""

from __future__ import annotations

import glob
import os

from conform.device.media import MediaDevice
from conform.device.video import VideoDevice
from conform.drivers.base import Driver, DriverError, Nodes, in_guest, register_driver
from conform.transport import KernelTransport, Transport, TransportError


def media_node_for(transport: Transport, video_path: str) -> str | None:
    """The /dev/mediaN whose topology has an interface for ``video_path``'s device number."""
    rdev = os.stat(video_path).st_rdev
    for path in sorted(glob.glob("/dev/media*")):
        try:
            with MediaDevice(transport, path) as media:
                topo = media.topology()
        except (OSError, TransportError):
            continue
        if any(os.makedev(i.major, i.minor) == rdev for i in topo.interfaces):
            return path
    return None


@register_driver
class KernelNode(Driver):
    name = "kernel"
    description = "any V4L2 stateless decoder node of the running kernel: kernel:/dev/videoN"

    def connect(self) -> Nodes:
        _, _, path = self.spec.partition(":")
        if not path:
            raise DriverError("kernel driver needs a node: kernel:/dev/videoN")
        if not os.path.exists(path):
            raise DriverError(f"{path} does not exist")
        transport = KernelTransport()
        return Nodes(transport, path, media_node_for(transport, path))


@register_driver
class CVisl(Driver):
    name = "c-visl"
    description = "upstream visl built into the kernel tier's guest kernel (QEMU)"
    needs_guest = True

    def connect(self) -> Nodes:
        if not in_guest():
            raise DriverError("c-visl lives in the kernel tier: run through `conform kernel run` or the CLI")
        transport = KernelTransport()
        for path in sorted(glob.glob("/dev/video*")):
            try:
                with VideoDevice(transport, path) as video:
                    driver = video.querycap().driver
            except TransportError:
                continue
            if driver == "visl":
                return Nodes(transport, path, media_node_for(transport, path))
        raise DriverError("no /dev/video* node answers QUERYCAP with driver 'visl' in this kernel")
