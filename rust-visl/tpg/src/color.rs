//! Colour computation of the TPG for the 75% colour bar pattern, mirroring `tpg_recalc`,
//! `precalculate_color` and `color_to_ycbcr` of drivers/media/common/v4l2-tpg/v4l2-tpg-core.c
//! and the `V4L2_MAP_*_DEFAULT` rules of include/uapi/linux/videodev2.h.
//!
//! With brightness, contrast and saturation 128 and hue 0 (what visl sets) no picture
//! adjustment applies, and the 75% colour bar never reads `tpg_csc_colors`: a colour is its
//! 8-bit R'G'B' triple scaled to 1/16 steps, converted to Y'CbCr with the encoding's
//! fixed-point matrix, then shifted back and clamped. The transfer function therefore
//! never changes a pixel; only the Y'CbCr encoding and quantization do.

use crate::tables::{LINEAR_TO_REC709, REC709_TO_LINEAR};
use crate::Colorimetry;

// enum v4l2_colorspace
const COLORSPACE_SMPTE240M: u32 = 2;
const COLORSPACE_REC709: u32 = 3;
const COLORSPACE_JPEG: u32 = 7;
const COLORSPACE_BT2020: u32 = 10;
const COLORSPACE_DCI_P3: u32 = 12;
// enum v4l2_ycbcr_encoding
const YCBCR_ENC_DEFAULT: u32 = 0;
const YCBCR_ENC_601: u32 = 1;
const YCBCR_ENC_709: u32 = 2;
const YCBCR_ENC_XV601: u32 = 3;
const YCBCR_ENC_XV709: u32 = 4;
const YCBCR_ENC_BT2020: u32 = 6;
const YCBCR_ENC_BT2020_CONST_LUM: u32 = 7;
const YCBCR_ENC_SMPTE240M: u32 = 8;
// enum v4l2_quantization
const QUANTIZATION_DEFAULT: u32 = 0;
const QUANTIZATION_FULL_RANGE: u32 = 1;
const QUANTIZATION_LIM_RANGE: u32 = 2;

/// A Y'CbCr triple as the TPG stores it in `colors[]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ycbcr {
    pub y: u8,
    pub cb: u8,
    pub cr: u8,
}

/// The encoding and quantization the TPG really uses (`real_ycbcr_enc`,
/// `real_quantization`), after resolving DEFAULT as `tpg_recalc` does for a Y'CbCr format.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Encoding {
    ycbcr_enc: u32,
    quantization: u32,
}

impl Encoding {
    pub(crate) fn resolve(c: &Colorimetry) -> Self {
        let ycbcr_enc = if c.ycbcr_enc == YCBCR_ENC_DEFAULT {
            // V4L2_MAP_YCBCR_ENC_DEFAULT
            match c.colorspace {
                COLORSPACE_REC709 | COLORSPACE_DCI_P3 => YCBCR_ENC_709,
                COLORSPACE_BT2020 => YCBCR_ENC_BT2020,
                COLORSPACE_SMPTE240M => YCBCR_ENC_SMPTE240M,
                _ => YCBCR_ENC_601,
            }
        } else {
            c.ycbcr_enc
        };
        let quantization = if c.quantization == QUANTIZATION_DEFAULT {
            // V4L2_MAP_QUANTIZATION_DEFAULT(is_rgb_or_hsv = false, ...)
            if c.colorspace == COLORSPACE_JPEG {
                QUANTIZATION_FULL_RANGE
            } else {
                QUANTIZATION_LIM_RANGE
            }
        } else {
            c.quantization
        };
        Encoding { ycbcr_enc, quantization }
    }

