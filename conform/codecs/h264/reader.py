"""H.264 Annex B byte stream: start codes in, NAL units with their file offsets out.

Rec. ITU-T H.264 Annex B.1: ``zero_byte`` (optional) + ``start_code_prefix_one_3bytes``
then the NAL unit, then ``trailing_zero_8bits``.  Each unit keeps its escaped bytes (what
a driver is given) and where it sits in the file (what an error names).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from conform.codecs import annexb
from conform.codecs.bitreader import BitstreamError


class NalUnitType(IntEnum):
    """Table 7-1 (the types this front-end tells apart)."""

    UNSPECIFIED = 0
    SLICE = 1
    SLICE_DATA_A = 2
    SLICE_DATA_B = 3
    SLICE_DATA_C = 4
    SLICE_IDR = 5
    SEI = 6
    SPS = 7
    PPS = 8
    AUD = 9
    END_OF_SEQUENCE = 10
    END_OF_STREAM = 11
    FILLER = 12
    SPS_EXTENSION = 13
    PREFIX = 14
    SUBSET_SPS = 15
    DPS = 16
    AUXILIARY_SLICE = 19
    SLICE_EXTENSION = 20
    SLICE_EXTENSION_DEPTH = 21


@dataclass(frozen=True, slots=True)
class NalUnit:
    """One NAL unit (§7.3.1) as it appears in the byte stream, emulation prevention kept."""

    offset: int
    """File offset of the NAL header byte."""
    start_code_length: int
    """3, or 4 with a leading ``zero_byte``."""
    nal_ref_idc: int
    nal_unit_type: int
    data: bytes = field(repr=False)
    """The escaped unit, header byte included, trailing zero bytes removed."""

    @property
    def annex_b(self) -> bytes:
        """The unit with a 4-byte start code, as sent in ANNEX_B start-code mode."""
        return b"\x00\x00\x00\x01" + self.data

    @property
    def is_vcl(self) -> bool:
        return 1 <= self.nal_unit_type <= 5


def nal_units(stream: bytes) -> Iterator[NalUnit]:
    """Split an Annex B byte stream (B.2); raises :class:`BitstreamError` naming the offset."""
    for start, start_code, data in annexb.split(stream):
        header = data[0]
        if header & 0x80:
            raise BitstreamError(f"forbidden_zero_bit set in NAL header 0x{header:02x}", start)
        yield NalUnit(start, start_code, (header >> 5) & 3, header & 0x1F, data)
