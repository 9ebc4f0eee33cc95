//! VP9 trace events (visl-trace-vp9.h, system `visl_vp9_controls`), in the order
//! visl-dec.c emits them: frame, compressed header, its coefficient probabilities, and its
//! motion vector probabilities.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use uapi::*;

use super::{array, flags, hex, load, symbolic, CInt, CtrlSource, Event, Names};

const LF_FLAGS: &Names = &[
    (V4L2_VP9_LOOP_FILTER_FLAG_DELTA_ENABLED as u64, "DELTA_ENABLED"),
    (V4L2_VP9_LOOP_FILTER_FLAG_DELTA_UPDATE as u64, "DELTA_UPDATE"),
];

const SEG_FLAGS: &Names = &[
    (V4L2_VP9_SEGMENTATION_FLAG_ENABLED as u64, "ENABLED"),
    (V4L2_VP9_SEGMENTATION_FLAG_UPDATE_MAP as u64, "UPDATE_MAP"),
    (V4L2_VP9_SEGMENTATION_FLAG_TEMPORAL_UPDATE as u64, "TEMPORAL_UPDATE"),
    (V4L2_VP9_SEGMENTATION_FLAG_UPDATE_DATA as u64, "UPDATE_DATA"),
    (V4L2_VP9_SEGMENTATION_FLAG_ABS_OR_DELTA_UPDATE as u64, "ABS_OR_DELTA_UPDATE"),
];

const FRAME_FLAGS: &Names = &[
    (V4L2_VP9_FRAME_FLAG_KEY_FRAME as u64, "KEY_FRAME"),
    (V4L2_VP9_FRAME_FLAG_SHOW_FRAME as u64, "SHOW_FRAME"),
    (V4L2_VP9_FRAME_FLAG_ERROR_RESILIENT as u64, "ERROR_RESILIENT"),
    (V4L2_VP9_FRAME_FLAG_INTRA_ONLY as u64, "INTRA_ONLY"),
    (V4L2_VP9_FRAME_FLAG_ALLOW_HIGH_PREC_MV as u64, "ALLOW_HIGH_PREC_MV"),
    (V4L2_VP9_FRAME_FLAG_REFRESH_FRAME_CTX as u64, "REFRESH_FRAME_CTX"),
    (V4L2_VP9_FRAME_FLAG_PARALLEL_DEC_MODE as u64, "PARALLEL_DEC_MODE"),
    (V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING as u64, "X_SUBSAMPLING"),
    (V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING as u64, "Y_SUBSAMPLING"),
    (V4L2_VP9_FRAME_FLAG_COLOR_RANGE_FULL_SWING as u64, "COLOR_RANGE_FULL_SWING"),
];

const SIGN_BIAS: &Names = &[
    (V4L2_VP9_SIGN_BIAS_LAST as u64, "SIGN_BIAS_LAST"),
    (V4L2_VP9_SIGN_BIAS_GOLDEN as u64, "SIGN_BIAS_GOLDEN"),
    (V4L2_VP9_SIGN_BIAS_ALT as u64, "SIGN_BIAS_ALT"),
];

const RESET_FRAME_CTX: &Names = &[
    (V4L2_VP9_RESET_FRAME_CTX_NONE as u64, "RESET_FRAME_CTX_NONE"),
    (V4L2_VP9_RESET_FRAME_CTX_SPEC as u64, "RESET_FRAME_CTX_SPEC"),
    (V4L2_VP9_RESET_FRAME_CTX_ALL as u64, "RESET_FRAME_CTX_ALL"),
];

const INTERP_FILTERS: &Names = &[
    (V4L2_VP9_INTERP_FILTER_EIGHTTAP as u64, "INTERP_FILTER_EIGHTTAP"),
    (V4L2_VP9_INTERP_FILTER_EIGHTTAP_SMOOTH as u64, "INTERP_FILTER_EIGHTTAP_SMOOTH"),
    (V4L2_VP9_INTERP_FILTER_EIGHTTAP_SHARP as u64, "INTERP_FILTER_EIGHTTAP_SHARP"),
    (V4L2_VP9_INTERP_FILTER_BILINEAR as u64, "INTERP_FILTER_BILINEAR"),
    (V4L2_VP9_INTERP_FILTER_SWITCHABLE as u64, "INTERP_FILTER_SWITCHABLE"),
];

const REFERENCE_MODES: &Names = &[
    (V4L2_VP9_REFERENCE_MODE_SINGLE_REFERENCE as u64, "REFERENCE_MODE_SINGLE_REFERENCE"),
    (V4L2_VP9_REFERENCE_MODE_COMPOUND_REFERENCE as u64, "REFERENCE_MODE_COMPOUND_REFERENCE"),
    (V4L2_VP9_REFERENCE_MODE_SELECT as u64, "REFERENCE_MODE_SELECT"),
];

const TX_MODES: &Names = &[
    (V4L2_VP9_TX_MODE_ONLY_4X4 as u64, "TX_MODE_ONLY_4X4"),
    (V4L2_VP9_TX_MODE_ALLOW_8X8 as u64, "TX_MODE_ALLOW_8X8"),
    (V4L2_VP9_TX_MODE_ALLOW_16X16 as u64, "TX_MODE_ALLOW_16X16"),
    (V4L2_VP9_TX_MODE_ALLOW_32X32 as u64, "TX_MODE_ALLOW_32X32"),
    (V4L2_VP9_TX_MODE_SELECT as u64, "TX_MODE_SELECT"),
];

