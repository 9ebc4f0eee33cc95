"""MPEG-2 video elementary stream: start codes in, units with their file offsets out.

ISO/IEC 13818-2 §6.2.1: every header and every slice begins with a start code, the
prefix ``00 00 01`` and one byte naming what follows (Table 6-1).  A unit here is that
byte and everything up to the next prefix (zero stuffing from ``next_start_code()``
included: a header may itself end in zero bytes); it keeps where its prefix sits in the
file (what an error names).

Only elementary video streams (``.m2v``) are read; a program or transport stream is
reported as not supported rather than demultiplexed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from conform.codecs.bitreader import BitstreamError
from conform.errors import NotSupportedError

START_CODE = b"\x00\x00\x01"
SLICE_FIRST = 0x01
SLICE_LAST = 0xAF


class StartCode(IntEnum):
    """Table 6-1 start code values (the slice range is SLICE_FIRST..SLICE_LAST)."""

    PICTURE = 0x00
    USER_DATA = 0xB2
    SEQUENCE_HEADER = 0xB3
    SEQUENCE_ERROR = 0xB4
    EXTENSION = 0xB5
    SEQUENCE_END = 0xB7
    GROUP = 0xB8
    PACK_HEADER = 0xBA
    """ISO/IEC 13818-1 (systems): a program stream, not video."""


class ExtensionId(IntEnum):
    """Table 6-2 extension_start_code_identifier."""

    SEQUENCE = 1
    SEQUENCE_DISPLAY = 2
    QUANT_MATRIX = 3
    COPYRIGHT = 4
    SEQUENCE_SCALABLE = 5
    PICTURE_DISPLAY = 7
    PICTURE_CODING = 8
    PICTURE_SPATIAL_SCALABLE = 9
    PICTURE_TEMPORAL_SCALABLE = 10
    CAMERA_PARAMETERS = 11
    ITU_T = 12


@dataclass(frozen=True, slots=True)
class Unit:
    """One start code and what follows it up to the next start code."""

    offset: int
    """File offset of the ``00 00 01`` prefix."""
    code: int
    """The start code value byte (Table 6-1)."""
    data: bytes = field(repr=False)
    """The unit from its start code value byte on, up to the next start code prefix."""

    @property
    def is_slice(self) -> bool:
        return SLICE_FIRST <= self.code <= SLICE_LAST

    @property
    def with_start_code(self) -> bytes:
        """The unit as it is sent to a driver: prefix, value byte, payload."""
        return START_CODE + self.data


def units(stream: bytes) -> Iterator[Unit]:
    """Split an elementary stream at its start codes; raises :class:`BitstreamError` naming the offset."""
    if len(stream) > 188 and stream[0] == 0x47 and stream[188] == 0x47:
        raise NotSupportedError("not supported: MPEG transport stream; give the elementary stream (.m2v)")
    first = stream.find(START_CODE)
    if first < 0:
        raise BitstreamError("no MPEG-2 start code in the stream", 0)
    if stream[:first].strip(b"\x00"):
        raise BitstreamError("data before the first start code", 0)
    if first + 3 >= len(stream):
        raise BitstreamError("the stream ends inside its first start code", first)
    if stream[first + 3] == StartCode.PACK_HEADER:
        raise NotSupportedError(
            f"not supported: MPEG program stream (pack header at byte offset {first}); "
            "give the elementary video stream (.m2v)"
        )
    start = first
    while start < len(stream):
        nxt = stream.find(START_CODE, start + 3)
        end = len(stream) if nxt < 0 else nxt
        data = stream[start + 3 : end]
        if not data:
            raise BitstreamError("start code without a value byte", start)
        yield Unit(start, data[0], data)
        if nxt < 0:
            break
        start = nxt
