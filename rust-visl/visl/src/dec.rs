//! The decoding job (visl-dec.c): per job, the request's controls applied, metadata
//! copied, the CAPTURE frame drawn as a test pattern with text, trace events emitted
//! and the bitstream dumped, then both buffers returned.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use uapi::*;
use v4l2::ctrls::{load, Handler};
use v4l2::format::{
    V4L2_PIX_FMT_AV1_FRAME, V4L2_PIX_FMT_FWHT_STATELESS, V4L2_PIX_FMT_H264_SLICE, V4L2_PIX_FMT_HEVC_SLICE,
    V4L2_PIX_FMT_MPEG2_SLICE, V4L2_PIX_FMT_VP8_FRAME, V4L2_PIX_FMT_VP9_FRAME,
};
use v4l2::m2m::buf_done_and_job_finish;
use v4l2::request::{Owner, Requests};
use v4l2::vb2::{BufState, Queue};

use crate::core::{Context, Visl, TRACE_SYSTEMS};
use crate::trace::{job_events, CtrlSource};
use crate::video::CODED_FORMATS;

const LINE_HEIGHT: u32 = 16;
const TEXT_X: u32 = 16;
/// visl's text buffer (TPG_STR_BUF_SZ); the reference-frame lines share it.
const TEXT_BUFFER_SIZE: usize = 2048;

/// The frame flags an m2m metadata copy carries from OUTPUT to CAPTURE.
const COPIED_FLAGS: u32 = V4L2_BUF_FLAG_TIMECODE
    | V4L2_BUF_FLAG_TSTAMP_SRC_MASK
    | V4L2_BUF_FLAG_KEYFRAME
    | V4L2_BUF_FLAG_PFRAME
    | V4L2_BUF_FLAG_BFRAME;

struct Controls<'a>(&'a Handler);

impl CtrlSource for Controls<'_> {
    fn payload(&self, id: u32) -> &[u8] {
        self.0.payload(id)
    }
}

impl Controls<'_> {
    fn get<T: Copy + Default>(&self, id: u32) -> T {
        load(self.0.payload(id))
    }
}

fn fourcc(code: u32) -> String {
    code.to_le_bytes().iter().map(|&b| char::from(b)).collect()
}

/// `%c%c%c%c, resolution: %dx%d, num_planes: %d` and the plane lines of one format.
fn format_lines(label: &str, pix: &v4l2_pix_format_mplane) -> Vec<String> {
    let planes = pix.plane_fmt;
    // CAST: the kernel prints these u32 with %d.
    let mut lines = alloc::vec![format!(
        "{label} pixelformat: {}, resolution: {}x{}, num_planes: {}",
        fourcc(pix.pixelformat),
        pix.width as i32,
        pix.height as i32,
        pix.num_planes
    )];
    for (i, plane) in planes.iter().take(usize::from(pix.num_planes)).enumerate() {
        lines.push(format!(
            "plane[{i}]: bytesperline: {}, sizeimage: {}",
            plane.bytesperline as i32, plane.sizeimage as i32
        ));
    }
    lines
}

/// The index of a CAPTURE buffer whose copied timestamp is `ts` (vb2_find_buffer).
fn find_capture(capture: &Queue, ts: u64) -> Option<u32> {
    capture.bufs.iter().flatten().find(|b| b.copied_timestamp && b.timestamp_ns == ts).map(|b| b.index)
}

