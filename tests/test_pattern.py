"""The expected-frame renderer agrees with the numbers visl-behaviour §7.2 states."""

from __future__ import annotations

import numpy as np

from conform.probe.pattern import BARS_75_REC709, compare_frame, expected_frame, split, text_rows
from conform.uapi import C

NO_FONT = np.zeros((256, 16), dtype=np.uint8)


def test_bars_and_straddling_chroma_at_width_100() -> None:
    frame = expected_frame(100, 64, C.V4L2_PIX_FMT_NV12, [], NO_FONT)
    planes = split(frame, 100, 64, C.V4L2_PIX_FMT_NV12)
    assert [int(planes.y[10, x]) for x in (0, 13, 25, 38, 50, 63, 75, 99)] == [
        179,
        167,
        144,
        132,
        62,
        50,
        27,
        16,
    ]
    # Columns 12 and 13 straddle the white/yellow edge: the spec's own example, 86/131.
    assert (int(planes.cb[5, 6]), int(planes.cr[5, 6])) == (86, 131)


def test_nv12_and_yu12_carry_the_same_samples() -> None:
    nv12 = split(expected_frame(64, 64, C.V4L2_PIX_FMT_NV12, ["abc"], NO_FONT), 64, 64, C.V4L2_PIX_FMT_NV12)
    yu12 = split(
        expected_frame(64, 64, C.V4L2_PIX_FMT_YUV420, ["abc"], NO_FONT), 64, 64, C.V4L2_PIX_FMT_YUV420
    )
    for name in ("y", "cb", "cr"):
        assert np.array_equal(getattr(nv12, name), getattr(yu12, name))


def test_text_layout_limits_from_the_spec() -> None:
    many = [f"line {n}" for n in range(1, 80)]
    assert [y for y, _ in text_rows(many, 64, 64)] == [16, 32]
    assert [len(t) for _, t in text_rows(["x" * 100], 64, 64)] == [6]
    assert len(text_rows(many, 176, 144)) == 7 and len(text_rows(["x" * 100], 176, 144)[0][1]) == 20
    assert len(text_rows(many, 640, 360)) == 21 and len(text_rows(["x" * 100], 640, 360)[0][1]) == 78
    assert len(text_rows(many, 1920, 1080)) == 66


def test_text_cell_overwrites_luma_and_chroma() -> None:
    font = np.zeros((256, 16), dtype=np.uint8)
    font[ord("A"), 3] = 0b1000_0001
    planes = split(expected_frame(640, 64, C.V4L2_PIX_FMT_NV12, ["A"], font), 640, 64, C.V4L2_PIX_FMT_NV12)
    cell = planes.y[16:32, 16:24]
    assert cell[3, 0] == 179 and cell[3, 7] == 179 and cell[3, 1] == 16 and cell[0, 0] == 16
    assert (planes.cb[8:16, 8:12] == 128).all() and (planes.cr[8:16, 8:12] == 128).all()
    assert planes.y[16, 24] == BARS_75_REC709[0, 0]


def test_compare_frame_names_plane_and_position() -> None:
    good = expected_frame(64, 64, C.V4L2_PIX_FMT_NV12, [], NO_FONT)
    bad = bytearray(good)
    bad[64 * 40 + 5] ^= 1
    problems = compare_frame(bytes(bad), good, 64, 64, C.V4L2_PIX_FMT_NV12)
    assert problems == ["y: 1 samples differ; first at x=5 y=40 (text line 2): 178 != 179"]
    assert compare_frame(good, good, 64, 64, C.V4L2_PIX_FMT_NV12) == []
