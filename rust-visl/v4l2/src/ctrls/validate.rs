//! Compound payload validation (std_validate_compound in v4l2-ctrls-core.c, Linux 6.12):
//! the errno for out-of-range syntax elements, and the fields the core clears or forces
//! before a payload is stored.

use uapi::*;

use super::pod::edit;
use crate::error::{Errno, Result};

fn check(ok: bool) -> Result {
    if ok {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// Profiles whose SPS carries chroma_format_idc and bit depths (ITU-T H.264 7.3.2.1.1).
fn h264_sps_has_chroma_format(profile_idc: u8) -> bool {
    matches!(profile_idc, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135)
}

const H264_REF_LIST_LEN: u8 = 32;

fn h264_sps(sps: &mut v4l2_ctrl_h264_sps) -> Result {
    if sps.pic_order_cnt_type != 0 {
        sps.log2_max_pic_order_cnt_lsb_minus4 = 0;
    } else {
        sps.num_ref_frames_in_pic_order_cnt_cycle = 0;
        sps.offset_for_non_ref_pic = 0;
        sps.offset_for_top_to_bottom_field = 0;
        sps.offset_for_ref_frame = [0; 255];
    }
    if !h264_sps_has_chroma_format(sps.profile_idc) {
        sps.chroma_format_idc = 1;
        sps.bit_depth_luma_minus8 = 0;
        sps.bit_depth_chroma_minus8 = 0;
        sps.flags &= !V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS;
    }
    if sps.chroma_format_idc < 3 {
        sps.flags &= !V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE;
    }
    if sps.flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY != 0 {
        sps.flags &= !V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD;
    }
    // 4:2:2 needs High 4:2:2 (122) and 4:4:4 High 4:4:4 (244) or later profiles.
    check(!(sps.profile_idc < 122 && sps.chroma_format_idc > 1))?;
    check(!(sps.profile_idc < 244 && sps.chroma_format_idc > 2))?;
    check(sps.chroma_format_idc <= 3)?;
    check(sps.bit_depth_luma_minus8 <= 6)?;
    check(sps.bit_depth_chroma_minus8 <= 6)?;
    check(sps.log2_max_frame_num_minus4 <= 12)?;
    check(sps.pic_order_cnt_type <= 2)?;
    check(sps.log2_max_pic_order_cnt_lsb_minus4 <= 12)?;
    check(sps.max_num_ref_frames <= H264_REF_LIST_LEN)
}

fn h264_pps(pps: &mut v4l2_ctrl_h264_pps) -> Result {
    check(pps.num_slice_groups_minus1 <= 7)?;
    check(pps.num_ref_idx_l0_default_active_minus1 < H264_REF_LIST_LEN)?;
    check(pps.num_ref_idx_l1_default_active_minus1 < H264_REF_LIST_LEN)?;
    check(pps.weighted_bipred_idc <= 2)?;
    // -(26 + QpBdOffsetY) with the largest bit depth, up to +25.
    check((-62..=25).contains(&pps.pic_init_qp_minus26))?;
    check((-26..=25).contains(&pps.pic_init_qs_minus26))?;
    check((-12..=12).contains(&pps.chroma_qp_index_offset))?;
    check((-12..=12).contains(&pps.second_chroma_qp_index_offset))
}

fn h264_pred_weights(pw: &mut v4l2_ctrl_h264_pred_weights) -> Result {
    check(pw.luma_log2_weight_denom <= 7)?;
    check(pw.chroma_log2_weight_denom <= 7)
}

fn h264_slice_params(sp: &mut v4l2_ctrl_h264_slice_params) -> Result {
    // CAST: slice type enumerators fit the u8 field.
    let (i, si, b) =
        (V4L2_H264_SLICE_TYPE_I as u8, V4L2_H264_SLICE_TYPE_SI as u8, V4L2_H264_SLICE_TYPE_B as u8);
    if sp.slice_type != b {
        sp.flags &= !V4L2_H264_SLICE_FLAG_DIRECT_SPATIAL_MV_PRED;
    }
    check(sp.colour_plane_id <= 2)?;
    check(sp.cabac_init_idc <= 2)?;
    check(sp.disable_deblocking_filter_idc <= 2)?;
    check((-6..=6).contains(&sp.slice_alpha_c0_offset_div2))?;
    check((-6..=6).contains(&sp.slice_beta_offset_div2))?;
    if sp.slice_type == i || sp.slice_type == si {
        sp.num_ref_idx_l0_active_minus1 = 0;
    }
    if sp.slice_type != b {
        sp.num_ref_idx_l1_active_minus1 = 0;
    }
    check(sp.num_ref_idx_l0_active_minus1 < H264_REF_LIST_LEN)?;
    check(sp.num_ref_idx_l1_active_minus1 < H264_REF_LIST_LEN)?;
    sp.reserved = Default::default();
    Ok(())
}

fn h264_decode_params(dp: &mut v4l2_ctrl_h264_decode_params) -> Result {
    check(dp.nal_ref_idc <= 3)?;
    for entry in dp.dpb.iter_mut() {
        entry.reserved = Default::default();
    }
    dp.reserved = Default::default();
    Ok(())
}

fn mpeg2_sequence(seq: &mut v4l2_ctrl_mpeg2_sequence) -> Result {
    // 4:2:0, 4:2:2 or 4:4:4.
    check(matches!(seq.chroma_format, 1..=3))
}

fn mpeg2_picture(pic: &mut v4l2_ctrl_mpeg2_picture) -> Result {
    check(pic.intra_dc_precision <= 3)?;
    check(matches!(u32::from(pic.picture_structure), V4L2_MPEG2_PIC_TOP_FIELD..=V4L2_MPEG2_PIC_FRAME))?;
    check(matches!(
        u32::from(pic.picture_coding_type),
        V4L2_MPEG2_PIC_CODING_TYPE_I..=V4L2_MPEG2_PIC_CODING_TYPE_B
    ))?;
    pic.reserved = Default::default();
    Ok(())
}

fn fwht_params(params: &mut v4l2_ctrl_fwht_params) -> Result {
    check(params.version >= V4L2_FWHT_VERSION)?;
    check(params.width != 0 && params.height != 0)
}

fn vp8_frame(frame: &mut v4l2_ctrl_vp8_frame) -> Result {
    check(matches!(frame.num_dct_parts, 1 | 2 | 4 | 8))?;
    frame.segment.padding = Default::default();
    frame.lf.padding = Default::default();
    frame.quant.padding = Default::default();
    frame.entropy.padding = Default::default();
    frame.coder_state.padding = Default::default();
    Ok(())
}

const HEVC_DPB_ENTRIES_NUM_MAX: u8 = 16;

fn hevc_sps(sps: &mut v4l2_ctrl_hevc_sps) -> Result {
    if sps.flags & u64::from(V4L2_HEVC_SPS_FLAG_PCM_ENABLED) == 0 {
        sps.pcm_sample_bit_depth_luma_minus1 = 0;
        sps.pcm_sample_bit_depth_chroma_minus1 = 0;
        sps.log2_min_pcm_luma_coding_block_size_minus3 = 0;
        sps.log2_diff_max_min_pcm_luma_coding_block_size = 0;
    }
    if sps.flags & u64::from(V4L2_HEVC_SPS_FLAG_LONG_TERM_REF_PICS_PRESENT) == 0 {
        sps.num_long_term_ref_pics_sps = 0;
    }
    Ok(())
}

fn hevc_pps(pps: &mut v4l2_ctrl_hevc_pps) -> Result {
    let has = |flag: u32| pps.flags & u64::from(flag) != 0;
    if !has(V4L2_HEVC_PPS_FLAG_CU_QP_DELTA_ENABLED) {
        pps.diff_cu_qp_delta_depth = 0;
    }
    if !has(V4L2_HEVC_PPS_FLAG_TILES_ENABLED) {
        pps.num_tile_columns_minus1 = 0;
        pps.num_tile_rows_minus1 = 0;
        pps.column_width_minus1 = Default::default();
        pps.row_height_minus1 = Default::default();
        pps.flags &= !u64::from(V4L2_HEVC_PPS_FLAG_LOOP_FILTER_ACROSS_TILES_ENABLED);
    } else {
        // Debian's 6.12.117 bounds the tile counts by the arrays drivers index with them.
        check(usize::from(pps.num_tile_columns_minus1) < pps.column_width_minus1.len())?;
        check(usize::from(pps.num_tile_rows_minus1) < pps.row_height_minus1.len())?;
    }
    if pps.flags & u64::from(V4L2_HEVC_PPS_FLAG_PPS_DISABLE_DEBLOCKING_FILTER) != 0 {
        pps.pps_beta_offset_div2 = 0;
        pps.pps_tc_offset_div2 = 0;
    }
    Ok(())
}

fn hevc_decode_params(dp: &mut v4l2_ctrl_hevc_decode_params) -> Result {
    check(dp.num_active_dpb_entries <= HEVC_DPB_ENTRIES_NUM_MAX)
}

fn hevc_slice_params(sp: &mut v4l2_ctrl_hevc_slice_params) -> Result {
    check(sp.num_ref_idx_l0_active_minus1 < HEVC_DPB_ENTRIES_NUM_MAX)?;
    // CAST: the slice type enumerator fits the u8 field.
    if sp.slice_type != V4L2_HEVC_SLICE_TYPE_B as u8 {
        return Ok(());
    }
    check(sp.num_ref_idx_l1_active_minus1 < HEVC_DPB_ENTRIES_NUM_MAX)
}

/// Validate (and sanitise in place) one element of a compound control's payload.
pub fn compound(ctrl_type: u32, element: &mut [u8]) -> Result {
    match ctrl_type {
        V4L2_CTRL_TYPE_H264_SPS => edit(element, h264_sps),
        V4L2_CTRL_TYPE_H264_PPS => edit(element, h264_pps),
        V4L2_CTRL_TYPE_H264_PRED_WEIGHTS => edit(element, h264_pred_weights),
        V4L2_CTRL_TYPE_H264_SLICE_PARAMS => edit(element, h264_slice_params),
        V4L2_CTRL_TYPE_H264_DECODE_PARAMS => edit(element, h264_decode_params),
        V4L2_CTRL_TYPE_MPEG2_SEQUENCE => edit(element, mpeg2_sequence),
        V4L2_CTRL_TYPE_MPEG2_PICTURE => edit(element, mpeg2_picture),
        V4L2_CTRL_TYPE_FWHT_PARAMS => edit(element, fwht_params),
        V4L2_CTRL_TYPE_VP8_FRAME => edit(element, vp8_frame),
        V4L2_CTRL_TYPE_HEVC_SPS => edit(element, hevc_sps),
        V4L2_CTRL_TYPE_HEVC_PPS => edit(element, hevc_pps),
        V4L2_CTRL_TYPE_HEVC_DECODE_PARAMS => edit(element, hevc_decode_params),
        V4L2_CTRL_TYPE_HEVC_SLICE_PARAMS => edit(element, hevc_slice_params),
        // The remaining stateless types (scaling matrices, quantisation, VP9, AV1) are not
        // validated by the 6.12 core: any payload is stored as given.
        _ => Ok(()),
    }
}
