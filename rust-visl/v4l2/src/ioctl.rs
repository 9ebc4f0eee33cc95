//! ioctl numbers and the argument handling v4l2-ioctl.c does around driver ops.
//!
//! bindgen cannot expand `_IOWR()`, so the numbers are computed here with the Linux
//! encoding from the argument struct sizes; conform's tests see any wrong one at once.

use core::mem::size_of;

use uapi::{
    v4l2_capability, v4l2_fmtdesc, v4l2_format, v4l2_frmsizeenum, V4L2_BUF_CAP_SUPPORTS_REMOVE_BUFS,
    V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, V4L2_CAP_DEVICE_CAPS,
    V4L2_CAP_EXT_PIX_FORMAT, V4L2_COLORSPACE_DCI_P3, V4L2_COLORSPACE_DEFAULT, V4L2_COLORSPACE_SMPTE170M,
    V4L2_HSV_ENC_180, V4L2_HSV_ENC_256, V4L2_QUANTIZATION_FULL_RANGE, V4L2_QUANTIZATION_LIM_RANGE,
    V4L2_XFER_FUNC_709, V4L2_XFER_FUNC_SMPTE2084, V4L2_YCBCR_ENC_601, V4L2_YCBCR_ENC_SMPTE240M,
};

use crate::ctrls::PayloadIo;
use crate::error::{Errno, Result};
use crate::format::{describe, set_cstr};
use crate::ops::IoctlOps;

const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

const fn ioc(dir: u32, kind: u8, nr: u32, size: usize) -> u32 {
    // CAST: every V4L2 argument struct is far below the 14-bit size field's limit.
    (dir << 30) | ((size as u32) << 16) | ((kind as u32) << 8) | nr
}

pub const VIDIOC_QUERYCAP: u32 = ioc(IOC_READ, b'V', 0, size_of::<v4l2_capability>());
pub const VIDIOC_ENUM_FMT: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 2, size_of::<v4l2_fmtdesc>());
pub const VIDIOC_G_FMT: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 4, size_of::<v4l2_format>());
pub const VIDIOC_S_FMT: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 5, size_of::<v4l2_format>());
pub const VIDIOC_TRY_FMT: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 64, size_of::<v4l2_format>());
pub const VIDIOC_ENUM_FRAMESIZES: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 74, size_of::<v4l2_frmsizeenum>());

pub const VIDIOC_REQBUFS: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 8, size_of::<uapi::v4l2_requestbuffers>());
pub const VIDIOC_QUERYBUF: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 9, size_of::<uapi::v4l2_buffer>());
pub const VIDIOC_CREATE_BUFS: u32 =
    ioc(IOC_READ | IOC_WRITE, b'V', 92, size_of::<uapi::v4l2_create_buffers>());
pub const VIDIOC_REMOVE_BUFS: u32 =
    ioc(IOC_READ | IOC_WRITE, b'V', 104, size_of::<uapi::v4l2_remove_buffers>());
pub const VIDIOC_DECODER_CMD: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 96, size_of::<uapi::v4l2_decoder_cmd>());
pub const VIDIOC_TRY_DECODER_CMD: u32 =
    ioc(IOC_READ | IOC_WRITE, b'V', 97, size_of::<uapi::v4l2_decoder_cmd>());
pub const VIDIOC_G_EXT_CTRLS: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 71, size_of::<uapi::v4l2_ext_controls>());
pub const VIDIOC_QUERY_EXT_CTRL: u32 =
    ioc(IOC_READ | IOC_WRITE, b'V', 103, size_of::<uapi::v4l2_query_ext_ctrl>());
pub const MEDIA_IOC_DEVICE_INFO: u32 =
    ioc(IOC_READ | IOC_WRITE, b'|', 0, size_of::<uapi::media_device_info>());
pub const MEDIA_IOC_G_TOPOLOGY: u32 =
    ioc(IOC_READ | IOC_WRITE, b'|', 4, size_of::<uapi::media_v2_topology>());
pub const MEDIA_IOC_ENUM_ENTITIES: u32 =
    ioc(IOC_READ | IOC_WRITE, b'|', 1, size_of::<uapi::media_entity_desc>());
