"""Codec front-ends by codec, and the serialised form of a request stream (``vectors dump``).

A front-end turns a coded stream into a :class:`RequestStream`.  :func:`dump` renders
one deterministically — every control field by field, payload sizes and md5s,
timestamps, flags — so two people can diff what a driver was given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from conform.codecs.stream import FRAME_BASED_ANNEX_B, DecodeRequest, SliceMode, StreamFormat
from conform.errors import ConformError
from conform.uapi import C, ffi, fourcc_str


@dataclass(frozen=True, slots=True)
class RequestStream:
    """A request stream and the format its OUTPUT queue needs."""

    format: StreamFormat
    requests: tuple[DecodeRequest, ...]


Builder = Callable[[bytes, SliceMode], RequestStream]


def _h264(stream: bytes, mode: SliceMode) -> RequestStream:
    from conform.codecs.h264.requests import build

    return build(stream, mode)


def _mpeg2(stream: bytes, mode: SliceMode) -> RequestStream:
    from conform.codecs.mpeg2.requests import build

    return build(stream)  # no decode-mode or start-code control: a slice mode has no meaning


def _hevc(stream: bytes, mode: SliceMode) -> RequestStream:
    from conform.codecs.hevc.requests import build

    return build(stream, mode)


def _vp8(stream: bytes, mode: SliceMode) -> RequestStream:
    from conform.codecs.vp8.requests import build

    return build(stream)  # one partition set per frame, no slices: the mode is ignored


FRONTENDS: dict[str, Builder] = {"H.264": _h264, "MPEG2_VIDEO": _mpeg2, "H.265": _hevc, "VP8": _vp8}
"""Front-end by codec, keyed by fluster's codec spelling (``Suite.codec.value``)."""


def build_request_stream(codec: str, stream: bytes, mode: SliceMode | None = None) -> RequestStream:
    """The request stream of ``stream``; raises NotSupportedError for a codec without a front-end.

    ``mode`` lays out the slices of H.264 and HEVC (frame-based, Annex B when None).
    """
    from conform.errors import NotSupportedError

    builder = FRONTENDS.get(codec)
    if builder is None:
        raise NotSupportedError(f"not supported: no {codec} front-end yet")
    return builder(stream, mode or FRAME_BASED_ANNEX_B)


CONTROL_STRUCTS: dict[int, str] = {
    C.V4L2_CID_STATELESS_H264_SPS: "struct v4l2_ctrl_h264_sps",
    C.V4L2_CID_STATELESS_H264_PPS: "struct v4l2_ctrl_h264_pps",
    C.V4L2_CID_STATELESS_H264_SCALING_MATRIX: "struct v4l2_ctrl_h264_scaling_matrix",
    C.V4L2_CID_STATELESS_H264_PRED_WEIGHTS: "struct v4l2_ctrl_h264_pred_weights",
    C.V4L2_CID_STATELESS_H264_SLICE_PARAMS: "struct v4l2_ctrl_h264_slice_params",
    C.V4L2_CID_STATELESS_H264_DECODE_PARAMS: "struct v4l2_ctrl_h264_decode_params",
    C.V4L2_CID_STATELESS_MPEG2_SEQUENCE: "struct v4l2_ctrl_mpeg2_sequence",
    C.V4L2_CID_STATELESS_MPEG2_PICTURE: "struct v4l2_ctrl_mpeg2_picture",
    C.V4L2_CID_STATELESS_MPEG2_QUANTISATION: "struct v4l2_ctrl_mpeg2_quantisation",
    C.V4L2_CID_STATELESS_HEVC_SPS: "struct v4l2_ctrl_hevc_sps",
    C.V4L2_CID_STATELESS_HEVC_PPS: "struct v4l2_ctrl_hevc_pps",
    C.V4L2_CID_STATELESS_HEVC_SCALING_MATRIX: "struct v4l2_ctrl_hevc_scaling_matrix",
    C.V4L2_CID_STATELESS_HEVC_DECODE_PARAMS: "struct v4l2_ctrl_hevc_decode_params",
    C.V4L2_CID_STATELESS_VP8_FRAME: "struct v4l2_ctrl_vp8_frame",
}
"""The struct behind each compound control (other codecs add theirs)."""

