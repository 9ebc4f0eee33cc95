//! The V4L2 framework for rust-visl, shaped like the kernel's so the driver on top can
//! later move onto in-kernel Rust abstractions.
//!
//! Mirrors `drivers/media/v4l2-core/`: [`ioctl`] is v4l2-ioctl.c (numbers, dispatch,
//! argument clearing), [`media`] is media-device.c with the m2m graph, [`ops`] is `struct v4l2_ioctl_ops`, [`format`] holds the
//! pixel-format descriptions the core fills in, [`error`] the errno values.
#![no_std]

extern crate alloc;

pub mod ctrls;
pub mod error;
pub mod event;
pub mod format;
pub mod ioctl;
pub mod m2m;
pub mod media;
pub mod ops;
pub mod params;
pub mod prio;
pub mod request;
pub mod vb2;

pub use error::{Errno, Result};
pub use ops::{DeviceInfo, IoctlOps};
