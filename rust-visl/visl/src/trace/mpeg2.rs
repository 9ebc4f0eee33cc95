//! MPEG-2 trace events (visl-trace-mpeg2.h, system `visl_mpeg2_controls`): sequence,
//! picture and quantisation, in the order visl-dec.c emits them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use uapi::*;

use super::{array, flags, hex, load, CInt, CtrlSource, Event, Names};

const SEQ_FLAGS: &Names = &[(V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE as u64, "PROGRESSIVE")];

const PIC_FLAGS: &Names = &[
    (V4L2_MPEG2_PIC_FLAG_TOP_FIELD_FIRST as u64, "TOP_FIELD_FIRST"),
    (V4L2_MPEG2_PIC_FLAG_FRAME_PRED_DCT as u64, "FRAME_PRED_DCT"),
    (V4L2_MPEG2_PIC_FLAG_CONCEALMENT_MV as u64, "CONCEALMENT_MV"),
    (V4L2_MPEG2_PIC_FLAG_Q_SCALE_TYPE as u64, "Q_SCALE_TYPE"),
    // Sic: the kernel's table spells INTRA_VLC this way.
    (V4L2_MPEG2_PIC_FLAG_INTRA_VLC as u64, "INTA_VLC"),
    (V4L2_MPEG2_PIC_FLAG_ALT_SCAN as u64, "ALT_SCAN"),
    (V4L2_MPEG2_PIC_FLAG_REPEAT_FIRST as u64, "REPEAT_FIRST"),
    (V4L2_MPEG2_PIC_FLAG_PROGRESSIVE as u64, "PROGRESSIVE"),
];

pub(super) fn events(ctrls: &dyn CtrlSource) -> Vec<Event> {
    alloc::vec![
        Event::new("v4l2_ctrl_mpeg2_sequence", sequence(&load(ctrls, V4L2_CID_STATELESS_MPEG2_SEQUENCE))),
        Event::new("v4l2_ctrl_mpeg2_picture", picture(&load(ctrls, V4L2_CID_STATELESS_MPEG2_PICTURE))),
        Event::new(
            "v4l2_ctrl_mpeg2_quantisation",
            quantisation(&load(ctrls, V4L2_CID_STATELESS_MPEG2_QUANTISATION)),
        ),
    ]
}

fn sequence(s: &v4l2_ctrl_mpeg2_sequence) -> String {
    format!(
        "\nhorizontal_size {}\nvertical_size {}\nvbv_buffer_size {}\nprofile_and_level_indication {}\n\
         chroma_format {}\nflags {}\n",
        s.horizontal_size.u(),
        s.vertical_size.u(),
        s.vbv_buffer_size.u(),
        s.profile_and_level_indication.u(),
        s.chroma_format.u(),
        flags(s.flags.into(), SEQ_FLAGS),
    )
}

fn picture(p: &v4l2_ctrl_mpeg2_picture) -> String {
    format!(
        "\nbackward_ref_ts {}\nforward_ref_ts {}\nflags {}\nf_code {{{}}}\npicture_coding_type: {}\n\
         picture_structure {}\nintra_dc_precision {}\n",
        p.backward_ref_ts,
        p.forward_ref_ts,
        flags(p.flags.into(), PIC_FLAGS),
        hex(&p.f_code),
        p.picture_coding_type.u(),
        p.picture_structure.u(),
        p.intra_dc_precision.u(),
    )
}

fn quantisation(q: &v4l2_ctrl_mpeg2_quantisation) -> String {
    format!(
        "\nintra_quantiser_matrix {}\nnon_intra_quantiser_matrix {}\nchroma_intra_quantiser_matrix {}\n\
         chroma_non_intra_quantiser_matrix {}\n",
        array(&q.intra_quantiser_matrix),
        array(&q.non_intra_quantiser_matrix),
        array(&q.chroma_intra_quantiser_matrix),
        array(&q.chroma_non_intra_quantiser_matrix),
    )
}
