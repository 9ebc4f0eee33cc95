//! Every `extern "C"` function of the vdev ABI (conform/transport/vdev.h).
//!
//! Each body runs through [`guarded`], which turns a `Result` into a negative errno and
//! catches unwinding, so no panic crosses the C ABI: it becomes `-EIO`.

use std::ffi::{c_char, c_int, c_ulong, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use uapi::{
    media_device_info, media_entity_desc, media_link_desc, media_links_enum, media_pad_desc, media_v2_entity,
    media_v2_interface, media_v2_link, media_v2_pad, media_v2_topology, v4l2_buffer, v4l2_capability,
    v4l2_control, v4l2_create_buffers, v4l2_decoder_cmd, v4l2_event, v4l2_event_subscription,
    v4l2_exportbuffer, v4l2_ext_control, v4l2_ext_controls, v4l2_fmtdesc, v4l2_format, v4l2_frmsizeenum,
    v4l2_plane, v4l2_query_ext_ctrl, v4l2_queryctrl, v4l2_querymenu, v4l2_remove_buffers,
    v4l2_requestbuffers, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE,
    V4L2_CTRL_WHICH_REQUEST_VAL, VIDEO_MAX_PLANES,
};
use v4l2::ctrls::PayloadIo;
use v4l2::ioctl::{
    dispatch, ExtCtrls, Ioctl, MEDIA_IOC_DEVICE_INFO, MEDIA_IOC_ENUM_ENTITIES, MEDIA_IOC_ENUM_LINKS,
    MEDIA_IOC_G_TOPOLOGY, MEDIA_IOC_SETUP_LINK, VIDIOC_CREATE_BUFS, VIDIOC_DECODER_CMD, VIDIOC_ENUM_FMT,
    VIDIOC_ENUM_FRAMESIZES, VIDIOC_G_EXT_CTRLS, VIDIOC_G_FMT, VIDIOC_QUERYBUF, VIDIOC_QUERYCAP,
    VIDIOC_QUERY_EXT_CTRL, VIDIOC_REMOVE_BUFS, VIDIOC_REQBUFS, VIDIOC_S_EXT_CTRLS, VIDIOC_S_FMT,
    VIDIOC_TRY_DECODER_CMD, VIDIOC_TRY_EXT_CTRLS, VIDIOC_TRY_FMT,
};
use v4l2::ioctl::{
    stateless_try_decoder_cmd, DMA_BUF_IOCTL_SYNC, MEDIA_IOC_REQUEST_ALLOC, MEDIA_REQUEST_IOC_QUEUE,
    MEDIA_REQUEST_IOC_REINIT, VIDIOC_DQBUF, VIDIOC_DQEVENT, VIDIOC_EXPBUF, VIDIOC_G_CTRL, VIDIOC_G_PRIORITY,
    VIDIOC_PREPARE_BUF, VIDIOC_QBUF, VIDIOC_QUERYCTRL, VIDIOC_QUERYMENU, VIDIOC_STREAMOFF, VIDIOC_STREAMON,
    VIDIOC_SUBSCRIBE_EVENT, VIDIOC_S_CTRL, VIDIOC_S_PRIORITY, VIDIOC_UNSUBSCRIBE_EVENT,
};
use v4l2::m2m;
use v4l2::media::{
    device_info, enum_entities, enum_links, get_topology, setup_link, LinksSink, MediaInfo, TopologySink,
};
use v4l2::request::RequestState;
use v4l2::vb2::{BufferArgs, O_ACCMODE};
use v4l2::{Errno, IoctlOps, Result};
use visl::Context;

use crate::files::{instance, reset, File, Instance};
use crate::uaccess::{access_ok, readable};

fn guarded(body: impl FnOnce() -> Result<c_int>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(errno)) => errno.to_neg(),
        Err(_) => Errno::EIO.to_neg(),
    }
}

/// # Safety
///
/// `path` must be NULL or point to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vdev_open(path: *const c_char, flags: c_int) -> c_int {
    guarded(|| {
        if path.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: non-null, and the caller promises NUL termination.
        let path = unsafe { CStr::from_ptr(path) }.to_str().map_err(|_| Errno::ENOENT)?;
        let mut guard = instance();
        let dev = guard.as_mut().ok_or(Errno::ENODEV)?;
        dev.open(path, flags)
    })
}

