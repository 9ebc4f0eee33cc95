"""HEVC Annex B byte stream: NAL units with their headers and file offsets, and access units.

Rec. ITU-T H.265 Annex B: ``zero_byte`` (optional) + ``start_code_prefix_one_3bytes``, the
NAL unit, then ``trailing_zero_8bits``.  Each unit keeps its escaped bytes (what a driver
is given) and where it sits in the file (what an error names).  :func:`access_units`
groups units by the first-unit rules of §7.4.2.4.4.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from conform.codecs import annexb
from conform.codecs.bitreader import BitstreamError


class NalUnitType(IntEnum):
    """Table 7-1 (the types this front-end tells apart)."""

    TRAIL_N = 0
    TRAIL_R = 1
    TSA_N = 2
    TSA_R = 3
    STSA_N = 4
    STSA_R = 5
    RADL_N = 6
    RADL_R = 7
    RASL_N = 8
    RASL_R = 9
    BLA_W_LP = 16
    BLA_W_RADL = 17
    BLA_N_LP = 18
    IDR_W_RADL = 19
    IDR_N_LP = 20
    CRA_NUT = 21
    RSV_IRAP_VCL23 = 23
    VPS = 32
    SPS = 33
    PPS = 34
    AUD = 35
    EOS = 36
    EOB = 37
    FD = 38
    PREFIX_SEI = 39
    SUFFIX_SEI = 40


# §7.4.2.4.4: after the last VCL unit of an access unit, these begin the next one.
AU_STARTERS = frozenset((32, 33, 34, 35, 39, 41, 42, 43, 44, *range(48, 56)))


@dataclass(frozen=True, slots=True)
class NalUnit:
    """One NAL unit (§7.3.1) as it appears in the byte stream, emulation prevention kept."""

    offset: int
    """File offset of the first NAL header byte."""
    start_code_length: int
    """3, or 4 with a leading ``zero_byte``."""
    nal_unit_type: int
    nuh_layer_id: int
    nuh_temporal_id_plus1: int
    data: bytes = field(repr=False)
    """The escaped unit, both header bytes included, trailing zero bytes removed."""

    @property
    def is_vcl(self) -> bool:
        return self.nal_unit_type < 32

    @property
    def is_irap(self) -> bool:
        """§3.73: BLA, IDR, CRA (and the reserved IRAP types 22, 23)."""
        return 16 <= self.nal_unit_type <= 23

    @property
    def is_idr(self) -> bool:
        return self.nal_unit_type in (NalUnitType.IDR_W_RADL, NalUnitType.IDR_N_LP)

    @property
    def is_bla(self) -> bool:
        return 16 <= self.nal_unit_type <= 18

    @property
    def is_rasl(self) -> bool:
        return self.nal_unit_type in (NalUnitType.RASL_N, NalUnitType.RASL_R)

    @property
    def is_radl(self) -> bool:
        return self.nal_unit_type in (NalUnitType.RADL_N, NalUnitType.RADL_R)

    @property
    def is_sub_layer_non_reference(self) -> bool:
        """§3.132: TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N, RSV_VCL_N10/12/14."""
        return self.nal_unit_type <= 14 and self.nal_unit_type % 2 == 0

    @property
    def first_slice_segment_in_pic_flag(self) -> bool:
        """The first bit after the NAL header of a VCL unit (§7.3.6.1)."""
        return len(self.data) > 2 and bool(self.data[2] & 0x80)


def nal_units(stream: bytes) -> Iterator[NalUnit]:
    """Split an Annex B byte stream (B.2); raises :class:`BitstreamError` naming the offset."""
    for start, start_code, data in annexb.split(stream):
        if len(data) < 2:
            raise BitstreamError("NAL unit shorter than its 2-byte header", start)
        header = int.from_bytes(data[:2], "big")
        if header & 0x8000:
            raise BitstreamError(f"forbidden_zero_bit set in NAL header 0x{header:04x}", start)
        tid_plus1 = header & 7
        if tid_plus1 == 0:
            raise BitstreamError("nuh_temporal_id_plus1 is 0", start)
        yield NalUnit(start, start_code, (header >> 9) & 0x3F, (header >> 3) & 0x3F, tid_plus1, data)


def access_units(units: Iterator[NalUnit] | list[NalUnit]) -> Iterator[list[NalUnit]]:
    """Group base-layer NAL units into access units (§7.4.2.4.4); units of other layers are dropped."""
    current: list[NalUnit] = []
    seen_vcl = False
    for nal in units:
        if nal.nuh_layer_id > 0:
            continue
        starts = (nal.is_vcl and nal.first_slice_segment_in_pic_flag) or nal.nal_unit_type in AU_STARTERS
        if seen_vcl and starts:
            yield current
            current, seen_vcl = [], False
        current.append(nal)
        seen_vcl |= nal.is_vcl
        if nal.nal_unit_type in (NalUnitType.EOS, NalUnitType.EOB):
            # End of sequence / bitstream is the last unit of its access unit.
            yield current
            current, seen_vcl = [], False
    if current:
        yield current
