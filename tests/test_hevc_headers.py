"""The HEVC header oracle: every VPS, SPS, PPS and slice segment header conform parses, element
by element and bit position by bit position, against ``ffmpeg -bsf:v trace_headers`` (Debian
trixie's 7.1), for every vector of the H.265 suites.

Skip-free: if ffmpeg cannot be fetched, every case fails saying why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conform.codecs import ffmpeg
from conform.codecs.hevc.parser import HEADER_TITLES, SLICE_TITLE, trace_headers
from conform.codecs.hevc.requests import pictures
from conform.run.suite import Codec, load_suites
from conform.run.vector import Vector, search_path

# ffmpeg's spelling -> the spec's (H.265 §7.3.6.3).
FFMPEG_SPELLING = {"chroma_offset_l0": "delta_chroma_offset_l0", "chroma_offset_l1": "delta_chroma_offset_l1"}
# Trailing bits: printed by ffmpeg, checked by conform, not header fields.
NOT_HEADER = {"rbsp_stop_one_bit", "rbsp_alignment_zero_bit"}
TITLES = {*HEADER_TITLES.values(), SLICE_TITLE}

VECTORS = [(s.name, v) for s in load_suites(codec=Codec.H265) for v in s.resolve(search_path()).test_vectors]


@pytest.fixture(scope="session")
def ffmpeg_root() -> Path:
    try:
        root = ffmpeg.install()
        ffmpeg.version(root)
    except Exception as exc:  # any failure to get the oracle fails the test, never skips it
        pytest.fail(f"the header oracle needs Debian trixie's ffmpeg and could not get it: {exc}")
    return root


def test_suites_cover_the_store_and_the_recipes() -> None:
    names = {v.name for _, v in VECTORS}
    assert {"64x64-I", "64x64-I-P", "64x64-I-P-B-P", "bbb", "bear", "test-25fps"} <= names
    assert {"x265-bpyramid-wp", "x265-slices", "x265-wpp", "x265-scaling-default", "x265-open-gop",
            "x265-temporal-layers", "x265-main10", "x265-lossless", "kvz-tiles",
            "kvz-tiles-wpp"} <= names  # fmt: skip


@pytest.mark.parametrize(("suite", "vector"), VECTORS, ids=[f"{s}/{v.name}" for s, v in VECTORS])
def test_headers_match_ffmpeg(suite: str, vector: Vector, ffmpeg_root: Path) -> None:
    assert vector.path is not None
    text = ffmpeg.trace_headers(vector.path, ffmpeg_root)
    theirs = [u for u in ffmpeg.parse_trace(text) if u.title in TITLES]
    data = vector.read()
    ours = trace_headers(data)
    # Access units: ffmpeg's HEVC parser packetises by the same §7.4.2.4.4 boundaries.
    assert len(list(pictures(data))) == ffmpeg.packet_count(text), f"{vector.name}: picture count"
    assert len(ours) == len(theirs), (
        f"{vector.name}: ffmpeg traced {len(theirs)} headers, conform {len(ours)}"
    )
    fields = 0
    for index, (unit, (nal, title, trace)) in enumerate(zip(theirs, ours, strict=True)):
        where = f"{vector.name} header {index} ({title} at byte offset {nal.offset})"
        assert unit.title == title, f"{where}: ffmpeg has a {unit.title}"
        want = [(FFMPEG_SPELLING.get(n, n), v, p) for n, v, p in unit.elements if n not in NOT_HEADER]
        got = [e for e in trace if e[0] not in NOT_HEADER]
        for k, (w, g) in enumerate(zip(want, got, strict=False)):
            assert w == g, f"{where}, element {k}: ffmpeg (name, value, bit) {w}, conform {g}"
        assert len(want) == len(got), f"{where}: ffmpeg has {len(want)} elements, conform {len(got)}"
        fields += len(got)
    assert fields > 0
