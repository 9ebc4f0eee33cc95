//! HEVC trace events (visl-trace-hevc.h, system `visl_hevc_controls`), in the order
//! visl-dec.c emits them: SPS, PPS, slice parameters (element 0 of the dynamic array),
//! scaling matrix, decode parameters, the 16 DPB entries, and the prediction weight table
//! of slice element 0.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use uapi::*;

use super::{array, flags, hex, load, CInt, CtrlSource, Event, Names};

const SPS_FLAGS: &Names = &[
    (V4L2_HEVC_SPS_FLAG_SEPARATE_COLOUR_PLANE as u64, "SEPARATE_COLOUR_PLANE"),
    (V4L2_HEVC_SPS_FLAG_SCALING_LIST_ENABLED as u64, "SCALING_LIST_ENABLED"),
    (V4L2_HEVC_SPS_FLAG_AMP_ENABLED as u64, "AMP_ENABLED"),
    (V4L2_HEVC_SPS_FLAG_SAMPLE_ADAPTIVE_OFFSET as u64, "SAMPLE_ADAPTIVE_OFFSET"),
    (V4L2_HEVC_SPS_FLAG_PCM_ENABLED as u64, "PCM_ENABLED"),
    // Sic: the kernel's table keeps the prefix on this one name.
    (V4L2_HEVC_SPS_FLAG_PCM_LOOP_FILTER_DISABLED as u64, "V4L2_HEVC_SPS_FLAG_PCM_LOOP_FILTER_DISABLED"),
    (V4L2_HEVC_SPS_FLAG_LONG_TERM_REF_PICS_PRESENT as u64, "LONG_TERM_REF_PICS_PRESENT"),
    (V4L2_HEVC_SPS_FLAG_SPS_TEMPORAL_MVP_ENABLED as u64, "TEMPORAL_MVP_ENABLED"),
    (V4L2_HEVC_SPS_FLAG_STRONG_INTRA_SMOOTHING_ENABLED as u64, "STRONG_INTRA_SMOOTHING_ENABLED"),
];

const PPS_FLAGS: &Names = &[
    (V4L2_HEVC_PPS_FLAG_DEPENDENT_SLICE_SEGMENT_ENABLED as u64, "DEPENDENT_SLICE_SEGMENT_ENABLED"),
    (V4L2_HEVC_PPS_FLAG_OUTPUT_FLAG_PRESENT as u64, "OUTPUT_FLAG_PRESENT"),
    (V4L2_HEVC_PPS_FLAG_SIGN_DATA_HIDING_ENABLED as u64, "SIGN_DATA_HIDING_ENABLED"),
    (V4L2_HEVC_PPS_FLAG_CABAC_INIT_PRESENT as u64, "CABAC_INIT_PRESENT"),
    (V4L2_HEVC_PPS_FLAG_CONSTRAINED_INTRA_PRED as u64, "CONSTRAINED_INTRA_PRED"),
    (V4L2_HEVC_PPS_FLAG_CU_QP_DELTA_ENABLED as u64, "CU_QP_DELTA_ENABLED"),
    (V4L2_HEVC_PPS_FLAG_PPS_SLICE_CHROMA_QP_OFFSETS_PRESENT as u64, "PPS_SLICE_CHROMA_QP_OFFSETS_PRESENT"),
    (V4L2_HEVC_PPS_FLAG_WEIGHTED_PRED as u64, "WEIGHTED_PRED"),
    (V4L2_HEVC_PPS_FLAG_WEIGHTED_BIPRED as u64, "WEIGHTED_BIPRED"),
    (V4L2_HEVC_PPS_FLAG_TRANSQUANT_BYPASS_ENABLED as u64, "TRANSQUANT_BYPASS_ENABLED"),
    (V4L2_HEVC_PPS_FLAG_TILES_ENABLED as u64, "TILES_ENABLED"),
    (V4L2_HEVC_PPS_FLAG_ENTROPY_CODING_SYNC_ENABLED as u64, "ENTROPY_CODING_SYNC_ENABLED"),
    (V4L2_HEVC_PPS_FLAG_LOOP_FILTER_ACROSS_TILES_ENABLED as u64, "LOOP_FILTER_ACROSS_TILES_ENABLED"),
    (
        V4L2_HEVC_PPS_FLAG_PPS_LOOP_FILTER_ACROSS_SLICES_ENABLED as u64,
        "PPS_LOOP_FILTER_ACROSS_SLICES_ENABLED",
    ),
    (V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_OVERRIDE_ENABLED as u64, "DEBLOCKING_FILTER_OVERRIDE_ENABLED"),
    (V4L2_HEVC_PPS_FLAG_PPS_DISABLE_DEBLOCKING_FILTER as u64, "DISABLE_DEBLOCKING_FILTER"),
    (V4L2_HEVC_PPS_FLAG_LISTS_MODIFICATION_PRESENT as u64, "LISTS_MODIFICATION_PRESENT"),
    (
        V4L2_HEVC_PPS_FLAG_SLICE_SEGMENT_HEADER_EXTENSION_PRESENT as u64,
        "SLICE_SEGMENT_HEADER_EXTENSION_PRESENT",
    ),
    (V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT as u64, "DEBLOCKING_FILTER_CONTROL_PRESENT"),
    (V4L2_HEVC_PPS_FLAG_UNIFORM_SPACING as u64, "UNIFORM_SPACING"),
];

