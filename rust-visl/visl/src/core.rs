//! The device and its per-open contexts (visl-core.c).

use uapi::{v4l2_pix_format_mplane, V4L2_CAP_STREAMING, V4L2_CAP_VIDEO_M2M_MPLANE};
use v4l2::DeviceInfo;

use crate::video::{default_capture_format, default_output_format};

/// The device: one instance per probe, shared by every open file handle.
#[derive(Default)]
pub struct Visl;

impl Visl {
    /// What QUERYCAP reports; a drop-in replacement must keep visl's names.
    pub fn device_info() -> DeviceInfo {
        DeviceInfo {
            driver: "visl",
            card: "visl",
            bus_info: "platform:visl",
            device_caps: V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING,
        }
    }

    /// A new decoding context, as each `open()` of the video node creates one.
    pub fn open(&self) -> Context {
        Context { coded: default_output_format(), decoded: default_capture_format() }
    }
}

/// Per-open state: the formats negotiated on this file handle.
pub struct Context {
    pub(crate) coded: v4l2_pix_format_mplane,
    pub(crate) decoded: v4l2_pix_format_mplane,
}
