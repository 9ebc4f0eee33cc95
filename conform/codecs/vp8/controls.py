"""The V4L2 stateless VP8 control (linux/v4l2-controls.h ``V4L2_CID_STATELESS_VP8_FRAME``).

Only this module knows V4L2: it turns a parsed :class:`FrameHeader` and the reference
bookkeeping into ``struct v4l2_ctrl_vp8_frame``.  Semantics follow
Documentation/userspace-api/media/v4l/ext-ctrls-codec-stateless.rst.

:class:`References` tracks which picture (by its request timestamp) each of the three
reference buffers holds after each frame (RFC 6386 §9.7, §9.8): a key frame refreshes all
three; otherwise the alt ref buffer takes its ``copy_buffer_to_alternate`` source (1: last,
2: golden), then the golden buffer its ``copy_buffer_to_golden`` source (1: last, 2: alt
ref, as it is after the alt ref copy), then ``refresh_golden_frame``,
``refresh_alternate_frame`` and ``refresh_last`` put the new frame in.  That is libvpx's
order (vp8/decoder/onyxd_if.c ``swap_frame_buffers``), the reference decoder of the test
vectors.  The sign bias flags travel in the control's flags and move no buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conform.codecs.vp8.parser import FrameHeader
from conform.uapi import C, ffi


@dataclass(frozen=True, slots=True)
class References:
    """Timestamps of the pictures in the last, golden and alt ref buffers (0: none yet)."""

    last: int = 0
    golden: int = 0
    alt: int = 0

    def after(self, hdr: FrameHeader, timestamp_ns: int) -> References:
        """The buffers once frame ``hdr`` (decoded with ``timestamp_ns``) is done."""
        if hdr.key_frame:
            return References(timestamp_ns, timestamp_ns, timestamp_ns)
        last, golden, alt = self.last, self.golden, self.alt
        if hdr.copy_buffer_to_alternate == 1:
            alt = last
        elif hdr.copy_buffer_to_alternate == 2:
            alt = golden
        if hdr.copy_buffer_to_golden == 1:
            golden = last
        elif hdr.copy_buffer_to_golden == 2:
            golden = alt
        if hdr.refresh_golden_frame:
            golden = timestamp_ns
        if hdr.refresh_alternate_frame:
            alt = timestamp_ns
        if hdr.refresh_last:
            last = timestamp_ns
        return References(last, golden, alt)


def frame_flags(hdr: FrameHeader) -> int:
    flags = 0
    for on, flag in (
        (hdr.key_frame, C.V4L2_VP8_FRAME_FLAG_KEY_FRAME),
        (hdr.show_frame, C.V4L2_VP8_FRAME_FLAG_SHOW_FRAME),
        (hdr.mb_no_coeff_skip, C.V4L2_VP8_FRAME_FLAG_MB_NO_SKIP_COEFF),
        (hdr.sign_bias_golden, C.V4L2_VP8_FRAME_FLAG_SIGN_BIAS_GOLDEN),
        (hdr.sign_bias_alternate, C.V4L2_VP8_FRAME_FLAG_SIGN_BIAS_ALT),
    ):
        if on:
            flags |= flag
    return flags


def frame_control(hdr: FrameHeader, refs: References) -> Any:
    """``struct v4l2_ctrl_vp8_frame`` of ``hdr``; ``refs`` are the buffers before the frame
    (left zero on a key frame, which references nothing)."""
    c = ffi.new("struct v4l2_ctrl_vp8_frame *")
    seg = hdr.segmentation
    for i in range(4):
        c.segment.quant_update[i] = seg.quantizer_update_value[i]
        c.segment.lf_update[i] = seg.lf_update_value[i]
    for i in range(3):
        c.segment.segment_probs[i] = seg.segment_prob[i]
    sflags = 0
    for on, flag in (
        (seg.segmentation_enabled, C.V4L2_VP8_SEGMENT_FLAG_ENABLED),
        (seg.update_mb_segmentation_map, C.V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP),
        (seg.update_segment_feature_data, C.V4L2_VP8_SEGMENT_FLAG_UPDATE_FEATURE_DATA),
        (seg.segment_feature_mode == 0, C.V4L2_VP8_SEGMENT_FLAG_DELTA_VALUE_MODE),
    ):
        if on:
            sflags |= flag
    c.segment.flags = sflags

    lf = hdr.loop_filter
    for i in range(4):
        c.lf.ref_frm_delta[i] = lf.ref_frame_delta[i]
        c.lf.mb_mode_delta[i] = lf.mb_mode_delta[i]
    c.lf.sharpness_level = lf.sharpness_level
    c.lf.level = lf.loop_filter_level
    lflags = 0
    for on, flag in (
        (lf.loop_filter_adj_enable, C.V4L2_VP8_LF_ADJ_ENABLE),
        (lf.mode_ref_lf_delta_update, C.V4L2_VP8_LF_DELTA_UPDATE),
        (lf.filter_type == 1, C.V4L2_VP8_LF_FILTER_TYPE_SIMPLE),
    ):
        if on:
            lflags |= flag
    c.lf.flags = lflags

    q = hdr.quant
    c.quant.y_ac_qi = q.y_ac_qi
    c.quant.y_dc_delta = q.y_dc_delta
    c.quant.y2_dc_delta = q.y2_dc_delta
    c.quant.y2_ac_delta = q.y2_ac_delta
    c.quant.uv_dc_delta = q.uv_dc_delta
    c.quant.uv_ac_delta = q.uv_ac_delta

    probs = hdr.probs
    ffi.memmove(c.entropy.coeff_probs, probs.coeff_probs, len(probs.coeff_probs))
    for i, p in enumerate(probs.y_mode_probs):
        c.entropy.y_mode_probs[i] = p
    for i, p in enumerate(probs.uv_mode_probs):
        c.entropy.uv_mode_probs[i] = p
    for i, row in enumerate(probs.mv_probs):
        for j, p in enumerate(row):
            c.entropy.mv_probs[i][j] = p

    c.coder_state.range = hdr.coder_state.range
    c.coder_state.value = hdr.coder_state.value
    c.coder_state.bit_count = hdr.coder_state.bit_count

    c.width = hdr.width
    c.height = hdr.height
    c.horizontal_scale = hdr.horizontal_scale
    c.vertical_scale = hdr.vertical_scale
    c.version = hdr.version
    c.prob_skip_false = hdr.prob_skip_false
    c.prob_intra = hdr.prob_intra
    c.prob_last = hdr.prob_last
    c.prob_gf = hdr.prob_gf
    c.num_dct_parts = len(hdr.partition_sizes)
    c.first_part_size = hdr.first_part_size
    c.first_part_header_bits = hdr.first_part_header_bits
    for i, size in enumerate(hdr.partition_sizes):
        c.dct_part_sizes[i] = size
    if not hdr.key_frame:
        c.last_frame_ts = refs.last
        c.golden_frame_ts = refs.golden
        c.alt_frame_ts = refs.alt
    c.flags = frame_flags(hdr)
    return c