#[no_mangle]
pub extern "C" fn vdev_close(fd: c_int) -> c_int {
    guarded(|| {
        let mut guard = instance();
        guard.as_mut().ok_or(Errno::ENODEV)?.close(fd)?;
        Ok(0)
    })
}

/// The argument of one ioctl call.
///
/// # Invariants
///
/// `ptr` is NULL or points to `size` writable bytes, `size` being the argument size the
/// request number encodes.
struct UserArg {
    ptr: *mut c_void,
    size: usize,
    /// An `_IOW` argument: the kernel only copies it in, so it may be read-only memory.
    user_writes_only: bool,
}

impl UserArg {
    /// # Safety
    ///
    /// `ptr` must be NULL or point to as many writable bytes as `request` encodes.
    unsafe fn new(ptr: *mut c_void, request: u32) -> Self {
        // INVARIANT: the size field of the request number, as the caller promised.
        UserArg { ptr, size: ((request >> 16) & 0x3fff) as usize, user_writes_only: request >> 30 == 1 }
    }

    /// The argument as the struct the request names; the sizes must agree.
    fn get<T>(&mut self) -> Result<&mut T> {
        if core::mem::size_of::<T>() != self.size {
            return Err(Errno::ENOTTY);
        }
        if self.ptr.is_null() || self.ptr.align_offset(core::mem::align_of::<T>()) != 0 {
            return Err(Errno::EFAULT);
        }
        if self.user_writes_only {
            readable(self.ptr, self.size)?;
        } else {
            access_ok(self.ptr, self.size)?;
        }
        // SAFETY: by the type invariant `ptr` points to `size` writable bytes, which is
        // size_of::<T>() (checked above), aligned (checked above); UAPI structs accept any
        // bit pattern; `&mut self` keeps the borrow unique.
        Ok(unsafe { &mut *self.ptr.cast::<T>() })
    }
}

/// # Safety
///
/// `arg` must be NULL or point to memory of the size encoded in `request`.
#[no_mangle]
pub unsafe extern "C" fn vdev_ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> c_int {
    guarded(|| {
        let mut guard = instance();
        let dev = guard.as_mut().ok_or(Errno::ENODEV)?;
        // CAST: ioctl numbers are 32-bit; larger values match nothing below.
        let request = request as u32;
        // SAFETY: the caller promises `arg` points to the size the number encodes.
        let arg = unsafe { UserArg::new(arg, request) };
        match dev.files.get(&fd).ok_or(Errno::EBADF)? {
            File::Video(..) => {}
            File::Media => return media_ioctl(dev, request, arg).map(|()| 0),
            File::Request(id) => {
                let outcome = request_ioctl(dev, *id, request);
                take_job_delay(dev);
                return outcome.map(|()| 0);
            }
            File::DmaBuf { .. } => return dmabuf_ioctl(request, arg).map(|()| 0),
            _ => return Err(Errno::ENOTTY),
        }
        // The context leaves the file table for the call, so the call may reach the
        // device and other files (requests) too; it goes back whatever the outcome.
        let Some(File::Video(mut ctx, nonblocking)) = dev.files.remove(&fd) else {
            return Err(Errno::EBADF);
        };
        let outcome = video_ioctl(dev, fd, &mut ctx, nonblocking, request, arg);
        dev.files.insert(fd, File::Video(ctx, nonblocking));
        take_job_delay(dev);
        outcome.map(|()| 0)
    })
}

/// Sleep off the time the jobs of this call were to take (visl_transtime_ms).
fn take_job_delay(dev: &mut Instance) {
    let delay = core::mem::take(&mut dev.driver.pending_delay_ms);
    if delay > 0 {
        std::thread::sleep(std::time::Duration::from_millis(delay));
    }
}

/// A multi-planar buffer argument and its planes array.
fn buffer_args(arg: &mut UserArg) -> Result<BufferArgs<'_>> {
    let b = arg.get::<v4l2_buffer>()?;
    // SAFETY: the UAPI contract: a multi-planar buffer's `m.planes` points to `length` entries.
    let planes = unsafe { user_planes(b) }?;
    Ok(BufferArgs { b, planes })
}

