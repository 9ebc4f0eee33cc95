"""VP8 request streams: hand-checked control values and reference bookkeeping, entropy
save/restore, not-supported and corrupt streams, determinism, the per-frame cost, and
decoding on rust-visl (one frame per request)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conform.codecs.bitreader import BitstreamError
from conform.codecs.frontend import build_request_stream, dump
from conform.codecs.vp8 import parser
from conform.codecs.vp8.parser import BoolDecoder, VP8NotSupported, trace_frames
from conform.codecs.vp8.probs import DEFAULT_COEFF_FLAT, DEFAULT_MV_PROBS, coeff_index
from conform.codecs.vp8.reader import frames
from conform.codecs.vp8.requests import build, headers
from conform.run.suite import Codec, load_suites
from conform.run.vector import Vector, search_path
from conform.uapi import C, ffi

VECTORS = {v.name: v for s in load_suites(codec=Codec.VP8) for v in s.resolve(search_path()).test_vectors}
MS = 1_000_000


def data(name: str) -> bytes:
    return VECTORS[name].read()


def frame_control(req: Any) -> Any:
    (ctrl,) = req.controls
    assert ctrl.id == C.V4L2_CID_STATELESS_VP8_FRAME
    c = ffi.new("struct v4l2_ctrl_vp8_frame *")
    ffi.memmove(c, ctrl.value, ffi.sizeof(c[0]))
    return c


def test_comprehensive_001_frame_1_by_hand() -> None:
    # ffmpeg's trace of frame 1 (an inter frame of 554 bytes): first_partition_length 98,
    # loop filter level 0, base_qindex 4, five token probability updates, skip 131, intra 224,
    # last 233, golden 1; one DCT partition.
    rs = build(data("vp80-00-comprehensive-001"))
    assert rs.format.pixelformat == C.V4L2_PIX_FMT_VP8_FRAME
    assert (rs.format.width, rs.format.height) == (176, 144)
    assert [r.timestamp_ns for r in rs.requests[:3]] == [1 * MS, 2 * MS, 3 * MS]
    assert rs.requests[0].flags == C.V4L2_BUF_FLAG_KEYFRAME and rs.requests[1].flags == C.V4L2_BUF_FLAG_PFRAME
    c = frame_control(rs.requests[1])
    assert (c.width, c.height, c.version, c.first_part_size, c.num_dct_parts) == (176, 144, 0, 98, 1)
    assert c.dct_part_sizes[0] == 554 - 3 - 98
    assert (c.prob_skip_false, c.prob_intra, c.prob_last, c.prob_gf) == (131, 224, 233, 1)
    assert c.quant.y_ac_qi == 4 and c.lf.level == 0 and c.lf.flags == C.V4L2_VP8_LF_ADJ_ENABLE
    # The key frame's loop filter deltas persist: ref 2, 0, -2, -2; mode 4, -2, 2, 4.
    assert list(c.lf.ref_frm_delta) == [2, 0, -2, -2] and list(c.lf.mb_mode_delta) == [4, -2, 2, 4]
    assert c.entropy.coeff_probs[0][1][0][0] == 239 and c.entropy.coeff_probs[3][0][1][0] == 38
    assert c.flags == C.V4L2_VP8_FRAME_FLAG_SHOW_FRAME | C.V4L2_VP8_FRAME_FLAG_MB_NO_SKIP_COEFF
    assert (c.last_frame_ts, c.golden_frame_ts, c.alt_frame_ts) == (1 * MS, 1 * MS, 1 * MS)
    # The header ends 139 bits into the partition (the elements above plus 38 MV flags, none set).
    assert c.first_part_header_bits == 139
    assert (c.coder_state.range, c.coder_state.bit_count) == (142, 5)
    key = frame_control(rs.requests[0])
    assert key.flags & C.V4L2_VP8_FRAME_FLAG_KEY_FRAME and key.last_frame_ts == 0
    assert list(key.entropy.mv_probs[0]) == list(DEFAULT_MV_PROBS[0])
    assert list(key.entropy.y_mode_probs) == [112, 86, 140, 37]


def test_golden_and_altref_bookkeeping() -> None:
    # comprehensive-009: key frames 0 and 2; frame 4 copies last to golden, frame 5 alt ref
    # (the key frame 2) to golden.
    hs = [h for _, h in headers(data("vp80-00-comprehensive-009"))]
    assert (hs[4].copy_buffer_to_golden, hs[5].copy_buffer_to_golden) == (1, 2)
    assert all(h.refresh_last for h in hs[3:6])
    rs = build(data("vp80-00-comprehensive-009"))
    refs = [
        (c.last_frame_ts, c.golden_frame_ts, c.alt_frame_ts) for c in map(frame_control, rs.requests[3:7])
    ]
    assert refs == [(3 * MS, 3 * MS, 3 * MS), (4 * MS, 3 * MS, 3 * MS), (5 * MS, 4 * MS, 3 * MS),
                    (6 * MS, 3 * MS, 3 * MS)]  # fmt: skip
    # sharpness-1439: frame 1 is a hidden alt ref; frame 10 refreshes golden and copies the old
    # golden (the key frame) to alt ref, with the alt ref sign bias.
    hs = [h for _, h in headers(data("vp80-05-sharpness-1439"))]
    assert not hs[1].show_frame and hs[1].refresh_alternate_frame and not hs[1].refresh_last
    rs = build(data("vp80-05-sharpness-1439"))
    c2, c10, c11 = (frame_control(rs.requests[i]) for i in (2, 10, 11))
    assert (c2.last_frame_ts, c2.golden_frame_ts, c2.alt_frame_ts) == (1 * MS, 1 * MS, 2 * MS)
    assert not frame_control(rs.requests[1]).flags & C.V4L2_VP8_FRAME_FLAG_SHOW_FRAME
    assert c10.flags & C.V4L2_VP8_FRAME_FLAG_SIGN_BIAS_ALT
    assert (c11.last_frame_ts, c11.golden_frame_ts, c11.alt_frame_ts) == (11 * MS, 11 * MS, 1 * MS)


def test_entropy_saved_and_restored() -> None:
    # segmentation-1403 sends refresh_entropy_probs = 0 on its key frame: frame 1 starts from the
    # defaults again, so a token probability only frame 0 updated is back to its default.
    traced = trace_frames(data("vp80-03-segmentation-1403"))
    (h0, t0), (h1, t1) = traced[0], traced[1]
    assert not h0.refresh_entropy_probs and h0.key_frame and not h1.key_frame

    def updated(trace: list[tuple[str, int, int]]) -> set[str]:
        return {n for n, _, _ in trace if n.startswith("coeff_prob[")}

    only0 = updated(t0) - updated(t1)
    assert only0
    for n in range(len(DEFAULT_COEFF_FLAT)):
        i, j, k, t = coeff_index(n)
        if f"coeff_prob[{i}][{j}][{k}][{t}]" in only0:
            assert h1.probs.coeff_probs[n] == DEFAULT_COEFF_FLAT[n]
    # A key frame resets MV probabilities; inter frames' MV updates persist (refresh = 1).
    hs = [h for _, h in headers(data("vp80-00-comprehensive-001"))]
    assert hs[8].probs.mv_probs == DEFAULT_MV_PROBS and hs[9].probs.mv_probs != DEFAULT_MV_PROBS
    assert hs[10].refresh_entropy_probs


def test_ffmpeg_mv_flag_reading_overruns_the_partition() -> None:
    # The oracle's ffmpeg reads MV update flags at probability 128 (tests/test_vp8_headers.py);
    # read that way, frame 5 of comprehensive-005 needs more bits than its first partition has,
    # read at §17.2's probabilities it ends inside.
    stream = data("vp80-00-comprehensive-005")
    assert len(headers(stream)) == 49
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parser, "MV_UPDATE_PROBS", ((128,) * 19,) * 2)
        with pytest.raises(
            BitstreamError, match=r"frame 5 header needs \d+ bits, its first partition has 224"
        ):
            headers(stream)


def test_bool_decoder_state_convention() -> None:
    # Two bytes 0x80 0x00 at probability 128: the first bool splits at 128 << 8, value 0x8000 is
    # not below it -> 1, range 127 -> shift 1.  The window then holds 31 bits (of 32 loaded).
    bd = BoolDecoder(b"\x80\x00\x00\x00", 0, 4, 0)
    assert bd.read_bool(128) == 1 and bd.consumed == 1
    assert bd.state() == parser.CoderState(254, 0, 31 % 8)


def test_resolution_change_carries_the_new_format() -> None:
    rs = build(data("libvpx-resize"))
    assert (rs.format.width, rs.format.height) == (64, 48)
    changes = [(n, r.new_format) for n, r in enumerate(rs.requests) if r.new_format is not None]
    assert len(changes) == 1
    n, fmt = changes[0]
    assert n == 6 and fmt is not None and (fmt.width, fmt.height) == (96, 64)
    assert fmt.pixelformat == rs.format.pixelformat
    assert rs.requests[n].flags & C.V4L2_BUF_FLAG_KEYFRAME
    assert "request 6 new format: VP8F 96x64" in "\n".join(dump(rs))


def test_resolution_change_decodes_on_rust_visl() -> None:
    """The session stops both queues, sets the new size and allocates again: the frames from
    the key frame on fill the new CAPTURE format (NV12, 96 * 64 * 3 / 2 bytes)."""
    from conform.drivers import resolve_driver
    from conform.run.session import DecodeSession

    rs = build(data("libvpx-resize"))
    with DecodeSession(resolve_driver("rust-visl").connect(), rs.format) as session:
        before = session.capture_format
        frames = list(session.decode(rs.requests))
        after = session.capture_format
    assert (after.width, after.height) == (96, 64) and before.width == 64
    sizes = [f.buffer.bytesused[0] for f in frames]
    assert sizes == [before.planes[0].sizeimage] * 6 + [96 * 64 * 3 // 2] * 6
    assert [f.buffer.timestamp_ns for f in frames] == [r.timestamp_ns for r in rs.requests]


def test_reserved_version_and_empty_frame_are_not_supported() -> None:
    stream = bytearray(data("vp80-00-comprehensive-001"))
    first = next(frames(bytes(stream)))
    stream[first.offset] |= 4 << 1  # version 4
    with pytest.raises(VP8NotSupported, match=rf"bitstream version \d.*byte offset {first.offset}\)"):
        build(bytes(stream))
    empty = data("vp80-00-comprehensive-001")[:32] + b"\x00" * 12
    with pytest.raises(VP8NotSupported, match=r"an empty \(dropped\) frame 0"):
        build(empty)


def test_corrupt_streams_name_the_byte_offset() -> None:
    stream = data("vp80-00-comprehensive-001")
    with pytest.raises(BitstreamError, match=r"not an IVF file.*byte offset 0"):
        build(b"RIFF" + stream[4:])
    with pytest.raises(BitstreamError, match=r"IVF frame 0 truncated.*byte offset 32\)"):
        build(stream[:100])
    bad = bytearray(stream)
    bad[32 + 12 + 3] = 0
    with pytest.raises(BitstreamError, match=r"start code 00012a.*byte offset 47\)"):
        build(bytes(bad))
    inter_first = stream[:32] + stream[32 + 12 + len(next(frames(stream)).data) :]
    with pytest.raises(BitstreamError, match="inter frame before any key frame"):
        build(inter_first)


def test_request_streams_are_deterministic_and_dumped() -> None:
    a = "\n".join(dump(build_request_stream("VP8", data("vp80-05-sharpness-1439"))))
    b = "\n".join(dump(build_request_stream("VP8", data("vp80-05-sharpness-1439"))))
    assert a == b
    assert "format: VP8F 352x288" in a and "struct v4l2_ctrl_vp8_frame" in a
    assert "request 15: timestamp_ns 16000000" in a and "golden_frame_ts: 11000000" in a


def test_every_suite_vector_builds_and_cost_per_frame() -> None:
    total, elapsed = 0, 0.0
    for vector in VECTORS.values():
        stream = vector.read()
        t = time.perf_counter()
        rs = build(stream)
        elapsed += time.perf_counter() - t
        assert len(rs.requests) == len(list(frames(stream))) > 0
        assert all(r.payload == f.data for r, f in zip(rs.requests, frames(stream), strict=True))
        total += len(rs.requests)
    per_frame_us = elapsed / total * 1e6
    print(f"VP8 request building: {total} frames, {per_frame_us:.0f} us/frame")
    assert total == 1216


@pytest.mark.parametrize(
    "name",
    ["vp80-00-comprehensive-006", "vp80-03-segmentation-1410", "vp80-05-sharpness-1439", "test-25fps"],
)
def test_decodes_on_rust_visl(name: str) -> None:
    from conform.drivers import resolve_driver
    from conform.run.session import DecodeSession

    vector: Vector = VECTORS[name]
    rs = build(vector.read())
    session = DecodeSession(resolve_driver("rust-visl").connect(), rs.format)
    try:
        frames_out = list(session.decode(rs.requests))
    finally:
        session.close()
    assert len(frames_out) == len(rs.requests)
    assert [f.buffer.timestamp_ns for f in frames_out] == [r.timestamp_ns for r in rs.requests]