const SLICE_FLAGS: &Names = &[
    (V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_LUMA as u64, "SLICE_SAO_LUMA"),
    (V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_CHROMA as u64, "SLICE_SAO_CHROMA"),
    (V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_TEMPORAL_MVP_ENABLED as u64, "SLICE_TEMPORAL_MVP_ENABLED"),
    (V4L2_HEVC_SLICE_PARAMS_FLAG_MVD_L1_ZERO as u64, "MVD_L1_ZERO"),
    (V4L2_HEVC_SLICE_PARAMS_FLAG_CABAC_INIT as u64, "CABAC_INIT"),
    (V4L2_HEVC_SLICE_PARAMS_FLAG_COLLOCATED_FROM_L0 as u64, "COLLOCATED_FROM_L0"),
    (V4L2_HEVC_SLICE_PARAMS_FLAG_USE_INTEGER_MV as u64, "USE_INTEGER_MV"),
    (V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_DEBLOCKING_FILTER_DISABLED as u64, "SLICE_DEBLOCKING_FILTER_DISABLED"),
    (
        V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_LOOP_FILTER_ACROSS_SLICES_ENABLED as u64,
        "SLICE_LOOP_FILTER_ACROSS_SLICES_ENABLED",
    ),
    (V4L2_HEVC_SLICE_PARAMS_FLAG_DEPENDENT_SLICE_SEGMENT as u64, "DEPENDENT_SLICE_SEGMENT"),
];

const DECODE_FLAGS: &Names = &[
    (V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC as u64, "IRAP_PIC"),
    (V4L2_HEVC_DECODE_PARAM_FLAG_IDR_PIC as u64, "IDR_PIC"),
    (V4L2_HEVC_DECODE_PARAM_FLAG_NO_OUTPUT_OF_PRIOR as u64, "NO_OUTPUT_OF_PRIOR"),
];

const DPB_FLAGS: &Names = &[(V4L2_HEVC_DPB_ENTRY_LONG_TERM_REFERENCE as u64, "LONG_TERM_REFERENCE")];

pub(super) fn events(ctrls: &dyn CtrlSource) -> Vec<Event> {
    let slice: v4l2_ctrl_hevc_slice_params = load(ctrls, V4L2_CID_STATELESS_HEVC_SLICE_PARAMS);
    let decode: v4l2_ctrl_hevc_decode_params = load(ctrls, V4L2_CID_STATELESS_HEVC_DECODE_PARAMS);
    let mut out = Vec::with_capacity(5 + decode.dpb.len() + 1);
    out.push(Event::new("v4l2_ctrl_hevc_sps", sps(&load(ctrls, V4L2_CID_STATELESS_HEVC_SPS))));
    out.push(Event::new("v4l2_ctrl_hevc_pps", pps(&load(ctrls, V4L2_CID_STATELESS_HEVC_PPS))));
    out.push(Event::new("v4l2_ctrl_hevc_slice_params", slice_params(&slice)));
    out.push(Event::new(
        "v4l2_ctrl_hevc_scaling_matrix",
        scaling_matrix(&load(ctrls, V4L2_CID_STATELESS_HEVC_SCALING_MATRIX)),
    ));
    out.push(Event::new("v4l2_ctrl_hevc_decode_params", decode_params(&decode)));
    for e in &decode.dpb {
        out.push(Event::new("v4l2_hevc_dpb_entry", dpb_entry(e)));
    }
    out.push(Event::new("v4l2_hevc_pred_weight_table", pred_weight_table(&slice.pred_weight_table)));
    out
}