pub const MEDIA_IOC_ENUM_LINKS: u32 = ioc(IOC_READ | IOC_WRITE, b'|', 2, size_of::<uapi::media_links_enum>());
pub const MEDIA_IOC_SETUP_LINK: u32 = ioc(IOC_READ | IOC_WRITE, b'|', 3, size_of::<uapi::media_link_desc>());
pub const MEDIA_IOC_REQUEST_ALLOC: u32 = ioc(IOC_READ, b'|', 5, size_of::<i32>());
pub const MEDIA_REQUEST_IOC_QUEUE: u32 = ioc(0, b'|', 0x80, 0);
pub const MEDIA_REQUEST_IOC_REINIT: u32 = ioc(0, b'|', 0x81, 0);
pub const VIDIOC_QUERYCTRL: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 36, size_of::<uapi::v4l2_queryctrl>());
pub const VIDIOC_QUERYMENU: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 37, size_of::<uapi::v4l2_querymenu>());
pub const VIDIOC_G_CTRL: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 27, size_of::<uapi::v4l2_control>());
pub const VIDIOC_S_CTRL: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 28, size_of::<uapi::v4l2_control>());
pub const VIDIOC_G_PRIORITY: u32 = ioc(IOC_READ, b'V', 67, size_of::<u32>());
pub const VIDIOC_S_PRIORITY: u32 = ioc(IOC_WRITE, b'V', 68, size_of::<u32>());
pub const VIDIOC_DQEVENT: u32 = ioc(IOC_READ, b'V', 89, size_of::<uapi::v4l2_event>());
pub const VIDIOC_SUBSCRIBE_EVENT: u32 = ioc(IOC_WRITE, b'V', 90, size_of::<uapi::v4l2_event_subscription>());
pub const VIDIOC_UNSUBSCRIBE_EVENT: u32 =
    ioc(IOC_WRITE, b'V', 91, size_of::<uapi::v4l2_event_subscription>());
pub const VIDIOC_QBUF: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 15, size_of::<uapi::v4l2_buffer>());
pub const VIDIOC_EXPBUF: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 16, size_of::<uapi::v4l2_exportbuffer>());
/// linux/dma-buf.h: the CPU-access bracket around reads and writes of an exported buffer.
pub const DMA_BUF_IOCTL_SYNC: u32 = ioc(IOC_WRITE, b'b', 0, size_of::<u64>());
pub const VIDIOC_DQBUF: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 17, size_of::<uapi::v4l2_buffer>());
pub const VIDIOC_PREPARE_BUF: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 93, size_of::<uapi::v4l2_buffer>());
pub const VIDIOC_STREAMON: u32 = ioc(IOC_WRITE, b'V', 18, size_of::<i32>());
pub const VIDIOC_STREAMOFF: u32 = ioc(IOC_WRITE, b'V', 19, size_of::<i32>());

/// Linux's `KERNEL_VERSION(6, 12, 117)`: QUERYCAP reports the kernel's version.
pub const LINUX_VERSION_CODE: u32 = (6 << 16) | (12 << 8) | 117;

/// The argument of the EXT_CTRLS ioctls, with the control array already borrowed.
pub struct ExtCtrls<'a> {
    pub header: &'a mut uapi::v4l2_ext_controls,
    pub items: &'a mut [uapi::v4l2_ext_control],
    pub io: &'a mut dyn PayloadIo,
}

pub const VIDIOC_S_EXT_CTRLS: u32 = ioc(IOC_READ | IOC_WRITE, b'V', 72, size_of::<uapi::v4l2_ext_controls>());
pub const VIDIOC_TRY_EXT_CTRLS: u32 =
    ioc(IOC_READ | IOC_WRITE, b'V', 73, size_of::<uapi::v4l2_ext_controls>());