/// ioctls on a video node file handle.
fn video_ioctl(
    dev: &mut Instance,
    fd: c_int,
    ctx: &mut Context,
    nonblocking: bool,
    request: u32,
    mut arg: UserArg,
) -> Result {
    let mut payloads = UserPayloads;
    if (request >> 16) & 0x3fff == arg.size as u32 {
        dev.priorities.check(fd, request)?;
    }
    let ioctl = match request {
        VIDIOC_QUERYCTRL => return ctx.events().1.queryctrl(arg.get::<v4l2_queryctrl>()?),
        VIDIOC_QUERYMENU => return ctx.events().1.querymenu(arg.get::<v4l2_querymenu>()?),
        VIDIOC_G_CTRL => return ctx.events().1.g_ctrl(arg.get::<v4l2_control>()?),
        VIDIOC_S_CTRL => {
            let control = arg.get::<v4l2_control>()?;
            let outcome = dev.driver.ctrl_handler_mut(ctx).ok_or(Errno::ENOTTY)?.s_ctrl(control);
            ctx.send_control_events(true);
            return outcome;
        }
        VIDIOC_G_PRIORITY => {
            *arg.get::<u32>()? = dev.priorities.max();
            return Ok(());
        }
        VIDIOC_S_PRIORITY => {
            let prio = *arg.get::<u32>()?;
            return dev.priorities.change(fd, prio);
        }
        VIDIOC_QUERYCAP => Ioctl::QueryCap(arg.get::<v4l2_capability>()?),
        VIDIOC_ENUM_FMT => Ioctl::EnumFmt(arg.get::<v4l2_fmtdesc>()?),
        VIDIOC_G_FMT => Ioctl::GFmt(arg.get::<v4l2_format>()?),
        VIDIOC_S_FMT => Ioctl::SFmt(arg.get::<v4l2_format>()?),
        VIDIOC_TRY_FMT => Ioctl::TryFmt(arg.get::<v4l2_format>()?),
        VIDIOC_ENUM_FRAMESIZES => Ioctl::EnumFramesizes(arg.get::<v4l2_frmsizeenum>()?),
        VIDIOC_QUERY_EXT_CTRL => Ioctl::QueryExtCtrl(arg.get::<v4l2_query_ext_ctrl>()?),
        VIDIOC_TRY_DECODER_CMD => Ioctl::TryDecoderCmd(arg.get::<v4l2_decoder_cmd>()?),
        VIDIOC_REQBUFS => Ioctl::ReqBufs(arg.get::<v4l2_requestbuffers>()?),
        VIDIOC_CREATE_BUFS => Ioctl::CreateBufs(arg.get::<v4l2_create_buffers>()?),
        VIDIOC_REMOVE_BUFS => Ioctl::RemoveBufs(arg.get::<v4l2_remove_buffers>()?),
        VIDIOC_QUERYBUF => {
            let args = buffer_args(&mut arg)?;
            Ioctl::QueryBuf(args.b, args.planes)
        }
        VIDIOC_DECODER_CMD => {
            stateless_try_decoder_cmd(arg.get::<v4l2_decoder_cmd>()?)?;
            return m2m::stateless_flush(&mut dev.driver, ctx, fd, &mut dev.requests);
        }
        VIDIOC_QBUF => {
            let mut args = buffer_args(&mut arg)?;
            let files = &dev.files;
            let lookup = |request_fd: i32| match files.get(&request_fd) {
                Some(File::Request(id)) => Ok(*id),
                _ => Err(Errno::EINVAL),
            };
            return m2m::qbuf(&mut dev.driver, ctx, fd, &mut dev.requests, &lookup, &mut args);
        }
        VIDIOC_EXPBUF => {
            let eb = arg.get::<v4l2_exportbuffer>()?;
            let queue = ctx.queue_mut(eb.type_);
            let export = queue.expbuf(eb)?;
            let buffer_id = export.buffer_id;
            // CAST: the access mode is two bits.
            let accmode = (eb.flags & O_ACCMODE) as i32;
            return match dev.install(File::DmaBuf { owner: fd, export, accmode }) {
                Ok(dmabuf) => {
                    // INFO_FL_CLEAR(v4l2_exportbuffer, flags): what follows `flags` goes back zeroed.
                    eb.reserved = [0; 11];
                    eb.fd = dmabuf;
                    Ok(())
                }
                Err(errno) => {
                    queue.unmap(buffer_id);
                    Err(errno)
                }
            };
        }
        VIDIOC_PREPARE_BUF => return m2m::prepare_buf(&mut dev.driver, ctx, &mut buffer_args(&mut arg)?),
        VIDIOC_DQBUF => {
            let mut args = buffer_args(&mut arg)?;
            return m2m::dqbuf(&mut dev.driver, ctx, &mut dev.requests, &mut args, nonblocking);
        }
        VIDIOC_STREAMON | VIDIOC_STREAMOFF => {
            // CAST: the argument is a C int holding a buffer type.
            let buf_type = *arg.get::<c_int>()? as u32;
            return if request == VIDIOC_STREAMON {
                m2m::streamon(&mut dev.driver, ctx, fd, &mut dev.requests, buf_type)
            } else {
                m2m::streamoff(&mut dev.driver, ctx, fd, &mut dev.requests, buf_type)
            };
        }
        VIDIOC_G_EXT_CTRLS | VIDIOC_S_EXT_CTRLS | VIDIOC_TRY_EXT_CTRLS => {
            let header = arg.get::<v4l2_ext_controls>()?;
            // SAFETY: `which` and `ctrl_class` are two names of the same u32.
            if unsafe { header.__bindgen_anon_1.which } == V4L2_CTRL_WHICH_REQUEST_VAL {
                return request_ctrls(dev, fd, ctx, request, header);
            }
            // SAFETY: the UAPI contract: `controls` points to `count` entries.
            let items = unsafe { user_array(header.controls, header.count) }?;
            let ext = ExtCtrls { header, items, io: &mut payloads };
            match request {
                VIDIOC_G_EXT_CTRLS => Ioctl::GExtCtrls(ext),
                VIDIOC_S_EXT_CTRLS => Ioctl::SExtCtrls(ext),
                _ => Ioctl::TryExtCtrls(ext),
            }
        }
        VIDIOC_SUBSCRIBE_EVENT => {
            let sub = arg.get::<v4l2_event_subscription>()?;
            let (events, handler) = ctx.events();
            return events.subscribe(sub, handler);
        }
        VIDIOC_UNSUBSCRIBE_EVENT => {
            ctx.events().0.unsubscribe(arg.get::<v4l2_event_subscription>()?);
            return Ok(());
        }
        VIDIOC_DQEVENT => {
            let out = arg.get::<v4l2_event>()?;
            ctx.events().0.dequeue(out)?;
            let now = monotonic_now();
            (out.timestamp.tv_sec, out.timestamp.tv_nsec) = (now.0, now.1);
            return Ok(());
        }
        _ => return Err(Errno::ENOTTY),
    };
    let outcome = dispatch(&dev.driver, ctx, ioctl);
    ctx.send_control_events(true);
    outcome
}

