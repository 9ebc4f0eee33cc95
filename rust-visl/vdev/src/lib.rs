//! The vdev ABI over one rust-visl instance: virtual file descriptors and paths that
//! behave like the kernel's nodes.  [`abi`] holds every `extern "C"` function; [`files`]
//! the instance and its open files.

pub mod abi;
pub mod files;
pub mod uaccess;
