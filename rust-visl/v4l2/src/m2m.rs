//! Memory-to-memory job scheduling and the buffer ioctls around it (v4l2-mem2mem.c,
//! Linux 6.12), for a device whose jobs run to completion inside the call that made
//! them ready: the first job runs in that ioctl as in the kernel, and the jobs the
//! kernel would hand to its worker run right after it.

use uapi::*;

use crate::ctrls::Handler;
use crate::error::{Errno, Result};
use crate::request::{BufObject, Owner, RequestState, Requests};
use crate::vb2::{BufState, Buffer, BufferArgs, Completion, Queue};

/// What a driver's buf_prepare asks of a buffer: plane 0 at least `min_size` bytes and,
/// for CAPTURE, a payload of that size.
pub struct PlaneCheck {
    pub min_size: u32,
    pub set_payload: bool,
}

impl PlaneCheck {
    fn apply(&self, buffer: &mut Buffer) -> Result {
        let plane = buffer.planes.first_mut().ok_or(Errno::EINVAL)?;
        if self.set_payload {
            plane.bytesused = self.min_size;
        }
        if plane.length < self.min_size {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

/// `struct v4l2_m2m_ops` plus the vb2 queue ops an m2m driver gives, as a trait.
pub trait M2mOps {
    type Ctx;

    /// The context's (OUTPUT, CAPTURE) queues.
    fn queues<'a>(&self, ctx: &'a mut Self::Ctx) -> (&'a mut Queue, &'a mut Queue);

    fn handler<'a>(&self, ctx: &'a mut Self::Ctx) -> &'a mut Handler;

    /// vb2_ops.buf_prepare, as data.
    fn buf_prepare(&self, ctx: &Self::Ctx, is_output: bool) -> PlaneCheck;

    /// vb2_ops.start_streaming.
    fn start_streaming(&mut self, ctx: &mut Self::Ctx, is_output: bool);

    /// What vb2_ops.stop_streaming does besides returning the queued buffers.
    fn stop_streaming(&mut self, ctx: &mut Self::Ctx, is_output: bool);

    /// v4l2_m2m_ops.device_run for the job at the front of both ready queues; it ends
    /// with [`buf_done_and_job_finish`].
    fn device_run(&mut self, ctx: &mut Self::Ctx, owner: Owner, requests: &mut Requests);
}

fn is_output_type(buf_type: u32) -> bool {
    buf_type == V4L2_BUF_TYPE_VIDEO_OUTPUT || buf_type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
}

/// v4l2_m2m_get_vq: the OUTPUT queue for OUTPUT types, else CAPTURE.
fn queue_of<'a, O: M2mOps>(ops: &O, ctx: &'a mut O::Ctx, is_output: bool) -> &'a mut Queue {
    let (out, cap) = ops.queues(ctx);
    if is_output {
        out
    } else {
        cap
    }
}

/// A buffer came back from the driver: onto the done list, out of its request.
fn buffer_done(
    queue: &mut Queue,
    index: u32,
    how: Completion,
    owner: Owner,
    requests: &mut Requests,
) -> Result {
    if let Some(id) = queue.buffer_done(index, how)? {
        requests.unbind_buffer(id, BufObject { owner, index });
    }
    Ok(())
}

/// v4l2_m2m_qbuf: vb2_qbuf with or without a request, then a scheduling attempt.
pub fn qbuf<O: M2mOps>(
    ops: &mut O,
    ctx: &mut O::Ctx,
    owner: Owner,
    requests: &mut Requests,
    lookup: &dyn Fn(i32) -> Result<u32>,
    args: &mut BufferArgs<'_>,
) -> Result {
    let is_output = is_output_type(args.b.type_);
    let check = ops.buf_prepare(ctx, is_output);
    let queue = queue_of(ops, ctx, is_output);
    let with_request = args.b.flags & V4L2_BUF_FLAG_REQUEST_FD != 0;
    if !is_output && with_request {
        return Err(Errno::EPERM);
    }
    let index = args.b.index;
    queue.buffer(index)?;
    queue.stage(args, false)?;
    if !with_request {
        if queue.uses_requests {
            return Err(Errno::EBUSY);
        }
    } else if !queue.supports_requests {
        return Err(Errno::EBADR);
    } else if queue.uses_qbuf {
        return Err(Errno::EBUSY);
    }
    if with_request {
        // SAFETY: `request_fd` is the union member QBUF uses with REQUEST_FD.
        let request_fd = unsafe { args.b.__bindgen_anon_1.request_fd };
        let id = lookup(request_fd)?;
        if requests.get(id)?.state != RequestState::Idle {
            return Err(Errno::EBUSY);
        }
        queue.buffer_mut(index)?.request_fd = request_fd;
        queue.uses_requests = true;
        let buffer = queue.buffer_mut(index)?;
        if buffer.state != BufState::Dequeued {
            return Err(Errno::EINVAL);
        }
        if !buffer.prepared {
            buffer.field = V4L2_FIELD_NONE;
        }
        requests.bind_buffer(id, BufObject { owner, index })?;
        buffer.state = BufState::InRequest;
        buffer.request = Some(id);
        queue.copy_timestamp(index, args.b)?;
        let buffer = queue.buffer(index)?;
        queue.fill_user_buffer(buffer, args.b, args.planes);
        return Ok(());
    }
    queue.enqueue(index, &|b| check.apply(b))?;
    queue.copy_timestamp(index, args.b)?;
    let buffer = queue.buffer(index)?;
    queue.fill_user_buffer(buffer, args.b, args.planes);
    try_schedule(ops, ctx, owner, requests);
    Ok(())
}

