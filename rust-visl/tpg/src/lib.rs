//! The test pattern generator visl draws its CAPTURE frames with
//! (drivers/media/common/v4l2-tpg/v4l2-tpg-core.c, v4l2-tpg-colors.c and
//! include/media/tpg/v4l2-tpg.h), reduced to what visl uses: `TPG_PAT_75_COLORBAR`,
//! field NONE, no scaling, crop, compose offset, border, square, flips or motion, default
//! picture controls, and the two 4:2:0 formats NV12 and YUV420 (YU12) in one memory plane.
//!
//! Every pattern row is the same, so [`Tpg::new`] renders one row per plane (as
//! `tpg_precalculate_line` does) and [`Tpg::fill`] copies it into each row, with the
//! TPG's own plane geometry (which for odd widths is not the one visl's format reports):
//!
//! | plane | offset (visl's `plane_vaddr`) | stride | rows | bytes written per row |
//! |---|---|---|---|---|
//! | Y | 0 | w | h | w |
//! | NV12 CbCr | w·h | w | ⌈h/2⌉ | w & !1 (the last Cb/Cr pair of an odd width is left alone) |
//! | YU12 Cb | w·h | ⌊w/2⌋ | ⌈h/2⌉ | ⌊w/2⌋ |
//! | YU12 Cr | w·h + ⌊⌊w/2⌋·h/2⌋ | ⌊w/2⌋ | ⌈h/2⌉ | ⌊w/2⌋ (for odd h it starts inside Cb's last row, and wins) |
//!
//! Bytes outside these are never written, as in the kernel. Writes are clipped to the
//! frame slice: a frame shorter than the TPG geometry (the kernel would write past the
//! buffer) only gets its in-bounds part.
#![no_std]

extern crate alloc;

mod color;
#[rustfmt::skip]
mod tables;

use alloc::vec;
use alloc::vec::Vec;

use color::{Encoding, Ycbcr};
use tables::{BAR_RGB, FONT_8X16, TEXT_BG_RGB, TEXT_FG_RGB};

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

/// Height of a glyph of the VGA8x16 font, in pixels.
pub const FONT_HEIGHT: u32 = 16;
/// Width of a glyph of the VGA8x16 font, in pixels.
pub const FONT_WIDTH: u32 = 8;

/// One TPG plane inside visl's single memory plane.
#[derive(Debug)]
struct Plane {
    /// Byte offset of the plane in the frame (visl's `plane_vaddr`).
    offset: usize,
    /// The TPG's `bytesperline[p]`.
    stride: usize,
    /// Rows `tpg_fill_plane_buffer` writes.
    rows: usize,
    /// The precalculated pattern row (`img_width` bytes).
    line: Vec<u8>,
    /// `hdownsampling[p]` (the vertical one is 2 for every chroma plane, 1 for luma).
    hdiv: usize,
    vdiv: usize,
    /// The PIXTYPE-sized text colours `tpg_print_str_2` writes (`textfg[p][0]`, `textbg[p][0]`).
    text_fg: u8,
    text_bg: u8,
}

/// A configured generator (tpg_init + tpg_alloc + tpg_reset_source + 75% colour bars).
#[derive(Debug)]
pub struct Tpg {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub colorimetry: Colorimetry,
    planes: Vec<Plane>,
}

impl Tpg {
    /// Configure as visl's `visl_tpg_init` does for a CAPTURE format of `width`×`height`,
    /// `layout` and `colorimetry`, and precalculate the pattern rows.
    pub fn new(width: u32, height: u32, layout: Layout, colorimetry: Colorimetry) -> Self {
        let enc = Encoding::resolve(&colorimetry);
        // CAST: u32 fits usize on every target the driver builds for (>= 32 bits).
        let (w, h) = (width as usize, height as usize);
        // Pixel j of a row shows bar ⌊8j/w⌋ (tpg_get_color).
        let bars = BAR_RGB.map(|rgb| enc.ycbcr(rgb));
        let pixel = |j: usize| bars[(j * 8 / w.max(1)) % 8];
        let fg = enc.ycbcr(TEXT_FG_RGB);
        let bg = enc.ycbcr(TEXT_BG_RGB);

        // gen_twopix: luma per pixel; chroma of a pixel pair is the truncated average.
        // CAST: the average of two u8 values fits u8.
        let avg = |a: u8, b: u8| ((u16::from(a) + u16::from(b)) / 2) as u8;
        let pair = |i: usize, f: fn(&Ycbcr) -> u8| avg(f(&pixel(2 * i)), f(&pixel(2 * i + 1)));
        let luma: Vec<u8> = (0..w).map(|j| pixel(j).y).collect();
        let chroma_rows = h.div_ceil(2);

        let mut planes = vec![Plane {
            offset: 0,
            stride: w,
            rows: h,
            line: luma,
            hdiv: 1,
            vdiv: 1,
            text_fg: fg.y,
            text_bg: bg.y,
        }];
        match layout {
            Layout::Nv12 => {
                // twopixelsize 2, hdownsampling 1, hmask ~1: bytesperline w, img_width w & !1.
                let line = (0..w / 2).flat_map(|i| [pair(i, |c| c.cb), pair(i, |c| c.cr)]).collect();
                planes.push(Plane {
                    offset: w * h,
                    stride: w,
                    rows: chroma_rows,
                    line,
                    hdiv: 1,
                    vdiv: 2,
                    // A u8 PIXTYPE: the Cb byte of textfg/textbg lands on Cb and Cr alike.
                    text_fg: fg.cb,
                    text_bg: bg.cb,
                });
            }
            Layout::Yu12 => {
                // twopixelsize 2, hdownsampling 2: bytesperline and img_width ⌊w/2⌋.
                let stride = w / 2;
                let cb_offset = w * h;
                let cr_offset = cb_offset + stride * h / 2;
                for (offset, sel, tfg, tbg) in [
                    (cb_offset, (|c: &Ycbcr| c.cb) as fn(&Ycbcr) -> u8, fg.cb, bg.cb),
                    (cr_offset, |c: &Ycbcr| c.cr, fg.cr, bg.cr),
                ] {
                    planes.push(Plane {
                        offset,
                        stride,
                        rows: chroma_rows,
                        line: (0..stride).map(|i| pair(i, sel)).collect(),
                        hdiv: 2,
                        vdiv: 2,
                        text_fg: tfg,
                        text_bg: tbg,
                    });
                }
            }
        }
        Tpg { width, height, layout, colorimetry, planes }
    }

