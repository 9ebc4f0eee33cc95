//! Buffer queues as videobuf2 keeps them (videobuf2-core.c / -v4l2.c, Linux 6.12):
//! allocation (REQBUFS, CREATE_BUFS, REMOVE_BUFS), QUERYBUF, EXPBUF and the mmap cookie scheme
//! here; queueing, dequeueing and streaming in [`stream`].

mod stream;

pub use stream::{BufferArgs, Completion};

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use uapi::*;

use crate::error::{Errno, Result};

/// Offsets encode the buffer index above bit 15 and the plane in bits 12-14 (PAGE_SHIFT 12).
const PAGE_SHIFT: u32 = 12;
const PLANE_INDEX_SHIFT: u32 = PAGE_SHIFT + 3;
const PLANE_INDEX_MASK: u32 = 0x7;
const BUFFER_INDEX_MASK: u32 = (1 << (30 - PLANE_INDEX_SHIFT)) - 1;
/// vb2's default queue depth (VB2_MAX_FRAME).
pub const MAX_NUM_BUFFERS: u32 = 32;
const MAX_PLANES: usize = 8;

fn page_align(size: u32) -> usize {
    let page = 1usize << PAGE_SHIFT;
    (size as usize).div_ceil(page) * page
}

/// `len` zeroed bytes, or None when the allocator refuses them (vmalloc failing: ENOMEM),
/// where `vec![0; len]` would abort the process.
fn zeroed(len: usize) -> Option<Vec<u8>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let layout = core::alloc::Layout::array::<u8>(len).ok()?;
    // SAFETY: `layout` has a non-zero size (checked above).
    let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` comes from the global allocator with `layout`: `len` bytes of u8
    // alignment, all initialised (zeroed); the capacity is that allocation's size.
    Some(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// The export flags vb2_core_expbuf accepts (Linux's generic O_CLOEXEC and O_ACCMODE).
const O_CLOEXEC: u32 = 0o2000000;
pub const O_ACCMODE: u32 = 3;

/// A plane exported as a dmabuf (VIDIOC_EXPBUF): it holds its buffer "in use" like a
/// mapping does, until [`Queue::unmap`] with `buffer_id`.
pub struct Export {
    pub buffer_id: u64,
    pub plane: usize,
    /// The mmap offset cookie of the plane, queue base included: names the queue.
    pub cookie: u32,
    /// The dmabuf's size: the plane's page-aligned vmalloc size.
    pub size: usize,
}

/// Where a buffer is in its life cycle (enum vb2_buffer_state).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BufState {
    Dequeued,
    InRequest,
    Preparing,
    Queued,
    Active,
    Done,
    Error,
}

pub struct Plane {
    pub length: u32,
    /// What QBUF staged for the next prepare (`vb2_v4l2_buffer.planes`): bytesused, data_offset.
    pub(crate) staged: (u32, u32),
    pub bytesused: u32,
    pub data_offset: u32,
    pub mem_offset: u32,
    pub mem: Vec<u8>,
}

pub struct Buffer {
    /// Unique for the queue's lifetime, unlike `index`: names the buffer for munmap.
    pub id: u64,
    pub index: u32,
    pub planes: Vec<Plane>,
    pub state: BufState,
    pub flags: u32,
    pub field: u32,
    pub timestamp_ns: u64,
    pub sequence: u32,
    /// Live mappings of this buffer's planes: while any exist the buffer is "in use".
    pub mappings: u32,
    pub timecode: v4l2_timecode,
    /// buf_prepare ran since the last dequeue.
    pub prepared: bool,
    /// The request the buffer is bound to, from QBUF with a request until it is dequeued.
    pub request: Option<u32>,
    /// The request fd userspace named (`vb2_v4l2_buffer.request_fd`), -1 when none.
    pub request_fd: i32,
    /// The timestamp was copied from an OUTPUT buffer (m2m metadata copy).
    pub copied_timestamp: bool,
    /// A CAPTURE buffer kept for the next slice (HOLD_CAPTURE_BUF).
    pub is_held: bool,
}

/// What a driver's queue_setup answers: the planes of each buffer and their sizes.
pub struct PlaneSizes {
    pub sizes: Vec<u32>,
}

/// One buffer queue.
///
/// # Invariants
///
/// `bufs.len() == MAX_NUM_BUFFERS`; slot `i` holds the buffer with index `i`, if any.
pub struct Queue {
    pub buf_type: u32,
    /// The memory type of the allocated buffers; `None` while nothing is allocated.
    pub memory: Option<u32>,
    pub bufs: Vec<Option<Buffer>>,
    pub streaming: bool,
    pub(crate) start_streaming_called: bool,
    /// Queued buffers in QBUF order (`queued_list`).
    pub(crate) queued: Vec<u32>,
    /// Completed buffers waiting for DQBUF (`done_list`).
    pub(crate) done: VecDeque<u32>,
    /// Buffers the driver owns, in the order they reached it (the m2m ready queue).
    pub rdy: VecDeque<u32>,
    pub(crate) uses_requests: bool,
    pub(crate) uses_qbuf: bool,
    pub supports_requests: bool,
    pub supports_hold_capture: bool,
    /// m2m CAPTURE queues report offsets above this base (DST_QUEUE_OFF_BASE).
    pub offset_base: u32,
    /// Freed buffers still mapped by userspace: their memory lives until the last munmap
    /// (V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS).
    orphans: Vec<Buffer>,
    next_id: u64,
}

impl Queue {
    pub fn new(
        buf_type: u32,
        supports_requests: bool,
        supports_hold_capture: bool,
        offset_base: u32,
    ) -> Self {
        let bufs = (0..MAX_NUM_BUFFERS).map(|_| None).collect();
        Queue {
            buf_type,
            memory: None,
            bufs,
            streaming: false,
            start_streaming_called: false,
            queued: Vec::new(),
            done: VecDeque::new(),
            rdy: VecDeque::new(),
            uses_requests: false,
            uses_qbuf: false,
            supports_requests,
            supports_hold_capture,
            offset_base,
            orphans: Vec::new(),
            next_id: 0,
        }
    }

    pub fn num_buffers(&self) -> u32 {
        // CAST: at most MAX_NUM_BUFFERS.
        self.bufs.iter().filter(|b| b.is_some()).count() as u32
    }

    /// The capability bits vb2_set_flags_and_caps adds (visl: MMAP and DMABUF, no cache hints).
    fn caps(&self) -> u32 {
        let mut caps =
            V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS | V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_DMABUF;
        if self.supports_hold_capture {
            caps |= V4L2_BUF_CAP_SUPPORTS_M2M_HOLD_CAPTURE_BUF;
        }
        if self.supports_requests {
            caps |= V4L2_BUF_CAP_SUPPORTS_REQUESTS;
        }
        caps
    }

    /// vb2_verify_memory_type: the memory a queue of this device can use.
    fn verify_memory(&self, memory: u32, buf_type: u32) -> Result {
        if ![V4L2_MEMORY_MMAP, V4L2_MEMORY_USERPTR, V4L2_MEMORY_DMABUF].contains(&memory) {
            return Err(Errno::EINVAL);
        }
        if buf_type != self.buf_type || memory == V4L2_MEMORY_USERPTR {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    fn free(&mut self, start: u32, count: u32) {
        for slot in self.bufs.iter_mut().skip(start as usize).take(count as usize) {
            if let Some(buffer) = slot.take() {
                if buffer.mappings > 0 {
                    self.orphans.push(buffer);
                }
            }
        }
        if self.num_buffers() == 0 {
            self.memory = None;
        }
    }

    /// The first run of `count` free slots (bitmap_find_next_zero_area over the buffer bitmap).
    fn free_run(&self, count: u32) -> Option<u32> {
        // CAST: at most MAX_NUM_BUFFERS.
        let count = count as usize;
        (0..=self.bufs.len().checked_sub(count)?)
            .find(|&start| self.bufs[start..start + count].iter().all(Option::is_none))
            // CAST: as above.
            .map(|start| start as u32)
    }

    /// __vb2_queue_alloc: up to `count` buffers at consecutive indices, in the first free
    /// run that holds them all, or else the most that fit in one; returns (first index, count).
    fn alloc(&mut self, memory: u32, count: u32, sizes: &PlaneSizes) -> (u32, u32) {
        let Some((first, count)) = (1..=count).rev().find_map(|n| Some((self.free_run(n)?, n))) else {
            return (0, 0);
        };
        let mut allocated = 0;
        for index in first..first + count {
            // CAST: at most MAX_PLANES planes.
            let planes: Option<Vec<Plane>> = (0..sizes.sizes.len() as u32)
                .map(|p| {
                    // vmalloc memory comes in zeroed pages, and a mapping may cover the last one whole.
                    let len =
                        if memory == V4L2_MEMORY_MMAP { page_align(sizes.sizes[p as usize]) } else { 0 };
                    Some(Plane {
                        length: sizes.sizes[p as usize],
                        staged: (0, 0),
                        bytesused: 0,
                        data_offset: 0,
                        mem_offset: (index << PLANE_INDEX_SHIFT) | (p << PAGE_SHIFT),
                        mem: zeroed(len)?,
                    })
                })
                .collect();
            // __vb2_queue_alloc: a buffer whose memory cannot be had ends the allocation.
            let Some(planes) = planes else {
                break;
            };
            self.next_id += 1;
            self.bufs[index as usize] = Some(Buffer {
                id: self.next_id,
                index,
                planes,
                state: BufState::Dequeued,
                flags: 0,
                field: 0,
                timestamp_ns: 0,
                sequence: 0,
                mappings: 0,
                timecode: v4l2_timecode::default(),
                prepared: false,
                request: None,
                request_fd: -1,
                copied_timestamp: false,
                is_held: false,
            });
            allocated += 1;
        }
        (if allocated == 0 { 0 } else { first }, allocated)
    }

    /// vb2_core_reqbufs/create_bufs: no buffer allocated is ENOMEM, the memory type forgotten.
    fn no_memory(&mut self, allocated: u32) -> Result {
        if allocated != 0 {
            return Ok(());
        }
        if self.num_buffers() == 0 {
            self.memory = None;
        }
        Err(Errno::ENOMEM)
    }

    /// VIDIOC_REQBUFS after the core's checks: `setup` is the driver's queue_setup.
    pub fn reqbufs(
        &mut self,
        req: &mut v4l2_requestbuffers,
        setup: impl FnOnce() -> Result<PlaneSizes>,
    ) -> Result {
        let verified = self.verify_memory(req.memory, req.type_);
        req.flags = 0;
        req.capabilities |= self.caps();
        verified?;
        if self.streaming {
            return Err(Errno::EBUSY);
        }
        if req.count == 0 || self.num_buffers() != 0 || self.memory.is_some_and(|m| m != req.memory) {
            self.free(0, MAX_NUM_BUFFERS);
            if req.count == 0 {
                return Ok(());
            }
        }
        let wanted = req.count.clamp(1, MAX_NUM_BUFFERS);
        let sizes = setup()?;
        self.memory = Some(req.memory);
        let (_, allocated) = self.alloc(req.memory, wanted, &sizes);
        req.count = allocated;
        self.no_memory(allocated)
    }

    /// VIDIOC_CREATE_BUFS after the core's checks; `setup` gets the requested plane sizes.
    pub fn create_bufs(
        &mut self,
        create: &mut v4l2_create_buffers,
        setup: impl FnOnce(&[u32]) -> Result<PlaneSizes>,
    ) -> Result {
        let verified = self.verify_memory(create.memory, create.format.type_);
        create.index = self.num_buffers();
        create.flags = 0;
        create.capabilities |= self.caps() | V4L2_BUF_CAP_SUPPORTS_MAX_NUM_BUFFERS;
        create.max_num_buffers = MAX_NUM_BUFFERS;
        if create.count == 0 {
            return if verified == Err(Errno::EBUSY) { Ok(()) } else { verified };
        }
        // SAFETY: the core checked the type is multi-planar, whose union member is pix_mp.
        let pix = unsafe { create.format.fmt.pix_mp };
        let requested = usize::from(pix.num_planes);
        if requested == 0 || requested > MAX_PLANES {
            return Err(Errno::EINVAL);
        }
        let plane_fmt = pix.plane_fmt;
        let sizes: Vec<u32> = plane_fmt[..requested].iter().map(|p| p.sizeimage).collect();
        if sizes.contains(&0) {
            return Err(Errno::EINVAL);
        }
        verified?;
        let existing = self.num_buffers();
        if existing == MAX_NUM_BUFFERS {
            return Err(Errno::ENOBUFS);
        }
        if existing != 0 && self.memory != Some(create.memory) {
            return Err(Errno::EINVAL);
        }
        let count = create.count.min(MAX_NUM_BUFFERS - existing);
        let planes = setup(&sizes)?;
        self.memory = Some(create.memory);
        let (first, allocated) = self.alloc(create.memory, count, &planes);
        create.index = first;
        create.count = allocated;
        self.no_memory(allocated)
    }

    /// VIDIOC_REMOVE_BUFS (vb2_core_remove_bufs).
    pub fn remove_bufs(&mut self, index: u32, count: u32) -> Result {
        if count == 0 {
            return Ok(());
        }
        if count > self.num_buffers() || index > MAX_NUM_BUFFERS - count {
            return Err(Errno::EINVAL);
        }
        for i in index..index + count {
            match &self.bufs[i as usize] {
                None => return Err(Errno::EINVAL),
                Some(b) if b.state != BufState::Dequeued => return Err(Errno::EBUSY),
                Some(_) => {}
            }
        }
        self.free(index, count);
        Ok(())
    }

    /// VIDIOC_QUERYBUF: the buffer's state into `b` and its planes into `planes`.
    pub fn querybuf(&self, b: &mut v4l2_buffer, planes: &mut [v4l2_plane]) -> Result {
        if b.type_ != self.buf_type {
            return Err(Errno::EINVAL);
        }
        let buffer = self.bufs.get(b.index as usize).and_then(Option::as_ref).ok_or(Errno::EINVAL)?;
        // CAST: at most MAX_PLANES planes.
        if (b.length as usize) < buffer.planes.len() || b.length as usize > MAX_PLANES {
            return Err(Errno::EINVAL);
        }
        self.fill_user_buffer(buffer, b, planes);
        Ok(())
    }

    /// vb2_mmap: the plane an offset cookie names, if `length` fits in it; returns the
    /// buffer's id (for [`Queue::unmap`]) and the plane's memory.
    pub fn mmap(&mut self, offset: u32, length: usize, writable: bool) -> Result<(u64, &mut [u8])> {
        if self.memory != Some(V4L2_MEMORY_MMAP) {
            return Err(Errno::EINVAL);
        }
        let is_output = self.offset_base == 0;
        if is_output && !writable {
            return Err(Errno::EINVAL);
        }
        let index = (offset >> PLANE_INDEX_SHIFT) & BUFFER_INDEX_MASK;
        let plane = (offset >> PAGE_SHIFT) & PLANE_INDEX_MASK;
        let buffer = self.bufs.get_mut(index as usize).and_then(Option::as_mut).ok_or(Errno::EINVAL)?;
        let fits = buffer.planes.get(plane as usize).is_some_and(|p| length <= p.mem.len());
        if !fits {
            return Err(Errno::EINVAL);
        }
        buffer.mappings += 1;
        let id = buffer.id;
        Ok((id, &mut buffer.planes[plane as usize].mem[..]))
    }

    /// VIDIOC_EXPBUF (vb2_expbuf, vb2_core_expbuf with the vmalloc allocator's get_dmabuf):
    /// the checks, then one more user of the buffer for the dmabuf.
    pub fn expbuf(&mut self, eb: &v4l2_exportbuffer) -> Result<Export> {
        let memory = self.memory;
        let (buf_type, base) = (self.buf_type, self.offset_base);
        let buffer = self.bufs.get_mut(eb.index as usize).and_then(Option::as_mut).ok_or(Errno::EINVAL)?;
        if memory != Some(V4L2_MEMORY_MMAP)
            || eb.flags & !(O_CLOEXEC | O_ACCMODE) != 0
            || eb.type_ != buf_type
        {
            return Err(Errno::EINVAL);
        }
        // CAST: u32 to usize.
        let plane = eb.plane as usize;
        let p = buffer.planes.get(plane).ok_or(Errno::EINVAL)?;
        let export = Export { buffer_id: buffer.id, plane, cookie: base + p.mem_offset, size: p.mem.len() };
        buffer.mappings += 1;
        Ok(export)
    }

    /// The memory of an exported plane, its buffer live or orphaned, for one more mapping
    /// of the dmabuf (which [`Queue::unmap`] ends).
    pub fn map_export(&mut self, id: u64, plane: usize) -> Option<&mut [u8]> {
        let buffer = self.bufs.iter_mut().flatten().chain(self.orphans.iter_mut()).find(|b| b.id == id)?;
        let memory = &mut buffer.planes.get_mut(plane)?.mem[..];
        buffer.mappings += 1;
        Some(memory)
    }

    /// One mapping of buffer `id` went away; an orphan whose last mapping goes is freed.
    pub fn unmap(&mut self, id: u64) {
        if let Some(buffer) = self.bufs.iter_mut().flatten().find(|b| b.id == id) {
            buffer.mappings = buffer.mappings.saturating_sub(1);
        } else if let Some(pos) = self.orphans.iter().position(|b| b.id == id) {
            self.orphans[pos].mappings -= 1;
            if self.orphans[pos].mappings == 0 {
                self.orphans.swap_remove(pos);
            }
        }
    }
}
