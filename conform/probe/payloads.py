"""Control payloads for the decode probe: one builder per stateless control, per codec.

Not a codec front-end: the values describe plausible pictures (key frame then inter
frames referencing earlier ones by timestamp) with non-zero fields, negative signed
values and flags everywhere visl prints them, so the trace text and the frame text
(reference timestamps, POC) carry values the probe chose.  Every payload passes the
6.12 control core's compound validation (some fields it sanitises, which the trace shows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from conform.device import ControlValue
from conform.uapi import C, ffi


class Codec(Enum):
    """The seven coded formats of visl-behaviour §4.1; values are the JSON spelling."""

    FWHT = "fwht"
    MPEG2 = "mpeg2"
    VP8 = "vp8"
    VP9 = "vp9"
    H264 = "h264"
    HEVC = "hevc"
    AV1 = "av1"

    @property
    def pixelformat(self) -> int:
        return int(getattr(C, PIXELFORMATS[self]))


PIXELFORMATS = {
    Codec.FWHT: "V4L2_PIX_FMT_FWHT_STATELESS",
    Codec.MPEG2: "V4L2_PIX_FMT_MPEG2_SLICE",
    Codec.VP8: "V4L2_PIX_FMT_VP8_FRAME",
    Codec.VP9: "V4L2_PIX_FMT_VP9_FRAME",
    Codec.H264: "V4L2_PIX_FMT_H264_SLICE",
    Codec.HEVC: "V4L2_PIX_FMT_HEVC_SLICE",
    Codec.AV1: "V4L2_PIX_FMT_AV1_FRAME",
}


@dataclass(frozen=True, slots=True)
class Picture:
    """What one job's controls describe."""

    number: int
    """Picture number in the stream (0 is the key frame)."""
    width: int
    height: int
    timestamp_ns: int
    refs: tuple[int, ...]
    """Timestamps of the pictures this one references, most recent first."""
    seed: int = 0
    """Varies the values between streams of the same codec."""
    slice: int = 0
    slices: int = 1

    def v(self, k: int, modulo: int, low: int = 0) -> int:
        """A value in [low, low+modulo) that differs by picture, field ``k`` and seed."""
        return low + (self.number * 37 + k * 11 + self.seed * 5 + self.slice * 3) % modulo

    def ref(self, i: int) -> int:
        return self.refs[i] if i < len(self.refs) else 0

    @property
    def key(self) -> bool:
        return self.number == 0


def _new(struct: str) -> Any:
    return ffi.new(f"struct {struct} *")


# --- FWHT -----------------------------------------------------------------------------------


def fwht_params(p: Picture) -> Any:
    s = _new("v4l2_ctrl_fwht_params")
    s.backward_ref_ts = p.ref(0)
    s.version = C.V4L2_FWHT_VERSION
    s.width, s.height = p.width, p.height
    s.flags = (C.V4L2_FWHT_FL_PIXENC_YUV | (3 << C.V4L2_FWHT_FL_COMPONENTS_NUM_OFFSET)
               | (C.V4L2_FWHT_FL_I_FRAME if p.key else C.V4L2_FWHT_FL_CB_IS_UNCOMPRESSED)
               | (C.V4L2_FWHT_FL_IS_INTERLACED | C.V4L2_FWHT_FL_IS_BOTTOM_FIRST
                  if p.seed % 2 else 0))  # fmt: skip
    s.colorspace, s.xfer_func = p.v(1, 12, 1), p.v(2, 7)
    s.ycbcr_enc, s.quantization = p.v(3, 9), p.v(4, 3)
    return s


# --- MPEG-2 ---------------------------------------------------------------------------------


def mpeg2_sequence(p: Picture) -> Any:
    s = _new("v4l2_ctrl_mpeg2_sequence")
    s.horizontal_size, s.vertical_size = p.width, p.height
    s.vbv_buffer_size = 112 * 16384 + p.seed
    s.profile_and_level_indication = 0x48 - p.seed
    s.chroma_format = 1 + p.seed % 3
    s.flags = C.V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE if p.seed % 2 == 0 else 0
    return s


def mpeg2_picture(p: Picture) -> Any:
    s = _new("v4l2_ctrl_mpeg2_picture")
    coding = (C.V4L2_MPEG2_PIC_CODING_TYPE_I, C.V4L2_MPEG2_PIC_CODING_TYPE_P, C.V4L2_MPEG2_PIC_CODING_TYPE_B)
    s.picture_coding_type = coding[0] if p.key else coding[1 + p.number % 2]
    s.forward_ref_ts = p.ref(0)
    s.backward_ref_ts = p.ref(1)
    s.flags = p.v(0, 256)
    s.f_code = [[p.v(1, 9, 1), p.v(2, 9, 1)], [p.v(3, 9, 1), 15]]
    s.picture_structure = 1 + (p.slice + p.seed) % 3
    s.intra_dc_precision = p.v(4, 4)
    return s