/// CLOCK_MONOTONIC as (seconds, nanoseconds), the clock event timestamps use.
fn monotonic_now() -> (i64, i64) {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into memory we own.
    unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec, ts.tv_nsec)
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

const CLOCK_MONOTONIC: c_int = 1;

extern "C" {
    fn clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int;
}

/// G/S/TRY_EXT_CTRLS on a request's values (v4l2-ctrls-request.c).
fn request_ctrls(
    dev: &mut Instance,
    fd: c_int,
    ctx: &mut Context,
    request: u32,
    header: &mut v4l2_ext_controls,
) -> Result {
    header.error_idx = header.count;
    if header.request_fd < 0 {
        return Err(Errno::EINVAL);
    }
    let id = dev.request_id(header.request_fd)?;
    let which = V4L2_CTRL_WHICH_REQUEST_VAL;
    let handler = dev.driver.ctrl_handler_mut(ctx).ok_or(Errno::ENOTTY)?;
    let slots = handler.controls.len();
    // SAFETY: the UAPI contract: `controls` points to `count` entries.
    let items = unsafe { user_array(header.controls, header.count) }?;
    if request == VIDIOC_G_EXT_CTRLS {
        let object = dev.requests.completed_ctrls(id, fd)?;
        return handler.g_ext_ctrls(which, &mut header.error_idx, items, &mut UserPayloads, Some(object));
    }
    let set = request == VIDIOC_S_EXT_CTRLS;
    let object = dev.requests.ctrls_for_update(id, fd, slots, set)?;
    handler.try_set_ext_ctrls(which, &mut header.error_idx, items, &mut UserPayloads, set, Some(object))
}

