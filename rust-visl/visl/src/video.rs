//! Formats and their negotiation (visl-video.c), with the quirks upstream has.
//!
//! visl-behaviour §4: the coded-format table with its frame-size limits, the two decoded
//! formats, the defaults at open, and the TRY/S_FMT rules.

use uapi::{
    v4l2_decoder_cmd, v4l2_format, v4l2_frmsizeenum, v4l2_pix_format_mplane,
    V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, V4L2_COLORSPACE_REC709,
    V4L2_FIELD_NONE, V4L2_FRMSIZE_TYPE_STEPWISE,
};
use v4l2::ctrls::Handler;
use v4l2::format::{
    V4L2_PIX_FMT_AV1_FRAME, V4L2_PIX_FMT_FWHT_STATELESS, V4L2_PIX_FMT_H264_SLICE, V4L2_PIX_FMT_HEVC_SLICE,
    V4L2_PIX_FMT_MPEG2_SLICE, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_VP8_FRAME, V4L2_PIX_FMT_VP9_FRAME,
    V4L2_PIX_FMT_YUV420,
};
use v4l2::ioctl::stateless_try_decoder_cmd;
use v4l2::vb2::{PlaneSizes, Queue};
use v4l2::{DeviceInfo, Errno, IoctlOps, Result};

use tpg::{Colorimetry, Layout, Tpg};
use v4l2::m2m::{M2mOps, PlaneCheck};
use v4l2::request::{Owner, Requests};

use crate::core::{Context, Visl};

/// One coded (OUTPUT) format and the frame sizes visl accepts for it.
pub struct CodedFormat {
    pub pixelformat: u32,
    pub min_width: u32,
    pub max_width: u32,
    pub min_height: u32,
    pub max_height: u32,
}

const fn coded(
    pixelformat: u32,
    min_width: u32,
    max_width: u32,
    min_height: u32,
    max_height: u32,
) -> CodedFormat {
    CodedFormat { pixelformat, min_width, max_width, min_height, max_height }
}

/// ENUM_FMT order of the OUTPUT queue; the first entry replaces unknown formats.
pub const CODED_FORMATS: [CodedFormat; 7] = [
    coded(V4L2_PIX_FMT_FWHT_STATELESS, 640, 4096, 360, 2160),
    coded(V4L2_PIX_FMT_MPEG2_SLICE, 16, 1920, 16, 1152),
    coded(V4L2_PIX_FMT_VP8_FRAME, 64, 16383, 64, 16383),
    coded(V4L2_PIX_FMT_VP9_FRAME, 64, 8192, 64, 4352),
    coded(V4L2_PIX_FMT_H264_SLICE, 64, 4096, 64, 2304),
    coded(V4L2_PIX_FMT_HEVC_SLICE, 64, 4096, 64, 2304),
    coded(V4L2_PIX_FMT_AV1_FRAME, 64, 4096, 64, 2304),
];

/// ENUM_FMT order of the CAPTURE queue, the same for every codec.
pub const DECODED_FORMATS: [u32; 2] = [V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_YUV420];

const DEFAULT_WIDTH: u32 = 640;
const DEFAULT_HEIGHT: u32 = 360;
/// Smallest OUTPUT buffer TRY_FMT proposes when userspace leaves sizeimage at 0.
const MIN_CODED_SIZEIMAGE: u32 = 256 * 1024;

fn coded_format(pixelformat: u32) -> Option<&'static CodedFormat> {
    CODED_FORMATS.iter().find(|f| f.pixelformat == pixelformat)
}

/// Both decoded formats are 4:2:0 in one memory plane: luma, then two chroma planes
/// of half size rounded up.
fn decoded_sizeimage(width: u32, height: u32) -> u32 {
    width * height + 2 * width.div_ceil(2) * height.div_ceil(2)
}

pub(crate) fn default_output_format() -> v4l2_pix_format_mplane {
    let mut pix = v4l2_pix_format_mplane {
        width: DEFAULT_WIDTH,
        height: DEFAULT_HEIGHT,
        pixelformat: CODED_FORMATS[0].pixelformat,
        field: V4L2_FIELD_NONE,
        colorspace: V4L2_COLORSPACE_REC709,
        num_planes: 1,
        ..Default::default()
    };
    let mut planes = pix.plane_fmt;
    planes[0].sizeimage = DEFAULT_WIDTH * DEFAULT_HEIGHT * 8;
    pix.plane_fmt = planes;
    pix
}

