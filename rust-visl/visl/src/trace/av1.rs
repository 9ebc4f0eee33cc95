//! AV1 trace events (visl-trace-av1.h, system `visl_av1_controls`), in the order
//! visl-dec.c emits them: sequence, frame, film grain, and element 0 of the tile group
//! entries.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use uapi::*;

use super::{array, flags, load, CInt, CtrlSource, Event, Names};

const SEQUENCE_FLAGS: &Names = &[
    (V4L2_AV1_SEQUENCE_FLAG_STILL_PICTURE as u64, "STILL_PICTURE"),
    (V4L2_AV1_SEQUENCE_FLAG_USE_128X128_SUPERBLOCK as u64, "USE_128X128_SUPERBLOCK"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_FILTER_INTRA as u64, "ENABLE_FILTER_INTRA"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_INTRA_EDGE_FILTER as u64, "ENABLE_INTRA_EDGE_FILTER"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_INTERINTRA_COMPOUND as u64, "ENABLE_INTERINTRA_COMPOUND"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_MASKED_COMPOUND as u64, "ENABLE_MASKED_COMPOUND"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_WARPED_MOTION as u64, "ENABLE_WARPED_MOTION"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_DUAL_FILTER as u64, "ENABLE_DUAL_FILTER"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_ORDER_HINT as u64, "ENABLE_ORDER_HINT"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_JNT_COMP as u64, "ENABLE_JNT_COMP"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_REF_FRAME_MVS as u64, "ENABLE_REF_FRAME_MVS"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_SUPERRES as u64, "ENABLE_SUPERRES"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_CDEF as u64, "ENABLE_CDEF"),
    (V4L2_AV1_SEQUENCE_FLAG_ENABLE_RESTORATION as u64, "ENABLE_RESTORATION"),
    (V4L2_AV1_SEQUENCE_FLAG_MONO_CHROME as u64, "MONO_CHROME"),
    (V4L2_AV1_SEQUENCE_FLAG_COLOR_RANGE as u64, "COLOR_RANGE"),
    (V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_X as u64, "SUBSAMPLING_X"),
    (V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_Y as u64, "SUBSAMPLING_Y"),
    (V4L2_AV1_SEQUENCE_FLAG_FILM_GRAIN_PARAMS_PRESENT as u64, "FILM_GRAIN_PARAMS_PRESENT"),
    (V4L2_AV1_SEQUENCE_FLAG_SEPARATE_UV_DELTA_Q as u64, "SEPARATE_UV_DELTA_Q"),
];

const TILE_INFO_FLAGS: &Names =
    &[(V4L2_AV1_TILE_INFO_FLAG_UNIFORM_TILE_SPACING as u64, "UNIFORM_TILE_SPACING")];

const QUANTIZATION_FLAGS: &Names = &[
    (V4L2_AV1_QUANTIZATION_FLAG_DIFF_UV_DELTA as u64, "DIFF_UV_DELTA"),
    (V4L2_AV1_QUANTIZATION_FLAG_USING_QMATRIX as u64, "USING_QMATRIX"),
    (V4L2_AV1_QUANTIZATION_FLAG_DELTA_Q_PRESENT as u64, "DELTA_Q_PRESENT"),
];

const SEGMENTATION_FLAGS: &Names = &[
    (V4L2_AV1_SEGMENTATION_FLAG_ENABLED as u64, "ENABLED"),
    (V4L2_AV1_SEGMENTATION_FLAG_UPDATE_MAP as u64, "UPDATE_MAP"),
    (V4L2_AV1_SEGMENTATION_FLAG_TEMPORAL_UPDATE as u64, "TEMPORAL_UPDATE"),
    (V4L2_AV1_SEGMENTATION_FLAG_UPDATE_DATA as u64, "UPDATE_DATA"),
    (V4L2_AV1_SEGMENTATION_FLAG_SEG_ID_PRE_SKIP as u64, "SEG_ID_PRE_SKIP"),
];

const LOOP_FILTER_FLAGS: &Names = &[
    (V4L2_AV1_LOOP_FILTER_FLAG_DELTA_ENABLED as u64, "DELTA_ENABLED"),
    (V4L2_AV1_LOOP_FILTER_FLAG_DELTA_UPDATE as u64, "DELTA_UPDATE"),
    (V4L2_AV1_LOOP_FILTER_FLAG_DELTA_LF_PRESENT as u64, "DELTA_LF_PRESENT"),
    (V4L2_AV1_LOOP_FILTER_FLAG_DELTA_LF_MULTI as u64, "DELTA_LF_MULTI"),
];