fn sps(s: &v4l2_ctrl_hevc_sps) -> String {
    format!(
        "\nvideo_parameter_set_id {}\nseq_parameter_set_id {}\npic_width_in_luma_samples {}\n\
         pic_height_in_luma_samples {}\nbit_depth_luma_minus8 {}\nbit_depth_chroma_minus8 {}\n\
         log2_max_pic_order_cnt_lsb_minus4 {}\nsps_max_dec_pic_buffering_minus1 {}\n\
         sps_max_num_reorder_pics {}\nsps_max_latency_increase_plus1 {}\n\
         log2_min_luma_coding_block_size_minus3 {}\nlog2_diff_max_min_luma_coding_block_size {}\n\
         log2_min_luma_transform_block_size_minus2 {}\nlog2_diff_max_min_luma_transform_block_size {}\n\
         max_transform_hierarchy_depth_inter {}\nmax_transform_hierarchy_depth_intra {}\n\
         pcm_sample_bit_depth_luma_minus1 {}\npcm_sample_bit_depth_chroma_minus1 {}\n\
         log2_min_pcm_luma_coding_block_size_minus3 {}\nlog2_diff_max_min_pcm_luma_coding_block_size {}\n\
         num_short_term_ref_pic_sets {}\nnum_long_term_ref_pics_sps {}\nchroma_format_idc {}\n\
         sps_max_sub_layers_minus1 {}\nflags {}",
        s.video_parameter_set_id.u(),
        s.seq_parameter_set_id.u(),
        s.pic_width_in_luma_samples.u(),
        s.pic_height_in_luma_samples.u(),
        s.bit_depth_luma_minus8.u(),
        s.bit_depth_chroma_minus8.u(),
        s.log2_max_pic_order_cnt_lsb_minus4.u(),
        s.sps_max_dec_pic_buffering_minus1.u(),
        s.sps_max_num_reorder_pics.u(),
        s.sps_max_latency_increase_plus1.u(),
        s.log2_min_luma_coding_block_size_minus3.u(),
        s.log2_diff_max_min_luma_coding_block_size.u(),
        s.log2_min_luma_transform_block_size_minus2.u(),
        s.log2_diff_max_min_luma_transform_block_size.u(),
        s.max_transform_hierarchy_depth_inter.u(),
        s.max_transform_hierarchy_depth_intra.u(),
        s.pcm_sample_bit_depth_luma_minus1.u(),
        s.pcm_sample_bit_depth_chroma_minus1.u(),
        s.log2_min_pcm_luma_coding_block_size_minus3.u(),
        s.log2_diff_max_min_pcm_luma_coding_block_size.u(),
        s.num_short_term_ref_pic_sets.u(),
        s.num_long_term_ref_pics_sps.u(),
        s.chroma_format_idc.u(),
        s.sps_max_sub_layers_minus1.u(),
        flags(s.flags, SPS_FLAGS),
    )
}

fn pps(p: &v4l2_ctrl_hevc_pps) -> String {
    format!(
        "\npic_parameter_set_id {}\nnum_extra_slice_header_bits {}\n\
         num_ref_idx_l0_default_active_minus1 {}\nnum_ref_idx_l1_default_active_minus1 {}\n\
         init_qp_minus26 {}\ndiff_cu_qp_delta_depth {}\npps_cb_qp_offset {}\npps_cr_qp_offset {}\n\
         num_tile_columns_minus1 {}\nnum_tile_rows_minus1 {}\ncolumn_width_minus1 {}\n\
         row_height_minus1 {}\npps_beta_offset_div2 {}\npps_tc_offset_div2 {}\n\
         log2_parallel_merge_level_minus2 {}\nflags {}",
        p.pic_parameter_set_id.u(),
        p.num_extra_slice_header_bits.u(),
        p.num_ref_idx_l0_default_active_minus1.u(),
        p.num_ref_idx_l1_default_active_minus1.u(),
        p.init_qp_minus26.d(),
        p.diff_cu_qp_delta_depth.u(),
        p.pps_cb_qp_offset.d(),
        p.pps_cr_qp_offset.d(),
        p.num_tile_columns_minus1.d(),
        p.num_tile_rows_minus1.d(),
        array(&p.column_width_minus1),
        array(&p.row_height_minus1),
        p.pps_beta_offset_div2.d(),
        p.pps_tc_offset_div2.d(),
        p.log2_parallel_merge_level_minus2.u(),
        flags(p.flags, PPS_FLAGS),
    )
}

