"""The request stream: what a stateless client hands the driver, request by request."""

from __future__ import annotations

from dataclasses import dataclass

from conform.device import ControlValue
from conform.uapi import C


@dataclass(frozen=True, slots=True)
class DecodeRequest:
    """One media request: controls by CID, the OUTPUT payload, its timestamp and flags.

    ``timestamp_ns`` must be a whole number of microseconds: V4L2 carries it as a timeval,
    and stateless reference fields (``reference_ts``, ``*_ref_ts``) name pictures by it.
    """

    controls: tuple[ControlValue, ...]
    payload: bytes
    timestamp_ns: int
    flags: int = 0


@dataclass(frozen=True, slots=True)
class StreamFormat:
    """The coded format a request stream needs on OUTPUT."""

    pixelformat: int
    width: int
    height: int
    colorspace: int = C.V4L2_COLORSPACE_REC709
    """What the bitstream signals (or a client assumes); visl passes it on to CAPTURE."""
    device_controls: tuple[ControlValue, ...] = ()
    """Set once on the file handle before streaming (decode mode, start code)."""