const LOOP_RESTORATION_FLAGS: &Names = &[
    (V4L2_AV1_LOOP_RESTORATION_FLAG_USES_LR as u64, "USES_LR"),
    (V4L2_AV1_LOOP_RESTORATION_FLAG_USES_CHROMA_LR as u64, "USES_CHROMA_LR"),
];

const FRAME_FLAGS: &Names = &[
    (V4L2_AV1_FRAME_FLAG_SHOW_FRAME as u64, "SHOW_FRAME"),
    (V4L2_AV1_FRAME_FLAG_SHOWABLE_FRAME as u64, "SHOWABLE_FRAME"),
    (V4L2_AV1_FRAME_FLAG_ERROR_RESILIENT_MODE as u64, "ERROR_RESILIENT_MODE"),
    (V4L2_AV1_FRAME_FLAG_DISABLE_CDF_UPDATE as u64, "DISABLE_CDF_UPDATE"),
    (V4L2_AV1_FRAME_FLAG_ALLOW_SCREEN_CONTENT_TOOLS as u64, "ALLOW_SCREEN_CONTENT_TOOLS"),
    (V4L2_AV1_FRAME_FLAG_FORCE_INTEGER_MV as u64, "FORCE_INTEGER_MV"),
    (V4L2_AV1_FRAME_FLAG_ALLOW_INTRABC as u64, "ALLOW_INTRABC"),
    (V4L2_AV1_FRAME_FLAG_USE_SUPERRES as u64, "USE_SUPERRES"),
    (V4L2_AV1_FRAME_FLAG_ALLOW_HIGH_PRECISION_MV as u64, "ALLOW_HIGH_PRECISION_MV"),
    (V4L2_AV1_FRAME_FLAG_IS_MOTION_MODE_SWITCHABLE as u64, "IS_MOTION_MODE_SWITCHABLE"),
    (V4L2_AV1_FRAME_FLAG_USE_REF_FRAME_MVS as u64, "USE_REF_FRAME_MVS"),
    (V4L2_AV1_FRAME_FLAG_DISABLE_FRAME_END_UPDATE_CDF as u64, "DISABLE_FRAME_END_UPDATE_CDF"),
    (V4L2_AV1_FRAME_FLAG_ALLOW_WARPED_MOTION as u64, "ALLOW_WARPED_MOTION"),
    (V4L2_AV1_FRAME_FLAG_REFERENCE_SELECT as u64, "REFERENCE_SELECT"),
    (V4L2_AV1_FRAME_FLAG_REDUCED_TX_SET as u64, "REDUCED_TX_SET"),
    (V4L2_AV1_FRAME_FLAG_SKIP_MODE_ALLOWED as u64, "SKIP_MODE_ALLOWED"),
    (V4L2_AV1_FRAME_FLAG_SKIP_MODE_PRESENT as u64, "SKIP_MODE_PRESENT"),
    (V4L2_AV1_FRAME_FLAG_FRAME_SIZE_OVERRIDE as u64, "FRAME_SIZE_OVERRIDE"),
    (V4L2_AV1_FRAME_FLAG_BUFFER_REMOVAL_TIME_PRESENT as u64, "BUFFER_REMOVAL_TIME_PRESENT"),
    (V4L2_AV1_FRAME_FLAG_FRAME_REFS_SHORT_SIGNALING as u64, "FRAME_REFS_SHORT_SIGNALING"),
];

const FILM_GRAIN_FLAGS: &Names = &[
    (V4L2_AV1_FILM_GRAIN_FLAG_APPLY_GRAIN as u64, "APPLY_GRAIN"),
    (V4L2_AV1_FILM_GRAIN_FLAG_UPDATE_GRAIN as u64, "UPDATE_GRAIN"),
    (V4L2_AV1_FILM_GRAIN_FLAG_CHROMA_SCALING_FROM_LUMA as u64, "CHROMA_SCALING_FROM_LUMA"),
    (V4L2_AV1_FILM_GRAIN_FLAG_OVERLAP as u64, "OVERLAP"),
    (V4L2_AV1_FILM_GRAIN_FLAG_CLIP_TO_RESTRICTED_RANGE as u64, "CLIP_TO_RESTRICTED_RANGE"),
];

