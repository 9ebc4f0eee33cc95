"""The IVF container of VP8 streams: a 32-byte file header, then per frame a 12-byte header and the frame.

Layout (libvpx ivfdec.c / ivfenc.c, little-endian): ``DKIF``, version (u16, 0), header size
(u16, 32), fourcc (``VP80``), width, height (u16), time base denominator and numerator
(u32), frame count (u32), unused (u32); each frame: size (u32), presentation timestamp
(u64), then ``size`` bytes of one VP8 frame (RFC 6386 §9).  Errors name the byte offset
in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from conform.codecs.bitreader import BitstreamError

SIGNATURE = b"DKIF"
FILE_HEADER_SIZE = 32
FRAME_HEADER_SIZE = 12
VP8_FOURCC = b"VP80"


@dataclass(frozen=True, slots=True)
class IvfHeader:
    version: int
    header_size: int
    fourcc: bytes
    width: int
    height: int
    timebase_den: int
    timebase_num: int
    frame_count: int


@dataclass(frozen=True, slots=True)
class IvfFrame:
    """One frame of the container: where its data starts in the file, its timestamp, its bytes."""

    index: int
    offset: int
    """File offset of the frame data (after its 12-byte frame header)."""
    pts: int
    data: bytes = field(repr=False)


def read_header(stream: bytes) -> IvfHeader:
    if len(stream) < FILE_HEADER_SIZE:
        raise BitstreamError(f"IVF file header truncated: {len(stream)} of {FILE_HEADER_SIZE} bytes", 0)
    if stream[:4] != SIGNATURE:
        raise BitstreamError(f"not an IVF file: signature {stream[:4]!r}, expected {SIGNATURE!r}", 0)
    le = int.from_bytes
    hdr = IvfHeader(
        version=le(stream[4:6], "little"),
        header_size=le(stream[6:8], "little"),
        fourcc=stream[8:12],
        width=le(stream[12:14], "little"),
        height=le(stream[14:16], "little"),
        timebase_den=le(stream[16:20], "little"),
        timebase_num=le(stream[20:24], "little"),
        frame_count=le(stream[24:28], "little"),
    )
    if hdr.version != 0:
        raise BitstreamError(f"IVF version {hdr.version}, only version 0 is defined", 4)
    if hdr.header_size < FILE_HEADER_SIZE or hdr.header_size > len(stream):
        raise BitstreamError(f"IVF header size {hdr.header_size} is invalid", 6)
    if hdr.fourcc != VP8_FOURCC:
        raise BitstreamError(f"IVF fourcc {hdr.fourcc!r} is not {VP8_FOURCC!r}", 8)
    return hdr


def frames(stream: bytes) -> Iterator[IvfFrame]:
    """The frames of an IVF file, in file order."""
    hdr = read_header(stream)
    pos = hdr.header_size
    index = 0
    while pos < len(stream):
        if pos + FRAME_HEADER_SIZE > len(stream):
            raise BitstreamError(
                f"IVF frame {index} header truncated: {len(stream) - pos} of {FRAME_HEADER_SIZE} bytes", pos
            )
        size = int.from_bytes(stream[pos : pos + 4], "little")
        pts = int.from_bytes(stream[pos + 4 : pos + 12], "little")
        start = pos + FRAME_HEADER_SIZE
        if start + size > len(stream):
            raise BitstreamError(
                f"IVF frame {index} truncated: header says {size} bytes, the file has {len(stream) - start}",
                pos,
            )
        yield IvfFrame(index, start, pts, stream[start : start + size])
        pos = start + size
        index += 1
