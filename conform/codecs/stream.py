"""The request stream: what a stateless client hands the driver, request by request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

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
    new_format: StreamFormat | None = None
    """The coded format changes before this request (a VP8 key frame of another size): the
    client drains, stops both queues, sets the new format and allocates again."""


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


class DecodeMode(Enum):
    """``V4L2_CID_STATELESS_{H264,HEVC}_DECODE_MODE``: what one OUTPUT buffer holds."""

    FRAME_BASED = "frame-based"
    """Every slice of a picture in one request."""
    SLICE_BASED = "slice-based"
    """One slice per request; all but a picture's last hold the CAPTURE buffer."""


class StartCode(Enum):
    """``V4L2_CID_STATELESS_{H264,HEVC}_START_CODE``: what precedes each slice NAL unit."""

    ANNEX_B = "annex-b"
    """``00 00 01`` before each NAL unit."""
    NONE = "none"
    """The NAL unit alone (header and emulation prevention bytes kept)."""


ANNEX_B_START_CODE = b"\x00\x00\x01"


@dataclass(frozen=True, slots=True)
class SliceMode:
    """How a front-end of a sliced codec (H.264, HEVC) lays slices out in requests.

    The default is what the request streams of vectors/references were recorded with.
    Codecs without these controls (VP8, MPEG-2) ignore it.
    """

    decode_mode: DecodeMode = DecodeMode.FRAME_BASED
    start_code: StartCode = StartCode.ANNEX_B

    @property
    def slice_based(self) -> bool:
        return self.decode_mode is DecodeMode.SLICE_BASED

    @property
    def prefix(self) -> bytes:
        """What goes before each slice NAL unit in the OUTPUT buffer."""
        return ANNEX_B_START_CODE if self.start_code is StartCode.ANNEX_B else b""


FRAME_BASED_ANNEX_B = SliceMode()
