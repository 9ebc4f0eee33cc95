"""Media requests: a request fd collects controls and one buffer, then runs as one job."""

from __future__ import annotations

from conform.device.node import OpenFile
from conform.device.queue import DeviceTimeout
from conform.transport import POLLPRI
from conform.uapi import C


class Request(OpenFile):
    """An allocated request; close it (or use ``with``) to give the fd back."""

    def queue(self) -> None:
        self.transport.ioctl(self.fd, C.MEDIA_REQUEST_IOC_QUEUE)

    def reinit(self) -> None:
        self.transport.ioctl(self.fd, C.MEDIA_REQUEST_IOC_REINIT)

    def wait(self, timeout: float = 5.0) -> None:
        """Block until the request completes (POLLPRI), or raise DeviceTimeout."""
        if not self.transport.poll([(self.fd, POLLPRI)], int(timeout * 1000)):
            raise DeviceTimeout(f"request fd {self.fd}: not completed within {timeout:g} s")
