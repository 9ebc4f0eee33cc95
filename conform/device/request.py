"""Media requests: a request fd collects controls and one buffer, then runs as one job."""

from __future__ import annotations

from types import TracebackType

from conform.device.queue import DeviceTimeout
from conform.transport import POLLPRI, Transport
from conform.uapi import C


class Request:
    """An allocated request; close it (or use ``with``) to give the fd back."""

    def __init__(self, transport: Transport, fd: int) -> None:
        self.transport = transport
        self.fd = fd

    def queue(self) -> None:
        self.transport.ioctl(self.fd, C.MEDIA_REQUEST_IOC_QUEUE)

    def reinit(self) -> None:
        self.transport.ioctl(self.fd, C.MEDIA_REQUEST_IOC_REINIT)

    def wait(self, timeout: float = 5.0) -> None:
        """Block until the request completes (POLLPRI), or raise DeviceTimeout."""
        if not self.transport.poll([(self.fd, POLLPRI)], int(timeout * 1000)):
            raise DeviceTimeout(f"request fd {self.fd}: not completed within {timeout:g} s")

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            self.transport.close(fd)

    def __enter__(self) -> Request:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
