"""The syscall layer: one interface, a kernel and an embedded implementation."""

from conform.transport.base import (
    O_NONBLOCK,
    O_RDWR,
    POLLERR,
    POLLIN,
    POLLOUT,
    POLLPRI,
    PROT_READ,
    PROT_WRITE,
    Mapping,
    PollResult,
    Transport,
    TransportError,
)
from conform.transport.embedded import EmbeddedLibraryError, EmbeddedTransport
from conform.transport.kernel import KernelTransport

__all__ = [
    "O_NONBLOCK",
    "O_RDWR",
    "POLLERR",
    "POLLIN",
    "POLLOUT",
    "POLLPRI",
    "PROT_READ",
    "PROT_WRITE",
    "EmbeddedLibraryError",
    "EmbeddedTransport",
    "KernelTransport",
    "Mapping",
    "PollResult",
    "Transport",
    "TransportError",
]
