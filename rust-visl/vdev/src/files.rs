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
    next_fd: i32,
}

impl Instance {
    fn new() -> Self {
        // Virtual fds start above the usual stdio numbers so a mix-up with real fds is visible.
        // The kernel's first video node is char device 81:0; the graph names it so.
        Instance {
            driver: Visl,
            graph: Graph::m2m_decoder("visl", (81, 0)),
            files: BTreeMap::new(),
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
        self.files.remove(&fd).map(|_| ()).ok_or(Errno::EBADF)
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
    if guard.as_ref().is_some_and(|i| !i.files.is_empty()) {
        return Err(Errno::EBUSY);
    }
    *guard = None;
    Ok(())
}
