"""Hostile control payloads: every field of the mission codecs' controls at and beyond its
limits, wrong sizes and element counts, bad ids and ``which`` values.

Each case records what TRY_EXT_CTRLS, S_EXT_CTRLS and then G_EXT_CTRLS did: errno,
error_idx, and the md5 of the payload handed back (the core sanitises in place), so two
drivers are comparable case by case.  Cases run in a fixed order on one file handle per
control; the state they leave behind is part of what is compared.
"""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterator
from typing import Any

from conform.device import Controls, ControlsError, ControlValue, VideoDevice
from conform.drivers import Nodes
from conform.transport import TransportError
from conform.uapi import C, ffi

MISSION_CONTROLS = (
    ("V4L2_CID_STATELESS_MPEG2_SEQUENCE", "struct v4l2_ctrl_mpeg2_sequence"),
    ("V4L2_CID_STATELESS_MPEG2_PICTURE", "struct v4l2_ctrl_mpeg2_picture"),
    ("V4L2_CID_STATELESS_MPEG2_QUANTISATION", "struct v4l2_ctrl_mpeg2_quantisation"),
    ("V4L2_CID_STATELESS_VP8_FRAME", "struct v4l2_ctrl_vp8_frame"),
    ("V4L2_CID_STATELESS_H264_SPS", "struct v4l2_ctrl_h264_sps"),
    ("V4L2_CID_STATELESS_H264_PPS", "struct v4l2_ctrl_h264_pps"),
    ("V4L2_CID_STATELESS_H264_SCALING_MATRIX", "struct v4l2_ctrl_h264_scaling_matrix"),
    ("V4L2_CID_STATELESS_H264_PRED_WEIGHTS", "struct v4l2_ctrl_h264_pred_weights"),
    ("V4L2_CID_STATELESS_H264_SLICE_PARAMS", "struct v4l2_ctrl_h264_slice_params"),
    ("V4L2_CID_STATELESS_H264_DECODE_PARAMS", "struct v4l2_ctrl_h264_decode_params"),
    ("V4L2_CID_STATELESS_HEVC_SPS", "struct v4l2_ctrl_hevc_sps"),
    ("V4L2_CID_STATELESS_HEVC_PPS", "struct v4l2_ctrl_hevc_pps"),
    ("V4L2_CID_STATELESS_HEVC_SLICE_PARAMS", "struct v4l2_ctrl_hevc_slice_params"),
    ("V4L2_CID_STATELESS_HEVC_SCALING_MATRIX", "struct v4l2_ctrl_hevc_scaling_matrix"),
    ("V4L2_CID_STATELESS_HEVC_DECODE_PARAMS", "struct v4l2_ctrl_hevc_decode_params"),
)
# Values around every limit the 6.12 core checks, plus the extremes of each type.
PROBE_VALUES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 16, 17, 25, 26, 31, 32, 33, 122, 244,
                -1, -6, -7, -12, -13, -26, -27, -62, -63)  # fmt: skip
# Bases that switch on the conditional checks: High 4:4:4 profile, tiles, PCM, B slices.
BASE_EDITS: dict[str, tuple[tuple[str, int], ...]] = {
    "struct v4l2_ctrl_h264_sps": (("profile_idc", 244),),
    "struct v4l2_ctrl_hevc_pps": (("flags", 0xFFFFFFFF),),
    "struct v4l2_ctrl_hevc_sps": (("flags", 0xFFFFFFFF),),
    "struct v4l2_ctrl_h264_slice_params": (("slice_type", 1),),
    "struct v4l2_ctrl_hevc_slice_params": (("slice_type", 0),),
}


