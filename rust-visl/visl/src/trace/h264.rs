//! H.264 trace events (visl-trace-h264.h, system `visl_h264_controls`), in the order
//! visl-dec.c emits them: SPS, PPS, scaling matrix, slice parameters, the 32 entries of each
//! reference picture list, decode parameters, the 16 DPB entries, prediction weights.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use uapi::*;

use super::{array, flags, hex, load, symbolic, CInt, CtrlSource, Event, Names};

const CONSTRAINT_SET_FLAGS: &Names = &[
    (V4L2_H264_SPS_CONSTRAINT_SET0_FLAG as u64, "CONSTRAINT_SET0_FLAG"),
    (V4L2_H264_SPS_CONSTRAINT_SET1_FLAG as u64, "CONSTRAINT_SET1_FLAG"),
    (V4L2_H264_SPS_CONSTRAINT_SET2_FLAG as u64, "CONSTRAINT_SET2_FLAG"),
    (V4L2_H264_SPS_CONSTRAINT_SET3_FLAG as u64, "CONSTRAINT_SET3_FLAG"),
    (V4L2_H264_SPS_CONSTRAINT_SET4_FLAG as u64, "CONSTRAINT_SET4_FLAG"),
    (V4L2_H264_SPS_CONSTRAINT_SET5_FLAG as u64, "CONSTRAINT_SET5_FLAG"),
];

const SPS_FLAGS: &Names = &[
    (V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE as u64, "SEPARATE_COLOUR_PLANE"),
    (V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS as u64, "QPPRIME_Y_ZERO_TRANSFORM_BYPASS"),
    (V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO as u64, "DELTA_PIC_ORDER_ALWAYS_ZERO"),
    (V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED as u64, "GAPS_IN_FRAME_NUM_VALUE_ALLOWED"),
    (V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY as u64, "FRAME_MBS_ONLY"),
    (V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD as u64, "MB_ADAPTIVE_FRAME_FIELD"),
    (V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE as u64, "DIRECT_8X8_INFERENCE"),
];

const PPS_FLAGS: &Names = &[
    (V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE as u64, "ENTROPY_CODING_MODE"),
    (
        V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT as u64,
        "BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT",
    ),
    (V4L2_H264_PPS_FLAG_WEIGHTED_PRED as u64, "WEIGHTED_PRED"),
    (V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT as u64, "DEBLOCKING_FILTER_CONTROL_PRESENT"),
    (V4L2_H264_PPS_FLAG_CONSTRAINED_INTRA_PRED as u64, "CONSTRAINED_INTRA_PRED"),
    (V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT as u64, "REDUNDANT_PIC_CNT_PRESENT"),
    (V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE as u64, "TRANSFORM_8X8_MODE"),
    (V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT as u64, "SCALING_MATRIX_PRESENT"),
];

const SLICE_TYPES: &Names = &[
    (V4L2_H264_SLICE_TYPE_P as u64, "P"),
    (V4L2_H264_SLICE_TYPE_B as u64, "B"),
    (V4L2_H264_SLICE_TYPE_I as u64, "I"),
    (V4L2_H264_SLICE_TYPE_SP as u64, "SP"),
    (V4L2_H264_SLICE_TYPE_SI as u64, "SI"),
];

const SLICE_FLAGS: &Names = &[
    (V4L2_H264_SLICE_FLAG_DIRECT_SPATIAL_MV_PRED as u64, "DIRECT_SPATIAL_MV_PRED"),
    (V4L2_H264_SLICE_FLAG_SP_FOR_SWITCH as u64, "SP_FOR_SWITCH"),
];

const FIELDS: &Names = &[
    (V4L2_H264_TOP_FIELD_REF as u64, "TOP_FIELD_REF"),
    (V4L2_H264_BOTTOM_FIELD_REF as u64, "BOTTOM_FIELD_REF"),
    (V4L2_H264_FRAME_REF as u64, "FRAME_REF"),
];

const DECODE_FLAGS: &Names = &[
    (V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC as u64, "IDR_PIC"),
    (V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC as u64, "FIELD_PIC"),
    (V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD as u64, "BOTTOM_FIELD"),
    (V4L2_H264_DECODE_PARAM_FLAG_PFRAME as u64, "PFRAME"),
    (V4L2_H264_DECODE_PARAM_FLAG_BFRAME as u64, "BFRAME"),
];

const DPB_FLAGS: &Names = &[
    (V4L2_H264_DPB_ENTRY_FLAG_VALID as u64, "VALID"),
    (V4L2_H264_DPB_ENTRY_FLAG_ACTIVE as u64, "ACTIVE"),
    (V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM as u64, "LONG_TERM"),
    (V4L2_H264_DPB_ENTRY_FLAG_FIELD as u64, "FIELD"),
];

