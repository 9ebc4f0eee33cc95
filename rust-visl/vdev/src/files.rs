//! The driver instance and its virtual file table.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use v4l2::media::Graph;
use v4l2::{Errno, Result};
use visl::{Context, Visl};

pub const VIDEO_PATH: &str = "/dev/video0";
pub const MEDIA_PATH: &str = "/dev/media0";

/// What a virtual fd refers to.
pub enum File {
    Video(Box<Context>),
    Media,
}

/// One probed driver and the files open on it.
///
/// # Invariants
///
/// Every key of `files` is a positive fd below `next_fd`, never reused while open.
pub struct Instance {
    pub driver: Visl,
    pub graph: Graph,
    pub files: BTreeMap<i32, File>,
    /// Live mmap()s by address: the fd, the buffer type's offset cookie and the buffer id.
    mappings: BTreeMap<usize, Mapping>,
    /// Closed files whose buffers are still mapped: their memory lives until the last munmap.
    closed: BTreeMap<i32, File>,
    next_fd: i32,
}

struct Mapping {
    fd: i32,
    offset: u32,
    buffer_id: u64,
}

impl Instance {
    fn new() -> Self {
        // Virtual fds start above the usual stdio numbers so a mix-up with real fds is visible;
        // the kernel's first video node is char device 81:0 and the graph names it so.
        Instance {
            driver: Visl,
            graph: Graph::m2m_decoder("visl", (81, 0)),
            files: BTreeMap::new(),
            mappings: BTreeMap::new(),
            closed: BTreeMap::new(),
            next_fd: 1000,
        }
    }

    pub fn open(&mut self, path: &str) -> Result<i32> {
        let file = match path {
            VIDEO_PATH => File::Video(Box::new(self.driver.open())),
            MEDIA_PATH => File::Media,
            _ => return Err(Errno::ENOENT),
        };
        let fd = self.next_fd;
        // INVARIANT: fds only grow, so `fd` is not in use.
        self.next_fd = self.next_fd.checked_add(1).ok_or(Errno::ENOMEM)?;
        self.files.insert(fd, file);
        Ok(fd)
    }

    pub fn close(&mut self, fd: i32) -> Result {
        let file = self.files.remove(&fd).ok_or(Errno::EBADF)?;
        if self.mappings.values().any(|m| m.fd == fd) {
            self.closed.insert(fd, file);
        }
        Ok(())
    }

    /// Open files or live mappings keep the driver bound.
    fn busy(&self) -> bool {
        !self.files.is_empty() || !self.mappings.is_empty()
    }

    /// mmap() of a buffer plane: the address of its memory.
    pub fn map(&mut self, fd: i32, offset: u32, length: usize, writable: bool) -> Result<*mut u8> {
        let Some(File::Video(ctx)) = self.files.get_mut(&fd) else {
            return Err(Errno::ENODEV);
        };
        let (queue, within) = ctx.queue_for_offset(offset);
        let (buffer_id, memory) = queue.mmap(within, length, writable)?;
        let address = memory.as_mut_ptr();
        self.mappings.insert(address as usize, Mapping { fd, offset, buffer_id });
        Ok(address)
    }

    /// munmap(): forget one mapping; a closed file goes once its last mapping does.
    pub fn unmap(&mut self, address: usize) -> Result {
        let mapping = self.mappings.remove(&address).ok_or(Errno::EINVAL)?;
        let file = self.files.get_mut(&mapping.fd).or_else(|| self.closed.get_mut(&mapping.fd));
        if let Some(File::Video(ctx)) = file {
            ctx.queue_for_offset(mapping.offset).0.unmap(mapping.buffer_id);
        }
        if self.closed.contains_key(&mapping.fd) && !self.mappings.values().any(|m| m.fd == mapping.fd) {
            self.closed.remove(&mapping.fd);
        }
        Ok(())
    }
}

static INSTANCE: Mutex<Option<Instance>> = Mutex::new(None);

/// The instance, probed on first use.  Like the kernel's device-wide video lock, one
/// mutex serialises every call.
pub fn instance() -> MutexGuard<'static, Option<Instance>> {
    let mut guard = INSTANCE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    guard.get_or_insert_with(Instance::new);
    guard
}

/// Unbind and re-probe: only when nothing is open, as a driver with open files can't unbind.
pub fn reset() -> Result {
    let mut guard = INSTANCE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if guard.as_ref().is_some_and(Instance::busy) {
        return Err(Errno::EBUSY);
    }
    *guard = None;
    Ok(())
}
