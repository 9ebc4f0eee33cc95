//! The driver instance and its virtual file table.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use v4l2::m2m;
use v4l2::media::Graph;
use v4l2::prio::Priorities;
use v4l2::request::Requests;
use v4l2::vb2::Export;
use v4l2::{Errno, Result};
use visl::core::TRACE_SYSTEMS;
use visl::{Context, Visl};

pub const VIDEO_PATH: &str = "/dev/video0";
pub const MEDIA_PATH: &str = "/dev/media0";
const PARAMS_DIR: &str = "/sys/module/visl/parameters/";
const TRACE_PIPE: &str = "/sys/kernel/tracing/trace_pipe";
const TRACE_EVENTS_DIR: &str = "/sys/kernel/tracing/events/";
const BITSTREAM_PREFIX: &str = "/sys/kernel/debug/visl/bitstream/bitstream";
/// Load-time module parameters, as `modprobe visl name=value ...` would give them.
const PARAMS_ENV: &str = "RUST_VISL_PARAMS";
const O_ACCMODE: i32 = 3;
const O_RDONLY: i32 = 0;
const O_WRONLY: i32 = 1;
pub const O_NONBLOCK: i32 = 0o4000;

/// What a virtual fd refers to.
pub enum File {
    /// A video node file handle: its context, and whether it was opened O_NONBLOCK.
    Video(Box<Context>, bool),
    Media,
    /// A media request, by its id in [`Instance::requests`].
    Request(u32),
    TracePipe {
        nonblocking: bool,
    },
    /// `events/<system>/enable` of one of visl's trace systems.
    TraceEnable {
        system: usize,
        offset: usize,
    },
    /// A debugfs bitstream dump, as it was when opened.
    Bitstream {
        data: Vec<u8>,
        offset: usize,
    },
    /// A buffer plane exported by VIDIOC_EXPBUF: the video fd whose queue holds it, the
    /// export (which keeps the buffer's memory alive), and the dmabuf file's access mode.
    DmaBuf {
        owner: i32,
        export: Export,
        accmode: i32,
    },
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
    pub requests: Requests,
    pub priorities: Priorities,
    pub graph: Graph,
    pub files: BTreeMap<i32, File>,
    /// Live mmap()s by address: the fd, the buffer type's offset cookie and the buffer id.
    mappings: BTreeMap<usize, Mapping>,
    /// Closed files whose buffers are still mapped: their memory lives until the last munmap.
    closed: BTreeMap<i32, File>,
    /// The access mode (O_ACCMODE) each opened path was opened with; files made by ioctls
    /// (request fds) are read-only, as anon_inode_getfile makes them.
    access: BTreeMap<i32, i32>,
    next_fd: i32,
}

struct Mapping {
    fd: i32,
    offset: u32,
    buffer_id: u64,
    /// mmap()s of this plane, all at its one address: each lives until its own munmap().
    count: usize,
}

impl Instance {
    fn new() -> Self {
        // Virtual fds start above the usual stdio numbers so a mix-up with real fds is visible;
        // the kernel's first video node is char device 81:0 and the graph names it so.
        let mut driver = Visl::default();
        if let Ok(text) = std::env::var(PARAMS_ENV) {
            load_params(&mut driver, &text);
        }
        Instance {
            driver,
            requests: Requests::default(),
            priorities: Priorities::default(),
            graph: Graph::m2m_decoder("visl", (81, 0)),
            files: BTreeMap::new(),
            mappings: BTreeMap::new(),
            closed: BTreeMap::new(),
            access: BTreeMap::new(),
            next_fd: 1000,
        }
    }

    /// vfs_read/vfs_write's first check: a file not opened for it answers EBADF.
    fn check_access(&self, fd: i32, writing: bool) -> Result {
        let mode = match self.files.get(&fd).ok_or(Errno::EBADF)? {
            File::DmaBuf { accmode, .. } => *accmode,
            _ => self.access.get(&fd).copied().unwrap_or(O_RDONLY),
        };
        let allowed = if writing { mode != O_RDONLY } else { mode != O_WRONLY };
        if allowed {
            Ok(())
        } else {
            Err(Errno::EBADF)
        }
    }

