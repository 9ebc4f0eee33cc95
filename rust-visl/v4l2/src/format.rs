//! What the core fills into `VIDIOC_ENUM_FMT` for a pixel format (v4l_fill_fmtdesc).

use uapi::V4L2_FMT_FLAG_COMPRESSED;

/// `v4l2_fourcc()`: bindgen cannot expand that function-like macro, so the formats are
/// spelled here from their four characters.
pub const fn fourcc(code: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*code)
}

pub const V4L2_PIX_FMT_NV12: u32 = fourcc(b"NV12");
pub const V4L2_PIX_FMT_YUV420: u32 = fourcc(b"YU12");
pub const V4L2_PIX_FMT_FWHT_STATELESS: u32 = fourcc(b"SFWH");
pub const V4L2_PIX_FMT_MPEG2_SLICE: u32 = fourcc(b"MG2S");
pub const V4L2_PIX_FMT_VP8_FRAME: u32 = fourcc(b"VP8F");
pub const V4L2_PIX_FMT_VP9_FRAME: u32 = fourcc(b"VP9F");
pub const V4L2_PIX_FMT_H264_SLICE: u32 = fourcc(b"S264");
pub const V4L2_PIX_FMT_HEVC_SLICE: u32 = fourcc(b"S265");
pub const V4L2_PIX_FMT_AV1_FRAME: u32 = fourcc(b"AV1F");

/// Description text and flags for the pixel formats rust-visl can name.
///
/// Returns `None` for a format the table does not know; the caller leaves the
/// description empty then, as the kernel warns and does.
pub fn describe(pixelformat: u32) -> Option<(&'static str, u32)> {
    let compressed = V4L2_FMT_FLAG_COMPRESSED;
    Some(match pixelformat {
        V4L2_PIX_FMT_NV12 => ("Y/UV 4:2:0", 0),
        V4L2_PIX_FMT_YUV420 => ("Planar YUV 4:2:0", 0),
        V4L2_PIX_FMT_FWHT_STATELESS => ("FWHT Stateless", compressed),
        V4L2_PIX_FMT_MPEG2_SLICE => ("MPEG-2 Parsed Slice Data", compressed),
        V4L2_PIX_FMT_VP8_FRAME => ("VP8 Frame", compressed),
        V4L2_PIX_FMT_VP9_FRAME => ("VP9 Frame", compressed),
        V4L2_PIX_FMT_H264_SLICE => ("H.264 Parsed Slice Data", compressed),
        V4L2_PIX_FMT_HEVC_SLICE => ("HEVC Parsed Slice Data", compressed),
        V4L2_PIX_FMT_AV1_FRAME => ("AV1 Frame", compressed),
        _ => return None,
    })
}

/// Copy `text` into a fixed C char array, NUL-terminated and zero-padded.
pub fn set_cstr(dest: &mut [u8], text: &str) {
    dest.fill(0);
    let n = text.len().min(dest.len().saturating_sub(1));
    dest[..n].copy_from_slice(&text.as_bytes()[..n]);
}

/// [`set_cstr`] for the `char` arrays of media.h, which bindgen types as `i8`.
pub fn set_cchars(dest: &mut [core::ffi::c_char], text: &str) {
    dest.fill(0);
    let n = text.len().min(dest.len().saturating_sub(1));
    for (d, &b) in dest.iter_mut().zip(&text.as_bytes()[..n]) {
        // CAST: a byte reinterpreted as C char, as the kernel's strscpy copies it.
        *d = b as core::ffi::c_char;
    }
}
