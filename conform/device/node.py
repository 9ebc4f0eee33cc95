"""An open file on a transport: the fd every device object holds, closed once."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from conform.transport import Transport


class OpenFile:
    """One open file descriptor; ``close`` is idempotent and ``with`` closes it."""

    def __init__(self, transport: Transport, fd: int) -> None:
        self.transport = transport
        self.fd = fd

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            self.transport.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