pub(super) fn events(ctrls: &dyn CtrlSource) -> Vec<Event> {
    let probs: v4l2_ctrl_vp9_compressed_hdr = load(ctrls, V4L2_CID_STATELESS_VP9_COMPRESSED_HDR);
    alloc::vec![
        Event::new("v4l2_ctrl_vp9_frame", frame(&load(ctrls, V4L2_CID_STATELESS_VP9_FRAME))),
        Event::new("v4l2_ctrl_vp9_compressed_hdr", compressed_hdr(&probs)),
        Event::new("v4l2_ctrl_vp9_compressed_coeff", format!("\n coef {{{}}}", hex(&probs.coef))),
        Event::new("v4l2_vp9_mv_probs", mv_probs(&probs.mv)),
    ]
}

fn frame(f: &v4l2_ctrl_vp9_frame) -> String {
    format!(
        "\nlf.ref_deltas {}\nlf.mode_deltas {}\nlf.level {}\nlf.sharpness {}\nlf.flags {}\n\
         quant.base_q_idx {}\nquant.delta_q_y_dc {}\nquant.delta_q_uv_dc {}\nquant.delta_q_uv_ac {}\n\
         seg.feature_data {{{}}}\nseg.feature_enabled {}\nseg.tree_probs {}\nseg.pred_probs {}\n\
         seg.flags {}\nflags {}\ncompressed_header_size {}\nuncompressed_header_size {}\n\
         frame_width_minus_1 {}\nframe_height_minus_1 {}\nrender_width_minus_1 {}\n\
         render_height_minus_1 {}\nlast_frame_ts {}\ngolden_frame_ts {}\nalt_frame_ts {}\n\
         ref_frame_sign_bias {}\nreset_frame_context {}\nframe_context_idx {}\nprofile {}\n\
         bit_depth {}\ninterpolation_filter {}\ntile_cols_log2 {}\ntile_rows_log_2 {}\n\
         reference_mode {}\n",
        array(&f.lf.ref_deltas),
        array(&f.lf.mode_deltas),
        f.lf.level.u(),
        f.lf.sharpness.u(),
        flags(f.lf.flags.into(), LF_FLAGS),
        f.quant.base_q_idx.u(),
        f.quant.delta_q_y_dc.d(),
        f.quant.delta_q_uv_dc.d(),
        f.quant.delta_q_uv_ac.d(),
        hex(&f.seg.feature_data),
        array(&f.seg.feature_enabled),
        array(&f.seg.tree_probs),
        array(&f.seg.pred_probs),
        flags(f.seg.flags.into(), SEG_FLAGS),
        flags(f.flags.into(), FRAME_FLAGS),
        f.compressed_header_size.u(),
        f.uncompressed_header_size.u(),
        f.frame_width_minus_1.u(),
        f.frame_height_minus_1.u(),
        f.render_width_minus_1.u(),
        f.render_height_minus_1.u(),
        f.last_frame_ts,
        f.golden_frame_ts,
        f.alt_frame_ts,
        symbolic(f.ref_frame_sign_bias.into(), SIGN_BIAS),
        symbolic(f.reset_frame_context.into(), RESET_FRAME_CTX),
        f.frame_context_idx.u(),
        f.profile.u(),
        f.bit_depth.u(),
        symbolic(f.interpolation_filter.into(), INTERP_FILTERS),
        f.tile_cols_log2.u(),
        f.tile_rows_log2.u(),
        symbolic(f.reference_mode.into(), REFERENCE_MODES),
    )
}

fn compressed_hdr(h: &v4l2_ctrl_vp9_compressed_hdr) -> String {
    format!(
        "\ntx_mode {}\ntx8 {{{}}}\ntx16 {{{}}}\ntx32 {{{}}}\nskip {}\ninter_mode {{{}}}\n\
         interp_filter {{{}}}\nis_inter {}\ncomp_mode {}\nsingle_ref {{{}}}\ncomp_ref {}\n\
         y_mode {{{}}}\nuv_mode {{{}}}\npartition {{{}}}\n",
        symbolic(h.tx_mode.into(), TX_MODES),
        hex(&h.tx8),
        hex(&h.tx16),
        hex(&h.tx32),
        array(&h.skip),
        hex(&h.inter_mode),
        hex(&h.interp_filter),
        array(&h.is_inter),
        array(&h.comp_mode),
        hex(&h.single_ref),
        array(&h.comp_ref),
        hex(&h.y_mode),
        hex(&h.uv_mode),
        hex(&h.partition),
    )
}

fn mv_probs(p: &v4l2_vp9_mv_probs) -> String {
    format!(
        "\n joint {}\nsign {}\nclasses {{{}}}\nclass0_bit {}\nbits {{{}}}\nclass0_fr {{{}}}\nfr {{{}}}\n\
         class0_hp {}\nhp {}\n",
        array(&p.joint),
        array(&p.sign),
        hex(&p.classes),
        array(&p.class0_bit),
        hex(&p.bits),
        hex(&p.class0_fr),
        hex(&p.fr),
        array(&p.class0_hp),
        array(&p.hp),
    )
}