def mpeg2_quantisation(p: Picture) -> Any:
    s = _new("v4l2_ctrl_mpeg2_quantisation")
    s.intra_quantiser_matrix = [8 + (i * 3 + p.number) % 80 for i in range(64)]
    s.non_intra_quantiser_matrix = [16 + (i + p.seed) % 32 for i in range(64)]
    s.chroma_intra_quantiser_matrix = [1 + (i * 7 + p.number) % 255 for i in range(64)]
    s.chroma_non_intra_quantiser_matrix = [255 - i for i in range(64)]
    return s


# --- VP8 ------------------------------------------------------------------------------------


def vp8_frame(p: Picture) -> Any:
    s = _new("v4l2_ctrl_vp8_frame")
    s.segment.quant_update = [-3 - p.number, 5, -7, 127]
    s.segment.lf_update = [-63, 2, 0, 63 - p.number]
    s.segment.segment_probs = [p.v(0, 255), 128, 255]
    s.segment.flags = C.V4L2_VP8_SEGMENT_FLAG_ENABLED | (C.V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP if p.key else 0)
    s.lf.ref_frm_delta = [2, -1, -2 - p.number, 0]
    s.lf.mb_mode_delta = [4, -2, 2, 4]
    s.lf.sharpness_level, s.lf.level = p.v(1, 8), p.v(2, 64)
    s.lf.flags = C.V4L2_VP8_LF_ADJ_ENABLE | C.V4L2_VP8_LF_DELTA_UPDATE
    s.quant.y_ac_qi = p.v(3, 128)
    s.quant.y_dc_delta, s.quant.y2_dc_delta, s.quant.y2_ac_delta = -15, 7, -p.v(4, 16)
    s.quant.uv_dc_delta, s.quant.uv_ac_delta = 3, -9
    s.entropy.coeff_probs = [[[[(i * 97 + j * 31 + k * 7 + m + p.number) % 256 for m in range(11)]
                               for k in range(3)] for j in range(8)] for i in range(4)]  # fmt: skip
    s.entropy.y_mode_probs = [145, 156, 163, 128 + p.number]
    s.entropy.uv_mode_probs = [142, 114, 183]
    s.entropy.mv_probs = [[(i * 13 + j + p.seed) % 256 for j in range(19)] for i in range(2)]
    s.coder_state.range, s.coder_state.value, s.coder_state.bit_count = 255, p.v(5, 256), p.v(6, 8)
    s.width, s.height = p.width, p.height
    s.horizontal_scale, s.vertical_scale, s.version = p.seed % 4, 3 - p.seed % 4, p.seed % 4
    s.prob_skip_false, s.prob_intra, s.prob_last, s.prob_gf = 200, p.v(7, 256), 128, 1
    s.num_dct_parts = (1, 2, 4, 8)[(p.number + p.seed) % 4]
    s.first_part_size, s.first_part_header_bits = 1000 + p.number, 77
    s.dct_part_sizes = [100 * (i + 1) + p.number for i in range(8)]
    s.last_frame_ts, s.golden_frame_ts, s.alt_frame_ts = p.ref(0), p.ref(1), p.ref(2)
    s.flags = ((C.V4L2_VP8_FRAME_FLAG_KEY_FRAME if p.key else C.V4L2_VP8_FRAME_FLAG_SIGN_BIAS_GOLDEN)
               | C.V4L2_VP8_FRAME_FLAG_SHOW_FRAME | C.V4L2_VP8_FRAME_FLAG_MB_NO_SKIP_COEFF)  # fmt: skip
    return s


# --- VP9 ------------------------------------------------------------------------------------


def vp9_frame(p: Picture) -> Any:
    s = _new("v4l2_ctrl_vp9_frame")
    s.lf.ref_deltas = [1, 0, -1, -63 + p.number]
    s.lf.mode_deltas = [0, -7]
    s.lf.level, s.lf.sharpness = p.v(0, 64), p.v(1, 8)
    s.lf.flags = C.V4L2_VP9_LOOP_FILTER_FLAG_DELTA_ENABLED | C.V4L2_VP9_LOOP_FILTER_FLAG_DELTA_UPDATE
    s.quant.base_q_idx = p.v(2, 256)
    s.quant.delta_q_y_dc, s.quant.delta_q_uv_dc, s.quant.delta_q_uv_ac = -15, 7, -p.v(3, 16)
    s.seg.feature_data = [[-255 + i * 60, -63 + i * 15, i % 4, 0] for i in range(8)]
    s.seg.feature_enabled = [(i + p.number) % 16 for i in range(8)]
    s.seg.tree_probs = [(i * 31 + p.number) % 256 for i in range(7)]
    s.seg.pred_probs = [255, 1, p.v(4, 256)]
    s.seg.flags = C.V4L2_VP9_SEGMENTATION_FLAG_ENABLED | C.V4L2_VP9_SEGMENTATION_FLAG_UPDATE_DATA
    s.flags = ((C.V4L2_VP9_FRAME_FLAG_KEY_FRAME if p.key else C.V4L2_VP9_FRAME_FLAG_ALLOW_HIGH_PREC_MV)
               | C.V4L2_VP9_FRAME_FLAG_SHOW_FRAME | C.V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING
               | C.V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING | C.V4L2_VP9_FRAME_FLAG_REFRESH_FRAME_CTX)  # fmt: skip
    s.compressed_header_size, s.uncompressed_header_size = 300 + p.number, 20 + p.seed
    s.frame_width_minus_1, s.frame_height_minus_1 = p.width - 1, p.height - 1
    s.render_width_minus_1, s.render_height_minus_1 = p.width - 1 - p.seed, p.height - 1
    s.last_frame_ts, s.golden_frame_ts, s.alt_frame_ts = p.ref(0), p.ref(1), p.ref(2)
    s.ref_frame_sign_bias = C.V4L2_VP9_SIGN_BIAS_GOLDEN if p.number % 2 else C.V4L2_VP9_SIGN_BIAS_ALT
    s.reset_frame_context = p.v(5, 3)
    s.frame_context_idx = p.v(6, 4)
    s.profile, s.bit_depth = (0, 8) if p.seed % 2 == 0 else (2, 10)
    s.interpolation_filter = p.v(7, 5)
    s.tile_cols_log2, s.tile_rows_log2 = p.v(8, 3), p.v(9, 3)
    s.reference_mode = p.v(10, 3)
    return s


