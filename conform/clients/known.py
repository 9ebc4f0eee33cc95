"""Reviewed differences between GStreamer's controls and conform's, each with the side that is right.

A rule names the codec, the event and the fields it covers, and the condition under which a
difference there is the documented one (a key frame, a picture type that reads no
reference, a value relation); any other difference in the same field is not covered.
``right`` says which request stream a hardware driver should be given: "conform",
"gstreamer", or "either" when the driver never reads the field in that case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conform.clients.controls import Difference, Job
from conform.run.suite import Codec


def _line(job: Job, event: str, key: str) -> str:
    for e in job.events:
        if e.name == event:
            for line in e.payload.split("\n"):
                if line.split(" ", 1)[0].rstrip(":") == key:
                    return _value(line)
    return ""


def _flags(job: Job, event: str) -> set[str]:
    return set(_line(job, event, "flags").split("|"))


def _value(line: str) -> str:
    return line.split(" ", 1)[1] if " " in line else ""


Condition = Callable[[Difference, Job, Job], bool]
"""(difference, GStreamer's job, conform's job) -> whether the rule covers it."""


@dataclass(frozen=True, slots=True)
class Known:
    codec: Codec
    event: str
    fields: tuple[str, ...]
    right: str
    reason: str
    applies: Condition

    def covers(self, codec: Codec, diff: Difference, gst: Job, ours: Job) -> bool:
        fields = not self.fields or diff.field in self.fields
        return codec == self.codec and diff.event == self.event and fields and (self.applies(diff, gst, ours))


def _vp8_key_frame(_: Difference, __: Job, ours: Job) -> bool:
    return "KEY_FRAME" in _flags(ours, "v4l2_ctrl_vp8_frame")


def _vp8_map_kept(_: Difference, __: Job, ours: Job) -> bool:
    return "SEGMENT_UPDATE_MAP" not in _line(ours, "v4l2_ctrl_vp8_frame", "segment.flags").split("|")


def _vbv_in_bits(diff: Difference, _: Job, __: Job) -> bool:
    gst, ours = _value(diff.gstreamer), _value(diff.conform)
    return gst.isdigit() and ours.isdigit() and int(gst) == 16 * 1024 * int(ours)


def _all_zero(diff: Difference, _: Job, __: Job) -> bool:
    values = _value(diff.gstreamer).strip("{}").split(",")
    return all(v.strip() in ("0x0", "0") for v in values)


def _mpeg2_ref_unread(diff: Difference, _: Job, ours: Job) -> bool:
    # Picture coding types: 1 I, 2 P, 3 B.  I reads no reference, P no backward one.
    kind = _line(ours, "v4l2_ctrl_mpeg2_picture", "picture_coding_type").strip()
    return kind == "1" or (kind == "2" and diff.field == "backward_ref_ts")


def _int(job: Job, event: str, key: str) -> int:
    text = _line(job, event, key).strip()
    return int(text) if text.lstrip("-").isdigit() else -1


def _elements(line: str) -> list[str]:
    return [v.strip() for v in _value(line).strip("{}").split(",")]


def _same_first(diff: Difference, count: int) -> bool:
    """The two arrays agree on the ``count`` entries a driver reads (the rest is padding)."""
    return _elements(diff.gstreamer)[:count] == _elements(diff.conform)[:count]


H264_SLICE = "v4l2_ctrl_h264_slice_params"
HEVC_SLICE = "v4l2_ctrl_hevc_slice_params"
HEVC_DECODE = "v4l2_ctrl_hevc_decode_params"


def _h264_list_entry_unread(diff: Difference, _: Job, ours: Job) -> bool:
    # V4L2_H264_SLICE_TYPE_*: P 0, B 1, I 2, SP 3, SI 4.  P and SP read list 0, B both.
    lx = 1 if diff.event.endswith("1") else 0
    kind = _int(ours, H264_SLICE, "slice_type")
    read = kind in (0, 1, 3) if lx == 0 else kind == 1
    active = _int(ours, H264_SLICE, f"num_ref_idx_l{lx}_active_minus1") + 1
    index = int(diff.field.strip("[]:"))
    return not read or index >= active


def _h264_chroma_8x8_unread(diff: Difference, _: Job, ours: Job) -> bool:
    # Six 8x8 lists of 64 bytes, 32 per trace row: rows 4-11 are Cb and Cr, read for 4:4:4 only.
    row = int(diff.field.rsplit(" ", 1)[1].rstrip("]"))
    return row >= 4 and _int(ours, "v4l2_ctrl_h264_sps", "chroma_format_idc") != 3


def _h264_weights_unread(_: Difference, __: Job, ours: Job) -> bool:
    # V4L2_H264_CTRL_PRED_WEIGHTS_REQUIRED: explicit weights in P/SP with weighted_pred_flag,
    # in B with weighted_bipred_idc 1; any other slice leaves the control unread.
    kind = _int(ours, H264_SLICE, "slice_type")
    pps_flags = _flags(ours, "v4l2_ctrl_h264_pps")
    if kind in (0, 3):
        return "WEIGHTED_PRED" not in pps_flags
    return kind != 1 or _int(ours, "v4l2_ctrl_h264_pps", "weighted_bipred_idc") != 1


def _hevc_ref_idx_padding(diff: Difference, _: Job, ours: Job) -> bool:
    # V4L2_HEVC_SLICE_TYPE_*: B 0, P 1, I 2.  P reads list 0, B both.
    lx = 1 if diff.field.endswith("1") else 0
    kind = _int(ours, HEVC_SLICE, "slice_type")
    read = kind in (0, 1) if lx == 0 else kind == 0
    return _same_first(diff, _int(ours, HEVC_SLICE, f"num_ref_idx_l{lx}_active_minus1") + 1 if read else 0)


def _hevc_poc_padding(diff: Difference, _: Job, ours: Job) -> bool:
    count = {"poc_st_curr_before": "num_poc_st_curr_before", "poc_st_curr_after": "num_poc_st_curr_after",
             "poc_lt_curr": "num_poc_lt_curr"}[diff.field]  # fmt: skip
    return _same_first(diff, _int(ours, HEVC_DECODE, count))


PADDING = ("GStreamer fills the entries a driver does not read with 0xff (its 'no entry'), conform "
           "with 0; the entries in use agree.")  # fmt: skip

KNOWN: tuple[Known, ...] = (
    Known(Codec.H264, "v4l2_h264_ref_pic_list0", tuple(f"[{i}]:" for i in range(32)), "either",
          f"Entries past num_ref_idx_l0_active_minus1, or of a list the slice type does not read. {PADDING}",
          _h264_list_entry_unread),
    Known(Codec.H264, "v4l2_h264_ref_pic_list1", tuple(f"[{i}]:" for i in range(32)), "either",
          f"Entries past num_ref_idx_l1_active_minus1, or list 1 of a slice that is not B. {PADDING}",
          _h264_list_entry_unread),
    Known(Codec.H264, "v4l2_ctrl_h264_scaling_matrix", tuple(f"scaling_list_8x8[row {r}]" for r in range(12)),
          "conform",
          "The Cb and Cr 8x8 lists exist only for 4:4:4 (H.264 7.4.2.1.1); outside it GStreamer leaves "
          "them zero and conform derives them by the fall-back rule, which no driver reads.",
          _h264_chroma_8x8_unread),
    Known(Codec.H264, "v4l2_ctrl_h264_pred_weights", (), "either",
          "A slice that does not require explicit weights (V4L2_H264_CTRL_PRED_WEIGHTS_REQUIRED) "
          "leaves the control unread: visl traces whatever value it last had, GStreamer's zeroed "
          "table or the one conform set for an earlier slice.", _h264_weights_unread),
    Known(Codec.H265, HEVC_SLICE, ("ref_idx_l0", "ref_idx_l1"), "either",
          f"Entries past num_ref_idx_lX_active_minus1, or of a list the slice type does not read. {PADDING}",
          _hevc_ref_idx_padding),
    Known(Codec.H265, HEVC_DECODE, ("poc_st_curr_before", "poc_st_curr_after", "poc_lt_curr"), "either",
          f"Entries past num_poc_st_curr_before, num_poc_st_curr_after and num_poc_lt_curr. {PADDING}",
          _hevc_poc_padding),
    Known(Codec.VP8, "v4l2_ctrl_vp8_frame", ("last_frame_ts", "golden_frame_ts", "alt_frame_ts"), "either",
          "A key frame references no frame, so no driver reads the three reference timestamps: "
          "GStreamer repeats the previous frame's, conform sends 0.", _vp8_key_frame),
    Known(Codec.VP8, "v4l2_ctrl_vp8_entropy", ("entropy.y_mode_probs", "entropy.uv_mode_probs"), "conform",
          "Key frames code their intra modes with fixed tables and reset the persistent mode "
          "probabilities to their defaults (RFC 6386 sections 11.2-11.4). conform sends that reset "
          "state, the one the next inter frame starts from (as Chromium's parser does); GStreamer 1.22 "
          "sends the fixed key-frame tables, which drivers keep themselves (cedrus has its own "
          "kf_y_mode_probs table).", _vp8_key_frame),
    Known(Codec.VP8, "v4l2_ctrl_vp8_frame", ("segment.segment_probs",), "either",
          "The segment-map probabilities are read only when the frame updates the map (RFC 6386 "
          "section 9.3). Without SEGMENT_UPDATE_MAP GStreamer sends 0, conform 255, the value the RFC "
          "gives a probability the frame does not send.", _vp8_map_kept),
    Known(Codec.MPEG2_VIDEO, "v4l2_ctrl_mpeg2_sequence", ("vbv_buffer_size",), "conform",
          "The UAPI field is the coded vbv_buffer_size_value with its extension, the buffer being "
          "16 * 1024 * vbv_buffer_size bits; GStreamer 1.22 sends the size in bits.", _vbv_in_bits),
    Known(Codec.MPEG2_VIDEO, "v4l2_ctrl_mpeg2_sequence", ("profile_and_level_indication",), "conform",
          "The field is the coded byte (escape << 7 | profile << 4 | level), which conform sends and "
          "ffmpeg's trace_headers prints; GStreamer 1.22 packs profile << 4 | level << 1 | escape.",
          lambda *_: True),
    Known(Codec.MPEG2_VIDEO, "v4l2_ctrl_mpeg2_quantisation",
          ("chroma_intra_quantiser_matrix", "chroma_non_intra_quantiser_matrix"), "conform",
          "A chroma matrix the stream does not load is the luma one (ISO/IEC 13818-2 6.3.11), which "
          "conform sends; GStreamer 1.22 leaves it zero. Drivers read the chroma matrices only for "
          "4:2:2 and 4:4:4, which v4l2slmpeg2dec does not decode.", _all_zero),
    Known(Codec.MPEG2_VIDEO, "v4l2_ctrl_mpeg2_picture", ("forward_ref_ts", "backward_ref_ts"), "either",
          "An I picture reads no reference and a P picture no backward one: GStreamer passes its "
          "neighbouring reference picture there (or GST_CLOCK_TIME_NONE), conform 0.", _mpeg2_ref_unread),
)  # fmt: skip


def explain(codec: Codec, diff: Difference, gst: list[Job], ours: list[Job]) -> Known | None:
    """The reviewed rule covering ``diff``, or None: an unexplained difference."""
    if diff.job >= min(len(gst), len(ours)):
        return None
    return next((k for k in KNOWN if k.covers(codec, diff, gst[diff.job], ours[diff.job])), None)


@dataclass(frozen=True, slots=True)
class Limitation:
    """A stream GStreamer 1.22 cannot decode, told by conform's own request stream."""

    codec: Codec
    outcome: str
    reason: str
    applies: Callable[[list[Job]], bool]


