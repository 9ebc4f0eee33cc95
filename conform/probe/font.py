"""The VGA 8x16 console font visl draws its frame text with, read from kernel sources.

The glyphs are not committed: they are parsed at run time from ``lib/fonts/font_8x16.c``
of the same linux-source tree the kernel tier builds, so the expected frames use exactly
the font the C driver uses.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np

from conform.errors import ConformError

GLYPHS, ROWS = 256, 16
# Each glyph row is written as a hex byte followed by its bits in a comment: 0x7e, /* 01111110 */
_ROW = re.compile(r"0x([0-9a-fA-F]{2}),\s*/\*\s*([01]{8})\s*\*/")


@cache
def load_font_8x16(source_tree: Path) -> np.ndarray:
    """(256, 16) uint8 glyph rows, most significant bit leftmost."""
    path = source_tree / "lib" / "fonts" / "font_8x16.c"
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConformError(f"cannot read the VGA8x16 font: {exc}") from exc
    rows = [int(hex_byte, 16) for hex_byte, bits in _ROW.findall(text) if int(bits, 2) == int(hex_byte, 16)]
    if len(rows) != GLYPHS * ROWS:
        raise ConformError(f"{path}: expected {GLYPHS * ROWS} glyph rows, found {len(rows)}")
    return np.array(rows, dtype=np.uint8).reshape(GLYPHS, ROWS)
