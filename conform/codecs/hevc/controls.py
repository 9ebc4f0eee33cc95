"""The V4L2 stateless HEVC controls (linux/v4l2-controls.h), one builder per control.

Only this module knows V4L2: it turns parser records and DPB state into the cffi structs
of ``V4L2_CID_STATELESS_HEVC_*`` (as cros-codecs keeps its parser apart from
src/device/v4l2/stateless/controls/h265.rs).  Semantics follow
Documentation/userspace-api/media/v4l/ext-ctrls-codec-stateless.rst (Linux 6.12).

``bit_size`` and ``data_byte_offset`` of a slice count the slice as it sits in the
OUTPUT buffer, its ``00 00 01`` start code included when the stream has start codes:
``bit_size`` is 8 times those bytes, ``data_byte_offset`` where slice_segment_data()
begins in them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conform.codecs.hevc.dpb import ReferenceSet
from conform.codecs.hevc.parser import HevcNotSupported, Pps, ScalingLists, SliceHeader, SliceType, Sps
from conform.uapi import C, ffi

SLICE_START_CODE = b"\x00\x00\x01"
V4L2_SLICE_TYPE = {SliceType.B: C.V4L2_HEVC_SLICE_TYPE_B, SliceType.P: C.V4L2_HEVC_SLICE_TYPE_P,
                   SliceType.I: C.V4L2_HEVC_SLICE_TYPE_I}  # fmt: skip


def _diagonal_scan(size: int) -> tuple[int, ...]:
    """Up-right diagonal scan (§6.5.3): scan position -> raster index (y * size + x)."""
    out: list[int] = []
    x = y = 0
    while len(out) < size * size:
        while y >= 0:
            if x < size and y < size:
                out.append(y * size + x)
            y -= 1
            x += 1
        y, x = x, 0
    return tuple(out)


DIAG_4X4 = _diagonal_scan(4)
DIAG_8X8 = _diagonal_scan(8)


def _flags(pairs: Sequence[tuple[bool, int]]) -> int:
    flags = 0
    for on, flag in pairs:
        if on:
            flags |= flag
    return flags


def sps_control(sps: Sps) -> Any:
    c = ffi.new("struct v4l2_ctrl_hevc_sps *")
    c.video_parameter_set_id = sps.sps_video_parameter_set_id
    c.seq_parameter_set_id = sps.sps_seq_parameter_set_id
    c.pic_width_in_luma_samples = sps.pic_width_in_luma_samples
    c.pic_height_in_luma_samples = sps.pic_height_in_luma_samples
    c.bit_depth_luma_minus8 = sps.bit_depth_luma_minus8
    c.bit_depth_chroma_minus8 = sps.bit_depth_chroma_minus8
    c.log2_max_pic_order_cnt_lsb_minus4 = sps.log2_max_pic_order_cnt_lsb_minus4
    # HighestTid = sps_max_sub_layers_minus1: the values of the highest sub-layer.
    c.sps_max_dec_pic_buffering_minus1 = sps.sps_max_dec_pic_buffering_minus1[-1]
    c.sps_max_num_reorder_pics = sps.sps_max_num_reorder_pics[-1]
    latency = sps.sps_max_latency_increase_plus1[-1]
    if latency > 0xFF:
        raise HevcNotSupported(f"sps_max_latency_increase_plus1 {latency} (V4L2 has a __u8)", sps.offset)
    c.sps_max_latency_increase_plus1 = latency
    c.log2_min_luma_coding_block_size_minus3 = sps.log2_min_luma_coding_block_size_minus3
    c.log2_diff_max_min_luma_coding_block_size = sps.log2_diff_max_min_luma_coding_block_size
    c.log2_min_luma_transform_block_size_minus2 = sps.log2_min_luma_transform_block_size_minus2
    c.log2_diff_max_min_luma_transform_block_size = sps.log2_diff_max_min_luma_transform_block_size
    c.max_transform_hierarchy_depth_inter = sps.max_transform_hierarchy_depth_inter
    c.max_transform_hierarchy_depth_intra = sps.max_transform_hierarchy_depth_intra
    c.pcm_sample_bit_depth_luma_minus1 = sps.pcm_sample_bit_depth_luma_minus1
    c.pcm_sample_bit_depth_chroma_minus1 = sps.pcm_sample_bit_depth_chroma_minus1
    c.log2_min_pcm_luma_coding_block_size_minus3 = sps.log2_min_pcm_luma_coding_block_size_minus3
    c.log2_diff_max_min_pcm_luma_coding_block_size = sps.log2_diff_max_min_pcm_luma_coding_block_size
    c.num_short_term_ref_pic_sets = len(sps.st_ref_pic_sets)
    c.num_long_term_ref_pics_sps = len(sps.lt_ref_pic_poc_lsb_sps)
    c.chroma_format_idc = sps.chroma_format_idc
    c.sps_max_sub_layers_minus1 = sps.sps_max_sub_layers_minus1
    c.flags = _flags((
        (sps.separate_colour_plane_flag, C.V4L2_HEVC_SPS_FLAG_SEPARATE_COLOUR_PLANE),
        (sps.scaling_list_enabled_flag, C.V4L2_HEVC_SPS_FLAG_SCALING_LIST_ENABLED),
        (sps.amp_enabled_flag, C.V4L2_HEVC_SPS_FLAG_AMP_ENABLED),
        (sps.sample_adaptive_offset_enabled_flag, C.V4L2_HEVC_SPS_FLAG_SAMPLE_ADAPTIVE_OFFSET),
        (sps.pcm_enabled_flag, C.V4L2_HEVC_SPS_FLAG_PCM_ENABLED),
        (sps.pcm_loop_filter_disabled_flag, C.V4L2_HEVC_SPS_FLAG_PCM_LOOP_FILTER_DISABLED),
        (sps.long_term_ref_pics_present_flag, C.V4L2_HEVC_SPS_FLAG_LONG_TERM_REF_PICS_PRESENT),
        (sps.sps_temporal_mvp_enabled_flag, C.V4L2_HEVC_SPS_FLAG_SPS_TEMPORAL_MVP_ENABLED),
        (sps.strong_intra_smoothing_enabled_flag, C.V4L2_HEVC_SPS_FLAG_STRONG_INTRA_SMOOTHING_ENABLED),
    ))  # fmt: skip
    return c


def pps_control(pps: Pps) -> Any:
    c = ffi.new("struct v4l2_ctrl_hevc_pps *")
    c.pic_parameter_set_id = pps.pps_pic_parameter_set_id
    c.num_extra_slice_header_bits = pps.num_extra_slice_header_bits
    c.num_ref_idx_l0_default_active_minus1 = pps.num_ref_idx_l0_default_active_minus1
    c.num_ref_idx_l1_default_active_minus1 = pps.num_ref_idx_l1_default_active_minus1
    c.init_qp_minus26 = pps.init_qp_minus26
    c.diff_cu_qp_delta_depth = pps.diff_cu_qp_delta_depth
    c.pps_cb_qp_offset = pps.pps_cb_qp_offset
    c.pps_cr_qp_offset = pps.pps_cr_qp_offset
    if pps.tiles_enabled_flag:
        if pps.num_tile_columns_minus1 >= 20 or pps.num_tile_rows_minus1 >= 22:
            raise HevcNotSupported(
                f"{pps.num_tile_columns_minus1 + 1}x{pps.num_tile_rows_minus1 + 1} tiles "
                "(V4L2 holds 20 columns and 22 rows)", pps.offset)  # fmt: skip
        if max(pps.column_width_minus1 + pps.row_height_minus1) > 0xFF:
            raise HevcNotSupported("a tile wider or taller than 256 CTBs (V4L2 has a __u8)", pps.offset)
        c.num_tile_columns_minus1 = pps.num_tile_columns_minus1
        c.num_tile_rows_minus1 = pps.num_tile_rows_minus1
        for i, w in enumerate(pps.column_width_minus1):
            c.column_width_minus1[i] = w
        for i, h in enumerate(pps.row_height_minus1):
            c.row_height_minus1[i] = h
    c.pps_beta_offset_div2 = pps.pps_beta_offset_div2
    c.pps_tc_offset_div2 = pps.pps_tc_offset_div2
    c.log2_parallel_merge_level_minus2 = pps.log2_parallel_merge_level_minus2
    c.flags = _flags((
        (pps.dependent_slice_segments_enabled_flag, C.V4L2_HEVC_PPS_FLAG_DEPENDENT_SLICE_SEGMENT_ENABLED),
        (pps.output_flag_present_flag, C.V4L2_HEVC_PPS_FLAG_OUTPUT_FLAG_PRESENT),
        (pps.sign_data_hiding_enabled_flag, C.V4L2_HEVC_PPS_FLAG_SIGN_DATA_HIDING_ENABLED),
        (pps.cabac_init_present_flag, C.V4L2_HEVC_PPS_FLAG_CABAC_INIT_PRESENT),
        (pps.constrained_intra_pred_flag, C.V4L2_HEVC_PPS_FLAG_CONSTRAINED_INTRA_PRED),
        (pps.transform_skip_enabled_flag, C.V4L2_HEVC_PPS_FLAG_TRANSFORM_SKIP_ENABLED),
        (pps.cu_qp_delta_enabled_flag, C.V4L2_HEVC_PPS_FLAG_CU_QP_DELTA_ENABLED),
        (pps.pps_slice_chroma_qp_offsets_present_flag,
         C.V4L2_HEVC_PPS_FLAG_PPS_SLICE_CHROMA_QP_OFFSETS_PRESENT),
        (pps.weighted_pred_flag, C.V4L2_HEVC_PPS_FLAG_WEIGHTED_PRED),
        (pps.weighted_bipred_flag, C.V4L2_HEVC_PPS_FLAG_WEIGHTED_BIPRED),
        (pps.transquant_bypass_enabled_flag, C.V4L2_HEVC_PPS_FLAG_TRANSQUANT_BYPASS_ENABLED),
        (pps.tiles_enabled_flag, C.V4L2_HEVC_PPS_FLAG_TILES_ENABLED),
        (pps.entropy_coding_sync_enabled_flag, C.V4L2_HEVC_PPS_FLAG_ENTROPY_CODING_SYNC_ENABLED),
        (pps.tiles_enabled_flag and pps.loop_filter_across_tiles_enabled_flag,
         C.V4L2_HEVC_PPS_FLAG_LOOP_FILTER_ACROSS_TILES_ENABLED),
        (pps.pps_loop_filter_across_slices_enabled_flag,
         C.V4L2_HEVC_PPS_FLAG_PPS_LOOP_FILTER_ACROSS_SLICES_ENABLED),
        (pps.deblocking_filter_override_enabled_flag,
         C.V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_OVERRIDE_ENABLED),
        (pps.pps_deblocking_filter_disabled_flag, C.V4L2_HEVC_PPS_FLAG_PPS_DISABLE_DEBLOCKING_FILTER),
        (pps.lists_modification_present_flag, C.V4L2_HEVC_PPS_FLAG_LISTS_MODIFICATION_PRESENT),
        (pps.slice_segment_header_extension_present_flag,
         C.V4L2_HEVC_PPS_FLAG_SLICE_SEGMENT_HEADER_EXTENSION_PRESENT),
        (pps.deblocking_filter_control_present_flag, C.V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT),
        # Not present without tiles, uniform_spacing_flag is inferred to be 1 (H.265 7.4.3.3.1).
        (not pps.tiles_enabled_flag or pps.uniform_spacing_flag, C.V4L2_HEVC_PPS_FLAG_UNIFORM_SPACING),
    ))  # fmt: skip
    return c


def scaling_matrix_control(lists: ScalingLists) -> Any:
    """The lists in effect in raster order (V4L2 wants raster, the bitstream sends diagonal scan)."""
    c = ffi.new("struct v4l2_ctrl_hevc_scaling_matrix *")
    for m in range(6):
        for i, v in enumerate(lists.lists[0][m]):
            c.scaling_list_4x4[m][DIAG_4X4[i]] = v
        for i, v in enumerate(lists.lists[1][m]):
            c.scaling_list_8x8[m][DIAG_8X8[i]] = v
        for i, v in enumerate(lists.lists[2][m]):
            c.scaling_list_16x16[m][DIAG_8X8[i]] = v
        c.scaling_list_dc_coef_16x16[m] = lists.dc_16x16[m]
    for k, m in enumerate((0, 3)):
        for i, v in enumerate(lists.lists[3][m]):
            c.scaling_list_32x32[k][DIAG_8X8[i]] = v
        c.scaling_list_dc_coef_32x32[k] = lists.dc_32x32[m]
    return c


def _s8(value: int, name: str, hdr: SliceHeader) -> int:
    if not -128 <= value <= 127:
        raise HevcNotSupported(f"{name} = {value}, beyond V4L2's __s8", hdr.nal.offset)
    return value


WP_OFFSET_HALF_RANGE_C = 1 << 7
"""wpOffsetHalfRangeC without high_precision_offsets_enabled_flag, a range extension V4L2 lacks."""


def _chroma_offset(delta_offset: int, delta_weight: int, denom: int) -> int:
    """ChromaOffsetLX (H.265 (7-56)), which ``chroma_offset_lX`` carries rather than the coded
    delta: the delta spans -512..511, beyond ``__s8``, and cedrus programs the field as the
    final offset (GStreamer sends the same)."""
    half = WP_OFFSET_HALF_RANGE_C
    weight = (1 << denom) + delta_weight
    return max(-half, min(half - 1, half + delta_offset - ((half * weight) >> denom)))


def _pred_weight_table(c: Any, hdr: SliceHeader) -> None:
    pwt = hdr.pred_weight_table
    if pwt is None:
        return
    t = c.pred_weight_table
    t.luma_log2_weight_denom = pwt.luma_log2_weight_denom
    t.delta_chroma_log2_weight_denom = pwt.delta_chroma_log2_weight_denom
    for lx, (lw, lo, cw, co) in enumerate((
        (pwt.delta_luma_weight_l0, pwt.luma_offset_l0, pwt.delta_chroma_weight_l0,
         pwt.delta_chroma_offset_l0),
        (pwt.delta_luma_weight_l1, pwt.luma_offset_l1, pwt.delta_chroma_weight_l1,
         pwt.delta_chroma_offset_l1),
    )):  # fmt: skip
        dst_lw = t.delta_luma_weight_l0 if lx == 0 else t.delta_luma_weight_l1
        dst_lo = t.luma_offset_l0 if lx == 0 else t.luma_offset_l1
        dst_cw = t.delta_chroma_weight_l0 if lx == 0 else t.delta_chroma_weight_l1
        dst_co = t.chroma_offset_l0 if lx == 0 else t.chroma_offset_l1
        chroma_denom = pwt.luma_log2_weight_denom + pwt.delta_chroma_log2_weight_denom
        for i in range(len(lw)):
            dst_lw[i] = lw[i]
            dst_lo[i] = _s8(lo[i], f"luma_offset_l{lx}", hdr)
            for j in range(2):
                dst_cw[i][j] = cw[i][j]
                dst_co[i][j] = _chroma_offset(co[i][j], cw[i][j], chroma_denom)


def slice_params(
    c: Any, hdr: SliceHeader, poc: int, refs: ReferenceSet, prefix: bytes = SLICE_START_CODE
) -> None:
    """Fill one ``v4l2_ctrl_hevc_slice_params`` (an element of the dynamic array);
    ``prefix`` is what precedes the NAL unit in the buffer (a start code or nothing)."""
    c.bit_size = 8 * (len(prefix) + len(hdr.nal.data))
    c.data_byte_offset = len(prefix) + hdr.header_bytes
    c.num_entry_point_offsets = hdr.num_entry_point_offsets
    c.nal_unit_type = hdr.nal.nal_unit_type
    c.nuh_temporal_id_plus1 = hdr.nal.nuh_temporal_id_plus1
    c.slice_type = V4L2_SLICE_TYPE[hdr.slice_type]
    c.colour_plane_id = hdr.colour_plane_id
    c.slice_pic_order_cnt = poc
    c.num_ref_idx_l0_active_minus1 = hdr.num_ref_idx_l0_active_minus1
    c.num_ref_idx_l1_active_minus1 = hdr.num_ref_idx_l1_active_minus1
    c.collocated_ref_idx = hdr.collocated_ref_idx
    c.five_minus_max_num_merge_cand = hdr.five_minus_max_num_merge_cand
    c.slice_qp_delta = hdr.slice_qp_delta
    c.slice_cb_qp_offset = hdr.slice_cb_qp_offset
    c.slice_cr_qp_offset = hdr.slice_cr_qp_offset
    c.slice_beta_offset_div2 = hdr.slice_beta_offset_div2
    c.slice_tc_offset_div2 = hdr.slice_tc_offset_div2
    c.pic_struct = C.V4L2_HEVC_SEI_PIC_STRUCT_FRAME
    c.slice_segment_addr = hdr.slice_segment_address
    list0, list1 = refs.ref_pic_lists(hdr)
    for i, idx in enumerate(list0):
        c.ref_idx_l0[i] = idx
    for i, idx in enumerate(list1):
        c.ref_idx_l1[i] = idx
    c.short_term_ref_pic_set_size = hdr.short_term_ref_pic_set_size
    c.long_term_ref_pic_set_size = hdr.long_term_ref_pic_set_size
    _pred_weight_table(c, hdr)
    c.flags = _flags((
        (hdr.slice_sao_luma_flag, C.V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_LUMA),
        (hdr.slice_sao_chroma_flag, C.V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_CHROMA),
        (hdr.slice_temporal_mvp_enabled_flag, C.V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_TEMPORAL_MVP_ENABLED),
        (hdr.mvd_l1_zero_flag, C.V4L2_HEVC_SLICE_PARAMS_FLAG_MVD_L1_ZERO),
        (hdr.cabac_init_flag, C.V4L2_HEVC_SLICE_PARAMS_FLAG_CABAC_INIT),
        (hdr.collocated_from_l0_flag, C.V4L2_HEVC_SLICE_PARAMS_FLAG_COLLOCATED_FROM_L0),
        (hdr.use_integer_mv_flag, C.V4L2_HEVC_SLICE_PARAMS_FLAG_USE_INTEGER_MV),
        (hdr.slice_deblocking_filter_disabled_flag,
         C.V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_DEBLOCKING_FILTER_DISABLED),
        (hdr.slice_loop_filter_across_slices_enabled_flag,
         C.V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_LOOP_FILTER_ACROSS_SLICES_ENABLED),
        (hdr.dependent_slice_segment_flag, C.V4L2_HEVC_SLICE_PARAMS_FLAG_DEPENDENT_SLICE_SEGMENT),
    ))  # fmt: skip


def slice_params_control(
    slices: Sequence[SliceHeader], poc: int, refs: ReferenceSet, prefix: bytes = SLICE_START_CODE
) -> Any:
    """The dynamic array ``V4L2_CID_STATELESS_HEVC_SLICE_PARAMS``: one element per slice segment."""
    array = ffi.new("struct v4l2_ctrl_hevc_slice_params[]", len(slices))
    for i, hdr in enumerate(slices):
        slice_params(array[i], hdr, poc, refs, prefix)
    return array


def entry_point_offsets_control(slices: Sequence[SliceHeader]) -> Any | None:
    """``V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS``: every slice's offsets in bytes
    (entry_point_offset_minus1 + 1), in slice order; None when the picture has none."""
    offsets = [e + 1 for hdr in slices for e in hdr.entry_point_offset_minus1]
    if not offsets:
        return None
    array = ffi.new("unsigned int[]", len(offsets))
    for i, value in enumerate(offsets):
        array[i] = value
    return array


def decode_params_control(slices: Sequence[SliceHeader], poc: int, refs: ReferenceSet) -> Any:
    hdr = slices[0]
    c = ffi.new("struct v4l2_ctrl_hevc_decode_params *")
    c.pic_order_cnt_val = poc
    c.short_term_ref_pic_set_size = hdr.short_term_ref_pic_set_size
    c.long_term_ref_pic_set_size = hdr.long_term_ref_pic_set_size
    c.num_active_dpb_entries = len(refs.entries)
    c.num_poc_st_curr_before = len(refs.st_curr_before)
    c.num_poc_st_curr_after = len(refs.st_curr_after)
    c.num_poc_lt_curr = len(refs.lt_curr)
    for i, idx in enumerate(refs.st_curr_before):
        c.poc_st_curr_before[i] = idx
    for i, idx in enumerate(refs.st_curr_after):
        c.poc_st_curr_after[i] = idx
    for i, idx in enumerate(refs.lt_curr):
        c.poc_lt_curr[i] = idx
    rps = hdr.st_rps
    if rps is not None and not hdr.short_term_ref_pic_set_sps_flag:
        c.num_delta_pocs_of_ref_rps_idx = rps.num_delta_pocs_of_ref_rps_idx
    for i, ref in enumerate(refs.entries):
        entry = c.dpb[i]
        entry.timestamp = ref.timestamp_ns
        entry.flags = C.V4L2_HEVC_DPB_ENTRY_LONG_TERM_REFERENCE if ref.long_term else 0
        entry.field_pic = C.V4L2_HEVC_SEI_PIC_STRUCT_FRAME
        entry.pic_order_cnt_val = ref.pic_order_cnt_val
    nal = hdr.nal
    c.flags = _flags((
        (nal.is_irap, C.V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC),
        (nal.is_idr, C.V4L2_HEVC_DECODE_PARAM_FLAG_IDR_PIC),
        (nal.is_irap and hdr.no_output_of_prior_pics_flag, C.V4L2_HEVC_DECODE_PARAM_FLAG_NO_OUTPUT_OF_PRIOR),
    ))  # fmt: skip
    return c
