//! The driver's side of the ioctl contract: `struct v4l2_ioctl_ops` as a trait.

use uapi::{v4l2_decoder_cmd, v4l2_format, v4l2_frmsizeenum};

use crate::ctrls::Handler;
use crate::error::{Errno, Result};
use crate::vb2::{PlaneSizes, Queue};

/// Identity a driver reports through QUERYCAP.
pub struct DeviceInfo {
    pub driver: &'static str,
    pub card: &'static str,
    pub bus_info: &'static str,
    pub device_caps: u32,
}

/// The ioctl operations of a memory-to-memory multi-planar driver.
///
/// Every op has a default that answers `ENOTTY`, as an empty slot in
/// `v4l2_ioctl_ops` does; a driver implements the ones it supports.  The core has
/// already checked the buffer type and cleared reserved fields.
pub trait IoctlOps {
    /// Per-open state (the kernel's `struct v4l2_fh` container).
    type File;

    fn info(&self) -> DeviceInfo;

    /// The file handle's control handler, which the core serves control ioctls from.
    fn ctrl_handler<'a>(&self, _file: &'a Self::File) -> Option<&'a Handler> {
        None
    }

    /// The same handler, for the ioctls that change values.
    fn ctrl_handler_mut<'a>(&self, _file: &'a mut Self::File) -> Option<&'a mut Handler> {
        None
    }

    /// vb2_ops.queue_setup: the planes of each buffer of `buf_type`; `requested` carries
    /// CREATE_BUFS's sizes, which the driver accepts or refuses.
    fn queue_setup(
        &self,
        _file: &Self::File,
        _buf_type: u32,
        _requested: Option<&[u32]>,
    ) -> Result<PlaneSizes> {
        Err(Errno::ENOTTY)
    }

    /// The file handle's queue of `buf_type` (its m2m context's OUTPUT or CAPTURE queue).
    fn queue<'a>(&self, _file: &'a mut Self::File, _buf_type: u32) -> Option<&'a mut Queue> {
        None
    }

    fn decoder_cmd(&self, _file: &mut Self::File, _dc: &mut v4l2_decoder_cmd) -> Result {
        Err(Errno::ENOTTY)
    }

    fn try_decoder_cmd(&self, _file: &mut Self::File, _dc: &mut v4l2_decoder_cmd) -> Result {
        Err(Errno::ENOTTY)
    }

    /// The coded format at `index` of the OUTPUT queue, or `EINVAL` past the end.
    fn enum_fmt_vid_out(&self, _file: &Self::File, _index: u32) -> Result<u32> {
        Err(Errno::ENOTTY)
    }

    /// The decoded format at `index` of the CAPTURE queue, or `EINVAL` past the end.
    fn enum_fmt_vid_cap(&self, _file: &Self::File, _index: u32) -> Result<u32> {
        Err(Errno::ENOTTY)
    }

    fn g_fmt(&self, _file: &Self::File, _fmt: &mut v4l2_format) -> Result {
        Err(Errno::ENOTTY)
    }

    fn s_fmt(&self, _file: &mut Self::File, _fmt: &mut v4l2_format) -> Result {
        Err(Errno::ENOTTY)
    }

    fn try_fmt(&self, _file: &Self::File, _fmt: &mut v4l2_format) -> Result {
        Err(Errno::ENOTTY)
    }

    fn enum_framesizes(&self, _file: &Self::File, _fs: &mut v4l2_frmsizeenum) -> Result {
        Err(Errno::ENOTTY)
    }
}
