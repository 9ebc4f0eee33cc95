//! Errno values, the only error currency at the ioctl edge.

/// A positive Linux errno.
///
/// # Invariants
///
/// The value is one of the `E*` constants below, all in `1..=4095`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct Errno(i32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const EBADF: Errno = Errno(9);
    pub const EAGAIN: Errno = Errno(11);
    pub const ENOMEM: Errno = Errno(12);
    pub const EACCES: Errno = Errno(13);
    pub const EFAULT: Errno = Errno(14);
    pub const EBUSY: Errno = Errno(16);
    pub const ENODEV: Errno = Errno(19);
    pub const EINVAL: Errno = Errno(22);
    pub const ENOTTY: Errno = Errno(25);
    pub const ENOSPC: Errno = Errno(28);
    pub const ERANGE: Errno = Errno(34);
    pub const EIO: Errno = Errno(5);
    pub const EPIPE: Errno = Errno(32);
    pub const EBADR: Errno = Errno(53);
    pub const ENOBUFS: Errno = Errno(105);

    /// The negative value a syscall-shaped function returns.
    pub const fn to_neg(self) -> i32 {
        -self.0
    }
}

/// Result of a framework or driver operation.
pub type Result<T = ()> = core::result::Result<T, Errno>;