/// An ioctl with its argument already copied in, as the core hands it to a handler.
pub enum Ioctl<'a> {
    QueryCap(&'a mut v4l2_capability),
    EnumFmt(&'a mut v4l2_fmtdesc),
    GFmt(&'a mut v4l2_format),
    SFmt(&'a mut v4l2_format),
    TryFmt(&'a mut v4l2_format),
    EnumFramesizes(&'a mut v4l2_frmsizeenum),
    QueryExtCtrl(&'a mut uapi::v4l2_query_ext_ctrl),
    DecoderCmd(&'a mut uapi::v4l2_decoder_cmd),
    TryDecoderCmd(&'a mut uapi::v4l2_decoder_cmd),
    ReqBufs(&'a mut uapi::v4l2_requestbuffers),
    CreateBufs(&'a mut uapi::v4l2_create_buffers),
    /// QUERYBUF with the planes array userspace passed (already copied in, as the core does).
    QueryBuf(&'a mut uapi::v4l2_buffer, &'a mut [uapi::v4l2_plane]),
    RemoveBufs(&'a mut uapi::v4l2_remove_buffers),
    /// G/S/TRY_EXT_CTRLS: the header, its control array, and the user payload memory.
    GExtCtrls(ExtCtrls<'a>),
    SExtCtrls(ExtCtrls<'a>),
    TryExtCtrls(ExtCtrls<'a>),
}

/// v4l2_m2m_ioctl_stateless_try_decoder_cmd: stateless decoders know only FLUSH, without flags.
pub fn stateless_try_decoder_cmd(dc: &mut uapi::v4l2_decoder_cmd) -> Result {
    if dc.cmd != uapi::V4L2_DEC_CMD_FLUSH {
        return Err(Errno::EINVAL);
    }
    dc.flags = 0;
    Ok(())
}

/// Whether an EXT_CTRLS call stores values (S) or only checks them (TRY).
enum IoctlKind {
    Set,
    Other,
}

fn is_m2m_mplane(buf_type: u32) -> bool {
    buf_type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE || buf_type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
}

/// check_fmt: the buffer type must be one this node has.
fn check_type(buf_type: u32) -> Result {
    if is_m2m_mplane(buf_type) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// Zero what follows the fields userspace may set, as the core's CLEAR_AFTER_FIELD does.
fn clear_pix_mp_reserved(fmt: &mut v4l2_format) {
    // SAFETY: the type was checked to be a multi-planar one, whose union member is pix_mp.
    let pix = unsafe { &mut fmt.fmt.pix_mp };
    // The struct is packed: whole-field assignments, never references into it.
    pix.reserved = Default::default();
    let mut planes = pix.plane_fmt;
    for plane in planes.iter_mut() {
        plane.reserved = Default::default();
    }
    pix.plane_fmt = planes;
}

/// Reset colorimetry values outside their enums to DEFAULT before the driver sees them,
/// as the core does: an unknown colorspace resets all four, the others reset alone.
fn sanitize_colorimetry(fmt: &mut v4l2_format) {
    // SAFETY: the type was checked to be a multi-planar one, whose union member is pix_mp.
    let pix = unsafe { &mut fmt.fmt.pix_mp };
    if !(V4L2_COLORSPACE_SMPTE170M..=V4L2_COLORSPACE_DCI_P3).contains(&{ pix.colorspace }) {
        pix.colorspace = V4L2_COLORSPACE_DEFAULT;
        pix.__bindgen_anon_1.ycbcr_enc = 0;
        pix.quantization = 0;
        pix.xfer_func = 0;
    }
    // SAFETY: ycbcr_enc and hsv_enc are two names of the same u8.
    let enc = unsafe { pix.__bindgen_anon_1.ycbcr_enc } as u32;
    let enc_valid = if is_hsv(pix.pixelformat) {
        enc == V4L2_HSV_ENC_180 || enc == V4L2_HSV_ENC_256
    } else {
        (V4L2_YCBCR_ENC_601..=V4L2_YCBCR_ENC_SMPTE240M).contains(&enc)
    };
    if !enc_valid {
        pix.__bindgen_anon_1.ycbcr_enc = 0;
    }
    if !(V4L2_QUANTIZATION_FULL_RANGE..=V4L2_QUANTIZATION_LIM_RANGE).contains(&(pix.quantization as u32)) {
        pix.quantization = 0;
    }
    if !(V4L2_XFER_FUNC_709..=V4L2_XFER_FUNC_SMPTE2084).contains(&(pix.xfer_func as u32)) {
        pix.xfer_func = 0;
    }
}

fn is_hsv(pixelformat: u32) -> bool {
    pixelformat == crate::format::fourcc(b"HSV3") || pixelformat == crate::format::fourcc(b"HSV4")
}

/// Run one ioctl on a file handle: argument checks, the driver op, then the core's fixups.
pub fn dispatch<O: IoctlOps>(ops: &O, file: &mut O::File, ioctl: Ioctl<'_>) -> Result {
    let ioctl_kind = if matches!(ioctl, Ioctl::SExtCtrls(_)) { IoctlKind::Set } else { IoctlKind::Other };
    match ioctl {
        Ioctl::QueryCap(cap) => {
            *cap = v4l2_capability::default();
            let info = ops.info();
            set_cstr(&mut cap.driver, info.driver);
            set_cstr(&mut cap.card, info.card);
            set_cstr(&mut cap.bus_info, info.bus_info);
            cap.version = LINUX_VERSION_CODE;
            cap.device_caps = info.device_caps | V4L2_CAP_EXT_PIX_FORMAT;
            cap.capabilities = cap.device_caps | V4L2_CAP_DEVICE_CAPS;
            Ok(())
        }
        Ioctl::EnumFmt(desc) => {
            let (index, buf_type, mbus_code) = (desc.index, desc.type_, desc.mbus_code);
            *desc = v4l2_fmtdesc { index, type_: buf_type, mbus_code, ..Default::default() };
            let pixelformat = match buf_type {
                V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE => ops.enum_fmt_vid_out(file, index)?,
                V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE => ops.enum_fmt_vid_cap(file, index)?,
                _ => return Err(Errno::EINVAL),
            };
            desc.pixelformat = pixelformat;
            if let Some((text, flags)) = describe(pixelformat) {
                set_cstr(&mut desc.description, text);
                desc.flags |= flags;
            }
            Ok(())
        }
        Ioctl::GFmt(fmt) | Ioctl::SFmt(fmt) | Ioctl::TryFmt(fmt) if !is_m2m_mplane(fmt.type_) => {
            let _ = fmt;
            Err(Errno::EINVAL)
        }
        Ioctl::GFmt(fmt) => {
            let buf_type = fmt.type_;
            *fmt = v4l2_format { type_: buf_type, ..Default::default() };
            ops.g_fmt(file, fmt)
        }
        Ioctl::SFmt(fmt) => {
            clear_pix_mp_reserved(fmt);
            sanitize_colorimetry(fmt);
            ops.s_fmt(file, fmt)
        }
        Ioctl::TryFmt(fmt) => {
            clear_pix_mp_reserved(fmt);
            sanitize_colorimetry(fmt);
            ops.try_fmt(file, fmt)
        }
        Ioctl::EnumFramesizes(fs) => {
            fs.reserved.fill(0);
            ops.enum_framesizes(file, fs)
        }
        Ioctl::DecoderCmd(dc) => ops.decoder_cmd(file, dc),
        Ioctl::TryDecoderCmd(dc) => ops.try_decoder_cmd(file, dc),
        Ioctl::ReqBufs(req) => {
            check_type(req.type_)?;
            req.reserved = Default::default();
            req.capabilities = V4L2_BUF_CAP_SUPPORTS_REMOVE_BUFS;
            let plan = ops.queue_setup(file, req.type_, None);
            ops.queue(file, req.type_).ok_or(Errno::ENOTTY)?.reqbufs(req, || plan)
        }
        Ioctl::CreateBufs(create) => {
            let buf_type = create.format.type_;
            check_type(buf_type)?;
            create.max_num_buffers = 0;
            create.reserved = Default::default();
            create.capabilities = V4L2_BUF_CAP_SUPPORTS_REMOVE_BUFS;
            // SAFETY: the type was checked to be multi-planar, whose union member is pix_mp.
            let pix = unsafe { create.format.fmt.pix_mp };
            let planes = pix.plane_fmt;
            let requested: [u32; 8] = core::array::from_fn(|i| planes[i].sizeimage);
            let count = usize::from(pix.num_planes).min(requested.len());
            let plan = ops.queue_setup(file, buf_type, Some(&requested[..count]));
            ops.queue(file, buf_type).ok_or(Errno::ENOTTY)?.create_bufs(create, |_| plan)
        }
        Ioctl::QueryBuf(b, planes) => {
            check_type(b.type_)?;
            ops.queue(file, b.type_).ok_or(Errno::ENOTTY)?.querybuf(b, planes)
        }
        Ioctl::RemoveBufs(remove) => {
            remove.reserved = Default::default();
            let queue = ops.queue(file, remove.type_).ok_or(Errno::ENOTTY)?;
            if queue.buf_type != remove.type_ {
                return Err(Errno::EINVAL);
            }
            queue.remove_bufs(remove.index, remove.count)
        }
        Ioctl::QueryExtCtrl(q) => ops.ctrl_handler(file).ok_or(Errno::ENOTTY)?.query_ext_ctrl(q),
        Ioctl::GExtCtrls(ExtCtrls { header, items, io }) => {
            let handler = ops.ctrl_handler(file).ok_or(Errno::ENOTTY)?;
            // SAFETY: `which` and `ctrl_class` are two names of the same u32.
            let which = unsafe { header.__bindgen_anon_1.which };
            handler.g_ext_ctrls(which, &mut header.error_idx, items, io, None)
        }
        Ioctl::SExtCtrls(ExtCtrls { header, items, io })
        | Ioctl::TryExtCtrls(ExtCtrls { header, items, io }) => {
            let set = matches!(ioctl_kind, IoctlKind::Set);
            let handler = ops.ctrl_handler_mut(file).ok_or(Errno::ENOTTY)?;
            // SAFETY: as above.
            let which = unsafe { header.__bindgen_anon_1.which };
            handler.try_set_ext_ctrls(which, &mut header.error_idx, items, io, set, None)
        }
    }
}