def vp9_compressed_hdr(p: Picture) -> Any:
    s = _new("v4l2_ctrl_vp9_compressed_hdr")
    s.tx_mode = p.v(0, 5)
    flat = bytes((i * 29 + p.number * 3 + p.seed) % 256 for i in range(ffi.sizeof(s[0]) - 1))
    ffi.memmove(ffi.cast("unsigned char *", s) + 1, flat, len(flat))
    return s


# --- H.264 ----------------------------------------------------------------------------------


def h264_sps(p: Picture) -> Any:
    s = _new("v4l2_ctrl_h264_sps")
    s.profile_idc = (100, 122, 244, 77)[p.seed % 4]
    s.constraint_set_flags = C.V4L2_H264_SPS_CONSTRAINT_SET1_FLAG | C.V4L2_H264_SPS_CONSTRAINT_SET3_FLAG
    s.level_idc, s.seq_parameter_set_id = 40 + p.seed, p.seed % 32
    s.chroma_format_idc = 1 + p.seed % 2
    s.bit_depth_luma_minus8, s.bit_depth_chroma_minus8 = p.seed % 3, p.seed % 2
    s.log2_max_frame_num_minus4 = 4
    s.pic_order_cnt_type = p.seed % 3
    s.log2_max_pic_order_cnt_lsb_minus4 = 2
    s.max_num_ref_frames = 4
    s.num_ref_frames_in_pic_order_cnt_cycle = 3
    s.offset_for_ref_frame[0:3] = [-5, 7, -2147483648]
    s.offset_for_non_ref_pic, s.offset_for_top_to_bottom_field = -3, 2
    s.pic_width_in_mbs_minus1 = (p.width + 15) // 16 - 1
    s.pic_height_in_map_units_minus1 = (p.height + 15) // 16 - 1
    s.flags = (C.V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY | C.V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE
               | C.V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD | C.V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE
               | C.V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS)  # fmt: skip
    return s


def h264_pps(p: Picture) -> Any:
    s = _new("v4l2_ctrl_h264_pps")
    s.pic_parameter_set_id, s.seq_parameter_set_id = 3 + p.seed, p.seed % 32
    s.num_slice_groups_minus1 = p.seed % 8
    s.num_ref_idx_l0_default_active_minus1, s.num_ref_idx_l1_default_active_minus1 = 3, 31
    s.weighted_bipred_idc = p.seed % 3
    s.pic_init_qp_minus26, s.pic_init_qs_minus26 = -62 + p.number, -26
    s.chroma_qp_index_offset, s.second_chroma_qp_index_offset = -12, 5
    s.flags = (C.V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE | C.V4L2_H264_PPS_FLAG_WEIGHTED_PRED
               | C.V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT
               | C.V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE
               | C.V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT)  # fmt: skip
    return s


def h264_scaling_matrix(p: Picture) -> Any:
    s = _new("v4l2_ctrl_h264_scaling_matrix")
    s.scaling_list_4x4 = [[(i * 16 + j + p.number) % 255 + 1 for j in range(16)] for i in range(6)]
    s.scaling_list_8x8 = [[(i * 64 + j * 3 + p.seed) % 255 + 1 for j in range(64)] for i in range(6)]
    return s


def _h264_slice_type(p: Picture) -> int:
    if p.key:
        return int(C.V4L2_H264_SLICE_TYPE_I)
    return int(C.V4L2_H264_SLICE_TYPE_P if p.number % 2 else C.V4L2_H264_SLICE_TYPE_B)


