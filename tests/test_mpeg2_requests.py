"""MPEG-2 request streams: hand-checked control values, reference timestamps, field pairs,
not-supported and corrupt streams, determinism, the per-picture cost, and decoding on
rust-visl (one frame per frame picture, one per field pair)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conform.codecs.bitreader import BitstreamError
from conform.codecs.frontend import RequestStream, build_request_stream, dump
from conform.codecs.mpeg2.parser import DEFAULT_INTRA, ZIGZAG, Mpeg2NotSupported
from conform.codecs.mpeg2.reader import START_CODE, StartCode, units
from conform.codecs.mpeg2.requests import build, pictures
from conform.errors import NotSupportedError
from conform.run.suite import Codec, load_suites
from conform.run.vector import Vector, search_path
from conform.uapi import C, ffi

VECTORS = {
    v.name: v for s in load_suites(codec=Codec.MPEG2_VIDEO) for v in s.resolve(search_path()).test_vectors
}
HOLD = C.V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF


def data(name: str) -> bytes:
    return VECTORS[name].read()


def control(req_controls: tuple[Any, ...], cid: int, struct: str) -> Any:
    for ctrl in req_controls:
        if ctrl.id == cid:
            c = ffi.new(f"struct {struct} *")
            ffi.memmove(c, ctrl.value, ffi.sizeof(c[0]))
            return c
    raise AssertionError(f"no {struct}")


def picture(req: Any) -> Any:
    return control(req.controls, C.V4L2_CID_STATELESS_MPEG2_PICTURE, "v4l2_ctrl_mpeg2_picture")


def refs(rs: RequestStream) -> list[tuple[int, int, int, int]]:
    """(timestamp ms, picture_coding_type, forward ms, backward ms) per request."""
    out = []
    for r in rs.requests:
        p = picture(r)
        out.append((r.timestamp_ns // 10**6, p.picture_coding_type, p.forward_ref_ts // 10**6,
                    p.backward_ref_ts // 10**6))  # fmt: skip
    return out


def as_fields(stream: bytes) -> bytes:
    """A field-picture stream made from an interlaced frame-picture one: each frame picture
    becomes a top field (its upper slice rows) and a bottom field (the rest, renumbered).
    The macroblock data is then not decodable, but every header is valid, which is all a
    request stream (and visl) looks at; no encoder here writes field pictures."""
    out: list[bytes] = []
    header = coding = b""
    rows = 0
    for unit in units(stream):
        d = unit.data
        if unit.code == StartCode.PICTURE:
            header = d
        elif unit.code == StartCode.EXTENSION and d[1] >> 4 == 8:
            coding = d
            d = d[:3] + bytes([(d[3] & 0xFC) | 1]) + d[4:]  # picture_structure 1: top field
        elif unit.code == StartCode.SEQUENCE_HEADER:
            rows = 2 * (((d[2] & 0xF) << 8 | d[3]) + 31) // 32 // 2  # field macroblock rows
        elif unit.is_slice and unit.code > rows:
            if unit.code == rows + 1:
                bottom = coding[:3] + bytes([(coding[3] & 0xFC) | 2]) + coding[4:]
                out += [START_CODE + header, START_CODE + bottom]
            d = bytes([unit.code - rows]) + d[1:]
        out.append(START_CODE + d)
    return b"".join(out)


def test_ipb_reference_timestamps() -> None:
    # ffmpeg-ipb: GOPs of 6 in display order I B B P B B, decoding order I P B B P B B I B B ...;
    # B pictures after the second I predict from the P before it (open GOP).
    rs = build(data("ffmpeg-ipb"))
    assert refs(rs) == [
        (1, 1, 0, 0), (2, 2, 1, 0), (3, 3, 1, 2), (4, 3, 1, 2), (5, 1, 0, 0), (6, 3, 2, 5), (7, 3, 2, 5),
        (8, 2, 5, 0), (9, 3, 5, 8), (10, 3, 5, 8), (11, 1, 0, 0), (12, 3, 8, 11),
    ]  # fmt: skip
    assert [r.flags for r in rs.requests[:3]] == [C.V4L2_BUF_FLAG_KEYFRAME, C.V4L2_BUF_FLAG_PFRAME,
                                                  C.V4L2_BUF_FLAG_BFRAME]  # fmt: skip
    seq = control(rs.requests[0].controls, C.V4L2_CID_STATELESS_MPEG2_SEQUENCE, "v4l2_ctrl_mpeg2_sequence")
    # From ffmpeg's trace: 64x48, profile_and_level_indication 72 (Main@Main), vbv_buffer_size_value 3.
    assert (seq.horizontal_size, seq.vertical_size, seq.profile_and_level_indication) == (64, 48, 72)
    assert (seq.vbv_buffer_size, seq.chroma_format, seq.flags) == (3, 1, C.V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE)
    p = picture(rs.requests[1])
    assert [list(f) for f in p.f_code] == [[1, 1], [15, 15]] and p.picture_structure == 3
    assert p.flags == C.V4L2_MPEG2_PIC_FLAG_FRAME_PRED_DCT | C.V4L2_MPEG2_PIC_FLAG_PROGRESSIVE


def test_coding_tools_and_loaded_matrices() -> None:
    # make.sh gives ffmpeg the matrices in raster order; the control carries them in zig-zag order.
    intra = [8 + r + c for r in range(8) for c in range(8)]
    non_intra = [16 + r + c for r in range(8) for c in range(8)]
    rs = build(data("ffmpeg-tools"))
    q = control(rs.requests[0].controls, C.V4L2_CID_STATELESS_MPEG2_QUANTISATION,
                "v4l2_ctrl_mpeg2_quantisation")  # fmt: skip
    assert list(q.intra_quantiser_matrix) == [intra[ZIGZAG[i]] for i in range(64)]
    assert list(q.non_intra_quantiser_matrix) == [non_intra[ZIGZAG[i]] for i in range(64)]
    assert list(q.chroma_intra_quantiser_matrix) == list(q.intra_quantiser_matrix)
    p = picture(rs.requests[0])
    tools = (
        C.V4L2_MPEG2_PIC_FLAG_Q_SCALE_TYPE | C.V4L2_MPEG2_PIC_FLAG_INTRA_VLC | C.V4L2_MPEG2_PIC_FLAG_ALT_SCAN
    )
    assert p.flags == tools and p.intra_dc_precision == 1


def test_default_matrix_in_zigzag_order() -> None:
    # §6.3.11's default intra matrix read along the zig-zag scan (as GStreamer's and ffmpeg's tables).
    assert DEFAULT_INTRA[:16] == (8, 16, 16, 19, 16, 19, 22, 22, 22, 22, 22, 22, 26, 24, 26, 27)
    assert DEFAULT_INTRA[-4:] == (58, 69, 69, 83)
    q = control(build(data("ffmpeg-ipb")).requests[0].controls, C.V4L2_CID_STATELESS_MPEG2_QUANTISATION,
                "v4l2_ctrl_mpeg2_quantisation")  # fmt: skip
    assert tuple(q.intra_quantiser_matrix) == DEFAULT_INTRA and set(q.non_intra_quantiser_matrix) == {16}


def test_pulldown_interlace_and_odd_sizes() -> None:
    flags = [picture(r).flags for r in build(data("mpeg2enc-pulldown")).requests]
    rff = [bool(f & C.V4L2_MPEG2_PIC_FLAG_REPEAT_FIRST) for f in flags]
    tff = [bool(f & C.V4L2_MPEG2_PIC_FLAG_TOP_FIELD_FIRST) for f in flags]
    assert rff == [True, False] * 4 and tff == [True, False, False, True] * 2  # 3:2 pulldown
    assert all(f & C.V4L2_MPEG2_PIC_FLAG_PROGRESSIVE for f in flags)
    assert {picture(r).intra_dc_precision for r in build(data("mpeg2enc-pulldown")).requests} == {2}
    tff_stream = build(data("ffmpeg-interlaced-tff"))
    assert all(picture(r).flags == C.V4L2_MPEG2_PIC_FLAG_TOP_FIELD_FIRST for r in tff_stream.requests)
    odd = build(data("ffmpeg-odd-50x34"))
    assert (odd.format.pixelformat, odd.format.width, odd.format.height) == (
        C.V4L2_PIX_FMT_MPEG2_SLICE,
        50,
        34,
    )
    seq = control(build(data("ffmpeg-422-bff")).requests[0].controls, C.V4L2_CID_STATELESS_MPEG2_SEQUENCE,
                  "v4l2_ctrl_mpeg2_sequence")  # fmt: skip
    assert (seq.chroma_format, seq.profile_and_level_indication, seq.flags) == (2, 133, 0)


def test_payload_is_the_slices_with_start_codes() -> None:
    stream = data("ffmpeg-ipb")
    first = next(pictures(stream))
    req = build(stream).requests[0]
    start = first.slices[0].offset
    end = first.slices[-1].offset + 3 + len(first.slices[-1].data)
    assert req.payload == stream[start:end] and req.payload[:4] == b"\x00\x00\x01\x01"
    assert len(first.slices) == 3  # one slice per macroblock row of 64x48


def test_field_pictures_pair_into_one_capture_buffer() -> None:
    rs = build(as_fields(data("ffmpeg-interlaced-tff")))
    assert len(rs.requests) == 16
    assert [r.timestamp_ns // 10**6 for r in rs.requests] == [n // 2 + 1 for n in range(16)]
    assert [bool(r.flags & HOLD) for r in rs.requests] == [True, False] * 8
    assert [picture(r).picture_structure for r in rs.requests] == [1, 2] * 8
    # Both fields of a frame name the frame's references (decoding order I P B B B P B P).
    frame_refs = refs(build(data("ffmpeg-interlaced-tff")))
    assert [(t, k, f, b) for t, k, f, b in refs(rs)[::2]] == frame_refs
    assert refs(rs)[1::2] == frame_refs


def test_unpaired_field_is_corrupt() -> None:
    fields = as_fields(data("ffmpeg-interlaced-tff"))
    last = [u for u in units(fields) if u.code == StartCode.PICTURE][-1]
    with pytest.raises(BitstreamError, match=r"ends after the first field.*byte offset \d+"):
        build(fields[: last.offset])


def test_not_supported_features() -> None:
    stream = data("ffmpeg-ipb")
    ext = next(u for u in units(stream) if u.code == StartCode.EXTENSION)
    # Without its sequence extension the stream is MPEG-1.
    mpeg1 = stream[: ext.offset] + stream[ext.offset + 3 + len(ext.data) :]
    with pytest.raises(Mpeg2NotSupported, match=r"^not supported: MPEG-1 video"):
        build(mpeg1)
    scalable = stream[: ext.offset] + b"\x00\x00\x01\xb5\x50\x00" + stream[ext.offset :]
    with pytest.raises(NotSupportedError, match=r"^not supported: scalable MPEG-2"):
        build(scalable)
    with pytest.raises(NotSupportedError, match=r"^not supported: MPEG program stream"):
        build(b"\x00\x00\x01\xba" + bytes(10) + stream)


def test_corrupt_streams_name_the_byte_offset() -> None:
    stream = data("ffmpeg-ipb")
    with pytest.raises(BitstreamError, match=r"truncated .*byte offset \d+"):
        build(stream[:10])
    with pytest.raises(BitstreamError, match=r"data before the first start code.*byte offset 0"):
        build(b"\x12\x34" + stream)
    pic = next(u for u in units(stream) if u.code == StartCode.PICTURE)
    with pytest.raises(
        BitstreamError, match=rf"picture_coding_type 0 is reserved \(at byte offset {pic.offset + 5}"
    ):
        build(stream[: pic.offset + 5] + bytes([stream[pic.offset + 5] & 0xC7]) + stream[pic.offset + 6 :])
    seq = next(u for u in units(stream) if u.code == StartCode.SEQUENCE_HEADER)
    broken = bytearray(stream)
    broken[seq.offset + 3 + 7] &= ~0x20  # marker_bit (bit 58)
    with pytest.raises(BitstreamError, match=rf"marker_bit is 0 \(at byte offset {seq.offset + 10}"):
        build(bytes(broken))


def test_request_streams_are_deterministic_and_dumped() -> None:
    a = "\n".join(dump(build_request_stream("MPEG2_VIDEO", data("mpeg2enc-interlaced-bff"))))
    b = "\n".join(dump(build_request_stream("MPEG2_VIDEO", data("mpeg2enc-interlaced-bff"))))
    assert a == b
    assert "format: MG2S 64x64" in a and "request 7: timestamp_ns 8000000" in a
    assert "struct v4l2_ctrl_mpeg2_quantisation, 256 bytes" in a


def test_every_suite_vector_builds_and_cost_per_picture() -> None:
    total, elapsed = 0, 0.0
    for vector in VECTORS.values():
        stream = vector.read()
        t = time.perf_counter()
        rs = build(stream)
        elapsed += time.perf_counter() - t
        assert len(rs.requests) == len(list(pictures(stream))) > 0
        total += len(rs.requests)
    per_picture_us = elapsed / total * 1e6
    print(f"MPEG-2 request building: {total} pictures, {per_picture_us:.0f} us/picture")
    assert per_picture_us < 5000


def _decode(rs: RequestStream) -> list[Any]:
    from conform.drivers import resolve_driver
    from conform.run.session import DecodeSession

    session = DecodeSession(resolve_driver("rust-visl").connect(), rs.format)
    try:
        return list(session.decode(rs.requests))
    finally:
        session.close()


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_decodes_on_rust_visl(name: str) -> None:
    vector: Vector = VECTORS[name]
    rs = build(vector.read())
    frames = _decode(rs)
    assert len(frames) == len(rs.requests)
    assert [f.buffer.timestamp_ns for f in frames] == [r.timestamp_ns for r in rs.requests]


def test_field_pairs_decode_to_one_frame_on_rust_visl() -> None:
    rs = build(as_fields(data("ffmpeg-interlaced-tff")))
    frames = _decode(rs)
    assert len(frames) == len(rs.requests) // 2
    assert [f.buffer.timestamp_ns for f in frames] == [r.timestamp_ns for r in rs.requests[1::2]]
