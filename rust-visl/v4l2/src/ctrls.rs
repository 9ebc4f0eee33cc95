//! The control framework (v4l2-ctrls-core.c, -defs.c, -api.c): standard definitions,
//! the compound defaults the core initialises, a per-file handler, QUERY_EXT_CTRL and
//! G_EXT_CTRLS.  Setting controls (S/TRY_EXT_CTRLS with the core's validation) comes next;
//! until then those ioctls answer ENOTTY.

use alloc::vec;
use alloc::vec::Vec;
use core::mem::size_of;

use uapi::*;

use crate::error::{Errno, Result};
use crate::format::set_cchars;

/// What kind of value a control holds.
#[derive(Clone, Copy)]
pub enum Kind {
    /// The class control the core adds for every class in a handler.
    Class,
    Menu {
        max: i64,
        default: i64,
    },
    /// A struct payload of `size` bytes, `init` writing the core's default into it.
    Compound {
        ctrl_type: u32,
        size: usize,
        init: fn(&mut [u8]),
    },
    U32 {
        min: i64,
        max: i64,
        step: u64,
    },
}

/// A standard control: the kernel's name, type and limits for one control id.
#[derive(Clone, Copy)]
pub struct Definition {
    pub id: u32,
    pub name: &'static str,
    pub kind: Kind,
}

/// A control a driver asks for, with what it adds to the standard definition
/// (the fields of `struct v4l2_ctrl_config` a driver may set).
#[derive(Clone, Copy)]
pub struct Config {
    pub id: u32,
    /// Maximum element count of a dynamic array control.
    pub dynamic_array: Option<u32>,
}

impl Config {
    pub const fn std(id: u32) -> Self {
        Config { id, dynamic_array: None }
    }
    pub const fn dynamic(id: u32, max_elems: u32) -> Self {
        Config { id, dynamic_array: Some(max_elems) }
    }
}

fn zeroed(_: &mut [u8]) {}

/// Copy a default struct into a payload buffer of its size.
fn store<T: Copy>(payload: &mut [u8], value: &T) {
    // SAFETY: T is a plain-old-data UAPI struct of size_of::<T>() bytes; reading its bytes
    // is sound, and the payload was allocated with exactly that size.
    let bytes = unsafe { core::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()) };
    payload.copy_from_slice(bytes);
}

fn init_h264_scaling_matrix(payload: &mut [u8]) {
    // Flat 16: the scaling lists that leave coefficients unscaled.
    payload.fill(16);
}

fn init_fwht_params(payload: &mut [u8]) {
    let params = v4l2_ctrl_fwht_params {
        version: V4L2_FWHT_VERSION,
        width: 1280,
        height: 720,
        flags: V4L2_FWHT_FL_PIXENC_YUV | (2 << V4L2_FWHT_FL_COMPONENTS_NUM_OFFSET),
        ..Default::default()
    };
    store(payload, &params);
}

fn init_vp8_frame(payload: &mut [u8]) {
    store(payload, &v4l2_ctrl_vp8_frame { num_dct_parts: 1, ..Default::default() });
}

fn init_mpeg2_sequence(payload: &mut [u8]) {
    // 4:2:0
    store(payload, &v4l2_ctrl_mpeg2_sequence { chroma_format: 1, ..Default::default() });
}

fn init_mpeg2_picture(payload: &mut [u8]) {
    let picture = v4l2_ctrl_mpeg2_picture {
        // CAST: both enumerators fit the u8 fields.
        picture_coding_type: V4L2_MPEG2_PIC_CODING_TYPE_I as u8,
        picture_structure: V4L2_MPEG2_PIC_TOP_FIELD as u8,
        ..Default::default()
    };
    store(payload, &picture);
}

/// ISO/IEC 13818-2 §6.3.11: the default intra quantiser matrix, in zigzag scan order.
const MPEG2_DEFAULT_INTRA: [u8; 64] = [
    8, 16, 16, 19, 16, 19, 22, 22, 22, 22, 22, 22, 26, 24, 26, 27, 27, 27, 26, 26, 26, 26, 27, 27, 27, 29,
    29, 29, 34, 34, 34, 29, 29, 29, 27, 27, 29, 29, 32, 32, 34, 34, 37, 38, 37, 35, 35, 34, 35, 38, 38, 40,
    40, 40, 48, 48, 46, 46, 56, 56, 58, 69, 69, 83,
];

fn init_mpeg2_quantisation(payload: &mut [u8]) {
    // Non-intra default is flat 16; the chroma matrices stay zero (not loaded).
    let quant = v4l2_ctrl_mpeg2_quantisation {
        intra_quantiser_matrix: MPEG2_DEFAULT_INTRA,
        non_intra_quantiser_matrix: [16; 64],
        ..Default::default()
    };
    store(payload, &quant);
}

