//! Media requests (media-request.c) and the control values they carry
//! (v4l2-ctrls-request.c), as the media device keeps them.
//!
//! A request collects objects: at most one control object per control handler (the
//! values userspace set for that file handle) and the buffers queued with it.  It
//! completes when every object has: a buffer when the driver returns it, the controls
//! when the driver has applied them.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::ctrls::Value;
use crate::error::{Errno, Result};

/// Where a request is in its life (enum media_request_state, without the transient states
/// a single-threaded device never shows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestState {
    Idle,
    Queued,
    Complete,
}

/// Names the file handle (control handler, m2m context) an object belongs to.
pub type Owner = i32;

/// The control values of one handler in one request.
///
/// # Invariants
///
/// `values` has one slot per control of the owner's handler, in the handler's order;
/// a `Some` slot was set in the request (or, once completed, snapshotted at completion).
pub struct CtrlObject {
    pub owner: Owner,
    pub values: Vec<Option<Value>>,
    pub completed: bool,
}

/// One OUTPUT buffer bound to a request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BufObject {
    pub owner: Owner,
    pub index: u32,
}

pub struct Request {
    pub state: RequestState,
    pub ctrls: Vec<CtrlObject>,
    pub bufs: Vec<BufObject>,
    incomplete: u32,
    /// The fd, a queued state and each bound buffer hold the request alive (its kref).
    refs: u32,
}

/// Every request of the media device, by id.
#[derive(Default)]
pub struct Requests {
    map: BTreeMap<u32, Request>,
    next_id: u32,
}

impl Requests {
    /// MEDIA_IOC_REQUEST_ALLOC: a new idle request, held by its fd.
    pub fn alloc(&mut self) -> u32 {
        self.next_id += 1;
        let request = Request {
            state: RequestState::Idle,
            ctrls: Vec::new(),
            bufs: Vec::new(),
            incomplete: 0,
            refs: 1,
        };
        self.map.insert(self.next_id, request);
        self.next_id
    }

    pub fn get(&self, id: u32) -> Result<&Request> {
        self.map.get(&id).ok_or(Errno::EINVAL)
    }

    pub fn get_mut(&mut self, id: u32) -> Result<&mut Request> {
        self.map.get_mut(&id).ok_or(Errno::EINVAL)
    }

    /// Drop one reference; the last one cleans the request up and returns the buffers
    /// still bound, which go back to DEQUEUED.
    pub fn put(&mut self, id: u32) -> Vec<BufObject> {
        let Some(request) = self.map.get_mut(&id) else {
            return Vec::new();
        };
        request.refs = request.refs.saturating_sub(1);
        if request.refs > 0 {
            return Vec::new();
        }
        self.map.remove(&id).map(|r| r.bufs).unwrap_or_default()
    }

    /// media_request_object_bind of a buffer (vb2_core_qbuf with a request).
    pub fn bind_buffer(&mut self, id: u32, object: BufObject) -> Result {
        let request = self.get_mut(id)?;
        if request.state != RequestState::Idle {
            return Err(Errno::EBUSY);
        }
        request.bufs.push(object);
        request.incomplete += 1;
        request.refs += 1;
        Ok(())
    }

    /// The owner's control object for S/TRY_EXT_CTRLS, created when `set` asks for it.
    pub fn ctrls_for_update(
        &mut self,
        id: u32,
        owner: Owner,
        slots: usize,
        set: bool,
    ) -> Result<&mut CtrlObject> {
        let request = self.get_mut(id)?;
        if request.state != RequestState::Idle {
            return Err(Errno::EBUSY);
        }
        if !request.ctrls.iter().any(|c| c.owner == owner) {
            if !set {
                return Err(Errno::ENOMEM);
            }
            request.ctrls.push(CtrlObject {
                owner,
                values: (0..slots).map(|_| None).collect(),
                completed: false,
            });
            request.incomplete += 1;
        }
        request.ctrls.iter_mut().find(|c| c.owner == owner).ok_or(Errno::ENOMEM)
    }

    /// The owner's control values of a completed request, for G_EXT_CTRLS.
    pub fn completed_ctrls(&self, id: u32, owner: Owner) -> Result<&CtrlObject> {
        let request = self.get(id)?;
        if request.state != RequestState::Complete {
            return Err(Errno::EACCES);
        }
        request.ctrls.iter().find(|c| c.owner == owner).ok_or(Errno::ENOMEM)
    }

    /// One object of a queued request completed; the last one completes the request and
    /// drops the reference queueing took.
    fn object_done(&mut self, id: u32) {
        let Some(request) = self.map.get_mut(&id) else {
            return;
        };
        if request.state == RequestState::Complete || request.incomplete == 0 {
            return;
        }
        request.incomplete -= 1;
        if request.state == RequestState::Queued && request.incomplete == 0 {
            request.state = RequestState::Complete;
            self.put(id);
        }
    }

    /// media_request_object_unbind of a buffer the driver returned.
    pub fn unbind_buffer(&mut self, id: u32, object: BufObject) {
        let Some(request) = self.map.get_mut(&id) else {
            return;
        };
        let before = request.bufs.len();
        request.bufs.retain(|b| *b != object);
        if request.bufs.len() != before {
            self.object_done(id);
        }
    }

    /// v4l2_ctrl_request_complete: every control not set in the request takes the value
    /// `current` gives, and the control object completes.
    pub fn complete_ctrls(&mut self, id: u32, owner: Owner, slots: usize, current: &dyn Fn(usize) -> Value) {
        let Ok(request) = self.get_mut(id) else {
            return;
        };
        if !request.ctrls.iter().any(|c| c.owner == owner) {
            request.ctrls.push(CtrlObject {
                owner,
                values: (0..slots).map(|_| None).collect(),
                completed: false,
            });
            request.incomplete += 1;
        }
        let Some(object) = request.ctrls.iter_mut().find(|c| c.owner == owner) else {
            return;
        };
        if object.completed {
            return;
        }
        for (slot, value) in object.values.iter_mut().enumerate() {
            if value.is_none() {
                *value = Some(current(slot));
            }
        }
        object.completed = true;
        self.object_done(id);
    }

    /// MEDIA_REQUEST_IOC_QUEUE after validation succeeded.
    pub fn mark_queued(&mut self, id: u32) -> Result {
        let request = self.get_mut(id)?;
        request.state = RequestState::Queued;
        request.refs += 1;
        if request.incomplete == 0 {
            request.state = RequestState::Complete;
            request.refs -= 1;
        }
        Ok(())
    }

    /// MEDIA_REQUEST_IOC_REINIT: only idle or completed requests; returns the buffers unbound.
    pub fn reinit(&mut self, id: u32) -> Result<Vec<BufObject>> {
        let request = self.get_mut(id)?;
        if request.state != RequestState::Idle && request.state != RequestState::Complete {
            return Err(Errno::EBUSY);
        }
        request.state = RequestState::Idle;
        request.ctrls.clear();
        request.incomplete = 0;
        let bufs = core::mem::take(&mut request.bufs);
        request.refs -= bufs.len() as u32;
        Ok(bufs)
    }

    /// A file handle went away: its objects leave every request (v4l2_ctrl_handler_free_request).
    pub fn forget_owner(&mut self, owner: Owner) {
        for request in self.map.values_mut() {
            let before = request.ctrls.len();
            request.ctrls.retain(|c| c.owner != owner);
            let dropped = (before - request.ctrls.len()) as u32;
            if request.state != RequestState::Complete {
                request.incomplete = request.incomplete.saturating_sub(dropped);
            }
        }
    }
}
