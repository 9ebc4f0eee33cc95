"""The Annex B byte stream format H.264 and HEVC share (H.264 B.2, HEVC B.2): NAL units
behind 00 00 01 start codes, each found with its offset and start-code length."""

from __future__ import annotations

from collections.abc import Iterator

from conform.codecs.bitreader import BitstreamError

START_CODE = b"\x00\x00\x01"


def split(stream: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(offset of the unit, length of its start code (3, or 4 with a zero byte), the escaped
    unit without trailing zero bytes); raises :class:`BitstreamError` naming the offset."""
    first = stream.find(START_CODE)
    if first < 0:
        raise BitstreamError("no Annex B start code in the stream", 0)
    if stream[:first].strip(b"\x00"):
        raise BitstreamError("data before the first start code", 0)
    start = first + 3
    zero_byte = first > 0
    while start <= len(stream):
        nxt = stream.find(START_CODE, start)
        end = len(stream) if nxt < 0 else nxt
        data = stream[start:end].rstrip(b"\x00")
        if not data:
            if nxt < 0:
                break
            raise BitstreamError("empty NAL unit between start codes", start)
        yield start, 4 if zero_byte else 3, data
        if nxt < 0:
            break
        zero_byte = nxt > 0 and stream[nxt - 1] == 0
        start = nxt + 3