    /// tpg_fill_plane_buffer for every plane of `frame` (bytesperline == width).
    pub fn fill(&self, frame: &mut [u8]) {
        for plane in &self.planes {
            let n = plane.line.len();
            if plane.stride == n {
                // Contiguous rows: one slice of whole rows, then a clipped partial one.
                let Some(region) = frame.get_mut(plane.offset..) else { continue };
                let len = region.len().min(plane.rows * n);
                let region = &mut region[..len];
                let mut rows = region.chunks_exact_mut(n.max(1));
                for row in &mut rows {
                    row.copy_from_slice(&plane.line);
                }
                let tail = rows.into_remainder();
                let t = tail.len();
                tail.copy_from_slice(&plane.line[..t]);
            } else {
                for r in 0..plane.rows {
                    let start = plane.offset + r * plane.stride;
                    let Some(row) = frame.get_mut(start..) else { break };
                    let len = row.len().min(n);
                    row[..len].copy_from_slice(&plane.line[..len]);
                }
            }
        }
    }

    /// tpg_gen_text: draw `text` with its top-left corner at (`x`, `y`).
    ///
    /// As the kernel: nothing is drawn unless `y + 16 < height` and `x + 8 < width`; the
    /// text ends at its first NUL and is cut to ⌊(width − x)/8⌋ characters; every pixel
    /// of a character cell is written (glyph bit set: CSC white, else black). Chroma rows
    /// take the even glyph rows. Kernel quirk kept: in NV12 the text's chroma bytes all
    /// get the Cb value of the text colours, Cr positions included.
    pub fn text(&self, frame: &mut [u8], y: u32, x: u32, text: &[u8]) {
        let (w, h) = (u64::from(self.width), u64::from(self.height));
        let (y64, x64) = (u64::from(y), u64::from(x));
        if y64 + u64::from(FONT_HEIGHT) >= h || x64 + u64::from(FONT_WIDTH) >= w {
            return;
        }
        let strlen = text.iter().position(|&c| c == 0).unwrap_or(text.len());
        // CAST: at most width / 8, which fits usize.
        let len = strlen.min(((w - x64) / u64::from(FONT_WIDTH)) as usize);
        let text = &text[..len];
        // CAST: y < height and x < width, both u32.
        let (y, x) = (y as usize, x as usize);
        for plane in &self.planes {
            let cell = 8 / plane.hdiv;
            for line in (0..16).step_by(plane.vdiv) {
                let start = plane.offset + (y + line) / plane.vdiv * plane.stride + x / plane.hdiv;
                let Some(row) = frame.get_mut(start..) else { break };
                for (s, &c) in text.iter().enumerate() {
                    let bits = FONT_8X16[usize::from(c) * 16 + line];
                    let Some(dst) = row.get_mut(s * cell..) else { break };
                    // hdiv 2 samples glyph bits 7, 5, 3, 1; hdiv 1 all eight.
                    for (k, d) in dst.iter_mut().take(cell).enumerate() {
                        let bit = 7 - k * plane.hdiv;
                        *d = if bits & (1 << bit) != 0 { plane.text_fg } else { plane.text_bg };
                    }
                }
            }
        }
    }

    /// The bytes of a frame the TPG writes into: the end of its last written plane row.
    /// Frames of visl's sizeimage are always at least this long.
    pub fn extent(&self) -> usize {
        self.planes
            .iter()
            .map(|p| match p.rows {
                0 => 0,
                r => p.offset + (r - 1) * p.stride + p.line.len(),
            })
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizeimage(w: usize, h: usize) -> usize {
        w * h + 2 * w.div_ceil(2) * h.div_ceil(2)
    }

    #[test]
    fn fits_visl_sizeimage() {
        for (w, h) in [(16, 16), (17, 17), (65, 67), (100, 80), (16383, 16383), (1, 1)] {
            for layout in [Layout::Nv12, Layout::Yu12] {
                let tpg = Tpg::new(w, h, layout, Colorimetry::default());
                assert!(tpg.extent() <= sizeimage(w as usize, h as usize), "{w}x{h} {layout:?}");
            }
        }
    }

    #[test]
    fn short_frames_do_not_panic() {
        let tpg = Tpg::new(65, 67, Layout::Yu12, Colorimetry::default());
        for len in [0, 1, 64, 65 * 67, 65 * 67 + 100, 7000] {
            let mut frame = vec![0u8; len];
            tpg.fill(&mut frame);
            tpg.text(&mut frame, 16, 16, b"sequence:0");
        }
        let tpg = Tpg::new(0, 0, Layout::Nv12, Colorimetry::default());
        tpg.fill(&mut [0u8; 4]);
        tpg.text(&mut [0u8; 4], 0, 0, b"x");
    }
}
