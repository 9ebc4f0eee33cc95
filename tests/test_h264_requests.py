"""H.264 request streams: hand-checked parse and DPB values, not-supported and corrupt streams,
determinism, the per-picture cost, and decoding on rust-visl (one frame per picture)."""

from __future__ import annotations

import time

import pytest

from conform.codecs.bitreader import BitstreamError
from conform.codecs.frontend import build_request_stream, dump
from conform.codecs.h264.parser import H264NotSupported
from conform.codecs.h264.reader import nal_units
from conform.codecs.h264.requests import build, pictures
from conform.run.suite import Codec, load_suites
from conform.run.vector import Vector, search_path
from conform.uapi import C, ffi

VECTORS = {v.name: v for s in load_suites(codec=Codec.H264) for v in s.resolve(search_path()).test_vectors}


def data(name: str) -> bytes:
    return VECTORS[name].read()


def decode_params(req_controls: tuple[object, ...]) -> object:
    for ctrl in req_controls:
        if ctrl.id == C.V4L2_CID_STATELESS_H264_DECODE_PARAMS:  # type: ignore[attr-defined]
            dp = ffi.new("struct v4l2_ctrl_h264_decode_params *")
            ffi.memmove(dp, ctrl.value, ffi.sizeof(dp[0]))  # type: ignore[attr-defined]
            return dp
    raise AssertionError("no decode params")


