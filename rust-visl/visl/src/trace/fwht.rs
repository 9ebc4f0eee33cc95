//! FWHT trace event (visl-trace-fwht.h, system `visl_fwht_controls`): the one
//! `v4l2_ctrl_fwht_params` line visl-dec.c emits per job.

use alloc::format;
use alloc::vec::Vec;

use uapi::*;

use super::{flags, load, CInt, CtrlSource, Event, Names};

// The UAPI header defines these with `_BITUL(n)`, which bindgen cannot evaluate: the bit
// numbers are copied from include/uapi/linux/v4l2-controls.h.
const V4L2_FWHT_FL_IS_INTERLACED: u64 = 1 << 0;
const V4L2_FWHT_FL_IS_BOTTOM_FIRST: u64 = 1 << 1;
const V4L2_FWHT_FL_IS_ALTERNATE: u64 = 1 << 2;
const V4L2_FWHT_FL_IS_BOTTOM_FIELD: u64 = 1 << 3;
const V4L2_FWHT_FL_LUMA_IS_UNCOMPRESSED: u64 = 1 << 4;
const V4L2_FWHT_FL_CB_IS_UNCOMPRESSED: u64 = 1 << 5;
const V4L2_FWHT_FL_CR_IS_UNCOMPRESSED: u64 = 1 << 6;
const V4L2_FWHT_FL_ALPHA_IS_UNCOMPRESSED: u64 = 1 << 9;
const V4L2_FWHT_FL_I_FRAME: u64 = 1 << 10;

const FLAGS: &Names = &[
    (V4L2_FWHT_FL_IS_INTERLACED, "IS_INTERLACED"),
    (V4L2_FWHT_FL_IS_BOTTOM_FIRST, "IS_BOTTOM_FIRST"),
    (V4L2_FWHT_FL_IS_ALTERNATE, "IS_ALTERNATE"),
    (V4L2_FWHT_FL_IS_BOTTOM_FIELD, "IS_BOTTOM_FIELD"),
    (V4L2_FWHT_FL_LUMA_IS_UNCOMPRESSED, "LUMA_IS_UNCOMPRESSED"),
    (V4L2_FWHT_FL_CB_IS_UNCOMPRESSED, "CB_IS_UNCOMPRESSED"),
    (V4L2_FWHT_FL_CR_IS_UNCOMPRESSED, "CR_IS_UNCOMPRESSED"),
    (V4L2_FWHT_FL_ALPHA_IS_UNCOMPRESSED, "ALPHA_IS_UNCOMPRESSED"),
    (V4L2_FWHT_FL_I_FRAME, "I_FRAME"),
    (V4L2_FWHT_FL_PIXENC_HSV as u64, "PIXENC_HSV"),
    (V4L2_FWHT_FL_PIXENC_RGB as u64, "PIXENC_RGB"),
    (V4L2_FWHT_FL_PIXENC_YUV as u64, "PIXENC_YUV"),
];

pub(super) fn events(ctrls: &dyn CtrlSource) -> Vec<Event> {
    let p: v4l2_ctrl_fwht_params = load(ctrls, V4L2_CID_STATELESS_FWHT_PARAMS);
    let payload = format!(
        "backward_ref_ts {} version {} width {} height {} flags {} colorspace {} xfer_func {} \
         ycbcr_enc {} quantization {}",
        p.backward_ref_ts,
        p.version.u(),
        p.width.u(),
        p.height.u(),
        flags(p.flags.into(), FLAGS),
        p.colorspace.u(),
        p.xfer_func.u(),
        p.ycbcr_enc.u(),
        p.quantization.u(),
    );
    alloc::vec![Event::new("v4l2_ctrl_fwht_params", payload)]
}