pub(super) fn events(ctrls: &dyn CtrlSource) -> Vec<Event> {
    alloc::vec![
        Event::new("v4l2_ctrl_av1_sequence", sequence(&load(ctrls, V4L2_CID_STATELESS_AV1_SEQUENCE))),
        Event::new("v4l2_ctrl_av1_frame", frame(&load(ctrls, V4L2_CID_STATELESS_AV1_FRAME))),
        Event::new("v4l2_ctrl_av1_film_grain", film_grain(&load(ctrls, V4L2_CID_STATELESS_AV1_FILM_GRAIN))),
        Event::new(
            "v4l2_ctrl_av1_tile_group_entry",
            tile_group_entry(&load(ctrls, V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY)),
        ),
    ]
}

fn sequence(s: &v4l2_ctrl_av1_sequence) -> String {
    format!(
        "\nflags {}\nseq_profile: {}\norder_hint_bits: {}\nbit_depth: {}\nmax_frame_width_minus_1: {}\n\
         max_frame_height_minus_1: {}\n",
        flags(s.flags.into(), SEQUENCE_FLAGS),
        s.seq_profile.u(),
        s.order_hint_bits.u(),
        s.bit_depth.u(),
        s.max_frame_width_minus_1.u(),
        s.max_frame_height_minus_1.u(),
    )
}

fn tile_group_entry(t: &v4l2_ctrl_av1_tile_group_entry) -> String {
    format!(
        "\ntile_offset: {}\n tile_size: {}\n tile_row: {}\ntile_col: {}\n",
        t.tile_offset.u(),
        t.tile_size.u(),
        t.tile_row.u(),
        t.tile_col.u(),
    )
}

fn frame(f: &v4l2_ctrl_av1_frame) -> String {
    let (t, q, seg, lf, cdef, lr) =
        (&f.tile_info, &f.quantization, &f.segmentation, &f.loop_filter, &f.cdef, &f.loop_restoration);
    format!(
        "\ntile_info.flags: {}\ntile_info.context_update_tile_id: {}\ntile_info.tile_cols: {}\n\
         tile_info.tile_rows: {}\ntile_info.mi_col_starts: {}\ntile_info.mi_row_starts: {}\n\
         tile_info.width_in_sbs_minus_1: {}\ntile_info.height_in_sbs_minus_1: {}\n\
         tile_info.tile_size_bytes: {}\nquantization.flags: {}\nquantization.base_q_idx: {}\n\
         quantization.delta_q_y_dc: {}\nquantization.delta_q_u_dc: {}\nquantization.delta_q_u_ac: {}\n\
         quantization.delta_q_v_dc: {}\nquantization.delta_q_v_ac: {}\nquantization.qm_y: {}\n\
         quantization.qm_u: {}\nquantization.qm_v: {}\nquantization.delta_q_res: {}\n\
         superres_denom: {}\nsegmentation.flags: {}\nsegmentation.last_active_seg_id: {}\n\
         segmentation.feature_enabled:{}\nloop_filter.flags: {}\nloop_filter.level: {}\n\
         loop_filter.sharpness: {}\nloop_filter.ref_deltas: {}\nloop_filter.mode_deltas: {}\n\
         loop_filter.delta_lf_res: {}\ncdef.damping_minus_3: {}\ncdef.bits: {}\n\
         cdef.y_pri_strength: {}\ncdef.y_sec_strength: {}\ncdef.uv_pri_strength: {}\n\
         cdef.uv_sec_strength:{}\nskip_mode_frame: {}\nprimary_ref_frame: {}\n\
         loop_restoration.flags: {}\nloop_restoration.lr_unit_shift: {}\n\
         loop_restoration.lr_uv_shift: {}\nloop_restoration.frame_restoration_type: {}\n\
         loop_restoration.loop_restoration_size: {}\nflags: {}\norder_hint: {}\nupscaled_width: {}\n\
         frame_width_minus_1: {}\nframe_height_minus_1: {}\nrender_width_minus_1: {}\n\
         render_height_minus_1: {}\ncurrent_frame_id: {}\nbuffer_removal_time: {}\norder_hints: {}\n\
         reference_frame_ts: {}\nref_frame_idx: {}\nrefresh_frame_flags: {}\n",
        flags(t.flags.into(), TILE_INFO_FLAGS),
        t.context_update_tile_id.u(),
        t.tile_cols.u(),
        t.tile_rows.u(),
        array(&t.mi_col_starts),
        array(&t.mi_row_starts),
        array(&t.width_in_sbs_minus_1),
        array(&t.height_in_sbs_minus_1),
        t.tile_size_bytes.u(),
        flags(q.flags.into(), QUANTIZATION_FLAGS),
        q.base_q_idx.u(),
        q.delta_q_y_dc.d(),
        q.delta_q_u_dc.d(),
        q.delta_q_u_ac.d(),
        q.delta_q_v_dc.d(),
        q.delta_q_v_ac.d(),
        q.qm_y.u(),
        q.qm_u.u(),
        q.qm_v.u(),
        q.delta_q_res.u(),
        f.superres_denom.u(),
        flags(seg.flags.into(), SEGMENTATION_FLAGS),
        seg.last_active_seg_id.u(),
        array(&seg.feature_enabled),
        flags(lf.flags.into(), LOOP_FILTER_FLAGS),
        array(&lf.level),
        lf.sharpness.u(),
        array(&lf.ref_deltas),
        array(&lf.mode_deltas),
        lf.delta_lf_res.u(),
        cdef.damping_minus_3.u(),
        cdef.bits.u(),
        array(&cdef.y_pri_strength),
        array(&cdef.y_sec_strength),
        array(&cdef.uv_pri_strength),
        array(&cdef.uv_sec_strength),
        array(&f.skip_mode_frame),
        f.primary_ref_frame.u(),
        flags(lr.flags.into(), LOOP_RESTORATION_FLAGS),
        lr.lr_unit_shift.u(),
        lr.lr_uv_shift.u(),
        array(&lr.frame_restoration_type),
        array(&lr.loop_restoration_size),
        flags(f.flags.into(), FRAME_FLAGS),
        f.order_hint.u(),
        f.upscaled_width.u(),
        f.frame_width_minus_1.u(),
        f.frame_height_minus_1.u(),
        f.render_width_minus_1.u(),
        f.render_height_minus_1.u(),
        f.current_frame_id.u(),
        array(&f.buffer_removal_time),
        array(&f.order_hints),
        array(&f.reference_frame_ts),
        array(&f.ref_frame_idx),
        f.refresh_frame_flags.u(),
    )
}