fn slice_params(s: &v4l2_ctrl_hevc_slice_params) -> String {
    format!(
        "\nbit_size {}\ndata_byte_offset {}\nnum_entry_point_offsets {}\nnal_unit_type {}\n\
         nuh_temporal_id_plus1 {}\nslice_type {}\ncolour_plane_id {}\nslice_pic_order_cnt {}\n\
         num_ref_idx_l0_active_minus1 {}\nnum_ref_idx_l1_active_minus1 {}\ncollocated_ref_idx {}\n\
         five_minus_max_num_merge_cand {}\nslice_qp_delta {}\nslice_cb_qp_offset {}\n\
         slice_cr_qp_offset {}\nslice_act_y_qp_offset {}\nslice_act_cb_qp_offset {}\n\
         slice_act_cr_qp_offset {}\nslice_beta_offset_div2 {}\nslice_tc_offset_div2 {}\n\
         pic_struct {}\nslice_segment_addr {}\nref_idx_l0 {}\nref_idx_l1 {}\n\
         short_term_ref_pic_set_size {}\nlong_term_ref_pic_set_size {}\nflags {}",
        s.bit_size.u(),
        s.data_byte_offset.u(),
        s.num_entry_point_offsets.u(),
        s.nal_unit_type.u(),
        s.nuh_temporal_id_plus1.u(),
        s.slice_type.u(),
        s.colour_plane_id.u(),
        s.slice_pic_order_cnt.d(),
        s.num_ref_idx_l0_active_minus1.u(),
        s.num_ref_idx_l1_active_minus1.u(),
        s.collocated_ref_idx.u(),
        s.five_minus_max_num_merge_cand.u(),
        s.slice_qp_delta.d(),
        s.slice_cb_qp_offset.d(),
        s.slice_cr_qp_offset.d(),
        s.slice_act_y_qp_offset.d(),
        s.slice_act_cb_qp_offset.d(),
        s.slice_act_cr_qp_offset.d(),
        s.slice_beta_offset_div2.d(),
        s.slice_tc_offset_div2.d(),
        s.pic_struct.u(),
        s.slice_segment_addr.u(),
        array(&s.ref_idx_l0),
        array(&s.ref_idx_l1),
        s.short_term_ref_pic_set_size.u(),
        s.long_term_ref_pic_set_size.u(),
        flags(s.flags, SLICE_FLAGS),
    )
}

fn pred_weight_table(p: &v4l2_hevc_pred_weight_table) -> String {
    format!(
        "\ndelta_luma_weight_l0 {}\nluma_offset_l0 {}\ndelta_chroma_weight_l0 {{{}}}\n\
         chroma_offset_l0 {{{}}}\ndelta_luma_weight_l1 {}\nluma_offset_l1 {}\n\
         delta_chroma_weight_l1 {{{}}}\nchroma_offset_l1 {{{}}}\nluma_log2_weight_denom {}\n\
         delta_chroma_log2_weight_denom {}\n",
        array(&p.delta_luma_weight_l0),
        array(&p.luma_offset_l0),
        hex(&p.delta_chroma_weight_l0),
        hex(&p.chroma_offset_l0),
        array(&p.delta_luma_weight_l1),
        array(&p.luma_offset_l1),
        hex(&p.delta_chroma_weight_l1),
        hex(&p.chroma_offset_l1),
        p.luma_log2_weight_denom.d(),
        p.delta_chroma_log2_weight_denom.d(),
    )
}

fn scaling_matrix(s: &v4l2_ctrl_hevc_scaling_matrix) -> String {
    format!(
        "\nscaling_list_4x4 {{{}}}\nscaling_list_8x8 {{{}}}\nscaling_list_16x16 {{{}}}\n\
         scaling_list_32x32 {{{}}}\nscaling_list_dc_coef_16x16 {}\nscaling_list_dc_coef_32x32 {}\n",
        hex(&s.scaling_list_4x4),
        hex(&s.scaling_list_8x8),
        hex(&s.scaling_list_16x16),
        hex(&s.scaling_list_32x32),
        array(&s.scaling_list_dc_coef_16x16),
        array(&s.scaling_list_dc_coef_32x32),
    )
}

fn decode_params(d: &v4l2_ctrl_hevc_decode_params) -> String {
    format!(
        "\npic_order_cnt_val {}\nshort_term_ref_pic_set_size {}\nlong_term_ref_pic_set_size {}\n\
         num_active_dpb_entries {}\nnum_poc_st_curr_before {}\nnum_poc_st_curr_after {}\n\
         num_poc_lt_curr {}\npoc_st_curr_before {}\npoc_st_curr_after {}\npoc_lt_curr {}\nflags {}",
        d.pic_order_cnt_val.d(),
        d.short_term_ref_pic_set_size.u(),
        d.long_term_ref_pic_set_size.u(),
        d.num_active_dpb_entries.u(),
        d.num_poc_st_curr_before.u(),
        d.num_poc_st_curr_after.u(),
        d.num_poc_lt_curr.u(),
        array(&d.poc_st_curr_before),
        array(&d.poc_st_curr_after),
        array(&d.poc_lt_curr),
        flags(d.flags, DECODE_FLAGS),
    )
}

fn dpb_entry(e: &v4l2_hevc_dpb_entry) -> String {
    format!(
        "\ntimestamp {}\nflags {}\nfield_pic {}\npic_order_cnt_val {}\n",
        e.timestamp,
        flags(e.flags.into(), DPB_FLAGS),
        e.field_pic.u(),
        e.pic_order_cnt_val.d(),
    )
}