def scalar_fields(ctype: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(C path, ctype) of every integer field; arrays contribute their first and last element."""
    for name, field in ctype.fields or ():
        path = f"{prefix}{name}"
        kind = field.type.kind
        if kind == "struct":
            yield from scalar_fields(field.type, path + ".")
        elif kind == "array":
            item = field.type.item
            for index in sorted({0, field.type.length - 1}):
                if item.kind == "primitive":
                    yield f"{path}[{index}]", item
                elif item.kind == "struct":
                    yield from scalar_fields(item, f"{path}[{index}].")
        elif kind == "primitive":
            yield path, field.type


def _limits(ctype: Any) -> tuple[int, int]:
    bits = 8 * ffi.sizeof(ctype)
    signed = ctype.cname in ("int8_t", "int16_t", "int32_t", "int64_t", "signed char", "short", "int", "long",
                             "long long")  # fmt: skip
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def _set(struct: Any, path: str, value: int) -> None:
    target = struct
    parts = path.replace("[", ".[").split(".")
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else getattr(target, part)
    last = parts[-1]
    if last.startswith("["):
        target[int(last[1:-1])] = value
    else:
        setattr(target, last, value)


def _outcome(call: Any) -> Any:
    try:
        call()
    except ControlsError as exc:
        return [errno.errorcode.get(exc.errno or 0), exc.error_idx]
    except TransportError as exc:
        return [errno.errorcode.get(exc.errno or 0)]
    return "ok"


def _digest(value: int | bytes) -> Any:
    return hashlib.md5(value).hexdigest()[:12] if isinstance(value, bytes) else value


def _payload_cases(controls: Controls, cid: int, struct: str) -> Iterator[tuple[str, Any]]:
    default = controls.get([cid], which=C.V4L2_CTRL_WHICH_DEF_VAL)[0].value
    assert isinstance(default, bytes)
    bases = [("default", default)]
    if struct in BASE_EDITS:
        edited = ffi.new(f"{struct} *")
        ffi.memmove(edited, default, len(default))
        for path, value in BASE_EDITS[struct]:
            _set(edited[0], path, value)
        bases.append(("edited", bytes(ffi.buffer(edited))))
    for base_name, base in bases:
        for path, ctype in scalar_fields(ffi.typeof(struct)):
            low, high = _limits(ctype)
            for value in sorted({v for v in PROBE_VALUES if low <= v <= high} | {low, high}):
                payload = ffi.new(f"{struct} *")
                ffi.memmove(payload, base, len(base))
                _set(payload[0], path, value)
                raw = bytes(ffi.buffer(payload))
                yield from _try_set_get(controls, cid, f"{struct} {base_name} {path}={value}", raw)


def _try_set_get(controls: Controls, cid: int, name: str, raw: bytes) -> Iterator[tuple[str, Any]]:
    """TRY, S, then G of one payload; TRY and S each get their own copy of it."""
    item = ControlValue(cid, raw)
    yield f"{name} try", _outcome(lambda: controls.try_([item]))
    yield f"{name} set", _outcome(lambda: controls.set([item]))
    yield f"{name} get", _get(controls, cid)


def _get(controls: Controls, cid: int) -> Any:
    try:
        return _digest(controls.get([cid])[0].value)
    except TransportError as exc:
        return [errno.errorcode.get(exc.errno or 0)]


def cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    for cid_name, struct in MISSION_CONTROLS:
        with VideoDevice(nodes.transport, nodes.video) as video:
            yield from _payload_cases(Controls(video), getattr(C, cid_name), struct)
    with VideoDevice(nodes.transport, nodes.video) as video:
        yield from _shape_cases(Controls(video))


def _shape_cases(controls: Controls) -> Iterator[tuple[str, Any]]:
    """Sizes, element counts, ids, menus, ``which`` and error_idx with several controls."""
    sps = C.V4L2_CID_STATELESS_H264_SPS
    sps_size = ffi.sizeof("struct v4l2_ctrl_h264_sps")
    slices, slice_size = (
        C.V4L2_CID_STATELESS_HEVC_SLICE_PARAMS,
        ffi.sizeof("struct v4l2_ctrl_hevc_slice_params"),
    )
    offsets, tge = C.V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS, C.V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY
    tge_size = ffi.sizeof("struct v4l2_ctrl_av1_tile_group_entry")
    for size in (0, 1, sps_size - 1, sps_size, sps_size + 1, 4 * sps_size):
        yield from _try_set_get(controls, sps, f"h264 sps size {size}", bytes(size))
    for cid, elem, limit in ((slices, slice_size, 600), (offsets, 4, 256), (tge, tge_size, 512)):
        for count in (0, 1, 2, limit - 1, limit, limit + 1):
            yield from _try_set_get(controls, cid, f"{cid:#x} {count} elements", bytes(elem * count))
        yield from _try_set_get(controls, cid, f"{cid:#x} ragged size", bytes(elem + 1))
    for mode in (-1, 0, 1, 2, 1 << 31):
        for cid in (C.V4L2_CID_STATELESS_H264_DECODE_MODE, C.V4L2_CID_STATELESS_HEVC_START_CODE):
            value = [ControlValue(cid, mode if mode < (1 << 31) else -(1 << 31))]
            yield f"menu {cid:#x}={mode} try", _outcome(lambda v=value: controls.try_(v))
            yield f"menu {cid:#x}={mode} set", _outcome(lambda v=value: controls.set(v))
    good = ControlValue(C.V4L2_CID_STATELESS_H264_DECODE_MODE, 1)
    bad_menu = ControlValue(C.V4L2_CID_STATELESS_H264_START_CODE, 5)
    bad_seq = ControlValue(
        C.V4L2_CID_STATELESS_MPEG2_SEQUENCE, bytes(ffi.sizeof("struct v4l2_ctrl_mpeg2_sequence"))
    )
    unknown = ControlValue(0x00A40BEE, 0)
    class_control = ControlValue(C.V4L2_CID_CODEC_STATELESS_CLASS, 0)
    batches = {
        "good,bad_menu": [good, bad_menu],
        "bad_menu,good": [bad_menu, good],
        "good,bad_seq": [good, bad_seq],
        "bad_seq,good": [bad_seq, good],
        "good,unknown": [good, unknown],
        "class": [class_control],
        "user class id": [ControlValue(C.V4L2_CID_BRIGHTNESS, 0)],
    }
    for label, batch in batches.items():
        yield f"batch {label} try", _outcome(lambda b=batch: controls.try_(b))
        yield f"batch {label} set", _outcome(lambda b=batch: controls.set(b))
        ids = [v.id for v in batch]
        yield f"batch {label} get", _outcome(lambda i=ids: controls.get(i))