    pub fn open(&mut self, path: &str, flags: i32) -> Result<i32> {
        let nonblocking = flags & O_NONBLOCK != 0;
        let file = match path {
            VIDEO_PATH => File::Video(Box::new(self.driver.open()), nonblocking),
            MEDIA_PATH => File::Media,
            TRACE_PIPE => File::TracePipe { nonblocking },
            _ if path.starts_with(TRACE_EVENTS_DIR) => {
                let system = path
                    .strip_prefix(TRACE_EVENTS_DIR)
                    .and_then(|rest| rest.strip_suffix("/enable"))
                    .and_then(|name| TRACE_SYSTEMS.iter().position(|s| *s == name))
                    .ok_or(Errno::ENOENT)?;
                File::TraceEnable { system, offset: 0 }
            }
            _ if path.starts_with(BITSTREAM_PREFIX) => {
                let number = path.strip_prefix(BITSTREAM_PREFIX).and_then(|n| n.parse::<i32>().ok());
                let data = number.and_then(|n| self.driver.bitstreams.get(&n)).ok_or(Errno::ENOENT)?;
                if flags & O_ACCMODE != O_RDONLY {
                    return Err(Errno::EACCES);
                }
                File::Bitstream { data: data.clone(), offset: 0 }
            }
            _ => self.open_param(path, flags)?,
        };
        let fd = self.install(file)?;
        self.access.insert(fd, flags & O_ACCMODE);
        Ok(fd)
    }

    /// A new fd for `file`.
    pub fn install(&mut self, file: File) -> Result<i32> {
        let fd = self.next_fd;
        if matches!(file, File::Video(..)) {
            self.priorities.open(fd);
        }
        // INVARIANT: fds only grow, so `fd` is not in use.
        self.next_fd = self.next_fd.checked_add(1).ok_or(Errno::ENOMEM)?;
        self.files.insert(fd, file);
        Ok(fd)
    }

    pub fn close(&mut self, fd: i32) -> Result {
        let mut file = self.files.remove(&fd).ok_or(Errno::EBADF)?;
        self.access.remove(&fd);
        match &mut file {
            // v4l2_m2m_ctx_release: both queues stop, the handler leaves its requests.
            File::Video(ctx, _) => {
                self.priorities.close(fd);
                for buf_type in
                    [uapi::V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, uapi::V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE]
                {
                    let _ = m2m::streamoff(&mut self.driver, ctx, fd, &mut self.requests, buf_type);
                }
                self.requests.forget_owner(fd);
            }
            File::Request(id) => {
                let released = self.requests.put(*id);
                self.release_request_buffers(&released);
            }
            // The dmabuf's release: its buffer loses a user (an orphan may go with it).
            File::DmaBuf { owner, export, .. } => {
                let owner = *owner;
                let ctx = match self.files.get_mut(&owner).or_else(|| self.closed.get_mut(&owner)) {
                    Some(File::Video(ctx, _)) => Some(ctx),
                    _ => None,
                };
                if let Some(ctx) = ctx {
                    ctx.queue_for_offset(export.cookie).0.unmap(export.buffer_id);
                }
                self.forget_closed(owner);
                return Ok(());
            }
            _ => {}
        }
        if self.referenced(fd) {
            self.closed.insert(fd, file);
        }
        Ok(())
    }

    /// Whether a mapping or an exported dmabuf still uses the buffers of video fd `fd`.
    fn referenced(&self, fd: i32) -> bool {
        self.mappings.values().any(|m| m.fd == fd)
            || self.files.values().any(|f| matches!(f, File::DmaBuf { owner, .. } if *owner == fd))
    }

