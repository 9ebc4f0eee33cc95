//! rust-visl: a virtual stateless decoder meant to be indistinguishable from upstream visl
//! (Linux 6.12, `drivers/media/test-drivers/visl/`).
//!
//! Split as the C driver is: [`core`] (device identity, open contexts; visl-core.c) and
//! [`video`] (format tables and negotiation; visl-video.c).  Only `core` and `alloc`
//! are used, so the files can move into a kernel module later.
#![no_std]

extern crate alloc;

pub mod core;
pub mod dec;
pub mod params;
pub mod trace;
pub mod video;

pub use crate::core::{Context, Visl};
