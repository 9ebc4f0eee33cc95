//! libFuzzer target: the input is a program of vdev ABI calls (FORMAT.md).
//!
//! libfuzzer-sys installs a panic hook that aborts, so a panic inside rust-visl is a
//! crash even though vdev's guard would have caught it and answered -EIO.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vdev_program::{run, Vocabulary};

static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    run(VOCABULARY.get_or_init(Vocabulary::load), data);
});