/// VIDIOC_PREPARE_BUF (vb2_prepare_buf, vb2_core_prepare_buf).
pub fn prepare_buf<O: M2mOps>(ops: &mut O, ctx: &mut O::Ctx, args: &mut BufferArgs<'_>) -> Result {
    if args.b.flags & V4L2_BUF_FLAG_REQUEST_FD != 0 {
        return Err(Errno::EINVAL);
    }
    let is_output = is_output_type(args.b.type_);
    let check = ops.buf_prepare(ctx, is_output);
    let queue = queue_of(ops, ctx, is_output);
    let index = args.b.index;
    queue.buffer(index)?;
    queue.stage(args, true)?;
    let buffer = queue.buffer(index)?;
    if buffer.state != BufState::Dequeued || buffer.prepared {
        return Err(Errno::EINVAL);
    }
    queue.prepare(index, &|b| check.apply(b))?;
    let buffer = queue.buffer(index)?;
    queue.fill_user_buffer(buffer, args.b, args.planes);
    Ok(())
}

/// v4l2_m2m_dqbuf.
pub fn dqbuf<O: M2mOps>(
    ops: &mut O,
    ctx: &mut O::Ctx,
    requests: &mut Requests,
    args: &mut BufferArgs<'_>,
    nonblocking: bool,
) -> Result {
    let queue = queue_of(ops, ctx, is_output_type(args.b.type_));
    if let Some(id) = queue.dqbuf(args, nonblocking)? {
        requests.put(id);
    }
    Ok(())
}

/// v4l2_m2m_streamon.
pub fn streamon<O: M2mOps>(
    ops: &mut O,
    ctx: &mut O::Ctx,
    owner: Owner,
    requests: &mut Requests,
    buf_type: u32,
) -> Result {
    let is_output = is_output_type(buf_type);
    let queue = queue_of(ops, ctx, is_output);
    if queue.streamon(buf_type)? {
        ops.start_streaming(ctx, is_output);
    }
    try_schedule(ops, ctx, owner, requests);
    Ok(())
}

/// v4l2_m2m_streamoff: the driver returns what it holds (completing their requests'
/// controls), then every buffer goes back to DEQUEUED and leaves its request.
pub fn streamoff<O: M2mOps>(
    ops: &mut O,
    ctx: &mut O::Ctx,
    owner: Owner,
    requests: &mut Requests,
    buf_type: u32,
) -> Result {
    let is_output = is_output_type(buf_type);
    let queue = queue_of(ops, ctx, is_output);
    if buf_type != queue.buf_type {
        return Err(Errno::EINVAL);
    }
    if queue.start_streaming_called {
        loop {
            let queue = queue_of(ops, ctx, is_output);
            let Some(index) = queue.rdy.pop_front() else {
                break;
            };
            let request = queue.buffer(index)?.request;
            if let Some(id) = request {
                complete_request_ctrls(ops, ctx, owner, requests, id);
            }
            let queue = queue_of(ops, ctx, is_output);
            buffer_done(queue, index, Completion::Error, owner, requests)?;
        }
        ops.stop_streaming(ctx, is_output);
    }
    let queue = queue_of(ops, ctx, is_output);
    for (index, id) in queue.cancel() {
        let object = BufObject { owner, index };
        let bound = requests.get(id).map(|r| r.bufs.contains(&object)).unwrap_or(false);
        if bound && requests.get(id).map(|r| r.state) == Ok(RequestState::Queued) {
            complete_request_ctrls(ops, ctx, owner, requests, id);
        }
        requests.unbind_buffer(id, object);
        requests.put(id);
    }
    Ok(())
}

/// v4l2_ctrl_request_complete for the context's handler.
pub fn complete_request_ctrls<O: M2mOps>(
    ops: &mut O,
    ctx: &mut O::Ctx,
    owner: Owner,
    requests: &mut Requests,
    id: u32,
) {
    let handler = ops.handler(ctx);
    let slots = handler.controls.len();
    requests.complete_ctrls(id, owner, slots, &|slot| handler.current(slot));
}

