//! Checking user pointers before touching them, as copy_from_user/copy_to_user fail with
//! EFAULT instead of faulting: the range is read and written back through
//! process_vm_readv/process_vm_writev on this very process, which report an unmapped or
//! read-only page as a short transfer instead of a signal.

use std::ffi::{c_int, c_ulong, c_void};

use v4l2::{Errno, Result};

#[repr(C)]
struct IoVec {
    base: *mut c_void,
    len: usize,
}

extern "C" {
    fn getpid() -> c_int;
    fn process_vm_readv(
        pid: c_int,
        local: *const IoVec,
        nl: c_ulong,
        remote: *const IoVec,
        nr: c_ulong,
        flags: c_ulong,
    ) -> isize;
    fn process_vm_writev(
        pid: c_int,
        local: *const IoVec,
        nl: c_ulong,
        remote: *const IoVec,
        nr: c_ulong,
        flags: c_ulong,
    ) -> isize;
}

/// Probe at most this much at once; payloads are far smaller.
const CHUNK: usize = 64 * 1024;

/// Whether `len` bytes at `ptr` may be read and written; EFAULT when they may not.
///
/// Where the kernel refuses the probe itself (a seccomp filter, say) the check passes, as
/// it cannot tell, and the caller's promise stands.
pub fn access_ok(ptr: *const c_void, len: usize) -> Result {
    probe(ptr, len, true)
}

/// Whether `len` bytes at `ptr` may be read (what copy_from_user needs).
pub fn readable(ptr: *const c_void, len: usize) -> Result {
    probe(ptr, len, false)
}

fn probe(ptr: *const c_void, len: usize, write: bool) -> Result {
    if len == 0 {
        return Ok(());
    }
    if ptr.is_null() {
        return Err(Errno::EFAULT);
    }
    let mut scratch = vec![0u8; len.min(CHUNK)];
    let mut offset = 0;
    while offset < len {
        let n = (len - offset).min(CHUNK);
        let local = IoVec { base: scratch.as_mut_ptr().cast(), len: n };
        // CAST: an address computation only; nothing is dereferenced here.
        let remote = IoVec { base: (ptr as usize + offset) as *mut c_void, len: n };
        // SAFETY: both iovecs describe valid ranges of this process for the kernel to copy
        // between; the kernel checks the remote one and reports faults as a short count.
        let read = unsafe { process_vm_readv(getpid(), &local, 1, &remote, 1, 0) };
        if read < 0 {
            return unprobeable();
        }
        if read as usize != n {
            return Err(Errno::EFAULT);
        }
        if write {
            // SAFETY: as above; writing back the bytes just read leaves the memory unchanged.
            let written = unsafe { process_vm_writev(getpid(), &local, 1, &remote, 1, 0) };
            if written < 0 {
                return unprobeable();
            }
            if written as usize != n {
                return Err(Errno::EFAULT);
            }
        }
        offset += n;
    }
    Ok(())
}

/// A failed probe: EFAULT is a bad address; anything else (ENOSYS, EPERM under seccomp)
/// means the probe is not available here.
fn unprobeable() -> Result {
    const EFAULT: i32 = 14;
    match std::io::Error::last_os_error().raw_os_error() {
        Some(EFAULT) => Err(Errno::EFAULT),
        _ => Ok(()),
    }
}