/// visl_get_ref_frames: `Reference frames:` and one line per reference of the codec.
fn reference_lines(codec: u32, ctrls: &Controls<'_>, capture: &Queue, verbose: bool) -> String {
    let mut text = String::from("Reference frames:\n");
    let mut named = |name: &str, ts: u64| {
        // CAST: %lld of a u64 timestamp.
        let _ = match find_capture(capture, ts) {
            Some(index) if verbose => writeln!(text, "{name}: {}, vb2_idx: {index}", ts as i64),
            _ => writeln!(text, "{name}: {}", ts as i64),
        };
    };
    match codec {
        V4L2_PIX_FMT_FWHT_STATELESS => {
            let params: v4l2_ctrl_fwht_params = ctrls.get(V4L2_CID_STATELESS_FWHT_PARAMS);
            named("backwards_ref_ts", params.backward_ref_ts);
        }
        V4L2_PIX_FMT_MPEG2_SLICE => {
            let pic: v4l2_ctrl_mpeg2_picture = ctrls.get(V4L2_CID_STATELESS_MPEG2_PICTURE);
            named("backward_ref_ts", pic.backward_ref_ts);
            named("forward_ref_ts", pic.forward_ref_ts);
        }
        V4L2_PIX_FMT_VP8_FRAME => {
            let frame: v4l2_ctrl_vp8_frame = ctrls.get(V4L2_CID_STATELESS_VP8_FRAME);
            named("last_ref_ts", frame.last_frame_ts);
            named("golden_ref_ts", frame.golden_frame_ts);
            named("alt_ref_ts", frame.alt_frame_ts);
        }
        V4L2_PIX_FMT_VP9_FRAME => {
            let frame: v4l2_ctrl_vp9_frame = ctrls.get(V4L2_CID_STATELESS_VP9_FRAME);
            named("last_ref_ts", frame.last_frame_ts);
            named("golden_ref_ts", frame.golden_frame_ts);
            named("alt_ref_ts", frame.alt_frame_ts);
        }
        V4L2_PIX_FMT_H264_SLICE => {
            let params: v4l2_ctrl_h264_decode_params = ctrls.get(V4L2_CID_STATELESS_H264_DECODE_PARAMS);
            let dpb = params.dpb;
            dpb_lines(&mut text, dpb.iter().map(|e| e.reference_ts), capture, verbose);
        }
        V4L2_PIX_FMT_HEVC_SLICE => {
            let params: v4l2_ctrl_hevc_decode_params = ctrls.get(V4L2_CID_STATELESS_HEVC_DECODE_PARAMS);
            let dpb = params.dpb;
            dpb_lines(&mut text, dpb.iter().map(|e| e.timestamp), capture, verbose);
        }
        V4L2_PIX_FMT_AV1_FRAME => {
            let frame: v4l2_ctrl_av1_frame = ctrls.get(V4L2_CID_STATELESS_AV1_FRAME);
            let names = [
                "ref_last_ts",
                "ref_last2_ts",
                "ref_last3_ts",
                "ref_golden_ts",
                "ref_bwd_ts",
                "ref_alt2_ts",
                "ref_alt_ts",
            ];
            let (refs, idx) = (frame.reference_frame_ts, frame.ref_frame_idx);
            for (name, &slot) in names.iter().zip(idx.iter()) {
                // Upstream reads out of bounds for an index outside 0..8 (a known defect);
                // rust-visl prints 0 instead.
                let ts = usize::try_from(slot).ok().and_then(|i| refs.get(i)).copied().unwrap_or(0);
                named(name, ts);
            }
        }
        _ => {}
    }
    text.truncate(TEXT_BUFFER_SIZE - 1);
    text
}

fn dpb_lines(text: &mut String, timestamps: impl Iterator<Item = u64>, capture: &Queue, verbose: bool) {
    for (i, ts) in timestamps.enumerate() {
        // CAST: visl prints the u64 with %u, i.e. its low 32 bits.
        let low = ts as u32;
        let _ = match find_capture(capture, ts) {
            Some(index) if verbose => writeln!(text, "dpb[{i}]:{low}, vb2_index: {index}"),
            _ => writeln!(text, "dpb[{i}]:{low}"),
        };
    }
}

fn state_name(state: BufState) -> &'static str {
    match state {
        BufState::Dequeued => "Dequeued",
        BufState::InRequest => "In request",
        BufState::Preparing => "Preparing",
        BufState::Queued => "Queued",
        BufState::Active => "Active",
        BufState::Done => "Done",
        BufState::Error => "Error",
    }
}

/// The text lines of one frame (visl_tpg_fill); `None` is a line left blank.
fn frame_text(ctx: &Context, src: u32, dst: u32, verbose: bool) -> Vec<Option<String>> {
    let ctrls = Controls(&ctx.handler);
    let codec = ctx.coded.pixelformat;
    let mut lines = Vec::new();
    let Some(dst_buf) = ctx.capture.bufs.get(dst as usize).and_then(Option::as_ref) else {
        return lines;
    };
    let prefix = if verbose { "stream time: 00:00:00:000 " } else { "" };
    // CAST: %lld of the u64 timestamp.
    lines.push(Some(format!(
        "{prefix}sequence:{} timestamp:{} field:none",
        dst_buf.sequence, dst_buf.timestamp_ns as i64
    )));
    lines.push(None);
    let codec_line = match codec {
        V4L2_PIX_FMT_H264_SLICE => {
            let params: v4l2_ctrl_h264_decode_params = ctrls.get(V4L2_CID_STATELESS_H264_DECODE_PARAMS);
            Some(format!("H264: {}", { params.pic_order_cnt_lsb }))
        }
        V4L2_PIX_FMT_HEVC_SLICE => {
            let params: v4l2_ctrl_hevc_decode_params = ctrls.get(V4L2_CID_STATELESS_HEVC_DECODE_PARAMS);
            Some(format!("HEVC: {}", { params.pic_order_cnt_val }))
        }
        _ => None,
    };
    if let Some(line) = codec_line {
        lines.push(Some(line));
        lines.push(None);
    }
    let refs = reference_lines(codec, &ctrls, &ctx.capture, verbose);
    // strsep up to the first empty line, as visl walks its buffer.
    for line in refs.split('\n').take_while(|l| !l.is_empty()) {
        lines.push(Some(String::from(line)));
    }
    lines.push(None);
    lines.extend(format_lines("OUTPUT", &ctx.coded).into_iter().map(Some));
    if verbose {
        lines.push(None);
        lines.push(Some(String::from("Output queue status:")));
        for b in ctx.output.bufs.iter().flatten() {
            let plane = b.planes.first();
            let (used, length, offset) =
                plane.map(|p| (p.bytesused, p.length, p.data_offset)).unwrap_or_default();
            lines.push(Some(format!(
                "index: {}, state: {}, request_fd: {}, bytesused[0]: {used} length[0]: {length} data_offset[0]: {offset}",
                b.index,
                state_name(b.state),
                b.request_fd
            )));
        }
    }
    lines.push(None);
    lines.extend(format_lines("CAPTURE", &ctx.decoded).into_iter().map(Some));
    if verbose {
        lines.push(None);
        lines.push(Some(String::from("Capture queue status:")));
        for b in ctx.capture.bufs.iter().flatten() {
            lines.push(Some(format!(
                "index: {}, status: {}, timestamp: {}, is_held: {}",
                b.index,
                state_name(b.state),
                b.timestamp_ns,
                i32::from(b.is_held)
            )));
        }
    }
    let _ = src;
    lines
}

