"""What a visl CAPTURE frame must hold: 75% colour bars and text lines (visl-behaviour §7).

``expected_frame`` renders the frame the spec describes for the default colorimetry
(REC709, limited range) from the bar table, the text lines and the VGA8x16 font;
``compare_frame`` says where an actual frame departs from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conform.uapi import C

# (Y, Cb, Cr) of the eight bars, left to right, as the 6.12 TPG produces them for
# REC709 limited range: §7.2 of the spec (75% white is 179, not 180).
BARS_75_REC709 = np.array(
    [(179, 128, 128), (167, 44, 135), (144, 147, 44), (132, 63, 52),
     (62, 192, 203), (50, 108, 211), (27, 211, 120), (16, 128, 128)],
    dtype=np.uint16,
)  # fmt: skip
TEXT_FG, TEXT_BG, TEXT_CHROMA = 179, 16, 128
CELL_W, CELL_H, TEXT_X = 8, 16, 16


@dataclass(frozen=True, slots=True)
class Planes:
    """A 4:2:0 frame as separate Y, Cb and Cr arrays."""

    y: np.ndarray
    cb: np.ndarray
    cr: np.ndarray


def split(data: bytes, width: int, height: int, pixelformat: int) -> Planes:
    """Cut a single-buffer NV12 or YU12 frame into planes (even sizes)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    luma = width * height
    cw, ch = width // 2, height // 2
    y = raw[:luma].reshape(height, width)
    if pixelformat == C.V4L2_PIX_FMT_NV12:
        uv = raw[luma : luma + 2 * cw * ch].reshape(ch, cw, 2)
        return Planes(y, uv[:, :, 0], uv[:, :, 1])
    if pixelformat == C.V4L2_PIX_FMT_YUV420:
        cb = raw[luma : luma + cw * ch].reshape(ch, cw)
        cr = raw[luma + cw * ch : luma + 2 * cw * ch].reshape(ch, cw)
        return Planes(y, cb, cr)
    raise ValueError(f"pattern check handles NV12 and YU12, not {pixelformat:#x}")


def join(planes: Planes, pixelformat: int) -> bytes:
    if pixelformat == C.V4L2_PIX_FMT_NV12:
        uv = np.stack([planes.cb, planes.cr], axis=2)
        return planes.y.tobytes() + uv.tobytes()
    return planes.y.tobytes() + planes.cb.tobytes() + planes.cr.tobytes()


def text_rows(lines: Sequence[str | None], width: int, height: int) -> list[tuple[int, str]]:
    """(y, text) of the lines visl draws: line L at y = 16L while y + 16 < height, clipped."""
    limit = max((width - TEXT_X) // CELL_W, 0)
    rows = []
    for number, line in enumerate(lines, start=1):
        y = CELL_H * number
        if y + CELL_H >= height:
            break
        if line:
            rows.append((y, line[:limit]))
    return rows


def expected_frame(
    width: int, height: int, pixelformat: int, lines: Sequence[str | None], font: np.ndarray
) -> bytes:
    """The frame §7 describes; ``lines[L-1]`` is text line L, None or '' for a blank one."""
    bar = (8 * np.arange(width)) // width
    y = np.broadcast_to(BARS_75_REC709[bar, 0], (height, width)).astype(np.uint8).copy()
    # A chroma sample covers two columns; straddling a bar edge it is their truncated mean.
    pairs = BARS_75_REC709[bar.reshape(-1, 2)]
    cb_row, cr_row = (pairs[:, 0, 1] + pairs[:, 1, 1]) // 2, (pairs[:, 0, 2] + pairs[:, 1, 2]) // 2
    cb = np.broadcast_to(cb_row, (height // 2, width // 2)).astype(np.uint8).copy()
    cr = np.broadcast_to(cr_row, (height // 2, width // 2)).astype(np.uint8).copy()
    bits = np.unpackbits(font, axis=1).reshape(256, CELL_H, CELL_W)
    for top, text in text_rows(lines, width, height):
        for k, char in enumerate(text.encode("latin-1")):
            left = TEXT_X + CELL_W * k
            y[top : top + CELL_H, left : left + CELL_W] = np.where(bits[char], TEXT_FG, TEXT_BG)
            cb[top // 2 : (top + CELL_H) // 2, left // 2 : (left + CELL_W) // 2] = TEXT_CHROMA
            cr[top // 2 : (top + CELL_H) // 2, left // 2 : (left + CELL_W) // 2] = TEXT_CHROMA
    return join(Planes(y, cb, cr), pixelformat)


def compare_frame(actual: bytes, expected: bytes, width: int, height: int, pixelformat: int) -> list[str]:
    """Human-readable differences, one per plane: first differing sample and how many differ."""
    if len(actual) != len(expected):
        return [f"size {len(actual)} B, expected {len(expected)} B"]
    problems = []
    got, want = split(actual, width, height, pixelformat), split(expected, width, height, pixelformat)
    for name in ("y", "cb", "cr"):
        a, b = getattr(got, name), getattr(want, name)
        diff = np.argwhere(a != b)
        if len(diff):
            row, col = (int(v) for v in diff[0])
            line = (row * (2 if name != "y" else 1)) // CELL_H
            problems.append(
                f"{name}: {len(diff)} samples differ; first at x={col} y={row} (text line {line}): "
                f"{a[row, col]} != {b[row, col]}"
            )
    return problems
