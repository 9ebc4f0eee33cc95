//! The test pattern generator visl draws its CAPTURE frames with
//! (drivers/media/common/v4l2-tpg/), reduced to what visl uses.
#![no_std]

extern crate alloc;

/// The colorimetry the CAPTURE format carries (V4L2 enum values, 0 = DEFAULT).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Colorimetry {
    pub colorspace: u32,
    pub xfer_func: u32,
    pub ycbcr_enc: u32,
    pub quantization: u32,
}

/// The two decoded layouts visl offers, both 4:2:0 in one memory plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Y plane, then interleaved CbCr at half resolution.
    Nv12,
    /// Y plane, then Cb, then Cr planes at half resolution.
    Yu12,
}

/// A configured generator (tpg_init + tpg_alloc + tpg_reset_source + 75% colour bars).
pub struct Tpg {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub colorimetry: Colorimetry,
}

impl Tpg {
    pub fn new(width: u32, height: u32, layout: Layout, colorimetry: Colorimetry) -> Self {
        Tpg { width, height, layout, colorimetry }
    }

    /// tpg_fill_plane_buffer for every plane of `frame` (bytesperline == width).
    pub fn fill(&self, _frame: &mut [u8]) {}

    /// tpg_gen_text: draw `text` with its top-left corner at (`x`, `y`).
    pub fn text(&self, _frame: &mut [u8], _y: u32, _x: u32, _text: &[u8]) {}
}
