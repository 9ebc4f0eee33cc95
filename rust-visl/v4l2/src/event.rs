//! Per-file-handle events (v4l2-event.c) and the control events the control framework
//! sends (v4l2_ctrl_subscribe_event, send_event in v4l2-ctrls-core.c), Linux 6.12.
//!
//! Every subscription holds one event at most, as control subscriptions do: a newer
//! event of the same control replaces the pending one, keeping the union of their
//! change bits, and moves to the back of the queue.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use uapi::*;

use crate::ctrls::Handler;
use crate::error::{Errno, Result};

/// One `VIDIOC_SUBSCRIBE_EVENT` that was accepted.
struct Subscription {
    type_: u32,
    id: u32,
    flags: u32,
}

/// The events of one file handle.
pub struct Events {
    subscriptions: Vec<Subscription>,
    available: VecDeque<v4l2_event>,
    /// The last sequence number given; v4l2_fh_init starts it at -1, so the first event is 0.
    sequence: u32,
}

impl Default for Events {
    fn default() -> Self {
        Events { subscriptions: Vec::new(), available: VecDeque::new(), sequence: u32::MAX }
    }
}

fn blank_event() -> v4l2_event {
    // SAFETY: v4l2_event is plain integers and unions of integers; all zeros is valid.
    unsafe { core::mem::zeroed() }
}

/// fill_event: a control event of `changes` describing control `id` as it is now.
fn control_event(handler: &Handler, id: u32, changes: u32) -> Option<v4l2_event> {
    let mut q = v4l2_query_ext_ctrl { id, ..Default::default() };
    handler.query_ext_ctrl(&mut q).ok()?;
    let mut ev = blank_event();
    ev.type_ = V4L2_EVENT_CTRL;
    ev.id = id;
    // SAFETY: writing the union's ctrl member, which V4L2_EVENT_CTRL selects.
    let ctrl = unsafe { &mut ev.u.ctrl };
    ctrl.changes = changes;
    ctrl.type_ = q.type_;
    ctrl.flags = q.flags;
    ctrl.__bindgen_anon_1.value64 =
        if q.flags & V4L2_CTRL_FLAG_HAS_PAYLOAD != 0 { 0 } else { handler.int_value(id) };
    // CAST: control limits of the stateless controls fit 32 bits as the event carries them.
    (ctrl.minimum, ctrl.maximum) = (q.minimum as i32, q.maximum as i32);
    ctrl.step = if q.type_ == V4L2_CTRL_TYPE_MENU { 1 } else { q.step as i32 };
    ctrl.default_value = q.default_value as i32;
    Some(ev)
}

impl Events {
    /// VIDIOC_SUBSCRIBE_EVENT through v4l2_ctrl_subscribe_event: control events only.
    pub fn subscribe(&mut self, sub: &v4l2_event_subscription, handler: &Handler) -> Result {
        if sub.type_ != V4L2_EVENT_CTRL {
            return Err(Errno::EINVAL);
        }
        if self.subscriptions.iter().any(|s| s.type_ == sub.type_ && s.id == sub.id) {
            return Ok(());
        }
        let mut q = v4l2_query_ext_ctrl { id: sub.id, ..Default::default() };
        if sub.id & (V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND) != 0
            || handler.query_ext_ctrl(&mut q).is_err()
        {
            return Err(Errno::EINVAL);
        }
        self.subscriptions.push(Subscription { type_: sub.type_, id: sub.id, flags: sub.flags });
        if q.type_ != V4L2_CTRL_TYPE_CTRL_CLASS && sub.flags & V4L2_EVENT_SUB_FL_SEND_INITIAL != 0 {
            let mut changes = V4L2_EVENT_CTRL_CH_FLAGS;
            if q.flags & V4L2_CTRL_FLAG_WRITE_ONLY == 0 {
                changes |= V4L2_EVENT_CTRL_CH_VALUE;
            }
            if let Some(ev) = control_event(handler, sub.id, changes) {
                self.queue(ev);
            }
        }
        Ok(())
    }

    /// VIDIOC_UNSUBSCRIBE_EVENT: V4L2_EVENT_ALL drops every subscription; unknown ones are no error.
    pub fn unsubscribe(&mut self, sub: &v4l2_event_subscription) {
        let all = sub.type_ == V4L2_EVENT_ALL;
        let matches = |type_: u32, id: u32| all || (type_ == sub.type_ && id == sub.id);
        self.subscriptions.retain(|s| !matches(s.type_, s.id));
        self.available.retain(|e| !matches(e.type_, e.id));
    }

    /// __v4l2_event_queue_fh.
    fn queue(&mut self, mut ev: v4l2_event) {
        if !self.subscriptions.iter().any(|s| s.type_ == ev.type_ && s.id == ev.id) {
            return;
        }
        self.sequence = self.sequence.wrapping_add(1);
        if let Some(pos) = self.available.iter().position(|e| e.type_ == ev.type_ && e.id == ev.id) {
            if let Some(old) = self.available.remove(pos) {
                // SAFETY: both are control events, whose union member is ctrl.
                unsafe { ev.u.ctrl.changes |= old.u.ctrl.changes };
            }
        }
        ev.sequence = self.sequence;
        self.available.push_back(ev);
    }

    /// send_event: control `id` of this handle changed; `by_this_handle` events reach only
    /// subscriptions that asked for feedback.
    pub fn control_changed(&mut self, handler: &Handler, id: u32, by_this_handle: bool) {
        let Some(sub) = self.subscriptions.iter().find(|s| s.type_ == V4L2_EVENT_CTRL && s.id == id) else {
            return;
        };
        if by_this_handle && sub.flags & V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK == 0 {
            return;
        }
        if let Some(ev) = control_event(handler, id, V4L2_EVENT_CTRL_CH_VALUE) {
            self.queue(ev);
        }
    }

    /// VIDIOC_DQEVENT: the oldest event, with how many remain; ENOENT when none.
    pub fn dequeue(&mut self, out: &mut v4l2_event) -> Result {
        let mut ev = self.available.pop_front().ok_or(Errno::ENOENT)?;
        // CAST: at most one event per subscription.
        ev.pending = self.available.len() as u32;
        *out = ev;
        Ok(())
    }

    pub fn pending(&self) -> bool {
        !self.available.is_empty()
    }
}
