//! VP8 trace events (visl-trace-vp8.h, system `visl_vp8_controls`): `v4l2_ctrl_vp8_frame`
//! then `v4l2_ctrl_vp8_entropy`, both printed from the one frame control (visl-dec.c).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use uapi::*;

use super::{array, flags, hex, load, CInt, CtrlSource, Event, Names};

const SEGMENT_FLAGS: &Names = &[
    (V4L2_VP8_SEGMENT_FLAG_ENABLED as u64, "SEGMENT_ENABLED"),
    (V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP as u64, "SEGMENT_UPDATE_MAP"),
    (V4L2_VP8_SEGMENT_FLAG_UPDATE_FEATURE_DATA as u64, "SEGMENT_UPDATE_FEATURE_DATA"),
    (V4L2_VP8_SEGMENT_FLAG_DELTA_VALUE_MODE as u64, "SEGMENT_DELTA_VALUE_MODE"),
];

const LF_FLAGS: &Names = &[
    (V4L2_VP8_LF_ADJ_ENABLE as u64, "LF_ADJ_ENABLED"),
    (V4L2_VP8_LF_DELTA_UPDATE as u64, "LF_DELTA_UPDATE"),
    (V4L2_VP8_LF_FILTER_TYPE_SIMPLE as u64, "LF_FILTER_TYPE_SIMPLE"),
];

const FRAME_FLAGS: &Names = &[
    (V4L2_VP8_FRAME_FLAG_KEY_FRAME as u64, "KEY_FRAME"),
    (V4L2_VP8_FRAME_FLAG_EXPERIMENTAL as u64, "EXPERIMENTAL"),
    (V4L2_VP8_FRAME_FLAG_SHOW_FRAME as u64, "SHOW_FRAME"),
    (V4L2_VP8_FRAME_FLAG_MB_NO_SKIP_COEFF as u64, "MB_NO_SKIP_COEFF"),
    (V4L2_VP8_FRAME_FLAG_SIGN_BIAS_GOLDEN as u64, "SIGN_BIAS_GOLDEN"),
    (V4L2_VP8_FRAME_FLAG_SIGN_BIAS_ALT as u64, "SIGN_BIAS_ALT"),
];

pub(super) fn events(ctrls: &dyn CtrlSource) -> Vec<Event> {
    let f: v4l2_ctrl_vp8_frame = load(ctrls, V4L2_CID_STATELESS_VP8_FRAME);
    alloc::vec![
        Event::new("v4l2_ctrl_vp8_frame", frame(&f)),
        Event::new("v4l2_ctrl_vp8_entropy", entropy(&f))
    ]
}

fn frame(f: &v4l2_ctrl_vp8_frame) -> String {
    format!(
        "\nsegment.quant_update {}\nsegment.lf_update {}\nsegment.segment_probs {}\nsegment.flags {}\n\
         lf.ref_frm_delta {}\nlf.mb_mode_delta {}\nlf.sharpness_level {}\nlf.level {}\nlf.flags {}\n\
         quant.y_ac_qi {}\nquant.y_dc_delta {}\nquant.y2_dc_delta {}\nquant.y2_ac_delta {}\n\
         quant.uv_dc_delta {}\nquant.uv_ac_delta {}\ncoder_state.range {}\ncoder_state.value {}\n\
         coder_state.bit_count {}\nwidth {}\nheight {}\nhorizontal_scale {}\nvertical_scale {}\n\
         version {}\nprob_skip_false {}\nprob_intra {}\nprob_last {}\nprob_gf {}\nnum_dct_parts {}\n\
         first_part_size {}\nfirst_part_header_bits {}\ndct_part_sizes {}\nlast_frame_ts {}\n\
         golden_frame_ts {}\nalt_frame_ts {}\nflags {}",
        array(&f.segment.quant_update),
        array(&f.segment.lf_update),
        array(&f.segment.segment_probs),
        flags(f.segment.flags.into(), SEGMENT_FLAGS),
        array(&f.lf.ref_frm_delta),
        array(&f.lf.mb_mode_delta),
        f.lf.sharpness_level.u(),
        f.lf.level.u(),
        flags(f.lf.flags.into(), LF_FLAGS),
        f.quant.y_ac_qi.u(),
        f.quant.y_dc_delta.d(),
        f.quant.y2_dc_delta.d(),
        f.quant.y2_ac_delta.d(),
        f.quant.uv_dc_delta.d(),
        f.quant.uv_ac_delta.d(),
        f.coder_state.range.u(),
        f.coder_state.value.u(),
        f.coder_state.bit_count.u(),
        f.width.u(),
        f.height.u(),
        f.horizontal_scale.u(),
        f.vertical_scale.u(),
        f.version.u(),
        f.prob_skip_false.u(),
        f.prob_intra.u(),
        f.prob_last.u(),
        f.prob_gf.u(),
        f.num_dct_parts.u(),
        f.first_part_size.u(),
        f.first_part_header_bits.u(),
        array(&f.dct_part_sizes),
        f.last_frame_ts,
        f.golden_frame_ts,
        f.alt_frame_ts,
        flags(f.flags, FRAME_FLAGS),
    )
}

fn entropy(f: &v4l2_ctrl_vp8_frame) -> String {
    let e = &f.entropy;
    format!(
        "\nentropy.coeff_probs {{{}}}\nentropy.y_mode_probs {}\nentropy.uv_mode_probs {}\n\
         entropy.mv_probs {{{}}}",
        hex(&e.coeff_probs),
        array(&e.y_mode_probs),
        array(&e.uv_mode_probs),
        hex(&e.mv_probs),
    )
}
