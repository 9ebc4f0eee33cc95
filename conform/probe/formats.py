"""Format negotiation over a matrix of fourccs, sizes and colorimetry (visl-behaviour §4).

Every case runs on a fresh file handle so its outcome depends on nothing before it; the
result of each is the format the driver handed back, or the errno it failed with.  Two
drivers are format-identical when their case lists are equal.
"""

from __future__ import annotations

import dataclasses
import errno
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from conform.device import PixFormatMplane, PlaneFormat, VideoDevice
from conform.drivers import Nodes
from conform.transport import TransportError
from conform.uapi import C, fourcc

OUT, CAP = C.V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, C.V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
CODED = ("SFWH", "MG2S", "VP8F", "VP9F", "S264", "S265", "AV1F")
DECODED = ("NV12", "YU12")
ALIEN = ("XXXX", "\0\0\0\0")
# Each limit of §4.1, one below and one above it, odd sizes, zero and the u32 extreme.
SIZES = (
    (0, 0), (1, 1), (15, 15), (16, 16), (17, 17), (63, 63), (64, 64), (100, 80), (640, 360), (641, 361),
    (1920, 1080), (1920, 1152), (1921, 1153), (4096, 2160), (4096, 2304), (4097, 2305), (8192, 4352),
    (8193, 4353), (16383, 16383), (16384, 16384), (0xFFFFFFFF, 0xFFFFFFFF),
)  # fmt: skip
# (colorspace, ycbcr_enc, quantization, xfer_func): default, REC709, sRGB full range, all out of
# range, the highest valid values, each one past its range, and a default colorspace with
# explicit parts.
COLORIMETRY = (
    (0, 0, 0, 0), (3, 2, 2, 1), (8, 1, 1, 2), (255, 255, 255, 255),
    (12, 8, 2, 6), (13, 9, 3, 7), (0, 2, 2, 1), (3, 128, 0, 0),
)  # fmt: skip
# (sizeimage, bytesperline, flags) userspace may leave in the request.
PLANE_HINTS = ((0, 0, 0), (1, 17, 1), (1_000_000, 0, 0))


def outcome(call: Callable[..., PixFormatMplane], *args: Any) -> dict[str, Any] | str:
    """The format ``call(*args)`` returned, as a dict, or the errno name it failed with."""
    try:
        return dataclasses.asdict(call(*args))
    except TransportError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc.errno))


def _request(
    code: str, size: tuple[int, int], color: tuple[int, ...], hint: tuple[int, int, int]
) -> PixFormatMplane:
    colorspace, ycbcr_enc, quantization, xfer_func = color
    sizeimage, bytesperline, flags = hint
    return PixFormatMplane(
        size[0], size[1], fourcc(code), field=C.V4L2_FIELD_INTERLACED, colorspace=colorspace,
        planes=(PlaneFormat(sizeimage, bytesperline),), flags=flags, ycbcr_enc=ycbcr_enc,
        quantization=quantization, xfer_func=xfer_func,
    )  # fmt: skip


def cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    """(case name, outcome) for the whole matrix, in a fixed order."""

    def fresh() -> VideoDevice:
        return VideoDevice(nodes.transport, nodes.video)

    with fresh() as video:
        yield "querycap", dataclasses.asdict(video.querycap())
        for label, buf_type in (("OUTPUT", OUT), ("CAPTURE", CAP)):
            yield f"enum_fmt {label}", [dataclasses.asdict(f) for f in video.enum_fmt(buf_type)]
            yield f"g_fmt {label} at open", outcome(video.g_fmt, buf_type)
        for code in CODED + DECODED + ALIEN:
            try:
                sizes: Any = [dataclasses.asdict(s) for s in video.enum_framesizes(fourcc(code))]
            except TransportError as exc:
                sizes = errno.errorcode.get(exc.errno or 0)
            yield f"enum_framesizes {code!r}", sizes
        for buf_type in (C.V4L2_BUF_TYPE_VIDEO_CAPTURE, C.V4L2_BUF_TYPE_VIDEO_OUTPUT, 0, 99):
            plain = _request("S264", (64, 64), (0, 0, 0, 0), (0, 0, 0))
            yield f"try_fmt type {buf_type}", outcome(video.try_fmt, buf_type, plain)
        for code, size, color, hint in itertools.product(
            CODED + DECODED + ALIEN, SIZES, COLORIMETRY, PLANE_HINTS
        ):
            request = _request(code, size, color, hint)
            yield f"try_fmt OUTPUT {code!r} {size} {color} {hint}", outcome(video.try_fmt, OUT, request)
    for code, size, color in itertools.product(CODED + ALIEN, SIZES, COLORIMETRY):
        with fresh() as video:
            name = f"s_fmt OUTPUT {code!r} {size} {color}"
            yield name, outcome(video.s_fmt, OUT, _request(code, size, color, (0, 0, 0)))
            yield f"{name}: g_fmt CAPTURE", outcome(video.g_fmt, CAP)
    for coded, code, size, color in itertools.product(("MG2S", "VP8F", "S264"), DECODED + ALIEN, SIZES,
                                                      COLORIMETRY[1:3]):  # fmt: skip
        with fresh() as video:
            video.s_fmt(OUT, _request(coded, (640, 480), (3, 0, 0, 0), (0, 0, 0)))
            name = f"after {coded}: try_fmt CAPTURE {code!r} {size} {color}"
            request = _request(code, size, color, (5, 3, 0))
            yield name, outcome(video.try_fmt, CAP, request)
            yield name.replace("try_fmt", "s_fmt"), outcome(video.s_fmt, CAP, request)
            yield f"{name}: g_fmt CAPTURE", outcome(video.g_fmt, CAP)