/// ioctls on a request fd.
fn request_ioctl(dev: &mut Instance, id: u32, request: u32) -> Result {
    match request {
        MEDIA_REQUEST_IOC_QUEUE => {
            let req = dev.requests.get(id)?;
            if req.state != RequestState::Idle {
                return Err(Errno::EBUSY);
            }
            let owner = match req.bufs.as_slice() {
                [] => return Err(Errno::ENOENT),
                [only] => only.owner,
                _ => return Err(Errno::EINVAL),
            };
            let Some(File::Video(mut ctx, nonblocking)) = dev.files.remove(&owner) else {
                return Err(Errno::ENOENT);
            };
            let outcome = m2m::request_queue(&mut dev.driver, &mut ctx, owner, &mut dev.requests, id);
            dev.files.insert(owner, File::Video(ctx, nonblocking));
            outcome
        }
        MEDIA_REQUEST_IOC_REINIT => {
            let released = dev.requests.reinit(id)?;
            dev.release_request_buffers(&released);
            Ok(())
        }
        _ => Err(Errno::ENOTTY),
    }
}

/// The kernel caps a control array at this many entries (V4L2_CID_MAX_CTRLS).
const MAX_CTRLS: u32 = 1024;

/// Borrow the control array of an EXT_CTRLS call.
///
/// # Safety
///
/// `ptr` must be NULL (with `count` 0) or point to `count` writable entries.
unsafe fn user_array<'a>(ptr: *mut v4l2_ext_control, count: u32) -> Result<&'a mut [v4l2_ext_control]> {
    if count == 0 {
        return Ok(&mut []);
    }
    if count > MAX_CTRLS {
        return Err(Errno::EINVAL);
    }
    if ptr.is_null() || ptr.align_offset(core::mem::align_of::<v4l2_ext_control>()) != 0 {
        return Err(Errno::EFAULT);
    }
    access_ok(ptr.cast(), count as usize * core::mem::size_of::<v4l2_ext_control>())?;
    // SAFETY: non-null, aligned; the caller promises `count` entries.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, count as usize) })
}

/// Borrow the planes array of a multi-planar buffer, as video_usercopy copies it in.
///
/// # Safety
///
/// For a multi-planar type, `b.m.planes` must be NULL or point to `b.length` entries.
unsafe fn user_planes<'a>(b: &v4l2_buffer) -> Result<&'a mut [v4l2_plane]> {
    if b.type_ != V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE && b.type_ != V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE {
        return Ok(&mut []);
    }
    // CAST: u32 to usize.
    let length = b.length as usize;
    if length > VIDEO_MAX_PLANES as usize {
        return Err(Errno::EINVAL);
    }
    if length == 0 {
        return Ok(&mut []);
    }
    // SAFETY: `planes` is the union member of multi-planar buffers.
    let ptr = unsafe { b.m.planes };
    if ptr.is_null() || ptr.align_offset(core::mem::align_of::<v4l2_plane>()) != 0 {
        return Err(Errno::EFAULT);
    }
    access_ok(ptr.cast(), length * core::mem::size_of::<v4l2_plane>())?;
    // SAFETY: non-null, aligned; the caller promises `length` entries.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, length) })
}

/// Writes control payloads through the pointers userspace put in each entry.
struct UserPayloads;

impl PayloadIo for UserPayloads {
    fn read(&mut self, ctrl: &v4l2_ext_control, bytes: &mut [u8]) -> Result {
        // SAFETY: `ptr` and `p_u8` are two names of the same pointer.
        let src = unsafe { ctrl.__bindgen_anon_1.p_u8 };
        readable(src.cast(), bytes.len())?;
        // SAFETY: the UAPI contract: `ptr` points to `size` bytes, and the handler sized
        // `bytes` from that `size`.
        unsafe { core::ptr::copy_nonoverlapping(src, bytes.as_mut_ptr(), bytes.len()) };
        Ok(())
    }

