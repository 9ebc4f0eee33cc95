//! Queueing, completion, dequeueing and streaming (vb2_qbuf, vb2_core_qbuf, vb2_buffer_done,
//! vb2_dqbuf, vb2_core_streamon/off in videobuf2-core.c and -v4l2.c, Linux 6.12).
//!
//! The request side of QBUF (binding a buffer to a request) is in [`crate::request`];
//! handing buffers to the driver and running jobs is in [`crate::m2m`].

use uapi::*;

use super::{BufState, Buffer, Queue};
use crate::error::{Errno, Result};

/// Flags vb2 owns and recomputes (V4L2_BUFFER_MASK_FLAGS).
const MASK_FLAGS: u32 = V4L2_BUF_FLAG_MAPPED
    | V4L2_BUF_FLAG_QUEUED
    | V4L2_BUF_FLAG_DONE
    | V4L2_BUF_FLAG_ERROR
    | V4L2_BUF_FLAG_PREPARED
    | V4L2_BUF_FLAG_IN_REQUEST
    | V4L2_BUF_FLAG_REQUEST_FD
    | V4L2_BUF_FLAG_TIMESTAMP_MASK;
/// OUTPUT flags passed on to the driver (V4L2_BUFFER_OUT_FLAGS).
const OUT_FLAGS: u32 = V4L2_BUF_FLAG_PFRAME
    | V4L2_BUF_FLAG_BFRAME
    | V4L2_BUF_FLAG_KEYFRAME
    | V4L2_BUF_FLAG_TIMECODE
    | V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF;

/// A QBUF/PREPARE_BUF/DQBUF argument with its planes array, as the core copied it in.
pub struct BufferArgs<'a> {
    pub b: &'a mut v4l2_buffer,
    pub planes: &'a mut [v4l2_plane],
}

/// How a buffer the driver owned comes back (the states vb2_buffer_done accepts).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Done,
    Error,
}