    /// `precalculate_color` for an 8-bit R'G'B' colour and a Y'CbCr pixel format.
    pub(crate) fn ycbcr(&self, rgb: [u8; 3]) -> Ycbcr {
        let [r, g, b] = rgb.map(|v| i32::from(v) << 4);
        let (y, cb, cr) = self.color_to_ycbcr(r, g, b);
        let (y, cb, cr) = (y >> 4, cb >> 4, cr >> 4);
        // XV601/XV709 use the footroom and headroom, so they are not clamped to the
        // limited range; everything not exactly LIM_RANGE is clamped to 1..254.
        let limited = self.quantization == QUANTIZATION_LIM_RANGE
            && self.ycbcr_enc != YCBCR_ENC_XV601
            && self.ycbcr_enc != YCBCR_ENC_XV709;
        let (y, cb, cr) = if limited {
            (y.clamp(16, 235), cb.clamp(16, 240), cr.clamp(16, 240))
        } else {
            (y.clamp(1, 254), cb.clamp(1, 254), cr.clamp(1, 254))
        };
        // CAST: every value was clamped into 1..=254 above.
        Ycbcr { y: y as u8, cb: cb as u8, cr: cr as u8 }
    }

    /// `color_to_ycbcr`: R'G'B' in 1/16 steps (0..=0xff0) to Y'CbCr in 1/16 steps.
    fn color_to_ycbcr(&self, r: i32, g: i32, b: i32) -> (i32, i32, i32) {
        // Only exactly FULL_RANGE selects the full-range matrices.
        let full = self.quantization == QUANTIZATION_FULL_RANGE;
        let y_offset = if full { 0 } else { 16 };
        let pick = |lim: &'static [[i32; 3]; 3], fr: &'static [[i32; 3]; 3]| if full { fr } else { lim };
        match self.ycbcr_enc {
            YCBCR_ENC_601 => rgb2ycbcr(pick(&BT601, &BT601_FULL), r, g, b, y_offset),
            // One possible encoding each: the quantization is ignored.
            YCBCR_ENC_XV601 => rgb2ycbcr(&BT601, r, g, b, 16),
            YCBCR_ENC_XV709 => rgb2ycbcr(&REC709, r, g, b, 16),
            YCBCR_ENC_BT2020 => rgb2ycbcr(pick(&BT2020, &BT2020_FULL), r, g, b, y_offset),
            YCBCR_ENC_BT2020_CONST_LUM => bt2020_const_lum(full, r, g, b),
            YCBCR_ENC_SMPTE240M => rgb2ycbcr(pick(&SMPTE240M, &SMPTE240M_FULL), r, g, b, y_offset),
            // YCBCR_ENC_709 and every other value
            _ => rgb2ycbcr(pick(&REC709, &REC709_FULL), r, g, b, y_offset),
        }
    }
}

/// The TPG's fixed-point coefficient: `v` scaled by the range `r` and by 256, rounded by
/// adding one half and truncating toward zero (a C `(int)` cast).
const fn coeff(v: f64, r: f64) -> i32 {
    // CAST: |v * r * 256| < 2^31 for every coefficient below.
    (0.5 + v * r * 256.0) as i32
}

const fn matrix(m: [[f64; 3]; 3], r: f64) -> [[i32; 3]; 3] {
    let mut out = [[0; 3]; 3];
    let mut i = 0;
    while i < 3 {
        let mut j = 0;
        while j < 3 {
            out[i][j] = coeff(m[i][j], r);
            j += 1;
        }
        i += 1;
    }
    out
}

// Rows Y', Cb, Cr of each encoding (ITU-R BT.601, BT.709, SMPTE 240M, BT.2020).
const M601: [[f64; 3]; 3] = [[0.299, 0.587, 0.114], [-0.1687, -0.3313, 0.5], [0.5, -0.4187, -0.0813]];
const M709: [[f64; 3]; 3] = [[0.2126, 0.7152, 0.0722], [-0.1146, -0.3854, 0.5], [0.5, -0.4542, -0.0458]];
const M240: [[f64; 3]; 3] = [[0.212, 0.701, 0.087], [-0.116, -0.384, 0.5], [0.5, -0.445, -0.055]];
const M2020: [[f64; 3]; 3] = [[0.2627, 0.6780, 0.0593], [-0.1396, -0.3604, 0.5], [0.5, -0.4598, -0.0402]];

