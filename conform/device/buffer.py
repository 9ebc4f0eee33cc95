"""Buffers as the queue ioctls describe them, and as they come back from DQBUF."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conform.transport import Mapping

NSEC_PER_USEC = 1_000
NSEC_PER_SEC = 1_000_000_000


def timestamp_ns(timeval: Any) -> int:
    """``struct timeval`` of a v4l2_buffer in ns, as v4l2_timeval_to_ns computes it."""
    return int(timeval.tv_sec) * NSEC_PER_SEC + int(timeval.tv_usec) * NSEC_PER_USEC


def set_timestamp(timeval: Any, ns: int) -> None:
    """V4L2 carries timestamps as timeval: only whole microseconds survive the trip."""
    timeval.tv_sec, timeval.tv_usec = divmod(ns // NSEC_PER_USEC, NSEC_PER_SEC // NSEC_PER_USEC)


@dataclass(frozen=True, slots=True)
class PlaneInfo:
    length: int
    mem_offset: int


@dataclass(slots=True)
class Buffer:
    """One allocated buffer: its planes as QUERYBUF gave them and, once mapped, their memory."""

    index: int
    planes: tuple[PlaneInfo, ...]
    mappings: list[Mapping] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DequeuedBuffer:
    """What DQBUF returned: everything a result record compares."""

    index: int
    type: int
    sequence: int
    timestamp_ns: int
    flags: int
    field: int
    bytesused: tuple[int, ...]
    request_fd: int