/// visl_tpg_init: a pattern generator for the CAPTURE format `pix`.
pub(crate) fn tpg_for(pix: &v4l2_pix_format_mplane) -> Tpg {
    let layout = if pix.pixelformat == V4L2_PIX_FMT_YUV420 { Layout::Yu12 } else { Layout::Nv12 };
    let colorimetry = Colorimetry {
        colorspace: pix.colorspace,
        xfer_func: u32::from(pix.xfer_func),
        // SAFETY: ycbcr_enc and hsv_enc are two names of the same u8.
        ycbcr_enc: u32::from(unsafe { pix.__bindgen_anon_1.ycbcr_enc }),
        quantization: u32::from(pix.quantization),
    };
    Tpg::new(pix.width, pix.height, layout, colorimetry)
}

pub(crate) fn default_capture_format() -> v4l2_pix_format_mplane {
    let mut pix = v4l2_pix_format_mplane {
        width: DEFAULT_WIDTH,
        height: DEFAULT_HEIGHT,
        pixelformat: DECODED_FORMATS[0],
        field: V4L2_FIELD_NONE,
        colorspace: V4L2_COLORSPACE_REC709,
        ..Default::default()
    };
    set_decoded_layout(&mut pix);
    pix
}

/// One plane, bytesperline = width, sizeimage of the whole 4:2:0 frame.
fn set_decoded_layout(pix: &mut v4l2_pix_format_mplane) {
    pix.num_planes = 1;
    let mut planes = pix.plane_fmt;
    planes[0].bytesperline = pix.width;
    planes[0].sizeimage = decoded_sizeimage(pix.width, pix.height);
    pix.plane_fmt = planes;
}

fn try_output(pix: &mut v4l2_pix_format_mplane) {
    let format = coded_format(pix.pixelformat).unwrap_or(&CODED_FORMATS[0]);
    pix.pixelformat = format.pixelformat;
    pix.width = pix.width.clamp(format.min_width, format.max_width);
    pix.height = pix.height.clamp(format.min_height, format.max_height);
    pix.field = V4L2_FIELD_NONE;
    pix.num_planes = 1;
    let mut planes = pix.plane_fmt;
    if planes[0].sizeimage == 0 {
        planes[0].sizeimage = MIN_CODED_SIZEIMAGE.max(pix.width.saturating_mul(pix.height).saturating_mul(3));
    }
    pix.plane_fmt = planes;
}

/// Quirk kept from upstream: the CAPTURE size is clamped to the current coded format's
/// limits, not to the OUTPUT resolution.
fn try_capture(ctx: &Context, pix: &mut v4l2_pix_format_mplane) {
    if !DECODED_FORMATS.contains(&{ pix.pixelformat }) {
        pix.pixelformat = DECODED_FORMATS[0];
    }
    let limits = coded_format(ctx.coded.pixelformat).unwrap_or(&CODED_FORMATS[0]);
    pix.width = pix.width.clamp(limits.min_width, limits.max_width);
    pix.height = pix.height.clamp(limits.min_height, limits.max_height);
    pix.field = V4L2_FIELD_NONE;
    set_decoded_layout(pix);
}

fn pix_mp(fmt: &mut v4l2_format) -> &mut v4l2_pix_format_mplane {
    // SAFETY: the core only calls format ops for the two multi-planar buffer types, whose
    // union member is pix_mp.
    unsafe { &mut fmt.fmt.pix_mp }
}

impl IoctlOps for Visl {
    type File = Context;

    fn info(&self) -> DeviceInfo {
        Visl::device_info()
    }

    fn queue_setup(&self, file: &Context, buf_type: u32, requested: Option<&[u32]>) -> Result<PlaneSizes> {
        let format = if buf_type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE { &file.coded } else { &file.decoded };
        let planes = format.plane_fmt;
        let sizeimage = planes[0].sizeimage;
        match requested {
            // CREATE_BUFS: one plane, at least as large as the format needs.
            Some(sizes) if sizes.len() != 1 || sizes[0] < sizeimage => Err(Errno::EINVAL),
            Some(sizes) => Ok(PlaneSizes { sizes: sizes.to_vec() }),
            None => Ok(PlaneSizes { sizes: alloc::vec![sizeimage] }),
        }
    }

    fn try_decoder_cmd(&self, _file: &mut Context, dc: &mut v4l2_decoder_cmd) -> Result {
        stateless_try_decoder_cmd(dc)
    }