/// MEDIA_REQUEST_IOC_QUEUE for a request whose buffer belongs to this context: visl's
/// req_validate (exactly one buffer, then vb2_request_validate), then v4l2_m2m_request_queue.
pub fn request_queue<O: M2mOps>(
    ops: &mut O,
    ctx: &mut O::Ctx,
    owner: Owner,
    requests: &mut Requests,
    id: u32,
) -> Result {
    let request = requests.get(id)?;
    if request.state != RequestState::Idle {
        return Err(Errno::EBUSY);
    }
    let index = match request.bufs.as_slice() {
        [] => return Err(Errno::ENOENT),
        [only] => only.index,
        _ => return Err(Errno::EINVAL),
    };
    let check = ops.buf_prepare(ctx, true);
    let (out, _) = ops.queues(ctx);
    out.prepare(index, &|b| check.apply(b))?;
    requests.mark_queued(id)?;
    out.enqueue(index, &|b| check.apply(b))?;
    try_schedule(ops, ctx, owner, requests);
    Ok(())
}

/// The context's requests' buffers that belong to no request any more go back to DEQUEUED.
pub fn release_buffers<O: M2mOps>(ops: &mut O, ctx: &mut O::Ctx, indexes: &[u32]) {
    let (out, _) = ops.queues(ctx);
    for &index in indexes {
        if let Ok(buffer) = out.buffer_mut(index) {
            if buffer.state == BufState::InRequest {
                buffer.state = BufState::Dequeued;
                buffer.request = None;
                buffer.request_fd = -1;
            }
        }
    }
}

/// __v4l2_m2m_try_queue + v4l2_m2m_try_run, repeated while jobs are ready.
pub fn try_schedule<O: M2mOps>(ops: &mut O, ctx: &mut O::Ctx, owner: Owner, requests: &mut Requests) {
    loop {
        let (out, cap) = ops.queues(ctx);
        if !out.streaming || !cap.streaming {
            return;
        }
        let (Some(&src), Some(&dst)) = (out.rdy.front(), cap.rdy.front()) else {
            return;
        };
        let (Ok(src_buf), Ok(dst_buf)) = (out.buffer(src), cap.buffer(dst)) else {
            return;
        };
        // A held CAPTURE buffer goes back once a slice of another frame arrives.
        if dst_buf.is_held && dst_buf.copied_timestamp && dst_buf.timestamp_ns != src_buf.timestamp_ns {
            if let Ok(held) = cap.buffer_mut(dst) {
                held.is_held = false;
            }
            cap.rdy.pop_front();
            if buffer_done(cap, dst, Completion::Done, owner, requests).is_err() {
                return;
            }
            continue;
        }
        ops.device_run(ctx, owner, requests);
    }
}

/// v4l2_m2m_buf_done_and_job_finish: CAPTURE back unless the slice asked to hold it, then OUTPUT.
pub fn buf_done_and_job_finish(
    out: &mut Queue,
    cap: &mut Queue,
    owner: Owner,
    requests: &mut Requests,
) -> Result {
    let src = out.rdy.pop_front().ok_or(Errno::EINVAL)?;
    let dst = *cap.rdy.front().ok_or(Errno::EINVAL)?;
    let hold = out.buffer(src)?.flags & V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF != 0;
    cap.buffer_mut(dst)?.is_held = hold;
    if !hold {
        cap.rdy.pop_front();
        buffer_done(cap, dst, Completion::Done, owner, requests)?;
    }
    buffer_done(out, src, Completion::Done, owner, requests)
}

/// v4l2_m2m_ioctl_stateless_decoder_cmd after the TRY checks: a FLUSH clears HOLD on the
/// last pending slice, or returns a held CAPTURE buffer when no slice is pending.
pub fn stateless_flush<O: M2mOps>(
    ops: &mut O,
    ctx: &mut O::Ctx,
    owner: Owner,
    requests: &mut Requests,
) -> Result {
    let (out, cap) = ops.queues(ctx);
    if let Some(&last) = out.rdy.back() {
        out.buffer_mut(last)?.flags &= !V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF;
    } else if let Some(&last) = cap.rdy.back() {
        if cap.buffer(last)?.is_held {
            cap.buffer_mut(last)?.is_held = false;
            cap.rdy.retain(|&i| i != last);
            buffer_done(cap, last, Completion::Done, owner, requests)?;
        }
    }
    Ok(())
}

const POLLIN: i16 = 0x1;
const POLLPRI: i16 = 0x2;
const POLLOUT: i16 = 0x4;
const POLLERR: i16 = 0x8;
const POLLRDNORM: i16 = 0x40;
const POLLWRNORM: i16 = 0x100;

/// v4l2_m2m_poll: OUTPUT buffers to dequeue are POLLOUT, CAPTURE ones POLLIN; with neither
/// queue able to produce anything, POLLERR.  No events are ever pending (POLLPRI).
pub fn poll<O: M2mOps>(ops: &O, ctx: &mut O::Ctx, events: i16) -> i16 {
    let _ = POLLPRI;
    if events & (POLLOUT | POLLWRNORM | POLLIN | POLLRDNORM) == 0 {
        return 0;
    }
    let (out, cap) = ops.queues(ctx);
    if (!out.streaming || out.queued.is_empty()) && (!cap.streaming || cap.queued.is_empty()) {
        return POLLERR;
    }
    let mut revents = 0;
    if !out.done.is_empty() {
        revents |= POLLOUT | POLLWRNORM;
    }
    if !cap.done.is_empty() {
        revents |= POLLIN | POLLRDNORM;
    }
    revents
}
