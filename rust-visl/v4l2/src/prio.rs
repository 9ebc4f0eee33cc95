//! Access priorities (v4l2_prio_* in v4l2-dev.c): every file handle has one, INTERACTIVE at
//! open; ioctls that change state are refused (EBUSY) to a handle below the highest one.

use alloc::collections::BTreeMap;

use uapi::{V4L2_PRIORITY_BACKGROUND, V4L2_PRIORITY_DEFAULT, V4L2_PRIORITY_RECORD, V4L2_PRIORITY_UNSET};

use crate::error::{Errno, Result};
use crate::ioctl::*;

/// The priorities of one device's open file handles, by handle.
#[derive(Default)]
pub struct Priorities {
    by_handle: BTreeMap<i32, u32>,
}

fn is_valid(prio: u32) -> bool {
    (V4L2_PRIORITY_BACKGROUND..=V4L2_PRIORITY_RECORD).contains(&prio)
}

/// The ioctls __video_do_ioctl checks priority for (INFO_FL_PRIO) that rust-visl answers.
const PRIO_CHECKED: [u32; 10] = [
    VIDIOC_S_FMT,
    VIDIOC_REQBUFS,
    VIDIOC_STREAMON,
    VIDIOC_STREAMOFF,
    VIDIOC_S_CTRL,
    VIDIOC_S_PRIORITY,
    VIDIOC_S_EXT_CTRLS,
    VIDIOC_DECODER_CMD,
    VIDIOC_CREATE_BUFS,
    VIDIOC_REMOVE_BUFS,
];

impl Priorities {
    /// v4l2_prio_open.
    pub fn open(&mut self, handle: i32) {
        self.by_handle.insert(handle, V4L2_PRIORITY_DEFAULT);
    }

    /// v4l2_prio_close.
    pub fn close(&mut self, handle: i32) {
        self.by_handle.remove(&handle);
    }

    /// v4l2_prio_max (VIDIOC_G_PRIORITY).
    pub fn max(&self) -> u32 {
        self.by_handle.values().copied().filter(|&p| is_valid(p)).max().unwrap_or(V4L2_PRIORITY_UNSET)
    }

    /// v4l2_prio_change (VIDIOC_S_PRIORITY).
    pub fn change(&mut self, handle: i32, prio: u32) -> Result {
        if !is_valid(prio) {
            return Err(Errno::EINVAL);
        }
        self.by_handle.insert(handle, prio);
        Ok(())
    }

    /// v4l2_prio_check for the ioctls that need it: EBUSY below the highest priority.
    pub fn check(&self, handle: i32, request: u32) -> Result {
        let own = self.by_handle.get(&handle).copied().unwrap_or(V4L2_PRIORITY_DEFAULT);
        if PRIO_CHECKED.contains(&request) && own < self.max() {
            return Err(Errno::EBUSY);
        }
        Ok(())
    }
}
