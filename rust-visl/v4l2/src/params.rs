//! Module parameters as sysfs shows them (kernel/params.c): text values, the
//! kstrto*() parsing rules, and which parameters may be written after load.

use alloc::format;
use alloc::string::String;

use crate::error::{Errno, Result};

/// The value kinds `module_param()` takes here: uint, int and bool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Uint(u32),
    Int(i32),
    Bool(bool),
}

impl Value {
    /// The text a read of the sysfs file gives.
    pub fn show(self) -> String {
        match self {
            Value::Uint(v) => format!("{v}\n"),
            Value::Int(v) => format!("{v}\n"),
            Value::Bool(v) => String::from(if v { "Y\n" } else { "N\n" }),
        }
    }

    /// A value of the same kind parsed from `text` as the kernel's param_set_* do.
    pub fn parse_like(self, text: &[u8]) -> Result<Value> {
        Ok(match self {
            Value::Uint(_) => {
                let v = parse_integer(text)?;
                Value::Uint(u32::try_from(v).map_err(|_| Errno::ERANGE)?)
            }
            Value::Int(_) => {
                let (negative, digits) = match text.first() {
                    Some(b'-') => (true, &text[1..]),
                    _ => (false, text),
                };
                let magnitude = parse_integer(digits)?;
                let v = if negative { -i128::from(magnitude) } else { i128::from(magnitude) };
                Value::Int(i32::try_from(v).map_err(|_| Errno::ERANGE)?)
            }
            Value::Bool(_) => Value::Bool(parse_bool(text)?),
        })
    }
}

/// kstrtoull with base 0: optional '+', 0x for hex, leading 0 for octal, one optional
/// trailing newline, nothing else.
fn parse_integer(text: &[u8]) -> Result<u64> {
    let text = text.strip_prefix(b"+").unwrap_or(text);
    let (radix, digits) = if let Some(hex) = text.strip_prefix(b"0x").or_else(|| text.strip_prefix(b"0X")) {
        (16, hex)
    } else if text.len() > 1 && text[0] == b'0' && text[1].is_ascii_digit() {
        (8, &text[1..])
    } else {
        (10, text)
    };
    let digits = digits.strip_suffix(b"\n").unwrap_or(digits);
    if digits.is_empty() {
        return Err(Errno::EINVAL);
    }
    let mut value: u64 = 0;
    for &c in digits {
        let d = char::from(c).to_digit(radix).ok_or(Errno::EINVAL)?;
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(Errno::ERANGE)?;
    }
    Ok(value)
}

/// kstrtobool: the first character decides (y/Y/t/T/1, n/N/f/F/0), "on"/"off" by the second.
fn parse_bool(text: &[u8]) -> Result<bool> {
    match text {
        [b'y' | b'Y' | b't' | b'T' | b'1', ..] => Ok(true),
        [b'n' | b'N' | b'f' | b'F' | b'0', ..] => Ok(false),
        [b'o' | b'O', b'n' | b'N', ..] => Ok(true),
        [b'o' | b'O', b'f' | b'F', ..] => Ok(false),
        _ => Err(Errno::EINVAL),
    }
}

/// One parameter: its name, whether root may write it after load (mode 0644 vs 0444), and
/// its value.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub writable: bool,
    pub value: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_as_kstrtouint_does() {
        assert_eq!(parse_integer(b"0x10"), Ok(16));
        assert_eq!(parse_integer(b"010\n"), Ok(8));
        assert_eq!(parse_integer(b"+7"), Ok(7));
        assert_eq!(parse_integer(b"-1"), Err(Errno::EINVAL));
        assert_eq!(parse_integer(b"12abc"), Err(Errno::EINVAL));
        assert_eq!(parse_integer(b"1\n\n"), Err(Errno::EINVAL));
    }

    #[test]
    fn booleans_parse_as_kstrtobool_does() {
        assert_eq!(parse_bool(b"0x10"), Ok(false));
        assert_eq!(parse_bool(b"on"), Ok(true));
        assert_eq!(parse_bool(b"abc"), Err(Errno::EINVAL));
    }
}