pub(super) fn events(ctrls: &dyn CtrlSource) -> Vec<Event> {
    let slice: v4l2_ctrl_h264_slice_params = load(ctrls, V4L2_CID_STATELESS_H264_SLICE_PARAMS);
    let decode: v4l2_ctrl_h264_decode_params = load(ctrls, V4L2_CID_STATELESS_H264_DECODE_PARAMS);
    let mut out = Vec::with_capacity(4 + 2 * slice.ref_pic_list0.len() + 1 + decode.dpb.len() + 1);
    out.push(Event::new("v4l2_ctrl_h264_sps", sps(&load(ctrls, V4L2_CID_STATELESS_H264_SPS))));
    out.push(Event::new("v4l2_ctrl_h264_pps", pps(&load(ctrls, V4L2_CID_STATELESS_H264_PPS))));
    out.push(Event::new(
        "v4l2_ctrl_h264_scaling_matrix",
        scaling_matrix(&load(ctrls, V4L2_CID_STATELESS_H264_SCALING_MATRIX)),
    ));
    out.push(Event::new("v4l2_ctrl_h264_slice_params", slice_params(&slice)));
    for (i, r) in slice.ref_pic_list0.iter().enumerate() {
        out.push(Event::new("v4l2_h264_ref_pic_list0", reference(r, i)));
    }
    // visl-dec.c bounds this loop by list 0's length too; both lists hold 32 entries.
    for (i, r) in slice.ref_pic_list1.iter().enumerate() {
        out.push(Event::new("v4l2_h264_ref_pic_list1", reference(r, i)));
    }
    out.push(Event::new("v4l2_ctrl_h264_decode_params", decode_params(&decode)));
    for (i, e) in decode.dpb.iter().enumerate() {
        out.push(Event::new("v4l2_h264_dpb_entry", dpb_entry(e, i)));
    }
    out.push(Event::new(
        "v4l2_ctrl_h264_pred_weights",
        pred_weights(&load(ctrls, V4L2_CID_STATELESS_H264_PRED_WEIGHTS)),
    ));
    out
}

fn sps(s: &v4l2_ctrl_h264_sps) -> String {
    format!(
        "\nprofile_idc {}\nconstraint_set_flags {}\nlevel_idc {}\nseq_parameter_set_id {}\n\
         chroma_format_idc {}\nbit_depth_luma_minus8 {}\nbit_depth_chroma_minus8 {}\n\
         log2_max_frame_num_minus4 {}\npic_order_cnt_type {}\nlog2_max_pic_order_cnt_lsb_minus4 {}\n\
         max_num_ref_frames {}\nnum_ref_frames_in_pic_order_cnt_cycle {}\noffset_for_ref_frame {}\n\
         offset_for_non_ref_pic {}\noffset_for_top_to_bottom_field {}\npic_width_in_mbs_minus1 {}\n\
         pic_height_in_map_units_minus1 {}\nflags {}",
        s.profile_idc.u(),
        flags(s.constraint_set_flags.into(), CONSTRAINT_SET_FLAGS),
        s.level_idc.u(),
        s.seq_parameter_set_id.u(),
        s.chroma_format_idc.u(),
        s.bit_depth_luma_minus8.u(),
        s.bit_depth_chroma_minus8.u(),
        s.log2_max_frame_num_minus4.u(),
        s.pic_order_cnt_type.u(),
        s.log2_max_pic_order_cnt_lsb_minus4.u(),
        s.max_num_ref_frames.u(),
        s.num_ref_frames_in_pic_order_cnt_cycle.u(),
        array(&s.offset_for_ref_frame),
        s.offset_for_non_ref_pic.d(),
        s.offset_for_top_to_bottom_field.d(),
        s.pic_width_in_mbs_minus1.u(),
        s.pic_height_in_map_units_minus1.u(),
        flags(s.flags.into(), SPS_FLAGS),
    )
}

fn pps(p: &v4l2_ctrl_h264_pps) -> String {
    format!(
        "\npic_parameter_set_id {}\nseq_parameter_set_id {}\nnum_slice_groups_minus1 {}\n\
         num_ref_idx_l0_default_active_minus1 {}\nnum_ref_idx_l1_default_active_minus1 {}\n\
         weighted_bipred_idc {}\npic_init_qp_minus26 {}\npic_init_qs_minus26 {}\n\
         chroma_qp_index_offset {}\nsecond_chroma_qp_index_offset {}\nflags {}",
        p.pic_parameter_set_id.u(),
        p.seq_parameter_set_id.u(),
        p.num_slice_groups_minus1.u(),
        p.num_ref_idx_l0_default_active_minus1.u(),
        p.num_ref_idx_l1_default_active_minus1.u(),
        p.weighted_bipred_idc.u(),
        p.pic_init_qp_minus26.d(),
        p.pic_init_qs_minus26.d(),
        p.chroma_qp_index_offset.d(),
        p.second_chroma_qp_index_offset.d(),
        flags(p.flags.into(), PPS_FLAGS),
    )
}

