//! visl's trace events (visl-trace-*.h, emitted by `visl_trace_ctrls()` in visl-dec.c): per
//! job, the current codec's controls printed exactly as Linux 6.12's ftrace prints the
//! TP_printk formats of those headers.
//!
//! This file holds what every codec shares: the order of events per coded format
//! ([`job_events`]), and the four renderers of kernel/trace/trace_output.c the formats use,
//! re-implemented from their documented output:
//!
//! - [`flags`] (`__print_flags`): the names of the table entries whose whole mask is set,
//!   in table order, each entry clearing its bits; then any bits left over as `0x%lx`;
//!   joined by the delimiter (`|` everywhere in visl).  A value of 0 prints nothing.
//! - [`symbolic`] (`__print_symbolic`): the name of the first entry equal to the value,
//!   else `0x%lx` of the value.
//! - [`array`] (`__print_array`): `{0x..,0x..}`, each element printed as the unsigned
//!   integer of its own width in lower-case hex (an `s8` of -1 is `0xff`), no spaces.
//! - [`hex_dump`] (`__print_hex_dump` with no prefix, 32 bytes a row, groups of one byte,
//!   no ASCII): a newline, then per row the bytes as two lower-case hex digits separated by
//!   one space, each row ending in a newline.
//!
//! `%u` and `%d` of fields narrower than 32 bits print the C promotion of the value: a
//! signed field printed with `%u` shows its two's complement as a 32-bit unsigned number
//! ([`CInt`]).
//!
//! Each [`Event`] payload is the text ftrace prints after `name: `; ftrace then ends the
//! record with one newline of its own, which is not part of the payload.

mod av1;
mod fwht;
mod h264;
mod hevc;
mod mpeg2;
mod vp8;
mod vp9;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::mem::size_of;

use v4l2::format::{
    V4L2_PIX_FMT_AV1_FRAME, V4L2_PIX_FMT_FWHT_STATELESS, V4L2_PIX_FMT_H264_SLICE, V4L2_PIX_FMT_HEVC_SLICE,
    V4L2_PIX_FMT_MPEG2_SLICE, V4L2_PIX_FMT_VP8_FRAME, V4L2_PIX_FMT_VP9_FRAME,
};

/// One trace event: its name and the text ftrace prints after `name: `.
pub struct Event {
    pub name: &'static str,
    pub payload: String,
}

impl Event {
    fn new(name: &'static str, payload: String) -> Self {
        Self { name, payload }
    }
}

/// The current value of each control, as the control handler stores it.
pub trait CtrlSource {
    /// The payload bytes of control `id` (all of a dynamic array's elements).
    fn payload(&self, id: u32) -> &[u8];
}

/// The events one job emits for coded format `pixelformat`, in the kernel's order
/// (`visl_trace_ctrls()`); none for a format visl does not decode.
pub fn job_events(pixelformat: u32, ctrls: &dyn CtrlSource) -> Vec<Event> {
    match pixelformat {
        V4L2_PIX_FMT_FWHT_STATELESS => fwht::events(ctrls),
        V4L2_PIX_FMT_MPEG2_SLICE => mpeg2::events(ctrls),
        V4L2_PIX_FMT_VP8_FRAME => vp8::events(ctrls),
        V4L2_PIX_FMT_VP9_FRAME => vp9::events(ctrls),
        V4L2_PIX_FMT_H264_SLICE => h264::events(ctrls),
        V4L2_PIX_FMT_HEVC_SLICE => hevc::events(ctrls),
        V4L2_PIX_FMT_AV1_FRAME => av1::events(ctrls),
        _ => Vec::new(),
    }
}

/// Element 0 of control `id` (the whole struct for a plain compound control) as a `T`.
///
/// Bytes the payload lacks read as zero, so a short or empty payload cannot fault; the
/// control handler always stores at least one whole element.
fn load<T: Copy + Default>(ctrls: &dyn CtrlSource, id: u32) -> T {
    from_bytes(ctrls.payload(id))
}

/// The `T` the first `size_of::<T>()` bytes of `bytes` hold (missing bytes read as zero).
fn from_bytes<T: Copy + Default>(bytes: &[u8]) -> T {
    let mut value = T::default();
    let len = bytes.len().min(size_of::<T>());
    // SAFETY: `value` is a live, exclusively borrowed T of size_of::<T>() bytes and at most
    // that many bytes are written into it; T is an integer-only UAPI struct (bindgen POD), so
    // every bit pattern is a valid T.
    let dst = unsafe { core::slice::from_raw_parts_mut((&mut value as *mut T).cast::<u8>(), size_of::<T>()) };
    dst[..len].copy_from_slice(&bytes[..len]);
    value
}

