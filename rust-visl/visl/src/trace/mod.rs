//! visl's trace events (visl-trace-*.h): per job, the current codec's controls printed
//! exactly as the kernel's TP_printk formats print them.

use alloc::string::String;
use alloc::vec::Vec;

/// One trace event: its name and the text ftrace prints after `name: `.
pub struct Event {
    pub name: &'static str,
    pub payload: String,
}

/// The current value of each control, as the control handler stores it.
pub trait CtrlSource {
    /// The payload bytes of control `id` (all of a dynamic array's elements).
    fn payload(&self, id: u32) -> &[u8];
}

/// The events one job emits for coded format `pixelformat`, in the kernel's order.
pub fn job_events(_pixelformat: u32, _ctrls: &dyn CtrlSource) -> Vec<Event> {
    Vec::new()
}
