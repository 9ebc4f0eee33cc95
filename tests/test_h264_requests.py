"""H.264 request streams: hand-checked parse and DPB values, not-supported and corrupt streams,
determinism, the per-picture cost, and decoding on rust-visl (one frame per picture)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from conform.codecs.bitreader import BitstreamError
from conform.codecs.frontend import build_request_stream, dump
from conform.codecs.h264.controls import dpb_indices
from conform.codecs.h264.dpb import Dpb, PictureOrder, RefFrame
from conform.codecs.h264.parser import H264NotSupported, RefPicListModification, SliceType
from conform.codecs.h264.reader import NalUnit, NalUnitType, nal_units
from conform.codecs.h264.requests import build, pictures
from conform.codecs.stream import DecodeMode, DecodeRequest, SliceMode, StartCode
from conform.device import ControlValue
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
    from conform.run.session import decode_frames

    vector: Vector = VECTORS[name]
    rs = build(vector.read())
    frames = decode_frames(resolve_driver("rust-visl").connect(), rs.format, rs.requests)
    assert len(frames) == len(rs.requests)
    assert [f.buffer.timestamp_ns for f in frames] == [r.timestamp_ns for r in rs.requests]


# Slice-based decoding and start code NONE -----------------------------------------------

SLICE_BASED = SliceMode(DecodeMode.SLICE_BASED)
NO_START_CODES = SliceMode(DecodeMode.SLICE_BASED, StartCode.NONE)
MULTI_SLICE = ["x264-baseline-slices", "x264-high-cqm-wp", "x264-422-10bit", "MR1_BT_A", "SVA_Base_B"]
HOLD = C.V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF
PICTURE_CONTROLS = (
    C.V4L2_CID_STATELESS_H264_SPS,
    C.V4L2_CID_STATELESS_H264_PPS,
    C.V4L2_CID_STATELESS_H264_SCALING_MATRIX,
    C.V4L2_CID_STATELESS_H264_DECODE_PARAMS,
)


def struct(controls: tuple[ControlValue, ...], cid: int, name: str) -> Any:
    (value,) = [c.value for c in controls if c.id == cid]
    assert isinstance(value, bytes) and len(value) == ffi.sizeof(name)
    obj = ffi.new(f"{name} *")
    ffi.memmove(obj, value, len(value))
    return obj


def raw(controls: tuple[ControlValue, ...], cid: int) -> bytes | int | None:
    return next((c.value for c in controls if c.id == cid), None)


def by_picture(requests: tuple[DecodeRequest, ...]) -> list[list[DecodeRequest]]:
    """Requests grouped into pictures: a picture ends with the first request not holding CAPTURE."""
    groups: list[list[DecodeRequest]] = [[]]
    for req in requests:
        groups[-1].append(req)
        if not req.flags & HOLD:
            groups.append([])
    assert not groups[-1], "the last request holds its CAPTURE buffer"
    return groups[:-1]


def slice_nals(stream: bytes) -> list[NalUnit]:
    return [n for n in nal_units(stream) if n.nal_unit_type in (NalUnitType.SLICE, NalUnitType.SLICE_IDR)]


@pytest.mark.parametrize("name", MULTI_SLICE)
def test_slice_based_one_request_per_slice(name: str) -> None:
    stream = data(name)
    frame, sliced = build(stream), build(stream, NO_START_CODES)
    nals = slice_nals(stream)
    assert len(sliced.requests) == len(nals) > len(frame.requests)
    assert [r.payload for r in sliced.requests] == [n.data for n in nals]  # the NAL unit, header and all
    pics = by_picture(sliced.requests)
    assert len(pics) == len(frame.requests)
    for n, (group, whole) in enumerate(zip(pics, frame.requests, strict=True)):
        assert {r.timestamp_ns for r in group} == {whole.timestamp_ns}, f"picture {n}"
        assert all(r.flags & HOLD for r in group[:-1]) and not group[-1].flags & HOLD, f"picture {n}"
        assert {r.flags & ~HOLD for r in group} == {whole.flags}, f"picture {n}"
        for cid in PICTURE_CONTROLS:
            assert {raw(r.controls, cid) for r in group} == {raw(whole.controls, cid)}, (
                f"picture {n} 0x{cid:x}"
            )
        assert raw(whole.controls, C.V4L2_CID_STATELESS_H264_SLICE_PARAMS) is None  # frame-based: never set
        first_mbs = [
            struct(r.controls, C.V4L2_CID_STATELESS_H264_SLICE_PARAMS, "struct v4l2_ctrl_h264_slice_params")
            .first_mb_in_slice for r in group
        ]  # fmt: skip
        assert first_mbs[0] == 0 and first_mbs == sorted(set(first_mbs)), f"picture {n}: {first_mbs}"


def test_slice_params_are_the_slices_own() -> None:
    stream = data("x264-high-cqm-wp")
    hdrs = [h for p in pictures(stream) for h in p.slices]
    rs = build(stream, SLICE_BASED)
    assert len(hdrs) == len(rs.requests)
    weighted = 0
    for hdr, req in zip(hdrs, rs.requests, strict=True):
        assert req.payload == b"\x00\x00\x01" + hdr.nal.data
        sp = struct(
            req.controls, C.V4L2_CID_STATELESS_H264_SLICE_PARAMS, "struct v4l2_ctrl_h264_slice_params"
        )
        assert (sp.first_mb_in_slice, sp.slice_type, sp.slice_qp_delta, sp.cabac_init_idc) == (
            hdr.first_mb_in_slice, hdr.slice_type % 5, hdr.slice_qp_delta, hdr.cabac_init_idc)  # fmt: skip
        # From the end of the NAL header: slice_data() starts inside this NAL unit's payload.
        assert sp.header_bit_size == 8 + hdr.header_bit_size and sp.header_bit_size < 8 * len(hdr.nal.data)
        assert (
            bool(sp.flags & C.V4L2_H264_SLICE_FLAG_DIRECT_SPATIAL_MV_PRED) == hdr.direct_spatial_mv_pred_flag
        )
        pw = raw(req.controls, C.V4L2_CID_STATELESS_H264_PRED_WEIGHTS)
        # weighted_pred_flag 1, weighted_bipred_idc 2 (implicit): P slices carry tables, B and I none.
        assert (pw is not None) == (hdr.kind == SliceType.P) == (hdr.pred_weight_table is not None)
        if pw is not None:
            weighted += 1
            w = struct(
                req.controls, C.V4L2_CID_STATELESS_H264_PRED_WEIGHTS, "struct v4l2_ctrl_h264_pred_weights"
            )
            table = hdr.pred_weight_table
            assert table is not None and w.luma_log2_weight_denom == table.luma_log2_weight_denom
            assert list(w.weight_factors[0].luma_weight)[: len(table.l0)] == [e.luma_weight for e in table.l0]
    assert weighted > 0


def _lists(req: DecodeRequest) -> tuple[Any, Any, list[list[Any]]]:
    sp = struct(req.controls, C.V4L2_CID_STATELESS_H264_SLICE_PARAMS, "struct v4l2_ctrl_h264_slice_params")
    dp = struct(req.controls, C.V4L2_CID_STATELESS_H264_DECODE_PARAMS, "struct v4l2_ctrl_h264_decode_params")
    lists = []
    for lx, active in ((sp.ref_pic_list0, sp.num_ref_idx_l0_active_minus1 + 1),
                       (sp.ref_pic_list1, sp.num_ref_idx_l1_active_minus1 + 1)):  # fmt: skip
        entries = [lx[i] for i in range(32)]
        assert all(e.fields == 0 and e.index == 0 for e in entries[active:])  # past the active ones: none
        lists.append([dp.dpb[e.index] for e in entries[:active] if e.fields])
    return sp, dp, lists


@pytest.mark.parametrize("name", ["MR1_BT_A", "MR1_MW_A", "MR2_MW_A", "x264-high-cqm-wp", "test-25fps",
                                  "x264-444-lossless", "64x64-I-P-B-P"])  # fmt: skip
def test_ref_pic_lists_index_valid_dpb_entries_in_spec_order(name: str) -> None:
    stream = data(name)
    hdrs = [h for p in pictures(stream) for h in p.slices]
    checked = 0
    for hdr, req in zip(hdrs, build(stream, SLICE_BASED).requests, strict=True):
        sp, dp, (l0, l1) = _lists(req)
        valid = [e for e in dp.dpb if e.flags & C.V4L2_H264_DPB_ENTRY_FLAG_VALID]
        if hdr.kind == SliceType.I:
            assert not l0 and not l1
            continue
        # Every entry names a valid DPB entry; the list is as full as the DPB allows.
        assert all(e.flags & C.V4L2_H264_DPB_ENTRY_FLAG_VALID for e in l0 + l1)
        assert len(l0) >= min(sp.num_ref_idx_l0_active_minus1 + 1, len(valid))
        if hdr.kind != SliceType.B:
            assert not l1
        if hdr.ref_pic_list_modification_l0 or hdr.ref_pic_list_modification_l1:
            continue
        checked += 1
        longs = [bool(e.flags & C.V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM) for e in l0]
        assert longs == sorted(longs), "short-term references before long-term ones"
        lt = [e.pic_num for e in l0 if e.flags & C.V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM]
        assert lt == sorted(lt), "long-term by ascending LongTermPicNum"
        st = [e for e in l0 if not e.flags & C.V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM]
        if hdr.kind != SliceType.B:
            pic_nums = [ffi.cast("int32_t", e.pic_num) for e in st]
            assert pic_nums == sorted(pic_nums, reverse=True), (
                "P: short-term by descending PicNum (8.2.4.2.1)"
            )
            continue
        cur = min(dp.top_field_order_cnt, dp.bottom_field_order_cnt)
        pocs = [min(e.top_field_order_cnt, e.bottom_field_order_cnt) for e in st]
        before, after = [p for p in pocs if p < cur], [p for p in pocs if p > cur]
        assert pocs == sorted(before, reverse=True) + sorted(after), "B list 0 (8.2.4.2.3)"
        pocs1 = [min(e.top_field_order_cnt, e.bottom_field_order_cnt) for e in l1
                 if not e.flags & C.V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM]  # fmt: skip
        after1, before1 = [p for p in pocs1 if p > cur], [p for p in pocs1 if p < cur]
        expected = sorted(after1) + sorted(before1, reverse=True)
        swapped = expected[1::-1] + expected[2:]  # list 1 equal to list 0 swaps its first two
        assert pocs1 in (expected, swapped), "B list 1 (8.2.4.2.3)"
    assert checked > 0


def _ref(frame_num: int, poc: int, long_term: int | None = None) -> RefFrame:
    return RefFrame(frame_num, poc, poc, (frame_num + 1) * 1000, long_term)


def test_ref_pic_list_initialisation_and_modification_by_hand() -> None:
    # Values worked out from §8.2.4 by hand over a real P slice header and SPS (MaxFrameNum 16).
    pic = list(pictures(data("64x64-I-P-B-P")))[1]
    sps = dataclasses.replace(pic.sps, log2_max_frame_num_minus4=0)
    p = dataclasses.replace(pic.slices[0], frame_num=1, num_ref_idx_l0_active_minus1=3,
                            ref_pic_list_modification_l0=())  # fmt: skip
    # frame_num 14, 15, 0 are PicNum -2, -1, 0 seen from frame_num 1; then long-term 1 and 0.
    dpb = Dpb(refs=[_ref(14, 0), _ref(7, 0, 1), _ref(15, 2), _ref(3, 0, 0), _ref(0, 4)])
    order = PictureOrder(6, 6)
    assert dpb.ref_pic_lists(sps, p, order) == ((4, 2, 0, 3), ())
    # idc 0 abs_diff 1: PicNum 1 - 2 = -1 (frame 15) first; idc 2: LongTermPicNum 1 second;
    # idc 1 abs_diff 0 from the predictor -1: PicNum 0 (frame 0) third; the last shifts out.
    mods = (RefPicListModification(0, 1), RefPicListModification(2, 1), RefPicListModification(1, 0))
    assert dpb.ref_pic_lists(sps, dataclasses.replace(p, ref_pic_list_modification_l0=mods), order) == (
        (2, 1, 4, 0), ())  # fmt: skip
    # Fewer references than active entries: "no reference picture" at the end.
    short = Dpb(refs=[_ref(0, 4)])
    assert short.ref_pic_lists(sps, p, order) == ((0, None, None, None), ())
    with pytest.raises(BitstreamError, match="names short-term PicNum -4, not in the DPB"):
        short.ref_pic_lists(sps, dataclasses.replace(p, ref_pic_list_modification_l0=(
            RefPicListModification(0, 4),)), order)  # fmt: skip
    # B: list 0 POC below 6 descending, then above ascending, then long-term; list 1 the other way.
    b = dataclasses.replace(p, slice_type=1, num_ref_idx_l1_active_minus1=4, ref_pic_list_modification_l1=())
    dpb = Dpb(refs=[_ref(1, 2), _ref(2, 10), _ref(3, 4), _ref(4, 8), _ref(5, 0, 0)])
    assert dpb.ref_pic_lists(sps, dataclasses.replace(b, frame_num=6), order) == (
        (2, 0, 3, 1), (3, 1, 2, 0, 4))  # fmt: skip
    # Only earlier pictures: list 1 would equal list 0, so its first two entries swap.
    dpb = Dpb(refs=[_ref(1, 2), _ref(3, 4)])
    assert dpb.ref_pic_lists(sps, dataclasses.replace(b, frame_num=6), order) == (
        (1, 0, None, None), (0, 1, None, None, None))  # fmt: skip


def test_frame_num_gap_frames_point_at_an_unused_dpb_slot() -> None:
    refs = [_ref(0, 0), RefFrame(1, 0, 0, 0, non_existing=True), _ref(2, 4)]
    assert dpb_indices(refs) == [0, 2, 1]


def test_frame_based_without_start_codes_and_device_controls() -> None:
    stream = data("x264-baseline-slices")
    default = build(stream)
    bare = build(stream, SliceMode(start_code=StartCode.NONE))
    assert [r.controls for r in bare.requests] == [r.controls for r in default.requests]
    assert b"".join(r.payload for r in bare.requests) == b"".join(n.data for n in slice_nals(stream))
    modes = {
        SliceMode(): (
            C.V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED,
            C.V4L2_STATELESS_H264_START_CODE_ANNEX_B,
        ),
        SLICE_BASED: (
            C.V4L2_STATELESS_H264_DECODE_MODE_SLICE_BASED,
            C.V4L2_STATELESS_H264_START_CODE_ANNEX_B,
        ),
        NO_START_CODES: (
            C.V4L2_STATELESS_H264_DECODE_MODE_SLICE_BASED,
            C.V4L2_STATELESS_H264_START_CODE_NONE,
        ),
    }
    for mode, (decode_mode, start_code) in modes.items():
        controls = {c.id: c.value for c in build_request_stream("H.264", stream, mode).format.device_controls}
        assert controls == {C.V4L2_CID_STATELESS_H264_DECODE_MODE: decode_mode,
                            C.V4L2_CID_STATELESS_H264_START_CODE: start_code}  # fmt: skip
    text = "\n".join(dump(build_request_stream("H.264", stream, NO_START_CODES)))
    assert "H264_DECODE_MODE = 0" in text and "H264_START_CODE = 0" in text and "H264_SLICE_PARAMS" in text


@pytest.mark.parametrize("mode", [SLICE_BASED, NO_START_CODES], ids=["annex-b", "no-start-codes"])
@pytest.mark.parametrize("name", ["x264-baseline-slices", "x264-high-cqm-wp", "MR1_BT_A", "test-25fps"])
def test_slice_based_decodes_on_rust_visl(name: str, mode: SliceMode) -> None:
    from conform.drivers import resolve_driver
    from conform.run.session import decode_frames

    frame = build(data(name))
    rs = build(data(name), mode)
    frames = decode_frames(resolve_driver("rust-visl").connect(), rs.format, rs.requests)
    # One CAPTURE frame per picture, however many slices it took.
    assert len(frames) == len(frame.requests) < len(rs.requests)
    assert [f.buffer.timestamp_ns for f in frames] == [r.timestamp_ns for r in frame.requests]