fn timestamp_of(b: &v4l2_buffer) -> u64 {
    // CAST: a timeval userspace filled; the kernel converts it the same way (v4l2_buffer_get_timestamp).
    (b.timestamp.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add((b.timestamp.tv_usec as u64).wrapping_mul(1000))
}

impl Queue {
    pub(crate) fn is_output(&self) -> bool {
        self.offset_base == 0
    }

    pub(crate) fn buffer(&self, index: u32) -> Result<&Buffer> {
        self.bufs.get(index as usize).and_then(Option::as_ref).ok_or(Errno::EINVAL)
    }

    pub(crate) fn buffer_mut(&mut self, index: u32) -> Result<&mut Buffer> {
        self.bufs.get_mut(index as usize).and_then(Option::as_mut).ok_or(Errno::EINVAL)
    }

    /// __verify_planes_array: userspace's array must hold every plane.
    fn verify_planes(buffer: &Buffer, args: &BufferArgs<'_>) -> Result {
        let length = args.b.length as usize;
        if length < buffer.planes.len()
            || length > super::MAX_PLANES
            || args.planes.len() < buffer.planes.len()
        {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    /// __fill_v4l2_buffer: the buffer's state as userspace sees it.
    pub(crate) fn fill_user_buffer(&self, buffer: &Buffer, b: &mut v4l2_buffer, planes: &mut [v4l2_plane]) {
        b.index = buffer.index;
        b.type_ = self.buf_type;
        b.memory = self.memory.unwrap_or(0);
        b.bytesused = 0;
        b.flags = buffer.flags;
        b.field = buffer.field;
        // CAST: timeval fields of a u64 ns timestamp.
        b.timestamp.tv_sec = (buffer.timestamp_ns / 1_000_000_000) as i64;
        b.timestamp.tv_usec = ((buffer.timestamp_ns % 1_000_000_000) / 1000) as i64;
        b.timecode = buffer.timecode;
        b.sequence = buffer.sequence;
        b.reserved2 = 0;
        b.__bindgen_anon_1.request_fd = 0;
        // CAST: at most MAX_PLANES planes.
        b.length = buffer.planes.len() as u32;
        for (dst, src) in planes.iter_mut().zip(&buffer.planes) {
            dst.bytesused = src.bytesused;
            dst.length = src.length;
            dst.m.mem_offset =
                if self.memory == Some(V4L2_MEMORY_MMAP) { src.mem_offset + self.offset_base } else { 0 };
            dst.data_offset = src.data_offset;
            dst.reserved = Default::default();
        }
        b.flags &= !MASK_FLAGS;
        b.flags |= V4L2_BUF_FLAG_TIMESTAMP_COPY;
        b.flags |= match buffer.state {
            BufState::Queued | BufState::Active => V4L2_BUF_FLAG_QUEUED,
            BufState::InRequest => V4L2_BUF_FLAG_IN_REQUEST,
            BufState::Error => V4L2_BUF_FLAG_ERROR | V4L2_BUF_FLAG_DONE,
            BufState::Done => V4L2_BUF_FLAG_DONE,
            BufState::Preparing | BufState::Dequeued => 0,
        };
        if matches!(buffer.state, BufState::Dequeued | BufState::InRequest) && buffer.prepared {
            b.flags |= V4L2_BUF_FLAG_PREPARED;
        }
        if buffer.mappings > 0 {
            b.flags |= V4L2_BUF_FLAG_MAPPED;
        }
        if buffer.request_fd >= 0 {
            b.flags |= V4L2_BUF_FLAG_REQUEST_FD;
            b.__bindgen_anon_1.request_fd = buffer.request_fd;
        }
    }

    /// vb2_queue_or_prepare_buf up to the request checks: argument checks, then what
    /// vb2_fill_vb2_v4l2_buffer stages for an unprepared buffer.
    pub(crate) fn stage(&mut self, args: &BufferArgs<'_>, is_prepare: bool) -> Result {
        let b = &*args.b;
        let is_output = self.is_output();
        if b.type_ != self.buf_type || Some(b.memory) != self.memory {
            return Err(Errno::EINVAL);
        }
        let buffer = self.buffer_mut(b.index)?;
        Self::verify_planes(buffer, args)?;
        if !is_prepare && b.flags & V4L2_BUF_FLAG_REQUEST_FD != 0 && buffer.state != BufState::Dequeued {
            return Err(Errno::EINVAL);
        }
        if buffer.prepared {
            return Ok(());
        }
        // __verify_length: OUTPUT payloads must fit their planes.
        if is_output {
            for (plane, user) in buffer.planes.iter().zip(args.planes.iter()) {
                let used = if user.bytesused != 0 { user.bytesused } else { plane.length };
                if user.bytesused > plane.length || (user.data_offset > 0 && user.data_offset >= used) {
                    return Err(Errno::EINVAL);
                }
            }
            if b.field == V4L2_FIELD_ALTERNATE {
                return Err(Errno::EINVAL);
            }
        }
        buffer.sequence = 0;
        buffer.request_fd = -1;
        buffer.is_held = false;
        for (plane, user) in buffer.planes.iter_mut().zip(args.planes.iter()) {
            plane.staged = if is_output {
                (if user.bytesused != 0 { user.bytesused } else { plane.length }, user.data_offset)
            } else {
                (0, 0)
            };
        }
        // set_buffer_cache_hints: without cache hints the queue drops both no-cache flags.
        let mut flags =
            b.flags & !MASK_FLAGS & !(V4L2_BUF_FLAG_NO_CACHE_INVALIDATE | V4L2_BUF_FLAG_NO_CACHE_CLEAN);
        if is_output {
            flags &= !V4L2_BUF_FLAG_TIMECODE;
            buffer.field = b.field;
        } else {
            flags &= !V4L2_BUF_FLAG_TSTAMP_SRC_MASK;
            flags &= !(OUT_FLAGS | V4L2_BUF_FLAG_LAST);
        }
        buffer.flags = flags;
        Ok(())
    }

    /// __buf_prepare: the OUTPUT field check, the staged payload, then the driver's buf_prepare.
    pub(crate) fn prepare(&mut self, index: u32, buf_prepare: &dyn Fn(&mut Buffer) -> Result) -> Result {
        let is_output = self.is_output();
        let buffer = self.buffer_mut(index)?;
        if buffer.prepared {
            return Ok(());
        }
        if is_output {
            // visl's buf_out_validate.
            buffer.field = V4L2_FIELD_NONE;
        }
        for plane in buffer.planes.iter_mut() {
            (plane.bytesused, plane.data_offset) = plane.staged;
        }
        buf_prepare(buffer)?;
        buffer.prepared = true;
        Ok(())
    }

    /// __copy_timestamp: OUTPUT buffers take userspace's timestamp and timecode.
    pub(crate) fn copy_timestamp(&mut self, index: u32, b: &v4l2_buffer) -> Result {
        if !self.is_output() {
            return Ok(());
        }
        let buffer = self.buffer_mut(index)?;
        buffer.timestamp_ns = timestamp_of(b);
        buffer.flags |= b.flags & V4L2_BUF_FLAG_TIMECODE;
        if b.flags & V4L2_BUF_FLAG_TIMECODE != 0 {
            buffer.timecode = b.timecode;
        }
        Ok(())
    }

    /// The non-request half of vb2_core_qbuf: prepare if needed, queue, hand to the driver
    /// when streaming has started.  Returns whether the queue must now start streaming.
    pub(crate) fn enqueue(&mut self, index: u32, buf_prepare: &dyn Fn(&mut Buffer) -> Result) -> Result {
        let state = self.buffer(index)?.state;
        if state != BufState::InRequest {
            self.uses_qbuf = true;
        }
        match state {
            BufState::Dequeued | BufState::InRequest => self.prepare(index, buf_prepare)?,
            _ => return Err(Errno::EINVAL),
        }
        self.queued.push(index);
        self.buffer_mut(index)?.state = BufState::Queued;
        if self.start_streaming_called {
            self.enqueue_in_driver(index)?;
        }
        Ok(())
    }

    /// __enqueue_in_driver plus m2m's buf_queue: the buffer joins the ready queue.
    fn enqueue_in_driver(&mut self, index: u32) -> Result {
        self.buffer_mut(index)?.state = BufState::Active;
        self.rdy.push_back(index);
        Ok(())
    }

    /// vb2_start_streaming: every queued buffer goes to the driver.
    pub(crate) fn start_streaming(&mut self) -> Result {
        for index in self.queued.clone() {
            self.enqueue_in_driver(index)?;
        }
        self.start_streaming_called = true;
        Ok(())
    }

    /// vb2_buffer_done: a buffer the driver owned joins the done list.
    pub(crate) fn buffer_done(&mut self, index: u32, how: Completion) -> Result<Option<u32>> {
        let buffer = self.buffer_mut(index)?;
        buffer.state = match how {
            Completion::Done => BufState::Done,
            Completion::Error => BufState::Error,
        };
        let request = buffer.request;
        self.done.push_back(index);
        Ok(request)
    }

    /// vb2_core_dqbuf: the oldest done buffer, described into `args`.
    pub fn dqbuf(&mut self, args: &mut BufferArgs<'_>, _nonblocking: bool) -> Result<Option<u32>> {
        if args.b.type_ != self.buf_type {
            return Err(Errno::EINVAL);
        }
        if !self.streaming {
            return Err(Errno::EINVAL);
        }
        // Jobs run inside the ioctls that make them ready, so a blocking wait could never
        // end: both modes answer EAGAIN when nothing is done.
        let index = *self.done.front().ok_or(Errno::EAGAIN)?;
        let buffer = self.buffer(index)?;
        Self::verify_planes(buffer, args)?;
        self.done.pop_front();
        self.buffer_mut(index)?.prepared = false;
        let buffer = self.buffer(index)?;
        self.fill_user_buffer(buffer, args.b, args.planes);
        args.b.flags &= !V4L2_BUF_FLAG_DONE;
        self.queued.retain(|&i| i != index);
        let buffer = self.buffer_mut(index)?;
        buffer.state = BufState::Dequeued;
        buffer.request_fd = -1;
        Ok(buffer.request.take())
    }

    /// vb2_core_streamon (the driver's start_streaming is the caller's).
    pub fn streamon(&mut self, buf_type: u32) -> Result<bool> {
        if buf_type != self.buf_type {
            return Err(Errno::EINVAL);
        }
        if self.streaming {
            return Ok(false);
        }
        if self.num_buffers() == 0 {
            return Err(Errno::EINVAL);
        }
        self.start_streaming()?;
        self.streaming = true;
        Ok(true)
    }

    /// The end of __vb2_queue_cancel: every buffer back to DEQUEUED and unbound; returns
    /// the requests the buffers were bound to, so the caller can release them.
    pub(crate) fn cancel(&mut self) -> alloc::vec::Vec<(u32, u32)> {
        self.streaming = false;
        self.start_streaming_called = false;
        self.uses_requests = false;
        self.uses_qbuf = false;
        self.queued.clear();
        self.done.clear();
        self.rdy.clear();
        let mut bound = alloc::vec::Vec::new();
        for buffer in self.bufs.iter_mut().flatten() {
            buffer.prepared = false;
            buffer.state = BufState::Dequeued;
            buffer.request_fd = -1;
            buffer.copied_timestamp = false;
            if let Some(request) = buffer.request.take() {
                bound.push((buffer.index, request));
            }
        }
        bound
    }
}