fn init_vp9_frame(payload: &mut [u8]) {
    let frame = v4l2_ctrl_vp9_frame {
        bit_depth: 8,
        flags: V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING | V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING,
        ..Default::default()
    };
    store(payload, &frame);
}

fn init_av1_sequence(payload: &mut [u8]) {
    store(payload, &v4l2_ctrl_av1_sequence { bit_depth: 8, ..Default::default() });
}

const fn compound<T>(ctrl_type: u32, init: fn(&mut [u8])) -> Kind {
    Kind::Compound { ctrl_type, size: size_of::<T>(), init }
}

const fn def(id: u32, name: &'static str, kind: Kind) -> Definition {
    Definition { id, name, kind }
}

/// The standard stateless-codec controls (v4l2-ctrls-defs.c names and types).
pub const STATELESS_DEFINITIONS: &[Definition] = &[
    def(V4L2_CID_CODEC_STATELESS_CLASS, "Stateless Codec Controls", Kind::Class),
    def(V4L2_CID_STATELESS_H264_DECODE_MODE, "H264 Decode Mode", Kind::Menu { max: 1, default: 0 }),
    def(V4L2_CID_STATELESS_H264_START_CODE, "H264 Start Code", Kind::Menu { max: 1, default: 0 }),
    def(
        V4L2_CID_STATELESS_H264_SPS,
        "H264 Sequence Parameter Set",
        compound::<v4l2_ctrl_h264_sps>(V4L2_CTRL_TYPE_H264_SPS, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_H264_PPS,
        "H264 Picture Parameter Set",
        compound::<v4l2_ctrl_h264_pps>(V4L2_CTRL_TYPE_H264_PPS, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_H264_SCALING_MATRIX,
        "H264 Scaling Matrix",
        compound::<v4l2_ctrl_h264_scaling_matrix>(
            V4L2_CTRL_TYPE_H264_SCALING_MATRIX,
            init_h264_scaling_matrix,
        ),
    ),
    def(
        V4L2_CID_STATELESS_H264_PRED_WEIGHTS,
        "H264 Prediction Weight Table",
        compound::<v4l2_ctrl_h264_pred_weights>(V4L2_CTRL_TYPE_H264_PRED_WEIGHTS, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_H264_SLICE_PARAMS,
        "H264 Slice Parameters",
        compound::<v4l2_ctrl_h264_slice_params>(V4L2_CTRL_TYPE_H264_SLICE_PARAMS, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_H264_DECODE_PARAMS,
        "H264 Decode Parameters",
        compound::<v4l2_ctrl_h264_decode_params>(V4L2_CTRL_TYPE_H264_DECODE_PARAMS, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_FWHT_PARAMS,
        "FWHT Stateless Parameters",
        compound::<v4l2_ctrl_fwht_params>(V4L2_CTRL_TYPE_FWHT_PARAMS, init_fwht_params),
    ),
    def(
        V4L2_CID_STATELESS_VP8_FRAME,
        "VP8 Frame Parameters",
        compound::<v4l2_ctrl_vp8_frame>(V4L2_CTRL_TYPE_VP8_FRAME, init_vp8_frame),
    ),
    def(
        V4L2_CID_STATELESS_MPEG2_SEQUENCE,
        "MPEG-2 Sequence Header",
        compound::<v4l2_ctrl_mpeg2_sequence>(V4L2_CTRL_TYPE_MPEG2_SEQUENCE, init_mpeg2_sequence),
    ),
    def(
        V4L2_CID_STATELESS_MPEG2_PICTURE,
        "MPEG-2 Picture Header",
        compound::<v4l2_ctrl_mpeg2_picture>(V4L2_CTRL_TYPE_MPEG2_PICTURE, init_mpeg2_picture),
    ),
    def(
        V4L2_CID_STATELESS_MPEG2_QUANTISATION,
        "MPEG-2 Quantisation Matrices",
        compound::<v4l2_ctrl_mpeg2_quantisation>(V4L2_CTRL_TYPE_MPEG2_QUANTISATION, init_mpeg2_quantisation),
    ),
    def(
        V4L2_CID_STATELESS_VP9_FRAME,
        "VP9 Frame Decode Parameters",
        compound::<v4l2_ctrl_vp9_frame>(V4L2_CTRL_TYPE_VP9_FRAME, init_vp9_frame),
    ),
    def(
        V4L2_CID_STATELESS_VP9_COMPRESSED_HDR,
        "VP9 Probabilities Updates",
        compound::<v4l2_ctrl_vp9_compressed_hdr>(V4L2_CTRL_TYPE_VP9_COMPRESSED_HDR, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_HEVC_SPS,
        "HEVC Sequence Parameter Set",
        compound::<v4l2_ctrl_hevc_sps>(V4L2_CTRL_TYPE_HEVC_SPS, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_HEVC_PPS,
        "HEVC Picture Parameter Set",
        compound::<v4l2_ctrl_hevc_pps>(V4L2_CTRL_TYPE_HEVC_PPS, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_HEVC_SLICE_PARAMS,
        "HEVC Slice Parameters",
        compound::<v4l2_ctrl_hevc_slice_params>(V4L2_CTRL_TYPE_HEVC_SLICE_PARAMS, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_HEVC_SCALING_MATRIX,
        "HEVC Scaling Matrix",
        compound::<v4l2_ctrl_hevc_scaling_matrix>(V4L2_CTRL_TYPE_HEVC_SCALING_MATRIX, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_HEVC_DECODE_PARAMS,
        "HEVC Decode Parameters",
        compound::<v4l2_ctrl_hevc_decode_params>(V4L2_CTRL_TYPE_HEVC_DECODE_PARAMS, zeroed),
    ),
    def(V4L2_CID_STATELESS_HEVC_DECODE_MODE, "HEVC Decode Mode", Kind::Menu { max: 1, default: 0 }),
    def(V4L2_CID_STATELESS_HEVC_START_CODE, "HEVC Start Code", Kind::Menu { max: 1, default: 0 }),
    def(
        V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS,
        "HEVC Entry Point Offsets",
        Kind::U32 { min: 0, max: u32::MAX as i64, step: 1 },
    ),
    def(
        V4L2_CID_STATELESS_AV1_SEQUENCE,
        "AV1 Sequence Parameters",
        compound::<v4l2_ctrl_av1_sequence>(V4L2_CTRL_TYPE_AV1_SEQUENCE, init_av1_sequence),
    ),
    def(
        V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY,
        "AV1 Tile Group Entry",
        compound::<v4l2_ctrl_av1_tile_group_entry>(V4L2_CTRL_TYPE_AV1_TILE_GROUP_ENTRY, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_AV1_FRAME,
        "AV1 Frame Parameters",
        compound::<v4l2_ctrl_av1_frame>(V4L2_CTRL_TYPE_AV1_FRAME, zeroed),
    ),
    def(
        V4L2_CID_STATELESS_AV1_FILM_GRAIN,
        "AV1 Film Grain",
        compound::<v4l2_ctrl_av1_film_grain>(V4L2_CTRL_TYPE_AV1_FILM_GRAIN, zeroed),
    ),
];

fn definition(id: u32) -> Option<&'static Definition> {
    STATELESS_DEFINITIONS.iter().find(|d| d.id == id)
}

/// One control in a handler: its definition, configuration and current value.
pub struct Control {
    pub def: &'static Definition,
    pub config: Config,
    /// The current value: the payload of a compound or array control, else the number.
    pub value: Value,
}

/// A control's current value.
pub enum Value {
    Int(i64),
    Payload { bytes: Vec<u8>, elems: u32 },
    None,
}

impl Control {
    fn elem_size(&self) -> u32 {
        // CAST: UAPI structs are well below 4 GiB.
        match self.def.kind {
            Kind::Compound { size, .. } => size as u32,
            Kind::U32 { .. } | Kind::Menu { .. } | Kind::Class => 4,
        }
    }

    fn default_value(&self) -> Value {
        match self.def.kind {
            Kind::Class => Value::None,
            Kind::Menu { default, .. } => Value::Int(default),
            Kind::Compound { size, init, .. } => {
                let mut bytes = vec![0; size];
                init(&mut bytes);
                Value::Payload { bytes, elems: 1 }
            }
            Kind::U32 { .. } => Value::Payload { bytes: vec![0; 4], elems: 1 },
        }
    }

    fn flags(&self) -> u32 {
        let mut flags = match self.def.kind {
            Kind::Class => V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_WRITE_ONLY,
            Kind::Menu { .. } => 0,
            Kind::Compound { .. } | Kind::U32 { .. } => V4L2_CTRL_FLAG_HAS_PAYLOAD,
        };
        if self.config.dynamic_array.is_some() {
            flags |= V4L2_CTRL_FLAG_DYNAMIC_ARRAY | V4L2_CTRL_FLAG_HAS_PAYLOAD;
        }
        flags
    }

    fn query(&self, q: &mut v4l2_query_ext_ctrl) {
        *q = v4l2_query_ext_ctrl { id: self.def.id, ..Default::default() };
        set_cchars(&mut q.name, self.def.name);
        q.flags = self.flags();
        q.elem_size = self.elem_size();
        q.elems = match &self.value {
            Value::Payload { elems, .. } => *elems,
            _ => 1,
        };
        if let Some(max) = self.config.dynamic_array {
            q.nr_of_dims = 1;
            q.dims[0] = max;
        }
        match self.def.kind {
            Kind::Class => q.type_ = V4L2_CTRL_TYPE_CTRL_CLASS,
            Kind::Menu { max, default } => {
                q.type_ = V4L2_CTRL_TYPE_MENU;
                (q.maximum, q.step, q.default_value) = (max, 1, default);
            }
            Kind::Compound { ctrl_type, .. } => q.type_ = ctrl_type,
            Kind::U32 { min, max, step } => {
                q.type_ = V4L2_CTRL_TYPE_U32;
                (q.minimum, q.maximum, q.step) = (min, max, step);
            }
        }
    }
}

/// The controls of one file handle (`struct v4l2_ctrl_handler`), sorted by id.
pub struct Handler {
    pub controls: Vec<Control>,
}

/// Writes a payload to the memory a `v4l2_ext_control` points at (the edge owns pointers).
pub trait PayloadSink {
    fn write(&mut self, ctrl: &v4l2_ext_control, bytes: &[u8]) -> Result;
}

impl Handler {
    /// A handler with `configs` and, as the core adds them, the class control of their class.
    pub fn new(configs: &[Config]) -> Result<Self> {
        let mut controls = Vec::new();
        let mut ids: Vec<Config> = configs.to_vec();
        ids.push(Config::std(V4L2_CID_CODEC_STATELESS_CLASS));
        ids.sort_by_key(|c| c.id);
        for config in ids {
            let def = definition(config.id).ok_or(Errno::EINVAL)?;
            let mut control = Control { def, config, value: Value::None };
            control.value = control.default_value();
            controls.push(control);
        }
        Ok(Handler { controls })
    }

    fn find(&self, id: u32) -> Option<&Control> {
        self.controls.iter().find(|c| c.def.id == id)
    }

    /// VIDIOC_QUERY_EXT_CTRL, including the NEXT_CTRL / NEXT_COMPOUND walk.
    pub fn query_ext_ctrl(&self, q: &mut v4l2_query_ext_ctrl) -> Result {
        let id = q.id & V4L2_CTRL_ID_MASK;
        let next = q.id & (V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND);
        let control = if next == 0 {
            self.find(id)
        } else {
            let compound_wanted = next & V4L2_CTRL_FLAG_NEXT_COMPOUND != 0;
            let simple_wanted = next & V4L2_CTRL_FLAG_NEXT_CTRL != 0;
            self.controls.iter().find(|c| {
                let compound = c.flags() & V4L2_CTRL_FLAG_HAS_PAYLOAD != 0;
                c.def.id > id && ((compound && compound_wanted) || (!compound && simple_wanted))
            })
        };
        control.ok_or(Errno::EINVAL)?.query(q);
        Ok(())
    }

    /// VIDIOC_G_EXT_CTRLS for the current or default values.
    pub fn g_ext_ctrls(
        &self,
        which: u32,
        error_idx: &mut u32,
        items: &mut [v4l2_ext_control],
        sink: &mut dyn PayloadSink,
    ) -> Result {
        if which != V4L2_CTRL_WHICH_CUR_VAL && which != V4L2_CTRL_WHICH_DEF_VAL {
            // Request values need requests; a control class must match every id.
            if which == V4L2_CTRL_WHICH_REQUEST_VAL || items.iter().any(|c| c.id & 0x0fff_0000 != which) {
                return Err(Errno::EINVAL);
            }
        }
        for (i, item) in items.iter_mut().enumerate() {
            // CAST: the caller's count is a u32.
            *error_idx = i as u32;
            let control = self.find(item.id).ok_or(Errno::EINVAL)?;
            if control.flags() & V4L2_CTRL_FLAG_WRITE_ONLY != 0 {
                return Err(Errno::EACCES);
            }
            let value =
                if which == V4L2_CTRL_WHICH_DEF_VAL { control.default_value() } else { control.value_copy() };
            match value {
                // CAST: menu values are 32-bit; the core writes only `value` for them.
                Value::Int(v) => item.__bindgen_anon_1.value = v as i32,
                Value::Payload { bytes, .. } => {
                    // CAST: payloads are far below 4 GiB.
                    let needed = bytes.len() as u32;
                    if item.size < needed {
                        item.size = needed;
                        return Err(Errno::ENOSPC);
                    }
                    item.size = needed;
                    sink.write(item, &bytes)?;
                }
                Value::None => return Err(Errno::EACCES),
            }
        }
        // CAST: as above.
        *error_idx = items.len() as u32;
        Ok(())
    }
}

impl Control {
    fn value_copy(&self) -> Value {
        match &self.value {
            Value::Int(v) => Value::Int(*v),
            Value::Payload { bytes, elems } => Value::Payload { bytes: bytes.clone(), elems: *elems },
            Value::None => Value::None,
        }
    }
}