    fn write(&mut self, ctrl: &v4l2_ext_control, bytes: &[u8]) -> Result {
        // SAFETY: `ptr` and `p_u8` are two names of the same pointer.
        let dest = unsafe { ctrl.__bindgen_anon_1.p_u8 };
        access_ok(dest.cast(), bytes.len())?;
        // SAFETY: the UAPI contract: `ptr` points to `size` bytes, and the caller checked
        // `size` covers the payload.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), dest, bytes.len()) };
        Ok(())
    }
}

/// Copies G_TOPOLOGY's arrays to the user pointers the request carries.
struct UserArrays(media_v2_topology);

/// # Safety
///
/// `ptr` must be 0 or point to room for `entries.len()` writable `T`s.
unsafe fn copy_out<T: Copy>(ptr: u64, entries: &[T]) -> Result {
    // CAST: user pointers are carried as u64 in the UAPI.
    let dest = ptr as usize as *mut T;
    if dest.is_null() || dest.align_offset(core::mem::align_of::<T>()) != 0 {
        return Err(Errno::EFAULT);
    }
    access_ok(dest.cast(), core::mem::size_of_val(entries))?;
    // SAFETY: checked non-null and aligned; the caller promises room for the entries.
    unsafe { core::ptr::copy_nonoverlapping(entries.as_ptr(), dest, entries.len()) };
    Ok(())
}

impl TopologySink for UserArrays {
    fn entities(&mut self, entries: &[media_v2_entity]) -> Result {
        // SAFETY: get_topology checked num_entities covers the entries.
        unsafe { copy_out(self.0.ptr_entities, entries) }
    }
    fn interfaces(&mut self, entries: &[media_v2_interface]) -> Result {
        // SAFETY: get_topology checked num_interfaces covers the entries.
        unsafe { copy_out(self.0.ptr_interfaces, entries) }
    }
    fn pads(&mut self, entries: &[media_v2_pad]) -> Result {
        // SAFETY: get_topology checked num_pads covers the entries.
        unsafe { copy_out(self.0.ptr_pads, entries) }
    }
    fn links(&mut self, entries: &[media_v2_link]) -> Result {
        // SAFETY: get_topology checked num_links covers the entries.
        unsafe { copy_out(self.0.ptr_links, entries) }
    }
}

/// Copies ENUM_LINKS's entries to the user's arrays one at a time, as the kernel's
/// copy_to_user per entry does (entries before a bad one are written).
struct UserLinks {
    pads: *mut media_pad_desc,
    links: *mut media_link_desc,
}

/// # Safety
///
/// `base` must be NULL or point to an array of at least `index + 1` writable `T`s.
unsafe fn copy_entry<T: Copy>(base: *mut T, index: usize, entry: &T) -> Result {
    // CAST: an address computation only; nothing is dereferenced before the probe.
    let dest = (base as usize).wrapping_add(index.wrapping_mul(core::mem::size_of::<T>())) as *mut T;
    if dest.is_null() || dest.align_offset(core::mem::align_of::<T>()) != 0 {
        return Err(Errno::EFAULT);
    }
    access_ok(dest.cast(), core::mem::size_of::<T>())?;
    // SAFETY: probed writable, aligned (checked above); the caller promises room for it.
    // A byte copy, so the entry's (zeroed) padding reaches userspace as it is.
    unsafe { core::ptr::copy_nonoverlapping(entry, dest, 1) };
    Ok(())
}

impl LinksSink for UserLinks {
    fn pad(&mut self, index: usize, desc: &media_pad_desc) -> Result {
        // SAFETY: the UAPI contract: `pads` has room for the entity's pads.
        unsafe { copy_entry(self.pads, index, desc) }
    }
    fn link(&mut self, index: usize, desc: &media_link_desc) -> Result {
        // SAFETY: the UAPI contract: `links` has room for the entity's outgoing links.
        unsafe { copy_entry(self.links, index, desc) }
    }
}

