"""The V4L2 stateless H.264 controls (linux/v4l2-controls.h), one builder per control.

Only this module knows V4L2: it turns parser records and DPB state into the cffi structs
of ``V4L2_CID_STATELESS_H264_*`` (as cros-codecs keeps
src/device/v4l2/stateless/controls/h264.rs apart from its parser).  Semantics follow
Documentation/userspace-api/media/v4l/ext-ctrls-codec-stateless.rst.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conform.codecs.h264.dpb import PictureOrder, RefFrame, RefPicList
from conform.codecs.h264.parser import Pps, PredWeightTable, SliceHeader, SliceType, Sps
from conform.uapi import C, ffi

# Zig-zag scan index -> raster index (Table 8-12 / 8-13, frame scan): V4L2 wants raster order.
ZIGZAG_4X4 = (0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15)
ZIGZAG_8X8 = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)  # fmt: skip


def sps_control(sps: Sps) -> Any:
    c = ffi.new("struct v4l2_ctrl_h264_sps *")
    c.profile_idc = sps.profile_idc
    c.constraint_set_flags = sps.constraint_set_flags
    c.level_idc = sps.level_idc
    c.seq_parameter_set_id = sps.seq_parameter_set_id
    c.chroma_format_idc = sps.chroma_format_idc
    c.bit_depth_luma_minus8 = sps.bit_depth_luma_minus8
    c.bit_depth_chroma_minus8 = sps.bit_depth_chroma_minus8
    c.log2_max_frame_num_minus4 = sps.log2_max_frame_num_minus4
    c.pic_order_cnt_type = sps.pic_order_cnt_type
    c.log2_max_pic_order_cnt_lsb_minus4 = sps.log2_max_pic_order_cnt_lsb_minus4
    c.max_num_ref_frames = sps.max_num_ref_frames
    c.num_ref_frames_in_pic_order_cnt_cycle = len(sps.offset_for_ref_frame)
    for i, offset in enumerate(sps.offset_for_ref_frame):
        c.offset_for_ref_frame[i] = offset
    c.offset_for_non_ref_pic = sps.offset_for_non_ref_pic
    c.offset_for_top_to_bottom_field = sps.offset_for_top_to_bottom_field
    c.pic_width_in_mbs_minus1 = sps.pic_width_in_mbs_minus1
    c.pic_height_in_map_units_minus1 = sps.pic_height_in_map_units_minus1
    flags = 0
    for on, flag in (
        (sps.separate_colour_plane_flag, C.V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE),
        (sps.qpprime_y_zero_transform_bypass_flag, C.V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS),
        (sps.delta_pic_order_always_zero_flag, C.V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO),
        (sps.gaps_in_frame_num_value_allowed_flag, C.V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED),
        (sps.frame_mbs_only_flag, C.V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY),
        (sps.mb_adaptive_frame_field_flag, C.V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD),
        (sps.direct_8x8_inference_flag, C.V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE),
    ):
        if on:
            flags |= flag
    c.flags = flags
    return c


def has_scaling_matrix(sps: Sps, pps: Pps) -> bool:
    """Whether the picture uses scaling lists (V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT)."""
    return sps.seq_scaling_matrix_present_flag or pps.pic_scaling_matrix_present_flag


def pps_control(sps: Sps, pps: Pps) -> Any:
    c = ffi.new("struct v4l2_ctrl_h264_pps *")
    c.pic_parameter_set_id = pps.pic_parameter_set_id
    c.seq_parameter_set_id = pps.seq_parameter_set_id
    c.num_slice_groups_minus1 = pps.num_slice_groups_minus1
    c.num_ref_idx_l0_default_active_minus1 = pps.num_ref_idx_l0_default_active_minus1
    c.num_ref_idx_l1_default_active_minus1 = pps.num_ref_idx_l1_default_active_minus1
    c.weighted_bipred_idc = pps.weighted_bipred_idc
    c.pic_init_qp_minus26 = pps.pic_init_qp_minus26
    c.pic_init_qs_minus26 = pps.pic_init_qs_minus26
    c.chroma_qp_index_offset = pps.chroma_qp_index_offset
    c.second_chroma_qp_index_offset = pps.second_chroma_qp_index_offset
    flags = 0
    for on, flag in (
        (pps.entropy_coding_mode_flag, C.V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE),
        (pps.bottom_field_pic_order_in_frame_present_flag,
         C.V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT),
        (pps.weighted_pred_flag, C.V4L2_H264_PPS_FLAG_WEIGHTED_PRED),
        (pps.deblocking_filter_control_present_flag, C.V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT),
        (pps.constrained_intra_pred_flag, C.V4L2_H264_PPS_FLAG_CONSTRAINED_INTRA_PRED),
        (pps.redundant_pic_cnt_present_flag, C.V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT),
        (pps.transform_8x8_mode_flag, C.V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE),
        (has_scaling_matrix(sps, pps), C.V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT),
    ):  # fmt: skip
        if on:
            flags |= flag
    c.flags = flags
    return c


def scaling_matrix_control(pps: Pps) -> Any:
    """The lists in effect for the picture, in raster order (Intra Y, Cb, Cr, Inter Y, Cb, Cr
    for 4x4; Intra Y, Inter Y, Intra Cb, Inter Cb, Intra Cr, Inter Cr for 8x8)."""
    c = ffi.new("struct v4l2_ctrl_h264_scaling_matrix *")
    for i, lst in enumerate(pps.scaling_matrix.lists_4x4):
        for j, value in enumerate(lst):
            c.scaling_list_4x4[i][ZIGZAG_4X4[j]] = value
    for i, lst in enumerate(pps.scaling_matrix.lists_8x8):
        for j, value in enumerate(lst):
            c.scaling_list_8x8[i][ZIGZAG_8X8[j]] = value
    return c


def dpb_entry(entry: Any, ref: RefFrame, frame_num: int, sps: Sps) -> None:
    """One ``v4l2_h264_dpb_entry`` for a reference frame seen from picture ``frame_num``."""
    entry.reference_ts = ref.timestamp_ns
    if ref.long_term_frame_idx is not None:
        entry.pic_num = ref.long_term_frame_idx  # LongTermPicNum of a frame (8-29)
        entry.frame_num = ref.long_term_frame_idx
    else:
        wrap = ref.frame_num - sps.max_frame_num if ref.frame_num > frame_num else ref.frame_num
        entry.pic_num = wrap & 0xFFFFFFFF  # PicNum = FrameNumWrap (8-28), may be negative
        entry.frame_num = ref.frame_num
    entry.fields = C.V4L2_H264_FRAME_REF
    entry.top_field_order_cnt = ref.top_field_order_cnt
    entry.bottom_field_order_cnt = ref.bottom_field_order_cnt
    flags = C.V4L2_H264_DPB_ENTRY_FLAG_VALID | C.V4L2_H264_DPB_ENTRY_FLAG_ACTIVE
    if ref.long_term:
        flags |= C.V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM
    entry.flags = flags


def decode_params_control(
    sps: Sps, slices: Sequence[SliceHeader], order: PictureOrder, refs: Sequence[RefFrame]
) -> Any:
    hdr = slices[0]
    c = ffi.new("struct v4l2_ctrl_h264_decode_params *")
    for slot, ref in enumerate(refs):
        dpb_entry(c.dpb[slot], ref, hdr.frame_num, sps)
    c.nal_ref_idc = hdr.nal_ref_idc
    c.frame_num = hdr.frame_num
    c.top_field_order_cnt = order.top_field_order_cnt
    c.bottom_field_order_cnt = order.bottom_field_order_cnt
    c.idr_pic_id = hdr.idr_pic_id
    c.pic_order_cnt_lsb = hdr.pic_order_cnt_lsb
    c.delta_pic_order_cnt_bottom = hdr.delta_pic_order_cnt_bottom
    c.delta_pic_order_cnt0 = hdr.delta_pic_order_cnt[0]
    c.delta_pic_order_cnt1 = hdr.delta_pic_order_cnt[1]
    c.dec_ref_pic_marking_bit_size = hdr.dec_ref_pic_marking_bit_size
    c.pic_order_cnt_bit_size = hdr.pic_order_cnt_bit_size
    c.slice_group_change_cycle = hdr.slice_group_change_cycle
    c.flags = decode_flags(slices)
    return c


def decode_flags(slices: Sequence[SliceHeader]) -> int:
    hdr = slices[0]
    flags = C.V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC if hdr.idr else 0
    if hdr.field_pic_flag:
        flags |= C.V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC
        if hdr.bottom_field_flag:
            flags |= C.V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD
    kinds = {s.kind for s in slices}
    if SliceType.B in kinds:
        flags |= C.V4L2_H264_DECODE_PARAM_FLAG_BFRAME
    elif kinds & {SliceType.P, SliceType.SP}:
        flags |= C.V4L2_H264_DECODE_PARAM_FLAG_PFRAME
    return flags


def pred_weights_control(table: PredWeightTable) -> Any:
    """``v4l2_ctrl_h264_pred_weights`` of one slice (slice-based mode)."""
    c = ffi.new("struct v4l2_ctrl_h264_pred_weights *")
    c.luma_log2_weight_denom = table.luma_log2_weight_denom
    c.chroma_log2_weight_denom = table.chroma_log2_weight_denom
    for lx, entries in enumerate((table.l0, table.l1)):
        factors = c.weight_factors[lx]
        for i, w in enumerate(entries):
            factors.luma_weight[i] = w.luma_weight
            factors.luma_offset[i] = w.luma_offset
            for j in range(2):
                factors.chroma_weight[i][j] = w.chroma_weight[j]
                factors.chroma_offset[i][j] = w.chroma_offset[j]
    return c


def dpb_indices(refs: Sequence[RefFrame]) -> list[int]:
    """The ``decode_params.dpb`` index of each of ``Dpb.refs``.

    Real frames sit where :func:`decode_params_control` put them (in order); a frame
    inferred for a frame_num gap has no entry but keeps its place in the lists (§8.2.5.2),
    so it points at an unused (invalid) slot: max_num_ref_frames <= 16 leaves one free.
    """
    out: list[int] = []
    real = sum(not r.non_existing for r in refs)
    gaps = 0
    for r in refs:
        if r.non_existing:
            out.append(real + gaps)
            gaps += 1
        else:
            out.append(len(out) - gaps)
    return out


def _references(dst: Any, entries: RefPicList, indices: Sequence[int]) -> None:
    for i, ref in enumerate(entries):
        if ref is not None:  # "no reference picture" stays all zero
            dst[i].fields = C.V4L2_H264_FRAME_REF
            dst[i].index = indices[ref]


def slice_params_control(
    hdr: SliceHeader, lists: tuple[RefPicList, RefPicList], indices: Sequence[int]
) -> Any:
    """``v4l2_ctrl_h264_slice_params`` of one slice (slice-based mode); ``lists`` index ``Dpb.refs``,
    ``indices`` maps those to ``decode_params.dpb`` (:func:`dpb_indices`)."""
    c = ffi.new("struct v4l2_ctrl_h264_slice_params *")
    # Counted from the end of the NAL header (the slice layer begins there), so the same
    # whatever start code, if any, precedes the NAL unit.
    # From the start of the slice NAL unit, its header byte included: cedrus, the one
    # slice-based H.264 driver, skips this many bits from the start of the buffer.
    # GStreamer counts the same, which conform's GStreamer oracle checks slice by slice.
    c.header_bit_size = 8 + hdr.header_bit_size
    c.first_mb_in_slice = hdr.first_mb_in_slice
    c.slice_type = hdr.kind  # V4L2_H264_SLICE_TYPE_* are Table 7-6's values modulo 5
    c.colour_plane_id = hdr.colour_plane_id
    c.redundant_pic_cnt = hdr.redundant_pic_cnt
    c.cabac_init_idc = hdr.cabac_init_idc
    c.slice_qp_delta = hdr.slice_qp_delta
    c.slice_qs_delta = hdr.slice_qs_delta
    c.disable_deblocking_filter_idc = hdr.disable_deblocking_filter_idc
    c.slice_alpha_c0_offset_div2 = hdr.slice_alpha_c0_offset_div2
    c.slice_beta_offset_div2 = hdr.slice_beta_offset_div2
    # The parser leaves the PPS defaults here unless overridden, as the UAPI asks.
    c.num_ref_idx_l0_active_minus1 = hdr.num_ref_idx_l0_active_minus1
    c.num_ref_idx_l1_active_minus1 = hdr.num_ref_idx_l1_active_minus1
    _references(c.ref_pic_list0, lists[0], indices)
    _references(c.ref_pic_list1, lists[1], indices)
    flags = 0
    if hdr.direct_spatial_mv_pred_flag:
        flags |= C.V4L2_H264_SLICE_FLAG_DIRECT_SPATIAL_MV_PRED
    if hdr.sp_for_switch_flag:
        flags |= C.V4L2_H264_SLICE_FLAG_SP_FOR_SWITCH
    c.flags = flags
    return c