CONTROL_NAMES: dict[int, str] = {
    C.V4L2_CID_STATELESS_H264_DECODE_MODE: "H264_DECODE_MODE",
    C.V4L2_CID_STATELESS_H264_START_CODE: "H264_START_CODE",
    C.V4L2_CID_STATELESS_H264_SPS: "H264_SPS",
    C.V4L2_CID_STATELESS_H264_PPS: "H264_PPS",
    C.V4L2_CID_STATELESS_H264_SCALING_MATRIX: "H264_SCALING_MATRIX",
    C.V4L2_CID_STATELESS_H264_PRED_WEIGHTS: "H264_PRED_WEIGHTS",
    C.V4L2_CID_STATELESS_H264_SLICE_PARAMS: "H264_SLICE_PARAMS",
    C.V4L2_CID_STATELESS_H264_DECODE_PARAMS: "H264_DECODE_PARAMS",
    C.V4L2_CID_STATELESS_HEVC_DECODE_MODE: "HEVC_DECODE_MODE",
    C.V4L2_CID_STATELESS_HEVC_START_CODE: "HEVC_START_CODE",
    C.V4L2_CID_STATELESS_HEVC_SPS: "HEVC_SPS",
    C.V4L2_CID_STATELESS_HEVC_PPS: "HEVC_PPS",
    C.V4L2_CID_STATELESS_HEVC_SLICE_PARAMS: "HEVC_SLICE_PARAMS",
    C.V4L2_CID_STATELESS_HEVC_SCALING_MATRIX: "HEVC_SCALING_MATRIX",
    C.V4L2_CID_STATELESS_HEVC_DECODE_PARAMS: "HEVC_DECODE_PARAMS",
    C.V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS: "HEVC_ENTRY_POINT_OFFSETS",
}


class DumpError(ConformError):
    """A control payload does not have the size of its struct."""


def _is_zero(value: Any) -> bool:
    if isinstance(value, int):
        return value == 0
    return not any(bytes(ffi.buffer(ffi.addressof(value) if ffi.typeof(value).kind == "struct" else value)))


def _array(value: Any) -> str:
    items = [value[i] for i in range(len(value))]
    if items and not isinstance(items[0], int):
        return "[" + ", ".join(_array(i) for i in items) + "]"
    end = len(items)
    while end > 0 and items[end - 1] == 0:
        end -= 1
    text = ", ".join(str(i) for i in items[:end])
    if end < len(items):
        text += (", " if text else "") + f"0 x{len(items) - end}"
    return "[" + text + "]"


def _fields(value: Any, prefix: str) -> Iterator[str]:
    """``name: value`` lines for a cffi struct; arrays of structs one line per non-zero element."""
    for name, fld in ffi.typeof(value).fields:
        if name.startswith("reserved") or name == "padding":
            continue
        member = getattr(value, name)
        kind = fld.type.kind
        if kind == "struct":
            yield from _fields(member, f"{prefix}{name}.")
        elif kind == "array" and fld.type.item.kind == "struct":
            zero = 0
            for i in range(fld.type.length):
                if _is_zero(member[i]):
                    zero += 1
                    continue
                inner = " ".join(line.replace(": ", "=") for line in _fields(member[i], ""))
                yield f"{prefix}{name}[{i}]: {inner}"
            if zero:
                yield f"{prefix}{name}: {zero} of {fld.type.length} all zero"
        elif kind == "array":
            yield f"{prefix}{name}: {_array(member)}"
        elif name == "flags":
            yield f"{prefix}{name}: 0x{member:x}"
        else:
            yield f"{prefix}{name}: {member}"


def control_lines(cid: int, value: int | bytes) -> Iterator[str]:
    name = CONTROL_NAMES.get(cid, f"0x{cid:08x}")
    if isinstance(value, int):
        yield f"  {name} = {value}"
        return
    struct = CONTROL_STRUCTS.get(cid)
    if struct is None:
        yield f"  {name}: {len(value)} bytes md5 {hashlib.md5(value).hexdigest()}"
        return
    size = ffi.sizeof(struct)
    if len(value) != size:
        raise DumpError(f"control {name}: {len(value)} bytes, {struct} has {size}")
    obj = ffi.new(f"{struct} *")
    ffi.memmove(obj, value, size)
    yield f"  {name} ({struct}, {size} bytes):"
    for line in _fields(obj[0], ""):
        yield f"    {line}"


def _format_lines(label: str, f: StreamFormat) -> Iterator[str]:
    yield f"{label}: {fourcc_str(f.pixelformat)} {f.width}x{f.height} colorspace {f.colorspace}"
    for ctrl in f.device_controls:
        yield from control_lines(ctrl.id, ctrl.value)


def dump(rs: RequestStream) -> Iterator[str]:
    """The request stream as text, one line per field."""
    yield from _format_lines("format", rs.format)
    yield f"requests: {len(rs.requests)}"
    for n, req in enumerate(rs.requests):
        if req.new_format is not None:
            yield from _format_lines(f"request {n} new format", req.new_format)
        yield (
            f"request {n}: timestamp_ns {req.timestamp_ns} flags 0x{req.flags:08x} "
            f"payload {len(req.payload)} bytes "
            f"md5 {hashlib.md5(req.payload).hexdigest()}"
        )
        for ctrl in req.controls:
            yield from control_lines(ctrl.id, ctrl.value)