/// ioctls on the media node.
fn media_ioctl(dev: &mut Instance, request: u32, mut arg: UserArg) -> Result {
    let graph = &dev.graph;
    match request {
        MEDIA_IOC_REQUEST_ALLOC => {
            let out = arg.get::<c_int>()?;
            let id = dev.requests.alloc();
            *out = dev.install(File::Request(id))?;
            Ok(())
        }
        MEDIA_IOC_DEVICE_INFO => {
            // SAFETY: the caller promises a media_device_info.
            let out = arg.get::<media_device_info>()?;
            device_info(&MediaInfo { driver: "visl", model: "visl", bus_info: "platform:visl" }, out);
            Ok(())
        }
        MEDIA_IOC_G_TOPOLOGY => {
            // SAFETY: the caller promises a media_v2_topology.
            let topo = arg.get::<media_v2_topology>()?;
            let mut sink = UserArrays(*topo);
            get_topology(graph, topo, &mut sink)
        }
        MEDIA_IOC_ENUM_ENTITIES => enum_entities(graph, arg.get::<media_entity_desc>()?),
        MEDIA_IOC_ENUM_LINKS => {
            let links = arg.get::<media_links_enum>()?;
            let mut sink = UserLinks { pads: links.pads, links: links.links };
            enum_links(graph, links, &mut sink)
        }
        MEDIA_IOC_SETUP_LINK => setup_link(graph, arg.get::<media_link_desc>()?),
        _ => Err(Errno::ENOTTY),
    }
}

const PROT_WRITE: c_int = 2;
const PAGE_SIZE: i64 = 4096;

