//! Plain-old-data views of payload bytes: UAPI structs in and out of byte buffers.

use core::mem::size_of;

use crate::error::{Errno, Result};

/// Copy a UAPI struct into a payload buffer of exactly its size.
pub fn store<T: Copy>(payload: &mut [u8], value: &T) {
    // SAFETY: T is a plain-old-data UAPI struct of size_of::<T>() bytes, so viewing it as
    // bytes is sound.
    let bytes = unsafe { core::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()) };
    payload.copy_from_slice(bytes);
}

/// Run `edit` on the struct a payload element holds and write the result back: the
/// validators both check and sanitise, as the kernel's do in place.
pub fn edit<T: Copy>(element: &mut [u8], edit: impl FnOnce(&mut T) -> Result) -> Result {
    if element.len() != size_of::<T>() {
        return Err(Errno::EINVAL);
    }
    // SAFETY: the buffer holds exactly size_of::<T>() bytes, every bit pattern is a valid
    // T for these integer-only UAPI structs, and read_unaligned copies out.
    let mut value = unsafe { core::ptr::read_unaligned(element.as_ptr().cast::<T>()) };
    let outcome = edit(&mut value);
    store(element, &value);
    outcome
}

/// A UAPI struct read from a payload; a payload too short for it reads as all zeros.
pub fn load<T: Copy + Default>(payload: &[u8]) -> T {
    if payload.len() < size_of::<T>() {
        return T::default();
    }
    // SAFETY: at least size_of::<T>() bytes are readable, every bit pattern is a valid T
    // for these integer-only UAPI structs, and read_unaligned copies out.
    unsafe { core::ptr::read_unaligned(payload.as_ptr().cast::<T>()) }
}
