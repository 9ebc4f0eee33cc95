//! The device and its per-open contexts (visl-core.c).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use uapi::*;
use v4l2::ctrls::{Config, Handler};
use v4l2::event::Events;
use v4l2::params::{Param, Value};
use v4l2::vb2::Queue;
use v4l2::DeviceInfo;

use crate::video::{default_capture_format, default_output_format, tpg_for};

/// The trace systems visl registers, in the order of its coded formats.
pub const TRACE_SYSTEMS: [&str; 7] = [
    "visl_fwht_controls",
    "visl_mpeg2_controls",
    "visl_vp8_controls",
    "visl_vp9_controls",
    "visl_h264_controls",
    "visl_hevc_controls",
    "visl_av1_controls",
];

/// The device's trace events as tracefs offers them: which systems are enabled and the
/// text trace_pipe has not handed out yet.
#[derive(Default)]
pub struct TraceLog {
    pub enabled: [bool; 7],
    pub pipe: VecDeque<u8>,
}

/// The device: one instance per probe, shared by every open file handle.
pub struct Visl {
    pub params: [Param; 8],
    pub trace: TraceLog,
    /// debugfs `visl/bitstream/bitstream<N>`, by N (the OUTPUT sequence of the job).
    pub bitstreams: BTreeMap<i32, Vec<u8>>,
    /// Milliseconds the jobs that just ran asked to take (visl_transtime_ms): the platform
    /// sleeps them off before the call returns, as usleep_range does inside the job.
    pub pending_delay_ms: u64,
}

impl Default for Visl {
    fn default() -> Self {
        Visl {
            params: crate::params::defaults(),
            trace: TraceLog::default(),
            bitstreams: BTreeMap::new(),
            pending_delay_ms: 0,
        }
    }
}

impl Visl {
    /// What QUERYCAP reports; a drop-in replacement must keep visl's names.
    pub fn device_info() -> DeviceInfo {
        DeviceInfo {
            driver: "visl",
            card: "visl",
            bus_info: "platform:visl",
            device_caps: V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING,
        }
    }

    /// A new decoding context, as each `open()` of the video node creates one.
    pub fn open(&self) -> Context {
        // The list holds only standard stateless ids, each with a definition, so building
        // the handler cannot fail.
        let handler = Handler::new(&CONTROLS).expect("every visl control has a standard definition");
        let decoded = default_capture_format();
        Context {
            coded: default_output_format(),
            tpg: tpg_for(&decoded),
            decoded,
            out_sequence: 0,
            cap_sequence: 0,
            handler,
            events: Events::default(),
            // OUTPUT takes requests and may hold CAPTURE buffers across slices; m2m reports
            // CAPTURE offsets above DST_QUEUE_OFF_BASE.
            output: Queue::new(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, true, true, 0),
            capture: Queue::new(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, false, false, DST_QUEUE_OFF_BASE),
        }
    }

    /// A parameter's value as the driver reads the C variable (bools as 0/1).
    pub fn param(&self, name: &str) -> i64 {
        match self.params.iter().find(|p| p.name == name).map(|p| p.value) {
            Some(Value::Uint(v)) => i64::from(v),
            Some(Value::Int(v)) => i64::from(v),
            Some(Value::Bool(v)) => i64::from(v),
            None => 0,
        }
    }
}

/// Every control of every codec, in one handler per open (visl-core.c's control tables).
const CONTROLS: [Config; 27] = [
    Config::std(V4L2_CID_STATELESS_FWHT_PARAMS),
    Config::std(V4L2_CID_STATELESS_MPEG2_SEQUENCE),
    Config::std(V4L2_CID_STATELESS_MPEG2_PICTURE),
    Config::std(V4L2_CID_STATELESS_MPEG2_QUANTISATION),
    Config::std(V4L2_CID_STATELESS_VP8_FRAME),
    Config::std(V4L2_CID_STATELESS_VP9_FRAME),
    Config::std(V4L2_CID_STATELESS_VP9_COMPRESSED_HDR),
    Config::std(V4L2_CID_STATELESS_H264_DECODE_PARAMS),
    Config::std(V4L2_CID_STATELESS_H264_SPS),
    Config::std(V4L2_CID_STATELESS_H264_PPS),
    Config::std(V4L2_CID_STATELESS_H264_SCALING_MATRIX),
    Config::std(V4L2_CID_STATELESS_H264_DECODE_MODE),
    Config::std(V4L2_CID_STATELESS_H264_START_CODE),
    Config::std(V4L2_CID_STATELESS_H264_SLICE_PARAMS),
    Config::std(V4L2_CID_STATELESS_H264_PRED_WEIGHTS),
    Config::std(V4L2_CID_STATELESS_HEVC_SPS),
    Config::std(V4L2_CID_STATELESS_HEVC_PPS),
    Config::dynamic(V4L2_CID_STATELESS_HEVC_SLICE_PARAMS, 600),
    Config::std(V4L2_CID_STATELESS_HEVC_SCALING_MATRIX),
    Config::std(V4L2_CID_STATELESS_HEVC_DECODE_PARAMS),
    Config::std(V4L2_CID_STATELESS_HEVC_DECODE_MODE),
    Config::std(V4L2_CID_STATELESS_HEVC_START_CODE),
    Config::dynamic(V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS, 256),
    Config::std(V4L2_CID_STATELESS_AV1_FRAME),
    Config::dynamic(V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY, 512),
    Config::std(V4L2_CID_STATELESS_AV1_SEQUENCE),
    Config::std(V4L2_CID_STATELESS_AV1_FILM_GRAIN),
];

/// Per-open state: the formats negotiated on this file handle and its controls.
pub struct Context {
    pub(crate) coded: v4l2_pix_format_mplane,
    pub(crate) decoded: v4l2_pix_format_mplane,
    pub(crate) handler: Handler,
    pub(crate) output: Queue,
    pub(crate) capture: Queue,
    /// The pattern generator, set up from the CAPTURE format as it was at the last TPG init.
    pub(crate) tpg: tpg::Tpg,
    /// The queues' sequence counters (q_data[].sequence), reset at each STREAMON.
    pub(crate) out_sequence: u32,
    pub(crate) cap_sequence: u32,
    /// The file handle's subscriptions and pending events.
    pub(crate) events: Events,
}

/// v4l2-mem2mem tells CAPTURE mmap offsets from OUTPUT ones by this bit.
pub const DST_QUEUE_OFF_BASE: u32 = 1 << 30;

impl Context {
    /// The handle's events and the handler they describe.
    pub fn events(&mut self) -> (&mut Events, &Handler) {
        (&mut self.events, &self.handler)
    }

    /// Control events for every value the last S_EXT_CTRLS or request changed.
    pub fn send_control_events(&mut self, by_this_handle: bool) {
        for id in core::mem::take(&mut self.handler.changed) {
            self.events.control_changed(&self.handler, id, by_this_handle);
        }
    }

    /// The queue an mmap offset cookie belongs to, and the offset within it.
    pub fn queue_for_offset(&mut self, offset: u32) -> (&mut Queue, u32) {
        if offset >= DST_QUEUE_OFF_BASE {
            (&mut self.capture, offset - DST_QUEUE_OFF_BASE)
        } else {
            (&mut self.output, offset)
        }
    }

    /// The queue of `buf_type`, as v4l2_m2m_get_vq picks it (OUTPUT types or CAPTURE).
    pub fn queue_mut(&mut self, buf_type: u32) -> &mut Queue {
        if buf_type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE || buf_type == V4L2_BUF_TYPE_VIDEO_OUTPUT {
            &mut self.output
        } else {
            &mut self.capture
        }
    }
}
