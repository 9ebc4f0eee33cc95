//! rust-visl's job cost through the vdev ABI, next to a plain copy of the same bytes.
//!
//! Usage: `bench WIDTH HEIGHT FOURCC JOBS` (FOURCC NV12 or YU12).  Runs JOBS H.264 jobs
//! with plain QBUF/DQBUF on one file handle (no Python in the loop), then copies the
//! CAPTURE frame size JOBS times, and prints one JSON object with both timings.  The
//! copy is the physical bound: a driver cannot fill a frame faster than memory takes it.

use std::ffi::{c_int, c_ulong, c_void, CString};
use std::hint::black_box;
use std::time::Instant;

use rust_visl::abi::{vdev_close, vdev_ioctl, vdev_open};
use uapi::*;
use v4l2::ioctl::{VIDIOC_DQBUF, VIDIOC_QBUF, VIDIOC_REQBUFS, VIDIOC_STREAMON, VIDIOC_S_FMT};

const O_RDWR: c_int = 2;
const O_NONBLOCK: c_int = 0o4000;

fn ioctl<T>(fd: c_int, request: u32, arg: &mut T) {
    // SAFETY: `arg` is the struct the request number encodes, alive for the call.
    let ret = unsafe { vdev_ioctl(fd, c_ulong::from(request), (arg as *mut T).cast::<c_void>()) };
    assert!(ret >= 0, "ioctl {request:#x} failed: {ret}");
}

fn set_format(fd: c_int, buf_type: u32, width: u32, height: u32, pixelformat: u32) -> u32 {
    let mut fmt = v4l2_format { type_: buf_type, ..Default::default() };
    // SAFETY: the multi-planar member of the union, for a multi-planar type.
    let pix = unsafe { &mut fmt.fmt.pix_mp };
    pix.width = width;
    pix.height = height;
    pix.pixelformat = pixelformat;
    ioctl(fd, VIDIOC_S_FMT, &mut fmt);
    // SAFETY: as above.
    let planes = unsafe { fmt.fmt.pix_mp.plane_fmt };
    planes[0].sizeimage
}

fn buffer(fd: c_int, buf_type: u32, index: u32, request: u32) {
    let mut plane = v4l2_plane { bytesused: 64, ..Default::default() };
    let mut b =
        v4l2_buffer { index, type_: buf_type, memory: V4L2_MEMORY_MMAP, length: 1, ..Default::default() };
    b.m.planes = &mut plane;
    ioctl(fd, request, &mut b);
}

fn fourcc(text: &str) -> u32 {
    let b = text.as_bytes();
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, width, height, format, jobs] = args.as_slice() else {
        eprintln!("usage: bench WIDTH HEIGHT NV12|YU12 JOBS");
        std::process::exit(2);
    };
    let (width, height, jobs): (u32, u32, u32) =
        (width.parse().expect("width"), height.parse().expect("height"), jobs.parse().expect("jobs"));
    let path = CString::new("/dev/video0").expect("no NUL in the path");
    // SAFETY: a NUL-terminated path.
    let fd = unsafe { vdev_open(path.as_ptr(), O_RDWR | O_NONBLOCK) };
    assert!(fd >= 0, "open failed: {fd}");
    let (out, cap) = (V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
    set_format(fd, out, width, height, fourcc("S264"));
    let sizeimage = set_format(fd, cap, width, height, fourcc(format));
    for buf_type in [out, cap] {
        let mut req =
            v4l2_requestbuffers { count: 1, type_: buf_type, memory: V4L2_MEMORY_MMAP, ..Default::default() };
        ioctl(fd, VIDIOC_REQBUFS, &mut req);
    }
    for mut buf_type in [out, cap] {
        ioctl(fd, VIDIOC_STREAMON, &mut buf_type);
    }
    let job = || {
        buffer(fd, cap, 0, VIDIOC_QBUF);
        buffer(fd, out, 0, VIDIOC_QBUF);
        buffer(fd, out, 0, VIDIOC_DQBUF);
        buffer(fd, cap, 0, VIDIOC_DQBUF);
    };
    // One job and one copy before timing, so first-touch page faults count in neither.
    job();
    let started = Instant::now();
    for _ in 0..jobs {
        job();
    }
    let driver_s = started.elapsed().as_secs_f64();
    vdev_close(fd);

    let source = vec![0x5au8; sizeimage as usize];
    let mut dest = vec![0u8; sizeimage as usize];
    dest.copy_from_slice(&source);
    let started = Instant::now();
    for _ in 0..jobs {
        dest.copy_from_slice(black_box(&source));
        black_box(&mut dest);
    }
    let copy_s = started.elapsed().as_secs_f64();
    println!(
        "{{\"width\": {width}, \"height\": {height}, \"format\": \"{format}\", \"jobs\": {jobs}, \
         \"bytes_per_frame\": {sizeimage}, \"driver_s\": {driver_s:.6}, \"copy_s\": {copy_s:.6}, \
         \"driver_fps\": {:.1}, \"copy_fps\": {:.1}, \"ratio_to_copy\": {:.3}}}",
        f64::from(jobs) / driver_s,
        f64::from(jobs) / copy_s,
        driver_s / copy_s
    );
}
