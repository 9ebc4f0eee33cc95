"""HEVC request streams: hand-checked parse, RPS and control values, not-supported and corrupt
streams, determinism, the per-picture cost, and decoding on rust-visl (one frame per picture)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from conform.codecs.bitreader import BitReader, BitstreamError, Rbsp
from conform.codecs.frontend import build_request_stream, dump
from conform.codecs.hevc.dpb import Dpb, RefPicture
from conform.codecs.hevc.parser import (
    HevcNotSupported,
    LongTermRefs,
    PredWeightTable,
    StRefPicSet,
    _st_ref_pic_set,
)
from conform.codecs.hevc.reader import NalUnit, nal_units
from conform.codecs.hevc.requests import _check_supported, build, pictures
from conform.codecs.stream import DecodeMode, DecodeRequest, SliceMode, StartCode
from conform.device import ControlValue
from conform.run.suite import Codec, load_suites
from conform.run.vector import Vector, search_path
from conform.uapi import C, ffi

VECTORS = {v.name: v for s in load_suites(codec=Codec.H265) for v in s.resolve(search_path()).test_vectors}
SLICE_PARAMS_SIZE = ffi.sizeof("struct v4l2_ctrl_hevc_slice_params")


def data(name: str) -> bytes:
    return VECTORS[name].read()


def control(controls: tuple[ControlValue, ...], cid: int) -> bytes | None:
    for ctrl in controls:
        if ctrl.id == cid:
            assert isinstance(ctrl.value, bytes)
            return ctrl.value
    return None


def struct(controls: tuple[ControlValue, ...], cid: int, name: str) -> Any:
    value = control(controls, cid)
    assert value is not None, f"no control 0x{cid:x}"
    obj = ffi.new(f"{name} *")
    ffi.memmove(obj, value, ffi.sizeof(name))
    return obj


def slice_params(controls: tuple[ControlValue, ...]) -> Any:
    value = control(controls, C.V4L2_CID_STATELESS_HEVC_SLICE_PARAMS)
    assert value is not None and len(value) % SLICE_PARAMS_SIZE == 0
    array = ffi.new("struct v4l2_ctrl_hevc_slice_params[]", len(value) // SLICE_PARAMS_SIZE)
    ffi.memmove(array, value, len(value))
    return array


def decode_params(controls: tuple[ControlValue, ...]) -> Any:
    return struct(controls, C.V4L2_CID_STATELESS_HEVC_DECODE_PARAMS, "struct v4l2_ctrl_hevc_decode_params")


def test_64x64_structure_matches_independent_values() -> None:
    # From ffmpeg's trace of cros-codecs' 64x64-I-P-B-P.h265: IDR (POC 0), TRAIL_R P with
    # slice_pic_order_cnt_lsb 2 and an inline RPS {-2} (bits 30..37), TRAIL_N B with lsb 1 and
    # {-1 | +1} (bits 28..37); their byte_alignment() ends at bits 40, 72 and 64.
    pics = list(pictures(data("64x64-I-P-B-P")))
    assert [p.slices[0].nal.nal_unit_type for p in pics] == [20, 1, 0]
    assert [p.slices[0].slice_pic_order_cnt_lsb for p in pics] == [0, 2, 1]
    assert [p.slices[0].short_term_ref_pic_set_size for p in pics] == [0, 8, 10]
    assert [p.slices[0].header_bytes for p in pics] == [5, 9, 8]
    assert [p.slices[0].slice_qp_delta for p in pics] == [-20, -21, -18]
    rs = build(data("64x64-I-P-B-P"))
    assert [r.timestamp_ns for r in rs.requests] == [1_000_000, 2_000_000, 3_000_000]
    assert [r.flags for r in rs.requests] == [C.V4L2_BUF_FLAG_KEYFRAME, C.V4L2_BUF_FLAG_PFRAME,
                                              C.V4L2_BUF_FLAG_BFRAME]  # fmt: skip
    sp = slice_params(rs.requests[1].controls)[0]
    assert sp.data_byte_offset == 3 + 9 and sp.bit_size == 8 * len(rs.requests[1].payload)
    assert rs.requests[1].payload.startswith(b"\x00\x00\x01\x02\x01")
    dp = decode_params(rs.requests[0].controls)
    assert dp.flags == C.V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC | C.V4L2_HEVC_DECODE_PARAM_FLAG_IDR_PIC
    dp = decode_params(rs.requests[2].controls)
    assert (dp.pic_order_cnt_val, dp.num_active_dpb_entries, dp.short_term_ref_pic_set_size) == (1, 2, 10)
    assert [(e.timestamp, e.pic_order_cnt_val) for e in dp.dpb[0:2]] == [(1_000_000, 0), (2_000_000, 2)]
    assert (dp.num_poc_st_curr_before, dp.poc_st_curr_before[0]) == (1, 0)
    assert (dp.num_poc_st_curr_after, dp.poc_st_curr_after[0]) == (1, 1)


def test_b_pyramid_reference_lists_and_weights() -> None:
    # x265-bpyramid-wp decodes POC 0, 1, 3, then B POC 2 with RPS {-1, -2 | +1}: the DPB holds
    # POC 0, 1, 3 in decoding order; RefPicList0 = StCurrBefore (POC 1, 0), RefPicList1 = POC 3.
    rs = build(data("x265-bpyramid-wp"))
    dp = decode_params(rs.requests[3].controls)
    assert dp.pic_order_cnt_val == 2
    assert [e.pic_order_cnt_val for e in dp.dpb[0:3]] == [0, 1, 3]
    assert list(dp.poc_st_curr_before[0:2]) == [1, 0] and dp.poc_st_curr_after[0] == 2
    sp = slice_params(rs.requests[3].controls)[0]
    assert sp.slice_type == C.V4L2_HEVC_SLICE_TYPE_B and sp.slice_pic_order_cnt == 2
    assert (sp.num_ref_idx_l0_active_minus1, sp.num_ref_idx_l1_active_minus1) == (1, 0)
    assert list(sp.ref_idx_l0[0:2]) == [1, 0] and sp.ref_idx_l1[0] == 2
    # The fade makes x265 send weights: some slice carries a non-zero luma weight delta.
    weighted = [p.slices[0].pred_weight_table for p in pictures(data("x265-bpyramid-wp"))]
    assert any(w is not None and any(w.delta_luma_weight_l0) for w in weighted)


def test_inter_rps_prediction() -> None:
    # RPS 0: {-1, -3 | +2}, all used.  RPS 1 predicts it with deltaRps = -1 and
    # used_by_curr_pic_flag 1, 0 (use_delta_flag 1), 1, 1: (7-61) gives S0 = -1 (from deltaRps
    # itself), -2, -4 with used 1, 1, 0; (7-62) gives S1 = +1, used.
    bits = "0110101101010101"  # num_neg 2, num_pos 1, (minus1, used) x3
    bits += "11110111"  # inter flag, sign 1, abs_minus1 0, flags per j
    bits += "1" + "0" * (-(len(bits) + 1) % 8)
    r = BitReader(Rbsp(int(bits, 2).to_bytes(len(bits) // 8, "big"), 0))
    first = _st_ref_pic_set(r, 0, 2, [])
    assert (first.delta_poc_s0, first.delta_poc_s1) == ((-1, -3), (2,))
    second = _st_ref_pic_set(r, 1, 2, [first])
    assert second.delta_poc_s0 == (-1, -2, -4) and second.used_by_curr_pic_s0 == (True, True, False)
    assert second.delta_poc_s1 == (1,) and second.used_by_curr_pic_s1 == (True,)
    assert second.num_delta_pocs_of_ref_rps_idx == 3


def test_picture_order_count_msb_wraps() -> None:
    pic = next(iter(pictures(data("x265-bpyramid-wp"))))
    sps = dataclasses.replace(pic.sps, log2_max_pic_order_cnt_lsb_minus4=0)  # MaxPicOrderCntLsb 16
    trail = next(p for p in pictures(data("x265-bpyramid-wp")) if p.slices[0].nal.nal_unit_type == 1).slices[
        0
    ]
    dpb = Dpb(prev_tid0_poc=14, first_in_sequence=False)
    assert dpb.picture_order_count(sps, dataclasses.replace(trail, slice_pic_order_cnt_lsb=1)) == 17
    dpb.prev_tid0_poc = 17
    assert dpb.picture_order_count(sps, dataclasses.replace(trail, slice_pic_order_cnt_lsb=15)) == 15
    dpb.prev_tid0_poc = 40
    assert dpb.picture_order_count(sps, dataclasses.replace(trail, slice_pic_order_cnt_lsb=9)) == 41


def test_long_term_references_and_list_modification() -> None:
    # No stream here has long-term pictures (x265 and kvazaar write none): a P picture POC 24
    # over a DPB holding POC 0, 8, 16, with RPS {-8} and one long-term picture PocLsbLt 0.
    # §8.3.2: POC 16 is StCurrBefore, POC 0 (matched on its LSBs) LtCurr, POC 8 is dropped.
    pics = list(pictures(data("x265-bpyramid-wp")))
    sps, trail = pics[0].sps, pics[1].slices[0]
    hdr = dataclasses.replace(
        trail, slice_pic_order_cnt_lsb=24, st_rps=StRefPicSet((-8,), (True,), (), ()),
        long_term=LongTermRefs((0,), (True,), (False,), (0,)), num_ref_idx_l0_active_minus1=1,
    )  # fmt: skip
    refs_in = [RefPicture(0, 1_000_000), RefPicture(8, 2_000_000), RefPicture(16, 3_000_000)]
    dpb = Dpb(list(refs_in), prev_tid0_poc=16, first_in_sequence=False)
    poc = dpb.picture_order_count(sps, hdr)
    refs = dpb.reference_set(sps, hdr, poc)
    assert poc == 24
    assert refs.entries == (RefPicture(0, 1_000_000, True), RefPicture(16, 3_000_000))
    assert (refs.st_curr_before, refs.st_curr_after, refs.lt_curr) == ((1,), (), (0,))
    assert refs.ref_pic_lists(hdr) == ((1, 0), ())
    modified = dataclasses.replace(hdr, ref_pic_list_modification_flag_l0=True, list_entry_l0=(1, 1))
    assert refs.ref_pic_lists(modified) == ((0, 0), ())
    from conform.codecs.hevc.controls import decode_params_control

    dp = decode_params_control([hdr], poc, refs)
    assert dp.dpb[0].flags == C.V4L2_HEVC_DPB_ENTRY_LONG_TERM_REFERENCE and dp.dpb[1].flags == 0
    assert (dp.num_poc_lt_curr, dp.poc_lt_curr[0], dp.num_active_dpb_entries) == (1, 0, 2)
    # With delta_poc_msb_present_flag the whole POC must match: MaxPicOrderCntLsb 16, PocLsbLt 8,
    # DeltaPocMsbCycleLt 1 name POC 24 - 16 - (24 & 15) + 8 = 8.
    small = dataclasses.replace(sps, log2_max_pic_order_cnt_lsb_minus4=0)
    msb = dataclasses.replace(
        hdr, slice_pic_order_cnt_lsb=8, long_term=LongTermRefs((8,), (True,), (True,), (1,))
    )
    dpb = Dpb(list(refs_in), prev_tid0_poc=16, first_in_sequence=False)
    poc = dpb.picture_order_count(small, msb)
    refs = dpb.reference_set(small, msb, poc)
    assert poc == 24 and refs.entries == (RefPicture(8, 2_000_000, True), RefPicture(16, 3_000_000))
    gone = dataclasses.replace(msb, long_term=LongTermRefs((8,), (True,), (True,), (2,)))
    with pytest.raises(
        BitstreamError, match=r"long-term reference POC -8 of picture POC 24 is not in the DPB"
    ):
        Dpb(list(refs_in), prev_tid0_poc=16, first_in_sequence=False).reference_set(small, gone, 24)


def test_dependent_slice_segment_takes_the_independent_ones_values() -> None:
    # No stream here has dependent slice segments: a hand-made TRAIL_R segment over
    # x265-bpyramid-wp's parameter sets (128x96 in 64x64 CTBs: a 2-bit address) with
    # dependent_slice_segments_enabled_flag: first_slice_segment_in_pic_flag 0, PPS 0,
    # dependent_slice_segment_flag 1, address 01, byte_alignment() -> 0b01101100.
    from conform.codecs.hevc.controls import slice_params as fill
    from conform.codecs.hevc.dpb import ReferenceSet
    from conform.codecs.hevc.parser import parse_slice_header
    from conform.codecs.hevc.reader import NalUnit

    pics = list(pictures(data("x265-bpyramid-wp")))
    independent = pics[1].slices[0]
    pps = dataclasses.replace(pics[1].pps, dependent_slice_segments_enabled_flag=True)
    nal = NalUnit(1000, 3, 1, 0, 1, bytes((0x02, 0x01, 0b01101100, 0xAA)))
    dep = parse_slice_header(nal, {0: pics[1].sps}, {0: pps}, independent)
    assert dep.dependent_slice_segment_flag and dep.slice_segment_address == 1 and dep.header_bytes == 3
    assert (dep.slice_type, dep.slice_qp_delta, dep.st_rps) == (
        independent.slice_type, independent.slice_qp_delta, independent.st_rps)  # fmt: skip
    c = ffi.new("struct v4l2_ctrl_hevc_slice_params *")
    fill(c, dep, 1, ReferenceSet((RefPicture(0, 1_000_000),), (0,)))
    assert c.flags & C.V4L2_HEVC_SLICE_PARAMS_FLAG_DEPENDENT_SLICE_SEGMENT
    assert (c.slice_segment_addr, c.data_byte_offset, c.bit_size) == (1, 6, 8 * 7)
    with pytest.raises(BitstreamError, match="dependent slice segment without an independent one"):
        parse_slice_header(nal, {0: pics[1].sps}, {0: pps}, None)
    with pytest.raises(BitstreamError, match=r"a P slice with no reference picture \(at byte offset 1000\)"):
        fill(c, dep, 1, ReferenceSet(()))


def test_slices_are_one_dynamic_array_element_each() -> None:
    # x265-slices: 192x128 in 32x32 CTBs (6x4), three slices of 8 CTBs... x265 splits by rows.
    rs = build(data("x265-slices"))
    for req in rs.requests:
        sp = slice_params(req.controls)
        assert len(sp) == 3
        assert [s.slice_segment_addr for s in sp] == [0, 6, 12]
        assert sum(s.bit_size for s in sp) == 8 * len(req.payload)
        offsets = control(req.controls, C.V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS)
        assert offsets is None or len(offsets) == 4 * sum(s.num_entry_point_offsets for s in sp)


def test_wpp_entry_point_offsets() -> None:
    # 128x96 in 16x16 CTBs: 6 CTB rows, so one slice per picture has 5 WPP entry points.
    rs = build(data("x265-wpp"))
    slices = [p.slices for p in pictures(data("x265-wpp"))]
    for req, hdrs in zip(rs.requests, slices, strict=True):
        (sp,) = slice_params(req.controls)
        assert sp.num_entry_point_offsets == 5
        value = control(req.controls, C.V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS)
        assert value is not None
        got = [int.from_bytes(value[i : i + 4], "little") for i in range(0, len(value), 4)]
        assert got == [e + 1 for e in hdrs[0].entry_point_offset_minus1]
        assert sum(got) < len(hdrs[0].nal.data) - hdrs[0].header_bytes


def test_tiles_uniform_and_explicit() -> None:
    # kvz-tiles: 192x128 in 64x64 CTBs, uniform 3x2 tiles of one CTB, one slice per tile.
    rs = build(data("kvz-tiles"))
    pps = struct(rs.requests[0].controls, C.V4L2_CID_STATELESS_HEVC_PPS, "struct v4l2_ctrl_hevc_pps")
    tiles = C.V4L2_HEVC_PPS_FLAG_TILES_ENABLED | C.V4L2_HEVC_PPS_FLAG_UNIFORM_SPACING
    assert pps.flags & tiles == tiles
    assert (pps.num_tile_columns_minus1, pps.num_tile_rows_minus1) == (2, 1)
    assert [s.slice_segment_addr for s in slice_params(rs.requests[0].controls)] == [0, 1, 2, 3, 4, 5]
    # kvz-tiles-wpp: a 64-pixel first column (column_width_minus1 0 sent, the last derived as
    # 1), two uniform rows, WPP inside: one slice with an entry point per further tile.
    rs = build(data("kvz-tiles-wpp"))
    pps = struct(rs.requests[0].controls, C.V4L2_CID_STATELESS_HEVC_PPS, "struct v4l2_ctrl_hevc_pps")
    assert not pps.flags & C.V4L2_HEVC_PPS_FLAG_UNIFORM_SPACING
    assert pps.flags & C.V4L2_HEVC_PPS_FLAG_ENTROPY_CODING_SYNC_ENABLED
    assert (pps.num_tile_columns_minus1, pps.num_tile_rows_minus1) == (1, 1)
    assert list(pps.column_width_minus1[0:3]) == [0, 1, 0] and list(pps.row_height_minus1[0:2]) == [0, 0]
    (sp,) = slice_params(rs.requests[0].controls)
    assert sp.num_entry_point_offsets == 3


def test_default_scaling_lists_in_raster_order() -> None:
    # Table 7-6 in up-right diagonal order; scan position 10 is (x 0, y 4) -> raster 32,
    # 11 is (1, 3) -> 25, 12 is (2, 2) -> 18, and the last is (7, 7).
    req = build(data("x265-scaling-default")).requests[0]
    m = struct(req.controls, C.V4L2_CID_STATELESS_HEVC_SCALING_MATRIX, "struct v4l2_ctrl_hevc_scaling_matrix")
    assert all(list(m.scaling_list_4x4[i]) == [16] * 16 for i in range(6))
    intra, inter = list(m.scaling_list_8x8[0]), list(m.scaling_list_8x8[3])
    assert (intra[32], intra[25], intra[18], intra[63]) == (17, 16, 17, 115)
    assert inter[63] == 91 and list(m.scaling_list_32x32[1]) == inter
    assert list(m.scaling_list_dc_coef_16x16) == [16] * 6
    sps = struct(req.controls, C.V4L2_CID_STATELESS_HEVC_SPS, "struct v4l2_ctrl_hevc_sps")
    assert sps.flags & C.V4L2_HEVC_SPS_FLAG_SCALING_LIST_ENABLED
    assert (
        control(build(data("x265-wpp")).requests[0].controls, C.V4L2_CID_STATELESS_HEVC_SCALING_MATRIX)
        is None
    )


def test_open_gop_cra_mid_stream_and_cra_first() -> None:
    stream = data("x265-open-gop")
    pics = list(pictures(stream))
    rs = build(stream)
    assert len(rs.requests) == len(pics) == 20
    cra = [i for i, p in enumerate(pics) if p.slices[0].nal.nal_unit_type == 21]
    assert cra
    dp = decode_params(rs.requests[cra[0]].controls)
    assert dp.flags == C.V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC
    # The same stream cut before its first CRA (parameter sets kept): the RASL pictures that
    # follow it reference pictures never decoded, so they are dropped (§8.1.3).
    units = list(nal_units(stream))
    first_vcl = next(i for i, u in enumerate(units) if u.nal_unit_type < 32)
    cra_unit = next(u for u in units if u.nal_unit_type == 21)
    head = stream[: units[first_vcl].offset - units[first_vcl].start_code_length]
    cut = head + stream[cra_unit.offset - cra_unit.start_code_length :]
    rest = [p for p in pictures(cut)]
    rasl = [p for p in rest if p.slices[0].nal.is_rasl and p.offset < _next_irap(rest)]
    assert rasl
    assert len(build(cut).requests) == len(rest) - len(rasl)


def _next_irap(pics: list[Any]) -> int:
    later = [p.offset for p in pics[1:] if p.slices[0].nal.is_irap]
    return later[0] if later else 1 << 60


def test_temporal_layers_keep_sub_layer_ids() -> None:
    rs = build(data("x265-temporal-layers"))
    tids = {slice_params(r.controls)[0].nuh_temporal_id_plus1 for r in rs.requests}
    assert tids == {1, 2, 3}
    # IDR, P, TSA_R, TSA_N, TSA_N, then a CRA (POC 6) whose RASL picture (POC 5) is decoded: the
    # CRA's RPS keeps POC 4 (PocStFoll) for it.
    pocs = [decode_params(r.controls).pic_order_cnt_val for r in rs.requests]
    assert pocs == [0, 4, 2, 1, 3, 6, 5, 10, 8, 7, 9, 11]
    rasl = decode_params(rs.requests[6].controls)
    assert [e.pic_order_cnt_val for e in rasl.dpb[0 : rasl.num_active_dpb_entries]] == [0, 4, 6]


def test_unsupported_features_are_named() -> None:
    pic = next(iter(pictures(data("64x64-I"))))
    with pytest.raises(HevcNotSupported, match=r"^not supported: SPS range extension tools \(implicit_rdpcm"):
        _check_supported(dataclasses.replace(pic, sps=dataclasses.replace(
            pic.sps, range_extension_flags=("implicit_rdpcm_enabled_flag",))))  # fmt: skip
    with pytest.raises(HevcNotSupported, match=r"^not supported: PPS range extension tools"):
        _check_supported(dataclasses.replace(pic, pps=dataclasses.replace(
            pic.pps, range_extension_in_use=("cross_component_prediction_enabled_flag",))))  # fmt: skip
    from conform.codecs.hevc.controls import slice_params as fill
    from conform.codecs.hevc.dpb import ReferenceSet

    weights = PredWeightTable(6, 0, (0,), (200,), ((0, 0),), ((0, 0),))
    hdr = dataclasses.replace(pic.slices[0], pred_weight_table=weights)
    with pytest.raises(HevcNotSupported, match=r"luma_offset_l0 = 200, beyond V4L2's __s8"):
        fill(ffi.new("struct v4l2_ctrl_hevc_slice_params *"), hdr, 0, ReferenceSet(()))


def test_chroma_offsets_are_the_derived_offsets() -> None:
    """chroma_offset_lX carries ChromaOffsetLX (H.265 (7-56)), worked by hand here: with
    ChromaLog2WeightDenom 5 and delta_chroma_weight 32 the weight is 64, so a coded delta of
    1 gives 128 + 1 - (128 * 64 >> 5) = -127; a coded 500 at weight 1 << 6 clips to 127."""
    from conform.codecs.hevc.controls import slice_params as fill
    from conform.codecs.hevc.dpb import ReferenceSet

    pic = next(iter(pictures(data("64x64-I"))))
    weights = PredWeightTable(5, 0, (0, 0), (0, 0), ((32, 32), (0, 0)), ((1, 0), (500, -3)))
    hdr = dataclasses.replace(pic.slices[0], pred_weight_table=weights)
    c = ffi.new("struct v4l2_ctrl_hevc_slice_params *")
    fill(c, hdr, 0, ReferenceSet(()))
    offsets = c.pred_weight_table.chroma_offset_l0
    assert [[offsets[i][j] for j in range(2)] for i in range(2)] == [[-127, -128], [127, -3]]


def test_corrupt_streams_name_byte_offset() -> None:
    stream = data("64x64-I-P")
    units = list(nal_units(stream))
    sps = next(u for u in units if u.nal_unit_type == 33)
    with pytest.raises(BitstreamError, match=r"truncated NAL unit.*byte offset (\d+)\)") as info:
        build(stream[: sps.offset + 6])
    assert sps.offset <= info.value.offset < sps.offset + 6
    pps = next(u for u in units if u.nal_unit_type == 34)
    without = stream[: pps.offset - pps.start_code_length] + stream[pps.offset + len(pps.data) :]
    with pytest.raises(BitstreamError, match=r"PPS 0, which the stream has not sent \(at byte offset \d+"):
        build(without)
    with pytest.raises(BitstreamError, match="byte offset 0"):
        build(b"\x12\x34" + stream)
    # A slice segment cut after its header has no slice data.
    idr = next(u for u in units if u.nal_unit_type == 20)
    cut = stream[: idr.offset + 5] + stream[idr.offset + len(idr.data) :]
    with pytest.raises(
        BitstreamError, match=rf"without slice_segment_data\(\) \(at byte offset {idr.offset}\)"
    ):
        build(cut)


def test_missing_reference_names_picture_and_offset() -> None:
    stream = data("x265-bpyramid-wp")
    pics = list(pictures(stream))
    gone = pics[1].slices[0].nal  # POC 1, a reference of what follows
    cut = stream[: gone.offset - gone.start_code_length] + stream[gone.offset + len(gone.data) :]
    with pytest.raises(BitstreamError, match=r"reference POC 1 of picture POC \d+ is not in the DPB "
                                             r"\(at byte offset \d+, picture 1\)"):  # fmt: skip
        build(cut)


def test_request_streams_are_deterministic_and_dumped() -> None:
    a = "\n".join(dump(build_request_stream("H.265", data("x265-bpyramid-wp"))))
    b = "\n".join(dump(build_request_stream("H.265", data("x265-bpyramid-wp"))))
    assert a == b
    assert "format: S265 128x96" in a and "HEVC_START_CODE = 1" in a and "HEVC_DECODE_MODE = 1" in a
    assert "request 11: timestamp_ns 12000000" in a and "HEVC_DECODE_PARAMS (struct" in a


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
    print(f"HEVC request building: {pictures_total} pictures, {per_picture_us:.0f} us/picture")
    assert per_picture_us < 5000


@pytest.mark.parametrize(
    "name", ["64x64-I-P-B-P", "bear", "x265-bpyramid-wp", "x265-slices", "x265-wpp", "x265-open-gop",
             "x265-scaling-default", "x265-temporal-layers", "kvz-tiles", "kvz-tiles-wpp"],
)  # fmt: skip
def test_decodes_on_rust_visl(name: str) -> None:
    from conform.drivers import resolve_driver
    from conform.run.session import decode_frames

    vector: Vector = VECTORS[name]
    rs = build(vector.read())
    frames = decode_frames(resolve_driver("rust-visl").connect(), rs.format, rs.requests)
    assert len(frames) == len(rs.requests)
    assert [f.buffer.timestamp_ns for f in frames] == [r.timestamp_ns for r in rs.requests]


# Slice-based decoding and start code NONE -----------------------------------------------

SLICE_BASED = SliceMode(DecodeMode.SLICE_BASED)
NO_START_CODES = SliceMode(DecodeMode.SLICE_BASED, StartCode.NONE)
MULTI_SLICE = ["x265-slices", "kvz-tiles", "kvz-tiles-wpp", "x265-wpp", "x265-bpyramid-wp"]
HOLD = C.V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF
PICTURE_CONTROLS = (
    C.V4L2_CID_STATELESS_HEVC_SPS,
    C.V4L2_CID_STATELESS_HEVC_PPS,
    C.V4L2_CID_STATELESS_HEVC_SCALING_MATRIX,
    C.V4L2_CID_STATELESS_HEVC_DECODE_PARAMS,
)


def by_picture(requests: tuple[DecodeRequest, ...]) -> list[list[DecodeRequest]]:
    """Requests grouped into pictures: a picture ends with the first request not holding CAPTURE."""
    groups: list[list[DecodeRequest]] = [[]]
    for req in requests:
        groups[-1].append(req)
        if not req.flags & HOLD:
            groups.append([])
    assert not groups[-1], "the last request holds its CAPTURE buffer"
    return groups[:-1]


def only(array: Any) -> Any:
    """A copy of the one element of a slice params array (a cffi item does not keep its array alive)."""
    assert len(array) == 1
    copy = ffi.new("struct v4l2_ctrl_hevc_slice_params *")
    copy[0] = array[0]
    return copy


def segment_nals(stream: bytes) -> list[NalUnit]:
    return [n for n in nal_units(stream) if n.is_vcl]


@pytest.mark.parametrize("name", MULTI_SLICE)
def test_slice_based_one_request_per_slice_segment(name: str) -> None:
    stream = data(name)
    frame, sliced = build(stream), build(stream, NO_START_CODES)
    nals = segment_nals(stream)
    assert len(sliced.requests) == len(nals) >= len(frame.requests)
    pics = by_picture(sliced.requests)
    assert len(pics) == len(frame.requests)
    for n, (group, whole) in enumerate(zip(pics, frame.requests, strict=True)):
        assert {r.timestamp_ns for r in group} == {whole.timestamp_ns}, f"picture {n}"
        assert all(r.flags & HOLD for r in group[:-1]) and not group[-1].flags & HOLD, f"picture {n}"
        assert {r.flags & ~HOLD for r in group} == {whole.flags}, f"picture {n}"
        for cid in PICTURE_CONTROLS:
            assert {control(r.controls, cid) for r in group} == {control(whole.controls, cid)}, (
                f"picture {n} 0x{cid:x}"
            )
        whole_sp = slice_params(whole.controls)
        assert len(whole_sp) == len(group), f"picture {n}"
        addresses = []
        for i, req in enumerate(group):
            nal = nals.pop(0)
            assert req.payload == nal.data  # the NAL unit, its 2-byte header included
            sp = only(slice_params(req.controls))
            addresses.append(sp.slice_segment_addr)
            # Nothing before the NAL unit: bit_size is the payload, data_byte_offset where
            # slice_segment_data() begins in it, one start code less than frame-based.
            assert sp.bit_size == 8 * len(req.payload)
            assert sp.data_byte_offset == whole_sp[i].data_byte_offset - 3 < len(req.payload)
            # The rest matches the frame-based element of this segment.
            for fld in ("slice_segment_addr", "slice_type", "slice_qp_delta", "num_entry_point_offsets",
                        "num_ref_idx_l0_active_minus1", "flags"):  # fmt: skip
                assert getattr(sp, fld) == getattr(whole_sp[i], fld), f"picture {n} slice {i} {fld}"
            assert list(sp.ref_idx_l0) == list(whole_sp[i].ref_idx_l0)
            offsets = control(req.controls, C.V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS)
            assert (offsets is None) == (sp.num_entry_point_offsets == 0)
            if offsets is not None:
                assert len(offsets) == 4 * sp.num_entry_point_offsets
                # The entry points partition slice_segment_data(): they end inside the payload.
                total = sum(int.from_bytes(offsets[j : j + 4], "little") for j in range(0, len(offsets), 4))
                assert sp.data_byte_offset + total < len(req.payload)
        assert addresses[0] == 0 and addresses == sorted(set(addresses)), f"picture {n}: {addresses}"
    assert not nals


def test_slice_data_begins_at_data_byte_offset() -> None:
    # payload[data_byte_offset:] is slice_segment_data(): the header, parsed again from only the
    # bytes before data_byte_offset (less would run out), ends exactly there, whatever the prefix.
    from conform.codecs.hevc.parser import parse_slice_header

    stream = data("x265-slices")
    pics = list(pictures(stream))
    for mode, prefix in ((NO_START_CODES, b""), (SLICE_BASED, b"\x00\x00\x01")):
        requests = iter(build(stream, mode).requests)
        for pic in pics:
            spss, ppss = (
                {pic.sps.sps_seq_parameter_set_id: pic.sps},
                {pic.pps.pps_pic_parameter_set_id: pic.pps},
            )
            for hdr in pic.slices:
                req = next(requests)
                sp = only(slice_params(req.controls))
                assert req.payload == prefix + hdr.nal.data and sp.bit_size == 8 * len(req.payload)
                header = req.payload[len(prefix) : sp.data_byte_offset]
                nal = dataclasses.replace(hdr.nal, data=header)
                assert parse_slice_header(nal, spss, ppss, None).header_bytes == len(header)
                with pytest.raises(BitstreamError):
                    parse_slice_header(dataclasses.replace(hdr.nal, data=header[:-1]), spss, ppss, None)
                assert req.payload[sp.data_byte_offset :] == hdr.nal.data[hdr.header_bytes :]


def test_frame_based_without_start_codes_and_device_controls() -> None:
    stream = data("x265-slices")
    default = build(stream)
    bare = build(stream, SliceMode(start_code=StartCode.NONE))
    assert b"".join(r.payload for r in bare.requests) == b"".join(n.data for n in segment_nals(stream))
    for a, b in zip(default.requests, bare.requests, strict=True):
        sa, sb = slice_params(a.controls), slice_params(b.controls)
        assert [s.bit_size - 24 for s in sa] == [s.bit_size for s in sb]
        assert [s.data_byte_offset - 3 for s in sa] == [s.data_byte_offset for s in sb]
        assert control(a.controls, C.V4L2_CID_STATELESS_HEVC_DECODE_PARAMS) == control(
            b.controls, C.V4L2_CID_STATELESS_HEVC_DECODE_PARAMS)  # fmt: skip
    modes = {
        SliceMode(): (
            C.V4L2_STATELESS_HEVC_DECODE_MODE_FRAME_BASED,
            C.V4L2_STATELESS_HEVC_START_CODE_ANNEX_B,
        ),
        SLICE_BASED: (
            C.V4L2_STATELESS_HEVC_DECODE_MODE_SLICE_BASED,
            C.V4L2_STATELESS_HEVC_START_CODE_ANNEX_B,
        ),
        NO_START_CODES: (
            C.V4L2_STATELESS_HEVC_DECODE_MODE_SLICE_BASED,
            C.V4L2_STATELESS_HEVC_START_CODE_NONE,
        ),
    }
    for mode, (decode_mode, start_code) in modes.items():
        controls = {c.id: c.value for c in build_request_stream("H.265", stream, mode).format.device_controls}
        assert controls == {C.V4L2_CID_STATELESS_HEVC_DECODE_MODE: decode_mode,
                            C.V4L2_CID_STATELESS_HEVC_START_CODE: start_code}  # fmt: skip
    text = "\n".join(dump(build_request_stream("H.265", stream, NO_START_CODES)))
    assert "HEVC_DECODE_MODE = 0" in text and "HEVC_START_CODE = 0" in text


@pytest.mark.parametrize("mode", [SLICE_BASED, NO_START_CODES], ids=["annex-b", "no-start-codes"])
@pytest.mark.parametrize("name", ["x265-slices", "kvz-tiles", "kvz-tiles-wpp", "x265-bpyramid-wp"])
def test_slice_based_decodes_on_rust_visl(name: str, mode: SliceMode) -> None:
    from conform.drivers import resolve_driver
    from conform.run.session import decode_frames

    frame = build(data(name))
    rs = build(data(name), mode)
    frames = decode_frames(resolve_driver("rust-visl").connect(), rs.format, rs.requests)
    # One CAPTURE frame per picture, however many slice segments it took.
    assert len(frames) == len(frame.requests) <= len(rs.requests)
    assert [f.buffer.timestamp_ns for f in frames] == [r.timestamp_ns for r in frame.requests]