def h264_slice_params(p: Picture) -> Any:
    s = _new("v4l2_ctrl_h264_slice_params")
    s.header_bit_size = 40 + p.number
    s.first_mb_in_slice = p.slice * ((p.width + 15) // 16)
    s.slice_type = _h264_slice_type(p)
    s.colour_plane_id = p.v(0, 3)
    s.redundant_pic_cnt = p.v(1, 4)
    s.cabac_init_idc = p.v(2, 3)
    s.slice_qp_delta, s.slice_qs_delta = -7 + p.slice, 3
    s.disable_deblocking_filter_idc = p.v(3, 3)
    s.slice_alpha_c0_offset_div2, s.slice_beta_offset_div2 = -6, 6 - p.number % 13
    s.num_ref_idx_l0_active_minus1 = max(len(p.refs) - 1, 0)
    s.num_ref_idx_l1_active_minus1 = 1
    for i, ts in enumerate(p.refs):
        s.ref_pic_list0[i].fields = C.V4L2_H264_FRAME_REF
        s.ref_pic_list0[i].index = i
        s.ref_pic_list1[len(p.refs) - 1 - i].fields = C.V4L2_H264_TOP_FIELD_REF if ts % 2 else 0
        s.ref_pic_list1[len(p.refs) - 1 - i].index = i + 16
    s.flags = C.V4L2_H264_SLICE_FLAG_DIRECT_SPATIAL_MV_PRED | C.V4L2_H264_SLICE_FLAG_SP_FOR_SWITCH
    return s


def h264_pred_weights(p: Picture) -> Any:
    s = _new("v4l2_ctrl_h264_pred_weights")
    s.luma_log2_weight_denom, s.chroma_log2_weight_denom = p.v(0, 8), 7
    for f in range(2):
        w = s.weight_factors[f]
        w.luma_weight = [(-128 + i * 17 + f * 5 + p.number) for i in range(16)]
        w.luma_offset = [(-(i + 1) * 8 + f) for i in range(16)]
        w.chroma_weight = [[-i, i * 4 + f] for i in range(16)]
        w.chroma_offset = [[i - 8, -i - f] for i in range(16)]
    return s


def h264_decode_params(p: Picture) -> Any:
    s = _new("v4l2_ctrl_h264_decode_params")
    poc = 2 * p.number - 4
    s.nal_ref_idc = 1 + p.number % 3
    s.frame_num = p.number % 256
    s.top_field_order_cnt, s.bottom_field_order_cnt = poc, poc + 1
    s.idr_pic_id = p.seed
    s.pic_order_cnt_lsb = (2 * p.number + 250 * p.seed) % 256
    s.delta_pic_order_cnt_bottom, s.delta_pic_order_cnt0, s.delta_pic_order_cnt1 = -1, -2147483648, 5
    s.dec_ref_pic_marking_bit_size, s.pic_order_cnt_bit_size = 3 + p.number, 9
    s.slice_group_change_cycle = 0xFFFFFFFF - p.number
    s.flags = (C.V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC if p.key
               else C.V4L2_H264_DECODE_PARAM_FLAG_PFRAME if p.number % 2
               else C.V4L2_H264_DECODE_PARAM_FLAG_BFRAME)  # fmt: skip
    for i, ts in enumerate(p.refs):
        e = s.dpb[i]
        e.reference_ts = ts
        e.pic_num, e.frame_num = p.number - 1 - i, (p.number - 1 - i) % 16
        e.fields = C.V4L2_H264_FRAME_REF
        e.top_field_order_cnt, e.bottom_field_order_cnt = poc - 2 * (i + 1), -poc - 2 * i
        e.flags = (C.V4L2_H264_DPB_ENTRY_FLAG_VALID | C.V4L2_H264_DPB_ENTRY_FLAG_ACTIVE
                   | (C.V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM if i == 2 else 0))  # fmt: skip
    return s


# --- HEVC -----------------------------------------------------------------------------------


def hevc_sps(p: Picture) -> Any:
    s = _new("v4l2_ctrl_hevc_sps")
    s.video_parameter_set_id, s.seq_parameter_set_id = p.seed % 16, 1 + p.seed % 15
    s.pic_width_in_luma_samples, s.pic_height_in_luma_samples = p.width, p.height
    s.bit_depth_luma_minus8, s.bit_depth_chroma_minus8 = p.seed % 3, 2
    s.log2_max_pic_order_cnt_lsb_minus4 = 4
    s.sps_max_dec_pic_buffering_minus1, s.sps_max_num_reorder_pics = 5, 2
    s.sps_max_latency_increase_plus1 = 7
    s.log2_min_luma_coding_block_size_minus3, s.log2_diff_max_min_luma_coding_block_size = 0, 3
    s.log2_min_luma_transform_block_size_minus2, s.log2_diff_max_min_luma_transform_block_size = 0, 3
    s.max_transform_hierarchy_depth_inter, s.max_transform_hierarchy_depth_intra = 1, 2
    s.pcm_sample_bit_depth_luma_minus1, s.pcm_sample_bit_depth_chroma_minus1 = 7, 6
    s.log2_min_pcm_luma_coding_block_size_minus3, s.log2_diff_max_min_pcm_luma_coding_block_size = 1, 2
    s.num_short_term_ref_pic_sets, s.num_long_term_ref_pics_sps = 12, 3
    s.chroma_format_idc = 1
    s.sps_max_sub_layers_minus1 = p.seed % 7
    s.flags = (C.V4L2_HEVC_SPS_FLAG_AMP_ENABLED | C.V4L2_HEVC_SPS_FLAG_SAMPLE_ADAPTIVE_OFFSET
               | C.V4L2_HEVC_SPS_FLAG_SPS_TEMPORAL_MVP_ENABLED
               | C.V4L2_HEVC_SPS_FLAG_STRONG_INTRA_SMOOTHING_ENABLED
               | (C.V4L2_HEVC_SPS_FLAG_PCM_ENABLED | C.V4L2_HEVC_SPS_FLAG_LONG_TERM_REF_PICS_PRESENT
                  if p.seed % 2 == 0 else C.V4L2_HEVC_SPS_FLAG_SCALING_LIST_ENABLED))  # fmt: skip
    return s


def hevc_pps(p: Picture) -> Any:
    s = _new("v4l2_ctrl_hevc_pps")
    s.pic_parameter_set_id, s.num_extra_slice_header_bits = 2 + p.seed, 2
    s.num_ref_idx_l0_default_active_minus1, s.num_ref_idx_l1_default_active_minus1 = 3, 14
    s.init_qp_minus26, s.diff_cu_qp_delta_depth = -26 + p.number, 2
    s.pps_cb_qp_offset, s.pps_cr_qp_offset = -12, 12
    s.num_tile_columns_minus1, s.num_tile_rows_minus1 = 2, 1
    s.column_width_minus1 = [3 + i for i in range(20)]
    s.row_height_minus1 = [22 - i for i in range(22)]
    s.pps_beta_offset_div2, s.pps_tc_offset_div2 = -6, 6
    s.log2_parallel_merge_level_minus2 = 1
    s.flags = (C.V4L2_HEVC_PPS_FLAG_CU_QP_DELTA_ENABLED | C.V4L2_HEVC_PPS_FLAG_SIGN_DATA_HIDING_ENABLED
               | C.V4L2_HEVC_PPS_FLAG_WEIGHTED_PRED | C.V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_OVERRIDE_ENABLED
               | (C.V4L2_HEVC_PPS_FLAG_TILES_ENABLED | C.V4L2_HEVC_PPS_FLAG_UNIFORM_SPACING
                  if p.seed % 2 == 0 else C.V4L2_HEVC_PPS_FLAG_PPS_DISABLE_DEBLOCKING_FILTER))  # fmt: skip
    return s


def _hevc_slice_type(p: Picture) -> int:
    if p.key:
        return int(C.V4L2_HEVC_SLICE_TYPE_I)
    return int(C.V4L2_HEVC_SLICE_TYPE_P if p.number % 2 else C.V4L2_HEVC_SLICE_TYPE_B)


def _hevc_poc(n: int) -> int:
    return 2 * n - 3


def hevc_slice_params(p: Picture, elements: int = 1) -> Any:
    arr = ffi.new("struct v4l2_ctrl_hevc_slice_params[]", elements)
    for k in range(elements):
        s = arr[k]
        s.bit_size, s.data_byte_offset = 800 + 8 * k + p.number, 5 + k
        s.num_entry_point_offsets = k
        s.nal_unit_type = 19 if p.key else 1
        s.nuh_temporal_id_plus1 = 1 + k
        s.slice_type = _hevc_slice_type(p)
        s.colour_plane_id = k % 3
        s.slice_pic_order_cnt = _hevc_poc(p.number)
        s.num_ref_idx_l0_active_minus1 = max(len(p.refs) - 1, 0)
        s.num_ref_idx_l1_active_minus1 = 1
        s.collocated_ref_idx, s.five_minus_max_num_merge_cand = 1, 3
        s.slice_qp_delta, s.slice_cb_qp_offset, s.slice_cr_qp_offset = -9 + p.slice + k, 4, -4
        s.slice_act_y_qp_offset, s.slice_act_cb_qp_offset, s.slice_act_cr_qp_offset = -12, 0, 12
        s.slice_beta_offset_div2, s.slice_tc_offset_div2 = -6, 5
        s.pic_struct = p.v(0, 13)
        s.slice_segment_addr = (p.slice * elements + k) * 4
        s.ref_idx_l0 = [i for i in range(16)]
        s.ref_idx_l1 = [15 - i for i in range(16)]
        s.short_term_ref_pic_set_size, s.long_term_ref_pic_set_size = 12 + p.number, 3
        w = s.pred_weight_table
        w.delta_luma_weight_l0 = [-128 + i * 16 for i in range(16)]
        w.luma_offset_l0 = [i - 8 for i in range(16)]
        w.delta_chroma_weight_l0 = [[-i, i] for i in range(16)]
        w.chroma_offset_l0 = [[127 - i, -128 + i] for i in range(16)]
        w.delta_luma_weight_l1 = [i * 3 - 20 for i in range(16)]
        w.luma_offset_l1 = [-i for i in range(16)]
        w.delta_chroma_weight_l1 = [[i, -i - 1] for i in range(16)]
        w.chroma_offset_l1 = [[i * 5 - 40, 1] for i in range(16)]
        w.luma_log2_weight_denom, w.delta_chroma_log2_weight_denom = 6, -3
        s.flags = (C.V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_LUMA | C.V4L2_HEVC_SLICE_PARAMS_FLAG_MVD_L1_ZERO
                   | (C.V4L2_HEVC_SLICE_PARAMS_FLAG_DEPENDENT_SLICE_SEGMENT
                      if p.slice or k else 0))  # fmt: skip
    return arr


def hevc_scaling_matrix(p: Picture) -> Any:
    s = _new("v4l2_ctrl_hevc_scaling_matrix")
    s.scaling_list_4x4 = [[(i * 16 + j + p.number) % 255 + 1 for j in range(16)] for i in range(6)]
    s.scaling_list_8x8 = [[(i * 64 + j) % 255 + 1 for j in range(64)] for i in range(6)]
    s.scaling_list_16x16 = [[(i * 7 + j * 5 + p.seed) % 255 + 1 for j in range(64)] for i in range(6)]
    s.scaling_list_32x32 = [[(255 - j - i) % 255 + 1 for j in range(64)] for i in range(2)]
    s.scaling_list_dc_coef_16x16 = [16 + i + p.number for i in range(6)]
    s.scaling_list_dc_coef_32x32 = [200, 1]
    return s


def hevc_decode_params(p: Picture) -> Any:
    s = _new("v4l2_ctrl_hevc_decode_params")
    s.pic_order_cnt_val = _hevc_poc(p.number)
    s.short_term_ref_pic_set_size, s.long_term_ref_pic_set_size = 12 + p.number, 3
    s.num_active_dpb_entries = len(p.refs)
    before = [i for i in range(len(p.refs)) if i % 2 == 0]
    after = [i for i in range(len(p.refs)) if i % 2 == 1]
    s.num_poc_st_curr_before, s.num_poc_st_curr_after = len(before), len(after)
    s.num_poc_lt_curr = 1 if p.refs else 0
    s.poc_st_curr_before[0 : len(before)] = before
    s.poc_st_curr_after[0 : len(after)] = after
    s.poc_lt_curr[0] = len(p.refs) - 1 if p.refs else 0
    for i, ts in enumerate(p.refs):
        e = s.dpb[i]
        e.timestamp = ts
        e.flags = C.V4L2_HEVC_DPB_ENTRY_LONG_TERM_REFERENCE if i == len(p.refs) - 1 else 0
        e.field_pic = i % 2
        e.pic_order_cnt_val = _hevc_poc(p.number - 1 - i)
    s.flags = (C.V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC | C.V4L2_HEVC_DECODE_PARAM_FLAG_IDR_PIC if p.key
               else C.V4L2_HEVC_DECODE_PARAM_FLAG_NO_OUTPUT_OF_PRIOR if p.number == 2 else 0)  # fmt: skip
    return s


# --- AV1 ------------------------------------------------------------------------------------


def av1_sequence(p: Picture) -> Any:
    s = _new("v4l2_ctrl_av1_sequence")
    s.flags = (C.V4L2_AV1_SEQUENCE_FLAG_ENABLE_ORDER_HINT | C.V4L2_AV1_SEQUENCE_FLAG_ENABLE_CDEF
               | C.V4L2_AV1_SEQUENCE_FLAG_ENABLE_RESTORATION | C.V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_X
               | C.V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_Y | C.V4L2_AV1_SEQUENCE_FLAG_FILM_GRAIN_PARAMS_PRESENT
               | (C.V4L2_AV1_SEQUENCE_FLAG_USE_128X128_SUPERBLOCK if p.seed % 2 else 0))  # fmt: skip
    s.seq_profile = p.seed % 3
    s.order_hint_bits = 7
    s.bit_depth = (8, 10, 12)[p.seed % 3]
    s.max_frame_width_minus_1, s.max_frame_height_minus_1 = p.width - 1, p.height - 1
    return s


def av1_frame(p: Picture) -> Any:
    s = _new("v4l2_ctrl_av1_frame")
    t = s.tile_info
    t.flags = C.V4L2_AV1_TILE_INFO_FLAG_UNIFORM_TILE_SPACING
    t.context_update_tile_id, t.tile_cols, t.tile_rows = p.seed % 2, 2, 1 + p.seed % 2
    t.mi_col_starts[0:3] = [0, (p.width + 7) // 8, (p.width + 3) // 4]
    t.mi_row_starts[0:2] = [0, (p.height + 3) // 4]
    t.width_in_sbs_minus_1[0:2] = [1, 0]
    t.height_in_sbs_minus_1[0] = (p.height + 63) // 64 - 1
    t.tile_size_bytes = 4
    q = s.quantization
    q.flags = C.V4L2_AV1_QUANTIZATION_FLAG_DIFF_UV_DELTA | C.V4L2_AV1_QUANTIZATION_FLAG_DELTA_Q_PRESENT
    q.base_q_idx = p.v(0, 256)
    q.delta_q_y_dc, q.delta_q_u_dc, q.delta_q_u_ac = -64, 63, -1
    q.delta_q_v_dc, q.delta_q_v_ac = 5, -p.v(1, 10)
    q.qm_y, q.qm_u, q.qm_v, q.delta_q_res = 15, 3, 0, 2
    s.superres_denom = 9 + p.seed % 8
    g = s.segmentation
    g.flags = C.V4L2_AV1_SEGMENTATION_FLAG_ENABLED | C.V4L2_AV1_SEGMENTATION_FLAG_UPDATE_MAP
    g.last_active_seg_id = 7
    g.feature_enabled = [(i * 37) % 256 for i in range(8)]
    g.feature_data = [[-255 + i, 63 - i, -63, 0, i, 0, 0, 0] for i in range(8)]
    f = s.loop_filter
    f.flags = C.V4L2_AV1_LOOP_FILTER_FLAG_DELTA_ENABLED | C.V4L2_AV1_LOOP_FILTER_FLAG_DELTA_UPDATE
    f.level = [p.v(2, 64), 12, 0, 63]
    f.sharpness = 7
    f.ref_deltas = [1, 0, 0, 0, -1, 0, -1, -63]
    f.mode_deltas = [0, -5]
    f.delta_lf_res = 3
    d = s.cdef
    d.damping_minus_3, d.bits = 3, 3
    d.y_pri_strength = [i * 2 for i in range(8)]
    d.y_sec_strength = [i % 5 for i in range(8)]
    d.uv_pri_strength = [15 - i for i in range(8)]
    d.uv_sec_strength = [(i + 1) % 5 for i in range(8)]
    s.skip_mode_frame = [1, 2]
    s.primary_ref_frame = 7 if p.key else p.v(3, 7)
    r = s.loop_restoration
    r.flags = C.V4L2_AV1_LOOP_RESTORATION_FLAG_USES_LR | C.V4L2_AV1_LOOP_RESTORATION_FLAG_USES_CHROMA_LR
    r.lr_unit_shift, r.lr_uv_shift = 2, 1
    r.frame_restoration_type = [C.V4L2_AV1_FRAME_RESTORE_WIENER, C.V4L2_AV1_FRAME_RESTORE_SGRPROJ,
                                C.V4L2_AV1_FRAME_RESTORE_SWITCHABLE]  # fmt: skip
    r.loop_restoration_size = [64, 128, 256]
    s.flags = (C.V4L2_AV1_FRAME_FLAG_SHOW_FRAME | C.V4L2_AV1_FRAME_FLAG_SHOWABLE_FRAME
               | (C.V4L2_AV1_FRAME_FLAG_ERROR_RESILIENT_MODE if p.key
                  else C.V4L2_AV1_FRAME_FLAG_REFERENCE_SELECT))  # fmt: skip
    s.frame_type = C.V4L2_AV1_KEY_FRAME if p.key else C.V4L2_AV1_INTER_FRAME
    s.order_hint = p.number
    s.upscaled_width = p.width
    s.interpolation_filter, s.tx_mode = p.v(4, 5), p.v(5, 3)
    s.frame_width_minus_1, s.frame_height_minus_1 = p.width - 1, p.height - 1
    s.render_width_minus_1, s.render_height_minus_1 = p.width - 1, p.height - 1 - p.seed
    s.current_frame_id = 1000 + p.number
    s.buffer_removal_time = [i * 3 + p.number for i in range(32)]
    s.order_hints = [max(p.number - 1 - i, 0) for i in range(8)]
    s.reference_frame_ts = [p.ref(i) for i in range(8)]
    # visl reads reference_frame_ts[ref_frame_idx[k]] unchecked: keep the indices in 0..7.
    s.ref_frame_idx = [(i + p.number) % 8 for i in range(7)]
    s.refresh_frame_flags = 0xFF if p.key else 1 << (p.number % 8)
    return s


def av1_film_grain(p: Picture) -> Any:
    s = _new("v4l2_ctrl_av1_film_grain")
    s.flags = (C.V4L2_AV1_FILM_GRAIN_FLAG_APPLY_GRAIN | C.V4L2_AV1_FILM_GRAIN_FLAG_UPDATE_GRAIN
               | C.V4L2_AV1_FILM_GRAIN_FLAG_OVERLAP)  # fmt: skip
    s.cr_mult, s.grain_seed, s.film_grain_params_ref_idx = 200, 0xBEEF - p.number, 5
    s.num_y_points = 14
    s.point_y_value[0:14] = [i * 18 for i in range(14)]
    s.point_y_scaling[0:14] = [255 - i for i in range(14)]
    s.num_cb_points, s.num_cr_points = 10, 3
    s.point_cb_value[0:10] = [i * 25 + 1 for i in range(10)]
    s.point_cb_scaling[0:10] = [i for i in range(10)]
    s.point_cr_value[0:3] = [0, 128, 255]
    s.point_cr_scaling[0:3] = [9, 8, 7]
    s.grain_scaling_minus_8, s.ar_coeff_lag = 3, 2
    s.ar_coeffs_y_plus_128 = [(i * 10) % 256 for i in range(24)]
    s.ar_coeffs_cb_plus_128 = [128 - i for i in range(25)]
    s.ar_coeffs_cr_plus_128 = [128 + i for i in range(25)]
    s.ar_coeff_shift_minus_6, s.grain_scale_shift = 3, 2
    s.cb_mult, s.cb_luma_mult, s.cr_luma_mult = 1, 2, 3
    s.cb_offset, s.cr_offset = 300 + p.number, 511
    return s


def av1_tile_group_entry(p: Picture, elements: int = 1) -> Any:
    arr = ffi.new("struct v4l2_ctrl_av1_tile_group_entry[]", elements)
    for k in range(elements):
        arr[k].tile_offset, arr[k].tile_size = 100 * (p.slice + k), 50 + p.number
        arr[k].tile_row, arr[k].tile_col = 0, p.slice + k
    return arr


# --- per codec ------------------------------------------------------------------------------

Builder = Callable[[Picture], Any]
# (control id name, builder) in the order a client would send them.
CONTROLS: dict[Codec, tuple[tuple[str, Builder], ...]] = {
    Codec.FWHT: (("V4L2_CID_STATELESS_FWHT_PARAMS", fwht_params),),
    Codec.MPEG2: (
        ("V4L2_CID_STATELESS_MPEG2_SEQUENCE", mpeg2_sequence),
        ("V4L2_CID_STATELESS_MPEG2_QUANTISATION", mpeg2_quantisation),
        ("V4L2_CID_STATELESS_MPEG2_PICTURE", mpeg2_picture),
    ),
    Codec.VP8: (("V4L2_CID_STATELESS_VP8_FRAME", vp8_frame),),
    Codec.VP9: (
        ("V4L2_CID_STATELESS_VP9_COMPRESSED_HDR", vp9_compressed_hdr),
        ("V4L2_CID_STATELESS_VP9_FRAME", vp9_frame),
    ),
    Codec.H264: (
        ("V4L2_CID_STATELESS_H264_SPS", h264_sps),
        ("V4L2_CID_STATELESS_H264_PPS", h264_pps),
        ("V4L2_CID_STATELESS_H264_SCALING_MATRIX", h264_scaling_matrix),
        ("V4L2_CID_STATELESS_H264_PRED_WEIGHTS", h264_pred_weights),
        ("V4L2_CID_STATELESS_H264_SLICE_PARAMS", h264_slice_params),
        ("V4L2_CID_STATELESS_H264_DECODE_PARAMS", h264_decode_params),
    ),
    Codec.HEVC: (
        ("V4L2_CID_STATELESS_HEVC_SPS", hevc_sps),
        ("V4L2_CID_STATELESS_HEVC_PPS", hevc_pps),
        ("V4L2_CID_STATELESS_HEVC_SCALING_MATRIX", hevc_scaling_matrix),
        ("V4L2_CID_STATELESS_HEVC_SLICE_PARAMS", hevc_slice_params),
        ("V4L2_CID_STATELESS_HEVC_DECODE_PARAMS", hevc_decode_params),
    ),
    Codec.AV1: (
        ("V4L2_CID_STATELESS_AV1_SEQUENCE", av1_sequence),
        ("V4L2_CID_STATELESS_AV1_FILM_GRAIN", av1_film_grain),
        ("V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY", av1_tile_group_entry),
        ("V4L2_CID_STATELESS_AV1_FRAME", av1_frame),
    ),
}
# Dynamic-array controls that can carry several elements in one request.
MULTI_ELEMENT: dict[str, Callable[[Picture, int], Any]] = {
    "V4L2_CID_STATELESS_HEVC_SLICE_PARAMS": hevc_slice_params,
    "V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY": av1_tile_group_entry,
}


def controls_for(codec: Codec, pic: Picture, *, only: tuple[int, ...] | None = None,
                 elements: int = 1) -> tuple[ControlValue, ...]:  # fmt: skip
    """The controls of ``codec`` for ``pic``; ``only`` keeps those positions of CONTROLS[codec]."""
    out = []
    for position, (name, build) in enumerate(CONTROLS[codec]):
        if only is not None and position not in only:
            continue
        payload = MULTI_ELEMENT[name](pic, elements) if name in MULTI_ELEMENT else build(pic)
        out.append(ControlValue.of(getattr(C, name), payload))
    return tuple(out)
