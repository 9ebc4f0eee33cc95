"""H.264 Annex B stream -> request stream, in any :class:`SliceMode`.

Frame-based (the default): one request per primary coded picture with the SPS, PPS,
scaling matrix (when the picture uses scaling lists) and decode params controls, and
every slice NAL unit of the picture, each behind a ``00 00 01`` start code (or none).
Slice-based: one request per slice NAL unit with the same controls plus that slice's
slice params and, when it has a pred weight table, pred weights; every slice of a picture
but the last holds the CAPTURE buffer.  Picture ``n`` (decoding order) gets timestamp
``(n + 1) * 1 ms`` (every slice of it the same) so no reference is ever at 0;
``reference_ts`` of a DPB entry is the timestamp of the picture it names.

The whole stream is parsed before the first request is returned, so a feature that
cannot be expressed gives :class:`H264NotSupported` (and a corrupt stream a
:class:`BitstreamError` naming the byte offset) instead of a partial request stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from conform.codecs.bitreader import BitstreamError
from conform.codecs.frontend import RequestStream
from conform.codecs.h264.controls import (
    decode_params_control,
    dpb_indices,
    has_scaling_matrix,
    pps_control,
    pred_weights_control,
    scaling_matrix_control,
    slice_params_control,
    sps_control,
)
from conform.codecs.h264.dpb import Dpb, PictureOrder, RefFrame
from conform.codecs.h264.parser import (
    H264NotSupported,
    Pps,
    SliceHeader,
    SliceType,
    Sps,
    first_slice_of_new_picture,
    parse_pps,
    parse_slice_header,
    parse_sps,
)
from conform.codecs.h264.reader import NalUnitType, nal_units
from conform.codecs.stream import (
    FRAME_BASED_ANNEX_B,
    DecodeMode,
    DecodeRequest,
    SliceMode,
    StartCode,
    StreamFormat,
)
from conform.device import ControlValue
from conform.uapi import C

PICTURE_PERIOD_NS = 1_000_000
# Non-VCL units that, after a VCL unit, begin a new access unit (§7.4.1.2.3).
AU_STARTERS = frozenset((6, 7, 8, 9, 14, 15, 16, 17, 18))


@dataclass(frozen=True, slots=True)
class Picture:
    """One primary coded picture: its parameter sets and (non-redundant) slices."""

    index: int
    sps: Sps
    pps: Pps
    slices: tuple[SliceHeader, ...]

    @property
    def offset(self) -> int:
        return self.slices[0].nal.offset


def timestamp_ns(index: int) -> int:
    return (index + 1) * PICTURE_PERIOD_NS


def pictures(stream: bytes) -> Iterator[Picture]:
    """Group the slices of an Annex B stream into primary coded pictures (§7.4.1.2)."""
    spss: dict[int, Sps] = {}
    ppss: dict[int, Pps] = {}
    current: list[SliceHeader] = []
    pic_sps: Sps | None = None
    pic_pps: Pps | None = None
    boundary = False
    count = 0

    def finish() -> Picture:
        nonlocal count, current
        assert pic_sps is not None and pic_pps is not None  # set with the first slice
        pic = Picture(count, pic_sps, pic_pps, tuple(current))
        count += 1
        current = []
        return pic

    for nal in nal_units(stream):
        kind = nal.nal_unit_type
        if kind in AU_STARTERS and current:
            boundary = True
        if kind == NalUnitType.SPS:
            sps = parse_sps(nal)
            spss[sps.seq_parameter_set_id] = sps
        elif kind == NalUnitType.PPS:
            pps = parse_pps(nal, spss)
            ppss[pps.pic_parameter_set_id] = pps
        elif kind in (NalUnitType.SLICE_DATA_A, NalUnitType.SLICE_DATA_B, NalUnitType.SLICE_DATA_C):
            raise H264NotSupported("slice data partitioning (Extended profile)", nal.offset)
        elif kind in (NalUnitType.SLICE, NalUnitType.SLICE_IDR):
            hdr = parse_slice_header(nal, spss, ppss)
            if hdr.redundant_pic_cnt > 0:
                continue  # a redundant picture: decoders without losses skip it (§7.4.3)
            pps = ppss[hdr.pic_parameter_set_id]
            sps = spss[pps.seq_parameter_set_id]
            if current and (boundary or first_slice_of_new_picture(current[-1], hdr, sps)):
                yield finish()
            boundary = False
            if not current:
                pic_sps, pic_pps = sps, pps
                _check_supported(sps, pps, hdr)
            elif hdr.first_mb_in_slice <= current[-1].first_mb_in_slice:
                raise H264NotSupported("arbitrary slice order (ASO)", nal.offset)
            current.append(hdr)
    if current:
        yield finish()


def _check_supported(sps: Sps, pps: Pps, hdr: SliceHeader) -> None:
    offset = hdr.nal.offset
    if pps.num_slice_groups_minus1 > 0:
        raise H264NotSupported("flexible macroblock ordering (FMO, slice groups)", offset)
    if hdr.field_pic_flag:
        raise H264NotSupported("field pictures (PAFF)", offset)
    if sps.separate_colour_plane_flag:
        raise H264NotSupported("separate colour planes (4:4:4)", offset)


DECODE_MODES = {
    DecodeMode.FRAME_BASED: C.V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED,
    DecodeMode.SLICE_BASED: C.V4L2_STATELESS_H264_DECODE_MODE_SLICE_BASED,
}
START_CODES = {
    StartCode.ANNEX_B: C.V4L2_STATELESS_H264_START_CODE_ANNEX_B,
    StartCode.NONE: C.V4L2_STATELESS_H264_START_CODE_NONE,
}


def stream_format(sps: Sps, mode: SliceMode = FRAME_BASED_ANNEX_B) -> StreamFormat:
    return StreamFormat(
        C.V4L2_PIX_FMT_H264_SLICE,
        sps.width_mbs * 16,
        sps.height_mbs * 16,
        device_controls=(
            ControlValue(C.V4L2_CID_STATELESS_H264_DECODE_MODE, DECODE_MODES[mode.decode_mode]),
            ControlValue(C.V4L2_CID_STATELESS_H264_START_CODE, START_CODES[mode.start_code]),
        ),
    )


def buffer_flags(pic: Picture) -> int:
    kinds = {s.kind for s in pic.slices}
    if pic.slices[0].idr:
        return int(C.V4L2_BUF_FLAG_KEYFRAME)
    if SliceType.B in kinds:
        return int(C.V4L2_BUF_FLAG_BFRAME)
    if kinds & {SliceType.P, SliceType.SP}:
        return int(C.V4L2_BUF_FLAG_PFRAME)
    return int(C.V4L2_BUF_FLAG_KEYFRAME)


def build(stream: bytes, mode: SliceMode = FRAME_BASED_ANNEX_B) -> RequestStream:
    """The request stream of an Annex B H.264 stream (frame-based, Annex B by default)."""
    pics = tuple(pictures(stream))
    if not pics:
        raise BitstreamError("the stream holds no slice NAL units", 0)
    first = pics[0].sps
    if not pics[0].slices[0].idr:
        raise BitstreamError("the stream does not begin with an IDR picture", pics[0].offset)
    fmt = stream_format(first, mode)
    dpb = Dpb()
    requests: list[DecodeRequest] = []
    for pic in pics:
        if (pic.sps.width_mbs, pic.sps.height_mbs) != (first.width_mbs, first.height_mbs):
            raise H264NotSupported("a change of picture size mid-stream", pic.offset)
        requests.extend(_requests(dpb, pic, mode))
    return RequestStream(fmt, tuple(requests))


def _requests(dpb: Dpb, pic: Picture, mode: SliceMode) -> list[DecodeRequest]:
    """The picture's request (frame-based) or requests (slice-based, one per slice)."""
    sps, pps, hdr = pic.sps, pic.pps, pic.slices[0]
    ts, flags = timestamp_ns(pic.index), buffer_flags(pic)
    try:
        dpb.fill_frame_num_gap(sps, hdr)
        order, frame_num_offset = dpb.picture_order(sps, hdr)
        refs: list[RefFrame] = [] if hdr.idr else dpb.references()
        controls = [
            ControlValue.of(C.V4L2_CID_STATELESS_H264_SPS, sps_control(sps)),
            ControlValue.of(C.V4L2_CID_STATELESS_H264_PPS, pps_control(sps, pps)),
        ]
        if has_scaling_matrix(sps, pps):
            controls.append(
                ControlValue.of(C.V4L2_CID_STATELESS_H264_SCALING_MATRIX, scaling_matrix_control(pps))
            )
        decode = ControlValue.of(
            C.V4L2_CID_STATELESS_H264_DECODE_PARAMS, decode_params_control(sps, pic.slices, order, refs)
        )
        if mode.slice_based:
            indices = dpb_indices(dpb.refs)  # the DPB before the picture is marked, as its lists see it
            out = []
            for n, slc in enumerate(pic.slices):
                own = _slice_controls(dpb, sps, slc, order, indices)
                # The CAPTURE buffer stays with the picture until its last slice is decoded.
                hold = C.V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF if n + 1 < len(pic.slices) else 0
                out.append(
                    DecodeRequest((*controls, *own, decode), mode.prefix + slc.nal.data, ts, flags | hold)
                )
        else:
            payload = b"".join(mode.prefix + s.nal.data for s in pic.slices)
            out = [DecodeRequest((*controls, decode), payload, ts, flags)]
        dpb.finish_picture(sps, hdr, order, frame_num_offset, ts)
    except BitstreamError as exc:
        if exc.frame is None:
            raise BitstreamError(str(exc).rsplit(" (at ", 1)[0], exc.offset, pic.index) from exc
        raise
    return out


def _slice_controls(
    dpb: Dpb, sps: Sps, hdr: SliceHeader, order: PictureOrder, indices: list[int]
) -> list[ControlValue]:
    """What slice-based mode adds for one slice: its pred weights (when it has a table) and slice params."""
    own = []
    if hdr.pred_weight_table is not None:
        table = pred_weights_control(hdr.pred_weight_table)
        own.append(ControlValue.of(C.V4L2_CID_STATELESS_H264_PRED_WEIGHTS, table))
    lists = dpb.ref_pic_lists(sps, hdr, order)
    own.append(
        ControlValue.of(C.V4L2_CID_STATELESS_H264_SLICE_PARAMS, slice_params_control(hdr, lists, indices))
    )
    return own