class Bits:
    """A minimal RBSP writer for hand-made units."""

    def __init__(self) -> None:
        self.bits = ""

    def u(self, n: int, v: int) -> Bits:
        self.bits += format(v, f"0{n}b") if n else ""
        return self

    def ue(self, v: int) -> Bits:
        code = format(v + 1, "b")
        self.bits += "0" * (len(code) - 1) + code
        return self

    def se(self, v: int) -> Bits:
        return self.ue(2 * v - 1 if v > 0 else -2 * v)

    def nal(self, header: int) -> bytes:
        bits = self.bits + "1"
        bits += "0" * (-len(bits) % 8)
        return b"\x00\x00\x00\x01" + bytes([header]) + int(bits, 2).to_bytes(len(bits) // 8, "big")


def test_64x64_structure_matches_independent_values() -> None:
    # Values from ffmpeg's trace of cros-codecs' 64x64-I-P-B-P.h264 (an AUD, SPS, PPS, SEI, then
    # three pictures: IDR frame_num 0, P frame_num 1, P frame_num 2 with two active references).
    pics = list(pictures(data("64x64-I-P-B-P")))
    assert [p.slices[0].frame_num for p in pics] == [0, 1, 2]
    sps = pics[0].sps
    assert (sps.profile_idc, sps.level_idc, sps.pic_order_cnt_type, sps.max_num_ref_frames) == (66, 21, 2, 3)
    assert (sps.width_mbs, sps.height_mbs, sps.constraint_set_flags) == (4, 4, 0b11)
    assert pics[0].pps.chroma_qp_index_offset == -2
    assert pics[2].slices[0].num_ref_idx_l0_active_minus1 == 1
    assert pics[0].slices[0].slice_qp_delta == -25
    # Bit sizes: IDR marking is two flags; POC type 2 sends no POC syntax.
    assert pics[0].slices[0].dec_ref_pic_marking_bit_size == 2
    assert pics[0].slices[0].pic_order_cnt_bit_size == 0
    # slice_beta_offset_div2 is the last header element at bit 37 (ffmpeg), one bit long, so
    # slice_data() begins at bit 38 of the NAL, 30 after the 8-bit NAL header.
    assert pics[0].slices[0].header_bit_size == 30


def test_dpb_poc_type_2_and_reference_timestamps() -> None:
    rs = build(data("64x64-I-P-B-P"))
    assert [r.timestamp_ns for r in rs.requests] == [1_000_000, 2_000_000, 3_000_000]
    assert [r.flags for r in rs.requests] == [C.V4L2_BUF_FLAG_KEYFRAME, C.V4L2_BUF_FLAG_PFRAME,
                                              C.V4L2_BUF_FLAG_PFRAME]  # fmt: skip
    dp = decode_params(rs.requests[2].controls)
    assert dp.top_field_order_cnt == 4 and dp.frame_num == 2  # type: ignore[attr-defined]
    entries = [(e.reference_ts, e.frame_num, e.pic_num, e.top_field_order_cnt, e.flags)
               for e in dp.dpb if e.flags]  # type: ignore[attr-defined]  # fmt: skip
    active = C.V4L2_H264_DPB_ENTRY_FLAG_VALID | C.V4L2_H264_DPB_ENTRY_FLAG_ACTIVE
    assert entries == [(1_000_000, 0, 0, 0, active), (2_000_000, 1, 1, 2, active)]


def test_long_term_references_from_mmco() -> None:
    # MR2_MW_A's picture 20 holds a long-term reference (an MMCO 3 earlier, LongTermFrameIdx 1).
    rs = build(data("MR2_MW_A"))
    dp = decode_params(rs.requests[20].controls)
    longs = [e for e in dp.dpb if e.flags & C.V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM]  # type: ignore[attr-defined]
    assert [(e.reference_ts, e.frame_num, e.pic_num) for e in longs] == [(15_000_000, 1, 1)]


def test_scaling_lists_in_raster_order() -> None:
    # vectors/streams/h264/make.sh gives x264 these lists in raster order.
    cqm4 = [16, 12, 14, 18, 12, 14, 20, 24, 14, 20, 26, 30, 18, 24, 30, 36]
    cqm8 = [8 + 2 * (i + j) for i in range(8) for j in range(8)]
    req = build(data("x264-high-cqm-wp")).requests[0]
    (ctrl,) = [c for c in req.controls if c.id == C.V4L2_CID_STATELESS_H264_SCALING_MATRIX]
    assert isinstance(ctrl.value, bytes)
    m = ffi.new("struct v4l2_ctrl_h264_scaling_matrix *")
    ffi.memmove(m, ctrl.value, ffi.sizeof(m[0]))
    assert all(list(m.scaling_list_4x4[i]) == cqm4 for i in range(6))
    assert list(m.scaling_list_8x8[0]) == cqm8 and list(m.scaling_list_8x8[1]) == cqm8


def test_fmo_is_not_supported() -> None:
    stream = data("64x64-I")
    units = list(nal_units(stream))
    pps = next(u for u in units if u.nal_unit_type == 8)
    fmo = (Bits().ue(0).ue(0).u(1, 0).u(1, 0).ue(1).ue(0).ue(10).ue(10)  # 2 slice groups, interleaved
           .ue(0).ue(0).u(1, 0).u(2, 0).se(0).se(0).se(0).u(1, 1).u(1, 0).u(1, 0).nal(0x68))  # fmt: skip
    start = pps.offset - pps.start_code_length
    patched = stream[:start] + fmo + stream[pps.offset + len(pps.data) :]
    with pytest.raises(H264NotSupported, match=r"^not supported: flexible macroblock ordering"):
        build(patched)


def test_truncated_stream_names_byte_offset() -> None:
    stream = data("64x64-I")
    sps = next(u for u in nal_units(stream) if u.nal_unit_type == 7)
    with pytest.raises(BitstreamError, match=rf"truncated NAL unit.*byte offset {sps.offset + 5}\b"):
        build(stream[: sps.offset + 6])


def test_missing_pps_and_garbage_name_byte_offset() -> None:
    stream = data("64x64-I-P")
    pps = next(u for u in nal_units(stream) if u.nal_unit_type == 8)
    without = stream[: pps.offset - pps.start_code_length] + stream[pps.offset + len(pps.data) :]
    with pytest.raises(BitstreamError, match=r"PPS 0, which the stream has not sent \(at byte offset \d+"):
        build(without)
    with pytest.raises(BitstreamError, match="byte offset 0"):
        build(b"\x12\x34" + stream)


def test_request_streams_are_deterministic_and_dumped() -> None:
    a = "\n".join(dump(build_request_stream("H.264", data("MR1_BT_A"))))
    b = "\n".join(dump(build_request_stream("H.264", data("MR1_BT_A"))))
    assert a == b
    assert "format: S264 176x144" in a and "H264_START_CODE = 1" in a and "H264_DECODE_MODE = 1" in a
    assert "request 61: timestamp_ns 62000000" in a


def test_every_suite_vector_builds_and_cost_per_picture() -> None:
    pictures_total, elapsed = 0, 0.0
    for vector in VECTORS.values():
        stream = vector.read()
        t = time.perf_counter()
        rs = build(stream)
        elapsed += time.perf_counter() - t
        assert len(rs.requests) == len(list(pictures(stream))) > 0
        pictures_total += len(rs.requests)
    per_picture_us = elapsed / pictures_total * 1e6
    print(f"H.264 request building: {pictures_total} pictures, {per_picture_us:.0f} us/picture")
    assert per_picture_us < 5000


@pytest.mark.parametrize("name", ["64x64-I-P-B-P", "BA_MW_D", "MR2_MW_A", "x264-high-cqm-wp", "x264-mbaff"])
def test_decodes_on_rust_visl(name: str) -> None:
    from conform.drivers import resolve_driver
    from conform.run.session import DecodeSession

    vector: Vector = VECTORS[name]
    rs = build(vector.read())
    session = DecodeSession(resolve_driver("rust-visl").connect(), rs.format)
    try:
        frames = list(session.decode(rs.requests))
    finally:
        session.close()
    assert len(frames) == len(rs.requests)
    assert [f.buffer.timestamp_ns for f in frames] == [r.timestamp_ns for r in rs.requests]
