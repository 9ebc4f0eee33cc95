"""HEVC Annex B stream -> request stream, in any :class:`SliceMode`.

Frame-based (the default): one request per coded picture with the SPS, PPS, slice params
(a dynamic array, one element per slice segment), scaling matrix (when the SPS enables
scaling lists), decode params and, when slices have entry points, the entry point offsets
controls; the payload is every slice segment NAL unit of the picture, each behind a
``00 00 01`` start code (or none).  Slice-based: one request per slice segment NAL unit
(dependent ones too), its slice params a one-element array and its entry points alone;
every slice segment of a picture but the last holds the CAPTURE buffer.  Picture ``n``
(decoding order) gets timestamp ``(n + 1) * 1 ms`` (every slice of it the same) so no
reference is ever at 0; a DPB entry's ``timestamp`` is the timestamp of the picture it names.

The whole stream is parsed before the first request is returned, so a feature that
cannot be expressed gives :class:`HevcNotSupported` (and a corrupt stream a
:class:`BitstreamError` naming the byte offset) instead of a partial request stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from conform.codecs.bitreader import BitstreamError
from conform.codecs.frontend import RequestStream
from conform.codecs.hevc.controls import (
    decode_params_control,
    entry_point_offsets_control,
    pps_control,
    scaling_matrix_control,
    slice_params_control,
    sps_control,
)
from conform.codecs.hevc.dpb import Dpb
from conform.codecs.hevc.parser import (
    HevcNotSupported,
    Pps,
    SliceHeader,
    SliceType,
    Sps,
    Vps,
    parse_pps,
    parse_slice_header,
    parse_sps,
    parse_vps,
)
from conform.codecs.hevc.reader import NalUnitType, access_units, nal_units
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


@dataclass(frozen=True, slots=True)
class Picture:
    """One coded picture: its parameter sets and slice segments, and whether a sequence ends after it."""

    sps: Sps
    pps: Pps
    slices: tuple[SliceHeader, ...]
    end_of_sequence: bool = False

    @property
    def offset(self) -> int:
        return self.slices[0].nal.offset


def timestamp_ns(index: int) -> int:
    return (index + 1) * PICTURE_PERIOD_NS


def pictures(stream: bytes) -> Iterator[Picture]:
    """The coded pictures of an Annex B stream, one per access unit (§7.4.2.4.4)."""
    vpss: dict[int, Vps] = {}
    spss: dict[int, Sps] = {}
    ppss: dict[int, Pps] = {}
    for unit in access_units(nal_units(stream)):
        current: list[SliceHeader] = []
        previous: SliceHeader | None = None
        end = False
        for nal in unit:
            kind = nal.nal_unit_type
            if kind == NalUnitType.VPS:
                vps = parse_vps(nal)
                vpss[vps.vps_video_parameter_set_id] = vps
            elif kind == NalUnitType.SPS:
                sps = parse_sps(nal, vpss)
                spss[sps.sps_seq_parameter_set_id] = sps
            elif kind == NalUnitType.PPS:
                pps = parse_pps(nal, spss)
                ppss[pps.pps_pic_parameter_set_id] = pps
            elif kind in (NalUnitType.EOS, NalUnitType.EOB):
                end = True
            elif nal.is_vcl:
                hdr = parse_slice_header(nal, spss, ppss, previous)
                if hdr.header_bytes >= len(nal.data):
                    raise BitstreamError("slice segment without slice_segment_data()", nal.offset)
                if not current and not hdr.first_slice_segment_in_pic_flag:
                    raise BitstreamError(
                        "a picture whose first slice segment has first_slice_segment_in_pic_flag 0",
                        nal.offset,
                    )
                if current:
                    _check_same_picture(current[0], hdr)
                if not hdr.dependent_slice_segment_flag:
                    previous = hdr
                current.append(hdr)
        if current:
            pps = ppss[current[0].slice_pic_parameter_set_id]
            yield Picture(spss[pps.pps_seq_parameter_set_id], pps, tuple(current), end)


def _check_same_picture(first: SliceHeader, hdr: SliceHeader) -> None:
    """Slice segments of one picture share the PPS, NAL unit type and RPS (§7.4.7.1)."""
    same = (
        hdr.slice_pic_parameter_set_id == first.slice_pic_parameter_set_id
        and hdr.nal.nal_unit_type == first.nal.nal_unit_type
        and hdr.slice_pic_order_cnt_lsb == first.slice_pic_order_cnt_lsb
        and hdr.st_rps == first.st_rps
        and hdr.long_term == first.long_term
    )
    if not same:
        raise BitstreamError("slice segments of one picture disagree on PPS, NAL unit type, POC or RPS",
                             hdr.nal.offset)  # fmt: skip


def _check_supported(pic: Picture) -> None:
    sps, pps, offset = pic.sps, pic.pps, pic.offset
    if sps.range_extension_flags:
        raise HevcNotSupported(
            f"SPS range extension tools ({', '.join(sps.range_extension_flags)}): the V4L2 HEVC SPS "
            "has no fields for them", offset)  # fmt: skip
    if pps.range_extension_in_use:
        raise HevcNotSupported(
            f"PPS range extension tools ({', '.join(pps.range_extension_in_use)}): the V4L2 HEVC PPS "
            "has no fields for them", offset)  # fmt: skip
    if sps.sps_scc_extension_flag:
        raise HevcNotSupported("screen content coding (sps_scc_extension)", offset)
    if sps.sps_multilayer_extension_flag:
        raise HevcNotSupported("sps_multilayer_extension in a base-layer SPS", offset)


DECODE_MODES = {
    DecodeMode.FRAME_BASED: C.V4L2_STATELESS_HEVC_DECODE_MODE_FRAME_BASED,
    DecodeMode.SLICE_BASED: C.V4L2_STATELESS_HEVC_DECODE_MODE_SLICE_BASED,
}
START_CODES = {
    StartCode.ANNEX_B: C.V4L2_STATELESS_HEVC_START_CODE_ANNEX_B,
    StartCode.NONE: C.V4L2_STATELESS_HEVC_START_CODE_NONE,
}


def stream_format(sps: Sps, mode: SliceMode = FRAME_BASED_ANNEX_B) -> StreamFormat:
    return StreamFormat(
        C.V4L2_PIX_FMT_HEVC_SLICE,
        sps.pic_width_in_luma_samples,
        sps.pic_height_in_luma_samples,
        device_controls=(
            ControlValue(C.V4L2_CID_STATELESS_HEVC_DECODE_MODE, DECODE_MODES[mode.decode_mode]),
            ControlValue(C.V4L2_CID_STATELESS_HEVC_START_CODE, START_CODES[mode.start_code]),
        ),
    )


def buffer_flags(pic: Picture) -> int:
    kinds = {s.slice_type for s in pic.slices}
    if pic.slices[0].nal.is_irap:
        return int(C.V4L2_BUF_FLAG_KEYFRAME)
    if SliceType.B in kinds:
        return int(C.V4L2_BUF_FLAG_BFRAME)
    if SliceType.P in kinds:
        return int(C.V4L2_BUF_FLAG_PFRAME)
    return int(C.V4L2_BUF_FLAG_KEYFRAME)


def build(stream: bytes, mode: SliceMode = FRAME_BASED_ANNEX_B) -> RequestStream:
    """The request stream of an Annex B HEVC stream (frame-based, Annex B by default)."""
    pics = list(pictures(stream))
    if not pics:
        raise BitstreamError("the stream holds no slice segment NAL units", 0)
    if not pics[0].slices[0].nal.is_irap:
        raise BitstreamError("the stream does not begin with an IRAP picture", pics[0].offset)
    first = pics[0].sps
    fmt = stream_format(first, mode)
    dpb = Dpb()
    requests: list[DecodeRequest] = []
    index = 0
    for pic in pics:
        size = (pic.sps.pic_width_in_luma_samples, pic.sps.pic_height_in_luma_samples)
        if size != (first.pic_width_in_luma_samples, first.pic_height_in_luma_samples):
            raise HevcNotSupported("a change of picture size mid-stream", pic.offset)
        _check_supported(pic)
        if dpb.skips(pic.slices[0]):
            continue  # a RASL picture of a CRA that begins the stream: never decodable (§8.1.3)
        requests.extend(_requests(dpb, pic, index, mode))
        index += 1
        if pic.end_of_sequence:
            dpb.end_of_sequence()
    return RequestStream(fmt, tuple(requests))


def _requests(dpb: Dpb, pic: Picture, index: int, mode: SliceMode) -> list[DecodeRequest]:
    """The picture's request (frame-based) or requests (slice-based, one per slice segment)."""
    sps, pps, hdr = pic.sps, pic.pps, pic.slices[0]
    ts, flags = timestamp_ns(index), buffer_flags(pic)
    # Frame-based: one request of every slice segment; slice-based: one per segment.
    groups = [(s,) for s in pic.slices] if mode.slice_based else [pic.slices]
    out: list[DecodeRequest] = []
    try:
        poc = dpb.picture_order_count(sps, hdr)
        refs = dpb.reference_set(sps, hdr, poc)
        shared = [
            ControlValue.of(C.V4L2_CID_STATELESS_HEVC_SPS, sps_control(sps)),
            ControlValue.of(C.V4L2_CID_STATELESS_HEVC_PPS, pps_control(pps)),
        ]
        scaling = (
            ControlValue.of(
                C.V4L2_CID_STATELESS_HEVC_SCALING_MATRIX, scaling_matrix_control(pps.scaling_lists)
            )
            if sps.scaling_list_enabled_flag
            else None
        )
        decode = ControlValue.of(
            C.V4L2_CID_STATELESS_HEVC_DECODE_PARAMS, decode_params_control(pic.slices, poc, refs)
        )
        for n, slices in enumerate(groups):
            controls = [
                *shared,
                ControlValue.of(
                    C.V4L2_CID_STATELESS_HEVC_SLICE_PARAMS,
                    slice_params_control(slices, poc, refs, mode.prefix),
                ),
            ]
            if scaling is not None:
                controls.append(scaling)
            controls.append(decode)
            entries = entry_point_offsets_control(slices)
            if entries is not None:
                controls.append(ControlValue.of(C.V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS, entries))
            payload = b"".join(mode.prefix + s.nal.data for s in slices)
            # The CAPTURE buffer stays with the picture until its last slice segment is decoded.
            hold = C.V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF if n + 1 < len(groups) else 0
            out.append(DecodeRequest(tuple(controls), payload, ts, flags | hold))
        dpb.finish_picture(hdr, poc, ts, sps)
    except BitstreamError as exc:
        if exc.frame is None:
            raise BitstreamError(str(exc).rsplit(" (at ", 1)[0], exc.offset, index) from exc
        raise
    return out