/// # Safety
///
/// `addr` must be NULL or point to writable room for one pointer.
#[no_mangle]
pub unsafe extern "C" fn vdev_mmap(
    fd: c_int,
    offset: i64,
    length: usize,
    prot: c_int,
    addr: *mut *mut c_void,
) -> c_int {
    guarded(|| {
        if addr.is_null() {
            return Err(Errno::EFAULT);
        }
        // The mmap syscall refuses an offset that is not a whole number of pages first.
        if offset & (PAGE_SIZE - 1) != 0 {
            return Err(Errno::EINVAL);
        }
        // CAST: offsets are the 32-bit cookies QUERYBUF hands out; others match nothing.
        let offset = u32::try_from(offset).map_err(|_| Errno::EINVAL)?;
        if length == 0 {
            return Err(Errno::EINVAL);
        }
        let mut guard = instance();
        let dev = guard.as_mut().ok_or(Errno::ENODEV)?;
        let id = dev.map(fd, offset, length, prot & PROT_WRITE != 0)?;
        // SAFETY: checked non-null; the caller promises room for one pointer.
        unsafe { *addr = id.cast() };
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn vdev_munmap(addr: *mut c_void, _length: usize) -> c_int {
    guarded(|| {
        let mut guard = instance();
        guard.as_mut().ok_or(Errno::ENODEV)?.unmap(addr as usize)?;
        Ok(0)
    })
}

const DMA_BUF_SYNC_RW: u64 = 3;
const DMA_BUF_SYNC_END: u64 = 4;

/// dma_buf_ioctl: vb2-vmalloc buffers have no CPU caches to manage, so SYNC only checks
/// its flags as the kernel does; fences and names are not kept (ENOTTY).
fn dmabuf_ioctl(request: u32, mut arg: UserArg) -> Result<()> {
    match request {
        DMA_BUF_IOCTL_SYNC => {
            let flags = *arg.get::<u64>()?;
            if flags & !(DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END) != 0 || flags & DMA_BUF_SYNC_RW == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(())
        }
        _ => Err(Errno::ENOTTY),
    }
}

/// `struct pollfd` of the C library.
#[repr(C)]
pub struct PollFd {
    fd: c_int,
    events: i16,
    revents: i16,
}

const POLLIN: i16 = 0x1;
const POLLPRI: i16 = 0x2;
const POLLOUT: i16 = 0x4;
const POLLERR: i16 = 0x8;
const POLLHUP: i16 = 0x10;
const POLLNVAL: i16 = 0x20;
const POLLRDNORM: i16 = 0x40;
const POLLWRNORM: i16 = 0x100;

/// What one file is ready for, of the `events` asked.
fn poll_one(dev: &mut Instance, fd: c_int, events: i16) -> i16 {
    let ready = match dev.files.get_mut(&fd) {
        None => return POLLNVAL,
        Some(File::Video(ctx, _)) => {
            let pending = if ctx.events().0.pending() { POLLPRI } else { 0 };
            m2m::poll(&dev.driver, ctx, events) | pending
        }
        // media_request_poll: a completed request is POLLPRI, one not queued POLLERR.
        Some(File::Request(id)) if events & POLLPRI != 0 => match dev.requests.get(*id).map(|r| r.state) {
            Ok(RequestState::Complete) => POLLPRI,
            Ok(RequestState::Queued) => 0,
            _ => POLLERR,
        },
        Some(File::Request(_)) => 0,
        Some(File::TracePipe { .. }) if dev.driver.trace.pipe.is_empty() => 0,
        // dma_buf_poll: no fences are ever attached, so reads and writes are ready.
        Some(File::DmaBuf { .. }) => POLLIN | POLLOUT,
        Some(_) => POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM,
    };
    ready & (events | POLLERR | POLLHUP)
}

/// Nothing completes while a caller waits (jobs run inside ioctls), so poll answers at
/// once whatever the timeout.
///
/// # Safety
///
/// `fds` must point to `nfds` writable `struct pollfd` entries.
#[no_mangle]
pub unsafe extern "C" fn vdev_poll(fds: *mut PollFd, nfds: c_ulong, _timeout_ms: c_int) -> c_int {
    guarded(|| {
        if nfds == 0 {
            return Ok(0);
        }
        if fds.is_null() || fds.align_offset(core::mem::align_of::<PollFd>()) != 0 {
            return Err(Errno::EFAULT);
        }
        // CAST: an entry count that fits the caller's memory fits a usize.
        // SAFETY: non-null, aligned; the caller promises `nfds` entries.
        let entries = unsafe { core::slice::from_raw_parts_mut(fds, nfds as usize) };
        let mut guard = instance();
        let dev = guard.as_mut().ok_or(Errno::ENODEV)?;
        let mut count = 0;
        for entry in entries.iter_mut() {
            entry.revents = if entry.fd < 0 { 0 } else { poll_one(dev, entry.fd, entry.events) };
            if entry.revents != 0 {
                count += 1;
            }
        }
        Ok(count)
    })
}

/// # Safety
///
/// `buf` must be NULL or point to `count` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn vdev_read(fd: c_int, buf: *mut c_void, count: usize) -> isize {
    guarded_size(|| {
        if buf.is_null() && count > 0 {
            return Err(Errno::EFAULT);
        }
        let mut empty = [];
        let dest = if count == 0 {
            &mut empty[..]
        } else {
            // SAFETY: non-null; the caller promises `count` writable bytes.
            unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), count) }
        };
        let mut guard = instance();
        guard.as_mut().ok_or(Errno::ENODEV)?.read(fd, dest)
    })
}

/// # Safety
///
/// `buf` must be NULL or point to `count` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn vdev_write(fd: c_int, buf: *const c_void, count: usize) -> isize {
    guarded_size(|| {
        if buf.is_null() && count > 0 {
            return Err(Errno::EFAULT);
        }
        let data: &[u8] = if count == 0 {
            &[]
        } else {
            // SAFETY: non-null; the caller promises `count` readable bytes.
            unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) }
        };
        let mut guard = instance();
        guard.as_mut().ok_or(Errno::ENODEV)?.write(fd, data)
    })
}

/// [`guarded`] for the calls that return a byte count.
fn guarded_size(body: impl FnOnce() -> Result<usize>) -> isize {
    match catch_unwind(AssertUnwindSafe(body)) {
        // CAST: counts are bounded by the caller's buffer, which fits an isize.
        Ok(Ok(n)) => n as isize,
        Ok(Err(errno)) => errno.to_neg() as isize,
        Err(_) => Errno::EIO.to_neg() as isize,
    }
}

#[no_mangle]
pub extern "C" fn vdev_reset() -> c_int {
    guarded(|| reset().map(|()| 0))
}
