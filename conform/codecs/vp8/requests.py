"""VP8 IVF stream -> request stream (``V4L2_PIX_FMT_VP8_FRAME``).

One request per frame: the ``V4L2_CID_STATELESS_VP8_FRAME`` control and the whole frame
(frame tag, first partition, partition sizes, DCT partitions) as the OUTPUT payload.
Frame ``n`` (file order) gets timestamp ``(n + 1) * 1 ms``, so no reference is ever at 0;
``last/golden/alt_frame_ts`` name the frames the reference buffers hold.

The whole stream is parsed before the first request is returned, so a feature that
cannot be expressed gives :class:`VP8NotSupported` (and a corrupt stream a
:class:`BitstreamError` naming the byte offset) instead of a partial request stream.
A key frame that changes the picture size carries the new OUTPUT format
(``DecodeRequest.new_format``): the session stops both queues, sets it and allocates
again, as a stateless client renegotiates CAPTURE on a resolution change.
"""

from __future__ import annotations

from conform.codecs.bitreader import BitstreamError
from conform.codecs.frontend import RequestStream
from conform.codecs.stream import DecodeRequest, StreamFormat
from conform.codecs.vp8.controls import References, frame_control
from conform.codecs.vp8.parser import FrameHeader, StreamState, parse_frame
from conform.codecs.vp8.reader import IvfFrame, frames
from conform.device import ControlValue
from conform.uapi import C

FRAME_PERIOD_NS = 1_000_000


def timestamp_ns(index: int) -> int:
    return (index + 1) * FRAME_PERIOD_NS


def headers(stream: bytes) -> list[tuple[IvfFrame, FrameHeader]]:
    """Every frame of an IVF stream with its parsed header."""
    state = StreamState()
    return [(frame, parse_frame(frame, state)) for frame in frames(stream)]


def stream_format(hdr: FrameHeader) -> StreamFormat:
    # color_space 0 is "YUV similar to ITU-R BT.601" (RFC 6386 §9.2); 1 is reserved.
    return StreamFormat(C.V4L2_PIX_FMT_VP8_FRAME, hdr.width, hdr.height, C.V4L2_COLORSPACE_SMPTE170M)


def buffer_flags(hdr: FrameHeader) -> int:
    return int(C.V4L2_BUF_FLAG_KEYFRAME if hdr.key_frame else C.V4L2_BUF_FLAG_PFRAME)


def build(stream: bytes) -> RequestStream:
    """The request stream of an IVF VP8 stream."""
    parsed = headers(stream)
    if not parsed:
        raise BitstreamError("the IVF file holds no frames", 0)
    first = parsed[0][1]
    refs = References()
    requests: list[DecodeRequest] = []
    size = (first.width, first.height)
    for frame, hdr in parsed:
        # Only a key frame codes a size (RFC 6386 9.1), so a change comes with one.
        new_format = stream_format(hdr) if (hdr.width, hdr.height) != size else None
        size = (hdr.width, hdr.height)
        ts = timestamp_ns(frame.index)
        control = frame_control(hdr, refs)
        controls = (ControlValue.of(C.V4L2_CID_STATELESS_VP8_FRAME, control),)
        requests.append(DecodeRequest(controls, frame.data, ts, buffer_flags(hdr), new_format))
        refs = refs.after(hdr, ts)
    return RequestStream(stream_format(first), tuple(requests))
