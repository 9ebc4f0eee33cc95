//! Standard control definitions (v4l2-ctrls-defs.c) and the compound defaults the core
//! initialises (std_init_compound in v4l2-ctrls-core.c).

use core::mem::size_of;

use uapi::*;

use super::pod::store;

/// What kind of value a control holds.
#[derive(Clone, Copy)]
pub enum Kind {
    /// The class control the core adds for every class in a handler.
    Class,
    Menu {
        max: i64,
        default: i64,
        /// The item names QUERYMENU gives, index 0 first (v4l2_ctrl_get_menu).
        items: &'static [&'static str],
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

/// The stateless decode-mode and start-code menus (the same items for H.264 and HEVC).
const DECODE_MODES: [&str; 2] = ["Slice-Based", "Frame-Based"];
const START_CODES: [&str; 2] = ["No Start Code", "Annex B Start Code"];

fn zeroed(_: &mut [u8]) {}

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
    def(
        V4L2_CID_STATELESS_H264_DECODE_MODE,
        "H264 Decode Mode",
        Kind::Menu { max: 1, default: 0, items: &DECODE_MODES },
    ),
    def(
        V4L2_CID_STATELESS_H264_START_CODE,
        "H264 Start Code",
        Kind::Menu { max: 1, default: 0, items: &START_CODES },
    ),
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
    def(
        V4L2_CID_STATELESS_HEVC_DECODE_MODE,
        "HEVC Decode Mode",
        Kind::Menu { max: 1, default: 0, items: &DECODE_MODES },
    ),
    def(
        V4L2_CID_STATELESS_HEVC_START_CODE,
        "HEVC Start Code",
        Kind::Menu { max: 1, default: 0, items: &START_CODES },
    ),
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

pub(super) fn definition(id: u32) -> Option<&'static Definition> {
    STATELESS_DEFINITIONS.iter().find(|d| d.id == id)
}
