"""The V4L2 stateless MPEG-2 controls (linux/v4l2-controls.h), one builder per control.

Only this module knows V4L2: it turns parser records and reference timestamps into the
cffi structs of ``V4L2_CID_STATELESS_MPEG2_*``.  Semantics follow
Documentation/userspace-api/media/v4l/ext-ctrls-codec-stateless.rst ("MPEG-2").
"""

from __future__ import annotations

from typing import Any

from conform.codecs.mpeg2.parser import PictureCodingExtension, PictureHeader, QuantMatrices, Sequence
from conform.uapi import C, ffi


def sequence_control(seq: Sequence) -> Any:
    """``v4l2_ctrl_mpeg2_sequence``: sizes and vbv_buffer_size combined with their extensions."""
    c = ffi.new("struct v4l2_ctrl_mpeg2_sequence *")
    c.horizontal_size = seq.horizontal_size
    c.vertical_size = seq.vertical_size
    c.vbv_buffer_size = seq.vbv_buffer_size
    c.profile_and_level_indication = seq.extension.profile_and_level_indication
    c.chroma_format = seq.extension.chroma_format
    c.flags = C.V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE if seq.extension.progressive_sequence else 0
    return c


def picture_flags(pce: PictureCodingExtension) -> int:
    flags = 0
    for on, flag in (
        (pce.top_field_first, C.V4L2_MPEG2_PIC_FLAG_TOP_FIELD_FIRST),
        (pce.frame_pred_frame_dct, C.V4L2_MPEG2_PIC_FLAG_FRAME_PRED_DCT),
        (pce.concealment_motion_vectors, C.V4L2_MPEG2_PIC_FLAG_CONCEALMENT_MV),
        (pce.q_scale_type, C.V4L2_MPEG2_PIC_FLAG_Q_SCALE_TYPE),
        (pce.intra_vlc_format, C.V4L2_MPEG2_PIC_FLAG_INTRA_VLC),
        (pce.alternate_scan, C.V4L2_MPEG2_PIC_FLAG_ALT_SCAN),
        (pce.repeat_first_field, C.V4L2_MPEG2_PIC_FLAG_REPEAT_FIRST),
        (pce.progressive_frame, C.V4L2_MPEG2_PIC_FLAG_PROGRESSIVE),
    ):
        if on:
            flags |= flag
    return flags


def picture_control(hdr: PictureHeader, pce: PictureCodingExtension, forward_ref_ts: int,
                    backward_ref_ts: int) -> Any:  # fmt: skip
    """``v4l2_ctrl_mpeg2_picture``; a reference timestamp is 0 when the picture has none."""
    c = ffi.new("struct v4l2_ctrl_mpeg2_picture *")
    c.backward_ref_ts = backward_ref_ts
    c.forward_ref_ts = forward_ref_ts
    c.flags = picture_flags(pce)
    for s in range(2):
        for t in range(2):
            c.f_code[s][t] = pce.f_code[s][t]
    c.picture_coding_type = hdr.picture_coding_type
    c.picture_structure = pce.picture_structure
    c.intra_dc_precision = pce.intra_dc_precision
    return c


def quantisation_control(m: QuantMatrices) -> Any:
    """``v4l2_ctrl_mpeg2_quantisation``: the four matrices in effect, zig-zag scan order."""
    c = ffi.new("struct v4l2_ctrl_mpeg2_quantisation *")
    for name, values in (
        ("intra_quantiser_matrix", m.intra),
        ("non_intra_quantiser_matrix", m.non_intra),
        ("chroma_intra_quantiser_matrix", m.chroma_intra),
        ("chroma_non_intra_quantiser_matrix", m.chroma_non_intra),
    ):
        target = getattr(c, name)
        for i, v in enumerate(values):
            target[i] = v
    return c
