//! Generates the UAPI bindings with bindgen from real kernel headers.
//!
//! `VISL_UAPI_INCLUDE` names the `usr/include` directory of the header set (conform sets
//! it to the linux-libc-dev 6.12 tree it fetched).  Regenerating against a newer header
//! set is how a changed C API shows up: the build, or bindgen's layout tests, say exactly
//! what moved.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=VISL_UAPI_INCLUDE");
    println!("cargo:rerun-if-changed=wrapper.h");
    let include = env::var("VISL_UAPI_INCLUDE").unwrap_or_else(|_| {
        let home = env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/conform/uapi-headers/6.12.117-1/usr/include")
    });
    let arch = format!("{include}/{}-linux-gnu", env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default());
    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_arg(format!("-I{include}"))
        .clang_arg(format!("-I{arch}"))
        .allowlist_type("v4l2_.*|media_.*")
        .allowlist_var("V4L2_.*|MEDIA_.*|VIDEO_MAX_.*")
        .use_core()
        .prepend_enum_name(false)
        .derive_default(true)
        .layout_tests(true)
        .generate()
        .expect("bindgen could not process the UAPI headers; is VISL_UAPI_INCLUDE a 6.12 usr/include?");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings.write_to_file(out.join("bindings.rs")).expect("writing bindings.rs");
}