/// The bytes of a plain-old-data value (an array field copied out of its struct).
fn bytes_of<T: Copy>(value: &T) -> &[u8] {
    // SAFETY: `value` is a live T; T is an array of integers or an integer-only UAPI struct
    // without padding inside the arrays visl dumps, so all size_of::<T>() bytes are
    // initialised, and the returned slice borrows `value`.
    unsafe { core::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()) }
}

/// One `__print_flags` / `__print_symbolic` table entry: mask (or value) and name.
type Names = [(u64, &'static str)];

/// `__print_flags(value, "|", table)`.
fn flags(value: u64, table: &Names) -> String {
    let mut out = String::new();
    let mut left = value;
    for &(mask, name) in table {
        if left == 0 {
            break;
        }
        if left & mask != mask {
            continue;
        }
        left &= !mask;
        if !out.is_empty() {
            out.push('|');
        }
        out.push_str(name);
    }
    if left != 0 {
        if !out.is_empty() {
            out.push('|');
        }
        let _ = write!(out, "0x{left:x}");
    }
    out
}

/// `__print_symbolic(value, table)`.
fn symbolic(value: u64, table: &Names) -> String {
    match table.iter().find(|&&(v, _)| v == value) {
        Some(&(_, name)) => String::from(name),
        None => alloc::format!("0x{value:x}"),
    }
}

/// An integer field as C's printf sees it after the default argument promotions.
trait CInt: Copy {
    /// `%u`: the promoted value as a 32-bit unsigned number.
    fn u(self) -> u32;
    /// `%d`: the promoted value as a 32-bit signed number.
    fn d(self) -> i32;
    /// The element as `__print_array` prints it: unsigned, of the element's own width.
    fn elem(self) -> u64;
}

macro_rules! c_int {
    ($($t:ty => $unsigned:ty),*) => {$(
        impl CInt for $t {
            // CAST: C's integer promotion then printf's reinterpretation as (unsigned) int.
            fn u(self) -> u32 {
                self as u32
            }
            // CAST: as above, signed.
            fn d(self) -> i32 {
                self as i32
            }
            // CAST: the element's bits at its own width, zero-extended.
            fn elem(self) -> u64 {
                self as $unsigned as u64
            }
        }
    )*};
}

c_int!(u8 => u8, i8 => u8, u16 => u16, i16 => u16, u32 => u32, i32 => u32, u64 => u64, i64 => u64);

/// `__print_array(elements, ARRAY_SIZE(elements), sizeof(elements[0]))`.
fn array<T: CInt>(elements: &[T]) -> String {
    let mut out = String::from("{");
    for (i, e) in elements.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "0x{:x}", e.elem());
    }
    out.push('}');
    out
}

/// `__print_hex_dump("", DUMP_PREFIX_NONE, 32, 1, bytes, sizeof, false)`.
fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::from("\n");
    for row in bytes.chunks(32) {
        for (i, b) in row.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let _ = write!(out, "{b:02x}");
        }
        out.push('\n');
    }
    out
}

/// [`hex_dump`] of a (possibly multi-dimensional) integer array field.
fn hex<T: Copy>(field: &T) -> String {
    hex_dump(bytes_of(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &Names = &[(1, "A"), (2, "B"), (3, "AB"), (8, "D")];

    #[test]
    fn flags_render_like_trace_print_flags_seq() {
        assert_eq!(flags(0, TABLE), "");
        assert_eq!(flags(1, TABLE), "A");
        assert_eq!(flags(3, TABLE), "A|B");
        assert_eq!(flags(0x19, TABLE), "A|D|0x10");
        assert_eq!(flags(0x30, TABLE), "0x30");
    }

    #[test]
    fn symbols_arrays_and_dumps() {
        assert_eq!(symbolic(8, TABLE), "D");
        assert_eq!(symbolic(9, TABLE), "0x9");
        assert_eq!(array(&[-1i8, 2]), "{0xff,0x2}");
        assert_eq!(array(&[-2i16]), "{0xfffe}");
        assert_eq!(array::<u8>(&[]), "{}");
        let bytes: Vec<u8> = (0..33).collect();
        let dump = hex_dump(&bytes);
        assert!(dump.starts_with("\n00 01 02"));
        assert!(dump.ends_with(" 1e 1f\n20\n"));
        assert_eq!((-1i8).u(), u32::MAX);
        assert_eq!(u32::MAX.d(), -1);
    }
}