def _hevc_wpp(ours: list[Job]) -> bool:
    return bool(ours) and "ENTROPY_CODING_SYNC_ENABLED" in _flags(ours[0], "v4l2_ctrl_hevc_pps")


def _mpeg2_not_420(ours: list[Job]) -> bool:
    return bool(ours) and _int(ours[0], "v4l2_ctrl_mpeg2_sequence", "chroma_format") != 1


def _vp8_size_change(ours: list[Job]) -> bool:
    frame = "v4l2_ctrl_vp8_frame"
    return len({(_int(j, frame, "width"), _int(j, frame, "height")) for j in ours}) > 1


LIMITATIONS: tuple[Limitation, ...] = (
    Limitation(Codec.H265, "killed by signal 11",
               "v4l2slh265dec 1.22 dies with SIGSEGV inside libgstv4l2codecs on streams with wavefront "
               "parallel processing (entropy_coding_sync_enabled_flag), on upstream visl and rust-visl "
               "alike, before its first frame.", _hevc_wpp),
    Limitation(Codec.VP8, "error: not-negotiated",
               "v4l2slvp8dec 1.22 stops at a resolution change ('Could not re-negotiate with updated "
               "state', whatever the sink), after the frames before it, on both drivers.", _vp8_size_change),
    Limitation(Codec.MPEG2_VIDEO, "error: not-negotiated",
               "v4l2slmpeg2dec decodes 4:2:0 only; a 4:2:2 stream fails caps negotiation.", _mpeg2_not_420),
)  # fmt: skip


def limitation(codec: Codec, outcome: str, ours: list[Job]) -> Limitation | None:
    """The documented GStreamer limitation that explains ``outcome``, or None."""
    return next((lim for lim in LIMITATIONS if lim.codec == codec and lim.outcome == outcome
                 and lim.applies(ours)), None)  # fmt: skip
