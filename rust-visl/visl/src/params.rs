//! visl's module parameters (visl-core.c), with their defaults and sysfs modes.

use v4l2::params::{Param, Value};

/// Every parameter, in the order sysfs lists them (alphabetical).
pub fn defaults() -> [Param; 8] {
    let param = |name, writable, value| Param { name, writable, value };
    [
        param("bitstream_trace_frame_start", false, Value::Int(-1)),
        param("bitstream_trace_nframes", false, Value::Uint(0)),
        param("keep_bitstream_buffers", false, Value::Bool(false)),
        param("tpg_verbose", true, Value::Bool(false)),
        param("visl_debug", true, Value::Uint(0)),
        param("visl_dprintk_frame_start", false, Value::Int(-1)),
        param("visl_dprintk_nframes", false, Value::Uint(0)),
        param("visl_transtime_ms", true, Value::Uint(0)),
    ]
}
