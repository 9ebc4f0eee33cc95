//! Generated bindings only: the kernel's V4L2 and media UAPI types and constants.
//!
//! Nothing here is written by hand; see `build.rs`.  bindgen's own layout tests
//! (`cargo test -p uapi`) check every size, alignment and offset.
#![no_std]
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