fn scaling_matrix(s: &v4l2_ctrl_h264_scaling_matrix) -> String {
    format!(
        "\nscaling_list_4x4 {{{}}}\nscaling_list_8x8 {{{}}}",
        hex(&s.scaling_list_4x4),
        hex(&s.scaling_list_8x8)
    )
}

fn pred_weights(p: &v4l2_ctrl_h264_pred_weights) -> String {
    let [w0, w1] = &p.weight_factors;
    format!(
        "\nluma_log2_weight_denom {}\nchroma_log2_weight_denom {}\n\
         weight_factor[0].luma_weight {}\nweight_factor[0].luma_offset {}\n\
         weight_factor[0].chroma_weight {{{}}}\nweight_factor[0].chroma_offset {{{}}}\n\
         weight_factor[1].luma_weight {}\nweight_factor[1].luma_offset {}\n\
         weight_factor[1].chroma_weight {{{}}}\nweight_factor[1].chroma_offset {{{}}}\n",
        p.luma_log2_weight_denom.u(),
        p.chroma_log2_weight_denom.u(),
        array(&w0.luma_weight),
        array(&w0.luma_offset),
        hex(&w0.chroma_weight),
        hex(&w0.chroma_offset),
        array(&w1.luma_weight),
        array(&w1.luma_offset),
        hex(&w1.chroma_weight),
        hex(&w1.chroma_offset),
    )
}

fn slice_params(s: &v4l2_ctrl_h264_slice_params) -> String {
    format!(
        "\nheader_bit_size {}\nfirst_mb_in_slice {}\nslice_type {}\ncolour_plane_id {}\n\
         redundant_pic_cnt {}\ncabac_init_idc {}\nslice_qp_delta {}\nslice_qs_delta {}\n\
         disable_deblocking_filter_idc {}\nslice_alpha_c0_offset_div2 {}\nslice_beta_offset_div2 {}\n\
         num_ref_idx_l0_active_minus1 {}\nnum_ref_idx_l1_active_minus1 {}\nflags {}",
        s.header_bit_size.u(),
        s.first_mb_in_slice.u(),
        symbolic(s.slice_type.into(), SLICE_TYPES),
        s.colour_plane_id.u(),
        s.redundant_pic_cnt.u(),
        s.cabac_init_idc.u(),
        s.slice_qp_delta.d(),
        s.slice_qs_delta.d(),
        s.disable_deblocking_filter_idc.u(),
        // The kernel prints these two signed fields with %u.
        s.slice_alpha_c0_offset_div2.u(),
        s.slice_beta_offset_div2.u(),
        s.num_ref_idx_l0_active_minus1.u(),
        s.num_ref_idx_l1_active_minus1.u(),
        flags(s.flags.into(), SLICE_FLAGS),
    )
}

fn reference(r: &v4l2_h264_reference, i: usize) -> String {
    format!("[{i}]: fields {} index {}", flags(r.fields.into(), FIELDS), r.index.u())
}

fn decode_params(d: &v4l2_ctrl_h264_decode_params) -> String {
    format!(
        "\nnal_ref_idc {}\nframe_num {}\ntop_field_order_cnt {}\nbottom_field_order_cnt {}\n\
         idr_pic_id {}\npic_order_cnt_lsb {}\ndelta_pic_order_cnt_bottom {}\n\
         delta_pic_order_cnt0 {}\ndelta_pic_order_cnt1 {}\ndec_ref_pic_marking_bit_size {}\n\
         pic_order_cnt_bit_size {}\nslice_group_change_cycle {}\nflags {}\n",
        d.nal_ref_idc.u(),
        d.frame_num.u(),
        d.top_field_order_cnt.d(),
        d.bottom_field_order_cnt.d(),
        d.idr_pic_id.u(),
        d.pic_order_cnt_lsb.u(),
        d.delta_pic_order_cnt_bottom.d(),
        d.delta_pic_order_cnt0.d(),
        d.delta_pic_order_cnt1.d(),
        d.dec_ref_pic_marking_bit_size.u(),
        d.pic_order_cnt_bit_size.u(),
        d.slice_group_change_cycle.u(),
        flags(d.flags.into(), DECODE_FLAGS),
    )
}

fn dpb_entry(e: &v4l2_h264_dpb_entry, i: usize) -> String {
    format!(
        "[{i}]: reference_ts {}, pic_num {} frame_num {} fields {} top_field_order_cnt {} \
         bottom_field_order_cnt {} flags {}",
        e.reference_ts,
        e.pic_num.u(),
        e.frame_num.u(),
        flags(e.fields.into(), FIELDS),
        e.top_field_order_cnt.d(),
        e.bottom_field_order_cnt.d(),
        flags(e.flags.into(), DPB_FLAGS),
    )
}