/// Limited-range matrices: Y' row scaled by 219, chroma rows by 224.
const fn limited(m: [[f64; 3]; 3]) -> [[i32; 3]; 3] {
    let y = matrix(m, 219.0);
    let c = matrix(m, 224.0);
    [y[0], c[1], c[2]]
}

static BT601: [[i32; 3]; 3] = limited(M601);
static BT601_FULL: [[i32; 3]; 3] = matrix(M601, 255.0);
static REC709: [[i32; 3]; 3] = limited(M709);
static REC709_FULL: [[i32; 3]; 3] = matrix(M709, 255.0);
static SMPTE240M: [[i32; 3]; 3] = limited(M240);
static SMPTE240M_FULL: [[i32; 3]; 3] = matrix(M240, 255.0);
static BT2020: [[i32; 3]; 3] = limited(M2020);
static BT2020_FULL: [[i32; 3]; 3] = matrix(M2020, 255.0);

fn rgb2ycbcr(m: &[[i32; 3]; 3], r: i32, g: i32, b: i32, y_offset: i32) -> (i32, i32, i32) {
    let row = |k: usize| (m[k][0] * r + m[k][1] * g + m[k][2] * b) >> 16;
    (row(0) + (y_offset << 4), row(1) + (128 << 4), row(2) + (128 << 4))
}

fn rec709_to_linear(v: i32) -> i32 {
    // CAST: clamped into the table's index range 0..=0xff0.
    i32::from(REC709_TO_LINEAR[v.clamp(0, 0xff0) as usize])
}

fn linear_to_rec709(v: i32) -> i32 {
    // CAST: clamped into the table's index range 0..=0xff0.
    i32::from(LINEAR_TO_REC709[v.clamp(0, 0xff0) as usize])
}

/// BT.2020 constant luminance: Y' from linear light, Cb/Cr with separate scale factors
/// for the negative and positive halves (BT.2020 table 4).
fn bt2020_const_lum(full: bool, r: i32, g: i32, b: i32) -> (i32, i32, i32) {
    let range = if full { 255.0 } else { 224.0 };
    let c = [
        coeff(1.0 / 1.9404, range),
        coeff(1.0 / 1.5816, range),
        coeff(1.0 / 1.7184, range),
        coeff(1.0 / 0.9936, range),
    ];
    let lin_y = (coeff(0.2627, 255.0) * rec709_to_linear(r)
        + coeff(0.6780, 255.0) * rec709_to_linear(g)
        + coeff(0.0593, 255.0) * rec709_to_linear(b))
        >> 16;
    let yc = linear_to_rec709(lin_y);
    let y = if full { yc } else { (yc * 219) / 255 + (16 << 4) };
    let cb = (((b - yc) * if b <= yc { c[0] } else { c[1] }) >> 16) + (128 << 4);
    let cr = (((r - yc) * if r <= yc { c[2] } else { c[3] }) >> 16) + (128 << 4);
    (y, cb, cr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::BAR_RGB;

    /// §7.2 of the visl behaviour spec: REC709 + DEFAULT colorimetry.
    #[test]
    fn default_rec709_bars() {
        let enc = Encoding::resolve(&Colorimetry { colorspace: COLORSPACE_REC709, ..Default::default() });
        let got: alloc::vec::Vec<_> = BAR_RGB.iter().map(|&c| enc.ycbcr(c)).collect();
        let want = [
            (179, 128, 128),
            (167, 44, 135),
            (144, 147, 44),
            (132, 63, 52),
            (62, 192, 203),
            (50, 108, 211),
            (27, 211, 120),
            (16, 128, 128),
        ];
        for (g, (y, cb, cr)) in got.iter().zip(want) {
            assert_eq!(*g, Ycbcr { y, cb, cr });
        }
    }
}