fn film_grain(g: &v4l2_ctrl_av1_film_grain) -> String {
    format!(
        "\nflags {}\ncr_mult: {}\ngrain_seed: {}\nfilm_grain_params_ref_idx: {}\nnum_y_points: {}\n\
         point_y_value: {}\npoint_y_scaling: {}\nnum_cb_points: {}\npoint_cb_value: {}\n\
         point_cb_scaling: {}\nnum_cr_points: {}\npoint_cr_value: {}\npoint_cr_scaling: {}\n\
         grain_scaling_minus_8: {}\nar_coeff_lag: {}\nar_coeffs_y_plus_128: {}\n\
         ar_coeffs_cb_plus_128: {}\nar_coeffs_cr_plus_128: {}\nar_coeff_shift_minus_6: {}\n\
         grain_scale_shift: {}\ncb_mult: {}\ncb_luma_mult: {}\ncr_luma_mult: {}\ncb_offset: {}\n\
         cr_offset: {}\n",
        flags(g.flags.into(), FILM_GRAIN_FLAGS),
        g.cr_mult.u(),
        g.grain_seed.u(),
        g.film_grain_params_ref_idx.u(),
        g.num_y_points.u(),
        array(&g.point_y_value),
        array(&g.point_y_scaling),
        g.num_cb_points.u(),
        array(&g.point_cb_value),
        array(&g.point_cb_scaling),
        g.num_cr_points.u(),
        array(&g.point_cr_value),
        array(&g.point_cr_scaling),
        g.grain_scaling_minus_8.u(),
        g.ar_coeff_lag.u(),
        array(&g.ar_coeffs_y_plus_128),
        array(&g.ar_coeffs_cb_plus_128),
        array(&g.ar_coeffs_cr_plus_128),
        g.ar_coeff_shift_minus_6.u(),
        g.grain_scale_shift.u(),
        g.cb_mult.u(),
        g.cb_luma_mult.u(),
        g.cr_luma_mult.u(),
        g.cb_offset.u(),
        g.cr_offset.u(),
    )
}