    /// A closed video file goes once nothing uses its buffers any more.
    fn forget_closed(&mut self, fd: i32) {
        if self.closed.contains_key(&fd) && !self.referenced(fd) {
            self.closed.remove(&fd);
        }
    }

    /// Buffers of a request that went away return to DEQUEUED in their contexts.
    pub fn release_request_buffers(&mut self, objects: &[v4l2::request::BufObject]) {
        for object in objects {
            if let Some(File::Video(ctx, _)) = self.files.get_mut(&object.owner) {
                m2m::release_buffers(&mut self.driver, ctx, &[object.index]);
            }
        }
    }

    /// The request an fd names (media_request_get_by_fd): EINVAL for anything else.
    pub fn request_id(&self, fd: i32) -> Result<u32> {
        match self.files.get(&fd) {
            Some(File::Request(id)) => Ok(*id),
            _ => Err(Errno::EINVAL),
        }
    }

    fn open_param(&self, path: &str, flags: i32) -> Result<File> {
        let name = path.strip_prefix(PARAMS_DIR).ok_or(Errno::ENOENT)?;
        let index = self.driver.params.iter().position(|p| p.name == name).ok_or(Errno::ENOENT)?;
        let access = flags & O_ACCMODE;
        let writable = access != O_RDONLY;
        // A 0444 parameter has no store method: opening it for writing is refused, even for root.
        if writable && !self.driver.params[index].writable {
            return Err(Errno::EACCES);
        }
        Ok(File::Param { index, readable: access != O_WRONLY, writable, offset: 0 })
    }

    /// read() of a parameter file: its text once, then end of file.
    pub fn read(&mut self, fd: i32, buf: &mut [u8]) -> Result<usize> {
        self.check_access(fd, false)?;
        let params = &self.driver.params;
        let trace = &mut self.driver.trace;
        match self.files.get_mut(&fd).ok_or(Errno::EBADF)? {
            File::TracePipe { .. } => {
                if trace.pipe.is_empty() {
                    // Jobs run inside ioctls, so waiting could never end: EAGAIN either way.
                    return Err(Errno::EAGAIN);
                }
                let n = buf.len().min(trace.pipe.len());
                for (dst, src) in buf.iter_mut().zip(trace.pipe.drain(..n)) {
                    *dst = src;
                }
                Ok(n)
            }
            File::TraceEnable { system, offset } => {
                let text: &[u8] = if trace.enabled[*system] { b"1\n" } else { b"0\n" };
                Ok(copy_from(text, offset, buf))
            }
            File::Bitstream { data, offset } => Ok(copy_from(data, offset, buf)),
            File::Param { index, readable, offset, .. } => {
                if !*readable {
                    return Err(Errno::EBADF);
                }
                let text = params[*index].value.show();
                Ok(copy_from(text.as_bytes(), offset, buf))
            }
            File::Video(..) | File::Media | File::Request(_) | File::DmaBuf { .. } => Err(Errno::EINVAL),
        }
    }

