//! The driver instance and its virtual file table.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use v4l2::media::Graph;
use v4l2::params::Param;
use v4l2::{Errno, Result};
use visl::{Context, Visl};

pub const VIDEO_PATH: &str = "/dev/video0";
pub const MEDIA_PATH: &str = "/dev/media0";
const PARAMS_DIR: &str = "/sys/module/visl/parameters/";
const O_ACCMODE: i32 = 3;
const O_RDONLY: i32 = 0;
const O_WRONLY: i32 = 1;

/// What a virtual fd refers to.
pub enum File {
    Video(Box<Context>),
    Media,
    /// A module parameter's sysfs file: which one, what the fd may do, and how far it was read.
    Param {
        index: usize,
        readable: bool,
        writable: bool,
        offset: usize,
    },
}

/// One probed driver and the files open on it.
///
/// # Invariants
///
/// Every key of `files` is a positive fd below `next_fd`, never reused while open.
pub struct Instance {
    pub driver: Visl,
    pub params: [Param; 8],
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
            params: visl::params::defaults(),
            graph: Graph::m2m_decoder("visl", (81, 0)),
            files: BTreeMap::new(),
            mappings: BTreeMap::new(),
            closed: BTreeMap::new(),
            next_fd: 1000,
        }
    }

    pub fn open(&mut self, path: &str, flags: i32) -> Result<i32> {
        let file = match path {
            VIDEO_PATH => File::Video(Box::new(self.driver.open())),
            MEDIA_PATH => File::Media,
            _ => self.open_param(path, flags)?,
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

    fn open_param(&self, path: &str, flags: i32) -> Result<File> {
        let name = path.strip_prefix(PARAMS_DIR).ok_or(Errno::ENOENT)?;
        let index = self.params.iter().position(|p| p.name == name).ok_or(Errno::ENOENT)?;
        let access = flags & O_ACCMODE;
        let writable = access != O_RDONLY;
        // A 0444 parameter has no store method: opening it for writing is refused, even for root.
        if writable && !self.params[index].writable {
            return Err(Errno::EACCES);
        }
        Ok(File::Param { index, readable: access != O_WRONLY, writable, offset: 0 })
    }

    /// read() of a parameter file: its text once, then end of file.
    pub fn read(&mut self, fd: i32, buf: &mut [u8]) -> Result<usize> {
        let params = &self.params;
        match self.files.get_mut(&fd).ok_or(Errno::EBADF)? {
            File::Param { index, readable, offset, .. } => {
                if !*readable {
                    return Err(Errno::EBADF);
                }
                let text = params[*index].value.show();
                let rest = text.as_bytes().get(*offset..).unwrap_or_default();
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                *offset += n;
                Ok(n)
            }
            File::Video(_) | File::Media => Err(Errno::EINVAL),
        }
    }

    /// write() of a parameter file: the whole buffer is the new value, as sysfs stores it.
    pub fn write(&mut self, fd: i32, data: &[u8]) -> Result<usize> {
        match self.files.get(&fd).ok_or(Errno::EBADF)? {
            File::Param { index, writable, .. } => {
                if !*writable {
                    return Err(Errno::EBADF);
                }
                if data.is_empty() {
                    return Ok(0);
                }
                let param = &mut self.params[*index];
                param.value = param.value.parse_like(data)?;
                Ok(data.len())
            }
            File::Video(_) | File::Media => Err(Errno::EINVAL),
        }
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