    fn queue<'a>(&self, file: &'a mut Context, buf_type: u32) -> Option<&'a mut Queue> {
        Some(file.queue_mut(buf_type))
    }

    fn ctrl_handler<'a>(&self, file: &'a Context) -> Option<&'a Handler> {
        Some(&file.handler)
    }

    fn ctrl_handler_mut<'a>(&self, file: &'a mut Context) -> Option<&'a mut Handler> {
        Some(&mut file.handler)
    }

    fn enum_fmt_vid_out(&self, _file: &Context, index: u32) -> Result<u32> {
        CODED_FORMATS.get(index as usize).map(|f| f.pixelformat).ok_or(Errno::EINVAL)
    }

    fn enum_fmt_vid_cap(&self, _file: &Context, index: u32) -> Result<u32> {
        DECODED_FORMATS.get(index as usize).copied().ok_or(Errno::EINVAL)
    }

    fn g_fmt(&self, file: &Context, fmt: &mut v4l2_format) -> Result {
        *pix_mp(fmt) = if fmt.type_ == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE { file.coded } else { file.decoded };
        Ok(())
    }

    fn try_fmt(&self, file: &Context, fmt: &mut v4l2_format) -> Result {
        if fmt.type_ == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE {
            try_output(pix_mp(fmt));
        } else {
            try_capture(file, pix_mp(fmt));
        }
        Ok(())
    }

    fn s_fmt(&self, file: &mut Context, fmt: &mut v4l2_format) -> Result {
        // Quirk kept from upstream: only CAPTURE buffers block a new coded format.
        if fmt.type_ == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE && file.capture.num_buffers() > 0 {
            return Err(Errno::EBUSY);
        }
        self.try_fmt(file, fmt)?;
        let pix = *pix_mp(fmt);
        if fmt.type_ == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE {
            file.decoded = pix;
            file.tpg = tpg_for(&pix);
            return Ok(());
        }
        file.coded = pix;
        // Setting the coded format resets CAPTURE to the first decoded format at the same
        // size, then carries the OUTPUT colorimetry over.
        let mut decoded = v4l2_pix_format_mplane {
            width: pix.width,
            height: pix.height,
            pixelformat: DECODED_FORMATS[0],
            field: V4L2_FIELD_NONE,
            colorspace: V4L2_COLORSPACE_REC709,
            ..Default::default()
        };
        set_decoded_layout(&mut decoded);
        // Quirk kept from upstream: the TPG takes the reset colorimetry, the stored format
        // the OUTPUT one, so frames keep REC709 colours until the next S_FMT(CAPTURE).
        file.tpg = tpg_for(&decoded);
        decoded.colorspace = pix.colorspace;
        decoded.__bindgen_anon_1 = pix.__bindgen_anon_1;
        decoded.quantization = pix.quantization;
        decoded.xfer_func = pix.xfer_func;
        set_decoded_layout(&mut decoded);
        file.decoded = decoded;
        Ok(())
    }

    fn enum_framesizes(&self, _file: &Context, fs: &mut v4l2_frmsizeenum) -> Result {
        let format = coded_format(fs.pixel_format).ok_or(Errno::EINVAL)?;
        if fs.index != 0 {
            return Err(Errno::EINVAL);
        }
        fs.type_ = V4L2_FRMSIZE_TYPE_STEPWISE;
        // SAFETY: writing plain integers into the union's stepwise member, which the type
        // just set selects.
        let stepwise = unsafe { &mut fs.__bindgen_anon_1.stepwise };
        stepwise.min_width = format.min_width;
        stepwise.max_width = format.max_width;
        stepwise.step_width = 1;
        stepwise.min_height = format.min_height;
        stepwise.max_height = format.max_height;
        stepwise.step_height = 1;
        Ok(())
    }
}

/// visl's vb2 queue ops and its m2m device_run (in [`crate::dec`]).
impl M2mOps for Visl {
    type Ctx = Context;

    fn queues<'a>(&self, ctx: &'a mut Context) -> (&'a mut Queue, &'a mut Queue) {
        (&mut ctx.output, &mut ctx.capture)
    }

    fn handler<'a>(&self, ctx: &'a mut Context) -> &'a mut Handler {
        &mut ctx.handler
    }

    /// visl_buf_prepare: plane 0 must hold the format's sizeimage; CAPTURE payloads are that size.
    fn buf_prepare(&self, ctx: &Context, is_output: bool) -> PlaneCheck {
        let format = if is_output { &ctx.coded } else { &ctx.decoded };
        let planes = format.plane_fmt;
        PlaneCheck { min_size: planes[0].sizeimage, set_payload: !is_output }
    }

    /// visl_start_streaming: each queue counts its sequence from 0 again.
    fn start_streaming(&mut self, ctx: &mut Context, is_output: bool) {
        if is_output {
            ctx.out_sequence = 0;
        } else {
            ctx.cap_sequence = 0;
        }
    }

    /// visl_stop_streaming: the bitstream dumps go unless asked to stay.
    fn stop_streaming(&mut self, _ctx: &mut Context, _is_output: bool) {
        if self.param("keep_bitstream_buffers") == 0 {
            self.bitstreams.clear();
        }
    }

    fn device_run(&mut self, ctx: &mut Context, owner: Owner, requests: &mut Requests) {
        crate::dec::device_run(self, ctx, owner, requests);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_sizeimage_matches_the_spec_example() {
        assert_eq!(decoded_sizeimage(640, 360), 345_600);
        assert_eq!(decoded_sizeimage(641, 361), 641 * 361 + 2 * 321 * 181);
    }
}