/// The trace system of a coded format.
fn trace_system(codec: u32) -> Option<usize> {
    CODED_FORMATS.iter().position(|f| f.pixelformat == codec)
}

/// visl_device_run for the job at the front of both ready queues.
pub fn device_run(dev: &mut Visl, ctx: &mut Context, owner: Owner, requests: &mut Requests) {
    let (Some(&src), Some(&dst)) = (ctx.output.rdy.front(), ctx.capture.rdy.front()) else {
        return;
    };
    let request = ctx.output.bufs.get(src as usize).and_then(Option::as_ref).and_then(|b| b.request);
    if let Some(id) = request {
        let pending =
            requests.get(id).ok().and_then(|r| r.ctrls.iter().find(|c| c.owner == owner && !c.completed));
        if let Some(object) = pending {
            ctx.handler.apply(object);
            ctx.send_control_events(false);
        }
    }
    let (Some(Some(src_buf)), Some(Some(dst_buf))) =
        (ctx.output.bufs.get_mut(src as usize), ctx.capture.bufs.get_mut(dst as usize))
    else {
        return;
    };
    dst_buf.timestamp_ns = src_buf.timestamp_ns;
    if src_buf.flags & V4L2_BUF_FLAG_TIMECODE != 0 {
        dst_buf.timecode = src_buf.timecode;
    }
    dst_buf.flags = (dst_buf.flags & !COPIED_FLAGS) | (src_buf.flags & COPIED_FLAGS);
    dst_buf.copied_timestamp = true;
    dst_buf.sequence = ctx.cap_sequence;
    ctx.cap_sequence = ctx.cap_sequence.wrapping_add(1);
    src_buf.sequence = ctx.out_sequence;
    ctx.out_sequence = ctx.out_sequence.wrapping_add(1);
    dst_buf.field = ctx.decoded.field;
    let (dst_sequence, src_sequence) = (dst_buf.sequence, src_buf.sequence);

    let verbose = dev.param("tpg_verbose") != 0;
    let lines = frame_text(ctx, src, dst, verbose);
    if let Some(Some(dst_buf)) = ctx.capture.bufs.get_mut(dst as usize) {
        if let Some(plane) = dst_buf.planes.first_mut() {
            ctx.tpg.fill(&mut plane.mem);
            for (line, text) in (1u32..).zip(&lines) {
                if let Some(text) = text {
                    ctx.tpg.text(&mut plane.mem, line * LINE_HEIGHT, TEXT_X, text.as_bytes());
                }
            }
        }
    }

    let codec = ctx.coded.pixelformat;
    if let Some(system) = trace_system(codec) {
        if dev.trace.enabled[system] {
            for event in job_events(codec, &Controls(&ctx.handler)) {
                let record = format!("{}: {}\n", event.name, event.payload);
                dev.trace.pipe.extend(record.as_bytes());
            }
        }
    }
    let _ = TRACE_SYSTEMS;

    let start = dev.param("bitstream_trace_frame_start");
    let count = dev.param("bitstream_trace_nframes");
    let sequence = i64::from(dst_sequence);
    if start > -1 && sequence >= start && sequence < start + count {
        // CAST: the name prints the u32 sequence with %d.
        let name = src_sequence as i32;
        if let Some(Some(src_buf)) = ctx.output.bufs.get(src as usize) {
            if let Some(plane) = src_buf.planes.first() {
                let used = (plane.bytesused as usize).min(plane.mem.len());
                dev.bitstreams.entry(name).or_insert_with(|| plane.mem[..used].to_vec());
            }
        }
    }

    if let Some(id) = request {
        let handler = &ctx.handler;
        requests.complete_ctrls(id, owner, handler.controls.len(), &|slot| handler.current(slot));
    }
    // CAST: the parameter is a u32.
    dev.pending_delay_ms += dev.param("visl_transtime_ms") as u64;
    let _ = buf_done_and_job_finish(&mut ctx.output, &mut ctx.capture, owner, requests);
}