    /// write() of a parameter file: the whole buffer is the new value, as sysfs stores it.
    pub fn write(&mut self, fd: i32, data: &[u8]) -> Result<usize> {
        self.check_access(fd, true)?;
        match self.files.get(&fd).ok_or(Errno::EBADF)? {
            File::Param { index, writable, .. } => {
                if !*writable {
                    return Err(Errno::EBADF);
                }
                if data.is_empty() {
                    return Ok(0);
                }
                let param = &mut self.driver.params[*index];
                param.value = param.value.parse_like(data)?;
                Ok(data.len())
            }
            File::TraceEnable { system, .. } => {
                let text = core::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
                self.driver.trace.enabled[*system] = match text.trim_end_matches('\n') {
                    "0" => false,
                    "1" => true,
                    _ => return Err(Errno::EINVAL),
                };
                Ok(data.len())
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// Open files or live mappings keep the driver bound.
    fn busy(&self) -> bool {
        !self.files.is_empty() || !self.mappings.is_empty()
    }

    /// mmap() of a buffer plane, through its video fd or a dmabuf: the address of its memory.
    pub fn map(&mut self, fd: i32, offset: u32, length: usize, writable: bool) -> Result<*mut u8> {
        let (owner, cookie, buffer_id, address) = match self.files.get_mut(&fd) {
            Some(File::Video(ctx, _)) => {
                let (queue, within) = ctx.queue_for_offset(offset);
                let (buffer_id, memory) = queue.mmap(within, length, writable)?;
                (fd, offset, buffer_id, memory.as_mut_ptr())
            }
            Some(File::DmaBuf { owner, export, accmode }) => {
                let (owner, cookie, buffer_id) = (*owner, export.cookie, export.buffer_id);
                let (plane, size, accmode) = (export.plane, export.size, *accmode);
                // do_mmap: a shared mapping needs a readable file, and a writable one to write.
                if accmode == O_WRONLY || (writable && accmode == O_RDONLY) {
                    return Err(Errno::EACCES);
                }
                // dma_buf_mmap_internal: the pages asked for must lie within the dmabuf (the
                // offset is whole pages: vdev_mmap checked); the vmalloc allocator then maps
                // the plane from its start whatever the offset.
                let page = 1usize << 12;
                // CAST: u32 to usize.
                if offset as usize / page + length.div_ceil(page) > size / page {
                    return Err(Errno::EINVAL);
                }
                let Some(File::Video(ctx, _)) =
                    self.files.get_mut(&owner).or_else(|| self.closed.get_mut(&owner))
                else {
                    return Err(Errno::ENODEV);
                };
                let memory =
                    ctx.queue_for_offset(cookie).0.map_export(buffer_id, plane).ok_or(Errno::ENODEV)?;
                (owner, cookie, buffer_id, memory.as_mut_ptr())
            }
            // ksys_mmap_pgoff: no such file is EBADF; a file without mmap is ENODEV.
            None => return Err(Errno::EBADF),
            Some(_) => return Err(Errno::ENODEV),
        };
        let mapping = Mapping { fd: owner, offset: cookie, buffer_id, count: 0 };
        self.mappings.entry(address as usize).or_insert(mapping).count += 1;
        Ok(address)
    }

    /// munmap(): forget one mapping; a closed file goes once its last mapping does.
    pub fn unmap(&mut self, address: usize) -> Result {
        let live = self.mappings.get_mut(&address).ok_or(Errno::EINVAL)?;
        live.count -= 1;
        let mapping = Mapping { count: live.count, ..*live };
        if mapping.count == 0 {
            self.mappings.remove(&address);
        }
        let file = self.files.get_mut(&mapping.fd).or_else(|| self.closed.get_mut(&mapping.fd));
        if let Some(File::Video(ctx, _)) = file {
            ctx.queue_for_offset(mapping.offset).0.unmap(mapping.buffer_id);
        }
        self.forget_closed(mapping.fd);
        Ok(())
    }
}

/// Read the rest of `text` from `offset` on, as a file read does.
fn copy_from(text: &[u8], offset: &mut usize, buf: &mut [u8]) -> usize {
    let rest = text.get(*offset..).unwrap_or_default();
    let n = rest.len().min(buf.len());
    buf[..n].copy_from_slice(&rest[..n]);
    *offset += n;
    n
}

/// `name=value` words, as the kernel command line or modprobe passes them; a malformed
/// word or value is ignored with the default kept, as the kernel does after its warning.
fn load_params(driver: &mut Visl, text: &str) {
    for word in text.split_whitespace() {
        let word = word.strip_prefix("visl.").unwrap_or(word);
        let Some((name, value)) = word.split_once('=') else {
            continue;
        };
        if let Some(param) = driver.params.iter_mut().find(|p| p.name == name) {
            if let Ok(parsed) = param.value.parse_like(value.as_bytes()) {
                param.value = parsed;
            }
        }
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
