//! Every `extern "C"` function of the vdev ABI (conform/transport/vdev.h).
//!
//! Each body runs through [`guarded`], which turns a `Result` into a negative errno and
//! catches unwinding, so no panic crosses the C ABI: it becomes `-EIO`.

use std::ffi::{c_char, c_int, c_ulong, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use uapi::{v4l2_capability, v4l2_fmtdesc, v4l2_format, v4l2_frmsizeenum};
use v4l2::ioctl::{
    dispatch, Ioctl, VIDIOC_ENUM_FMT, VIDIOC_ENUM_FRAMESIZES, VIDIOC_G_FMT, VIDIOC_QUERYCAP, VIDIOC_S_FMT,
    VIDIOC_TRY_FMT,
};
use v4l2::{Errno, Result};

use crate::files::{instance, reset, File};

fn guarded(body: impl FnOnce() -> Result<c_int>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(errno)) => errno.to_neg(),
        Err(_) => Errno::EIO.to_neg(),
    }
}

/// # Safety
///
/// `path` must be NULL or point to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vdev_open(path: *const c_char, _flags: c_int) -> c_int {
    guarded(|| {
        if path.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: non-null, and the caller promises NUL termination.
        let path = unsafe { CStr::from_ptr(path) }.to_str().map_err(|_| Errno::ENOENT)?;
        let mut guard = instance();
        let dev = guard.as_mut().ok_or(Errno::ENODEV)?;
        dev.open(path)
    })
}

#[no_mangle]
pub extern "C" fn vdev_close(fd: c_int) -> c_int {
    guarded(|| {
        let mut guard = instance();
        guard.as_mut().ok_or(Errno::ENODEV)?.close(fd)?;
        Ok(0)
    })
}

/// Borrow the ioctl argument as the struct its number names.
///
/// # Safety
///
/// `arg` must be NULL or point to a writable `T`, as the ioctl's number promises.
unsafe fn argument<'a, T>(arg: *mut c_void) -> Result<&'a mut T> {
    if arg.is_null() || arg.align_offset(core::mem::align_of::<T>()) != 0 {
        return Err(Errno::EFAULT);
    }
    // SAFETY: non-null and aligned; the caller promises it points to a writable T.
    Ok(unsafe { &mut *arg.cast::<T>() })
}

/// # Safety
///
/// `arg` must be NULL or point to memory of the size encoded in `request`.
#[no_mangle]
pub unsafe extern "C" fn vdev_ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> c_int {
    guarded(|| {
        let mut guard = instance();
        let dev = guard.as_mut().ok_or(Errno::ENODEV)?;
        let driver = &dev.driver;
        let file = dev.files.get_mut(&fd).ok_or(Errno::EBADF)?;
        let File::Video(ctx) = file else {
            return Err(Errno::ENOTTY);
        };
        // CAST: ioctl numbers are 32-bit; larger values match nothing below.
        let request = request as u32;
        // SAFETY (each arm): the caller promises `arg` points to the struct the number encodes.
        let ioctl = match request {
            VIDIOC_QUERYCAP => Ioctl::QueryCap(unsafe { argument::<v4l2_capability>(arg) }?),
            VIDIOC_ENUM_FMT => Ioctl::EnumFmt(unsafe { argument::<v4l2_fmtdesc>(arg) }?),
            VIDIOC_G_FMT => Ioctl::GFmt(unsafe { argument::<v4l2_format>(arg) }?),
            VIDIOC_S_FMT => Ioctl::SFmt(unsafe { argument::<v4l2_format>(arg) }?),
            VIDIOC_TRY_FMT => Ioctl::TryFmt(unsafe { argument::<v4l2_format>(arg) }?),
            VIDIOC_ENUM_FRAMESIZES => Ioctl::EnumFramesizes(unsafe { argument::<v4l2_frmsizeenum>(arg) }?),
            _ => return Err(Errno::ENOTTY),
        };
        dispatch(driver, ctx, ioctl)?;
        Ok(0)
    })
}

/// Buffers do not exist yet in rust-visl, so there is nothing to map.
#[no_mangle]
pub extern "C" fn vdev_mmap(_fd: c_int, _offset: i64, _length: usize, _prot: c_int, _addr: *mut *mut c_void) -> c_int {
    Errno::EINVAL.to_neg()
}

#[no_mangle]
pub extern "C" fn vdev_munmap(_addr: *mut c_void, _length: usize) -> c_int {
    Errno::EINVAL.to_neg()
}

/// # Safety
///
/// `fds` must point to `nfds` writable `struct pollfd` entries.
#[no_mangle]
pub unsafe extern "C" fn vdev_poll(_fds: *mut c_void, _nfds: c_ulong, _timeout_ms: c_int) -> c_int {
    Errno::EINVAL.to_neg()
}

#[no_mangle]
pub extern "C" fn vdev_read(_fd: c_int, _buf: *mut c_void, _count: usize) -> isize {
    Errno::EINVAL.to_neg() as isize
}

#[no_mangle]
pub extern "C" fn vdev_write(_fd: c_int, _buf: *const c_void, _count: usize) -> isize {
    Errno::EINVAL.to_neg() as isize
}

#[no_mangle]
pub extern "C" fn vdev_reset() -> c_int {
    guarded(|| reset().map(|()| 0))
}
