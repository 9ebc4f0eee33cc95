"""The header oracle: every SPS, PPS and slice header conform parses, element by element and
bit position by bit position, against ``ffmpeg -bsf:v trace_headers`` (Debian trixie's 7.1).

Skip-free: if ffmpeg cannot be fetched, every case fails saying why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conform.codecs import ffmpeg
from conform.codecs.h264.parser import HEADER_TITLES, trace_headers
from conform.codecs.h264.requests import pictures
from conform.run.suite import Codec, load_suites
from conform.run.vector import search_path

# ffmpeg's spelling -> the spec's (H.264 (08/2021) §7.3.2.1.1).
FFMPEG_SPELLING = {"gaps_in_frame_num_allowed_flag": "gaps_in_frame_num_value_allowed_flag"}
# Printed by ffmpeg but not header syntax conform parses: trailing bits, and the first bits
# of CABAC slice_data().
NOT_HEADER = {"rbsp_stop_one_bit", "rbsp_alignment_zero_bit", "cabac_alignment_one_bit"}

VECTORS = [(s.name, v) for s in load_suites(codec=Codec.H264) for v in s.resolve(search_path()).test_vectors]


@pytest.fixture(scope="session")
def ffmpeg_root() -> Path:
    try:
        root = ffmpeg.install()
        ffmpeg.version(root)
    except Exception as exc:  # any failure to get the oracle fails the test, never skips it
        pytest.fail(f"the header oracle needs Debian trixie's ffmpeg and could not get it: {exc}")
    return root


def test_suites_cover_the_store() -> None:
    names = {v.name for _, v in VECTORS}
    assert len(VECTORS) >= 29
    assert {"BA1_Sony_D", "MR2_MW_A", "CVPCMNL1_SVA_C", "64x64-I-P-B-P", "test-25fps"} <= names


@pytest.mark.parametrize(("suite", "vector"), VECTORS, ids=[f"{s}/{v.name}" for s, v in VECTORS])
def test_headers_match_ffmpeg(suite: str, vector: object, ffmpeg_root: Path) -> None:
    from conform.run.vector import Vector

    assert isinstance(vector, Vector) and vector.path is not None
    text = ffmpeg.trace_headers(vector.path, ffmpeg_root)
    theirs = [u for u in ffmpeg.parse_trace(text) if u.title in HEADER_TITLES.values()]
    data = vector.read()
    ours = trace_headers(data)
    # Access units: ffmpeg's H.264 parser packetises by the same §7.4.1.2 boundaries.
    assert len(list(pictures(data))) == ffmpeg.packet_count(text), f"{vector.name}: picture count"
    assert len(ours) == len(theirs), (
        f"{vector.name}: ffmpeg traced {len(theirs)} headers, conform {len(ours)}"
    )
    fields = 0
    for index, (unit, (nal, title, trace)) in enumerate(zip(theirs, ours, strict=True)):
        where = f"{vector.name} header {index} ({title} at byte offset {nal.offset})"
        assert unit.title == title, f"{where}: ffmpeg has a {unit.title}"
        want = [(FFMPEG_SPELLING.get(n, n), v, p) for n, v, p in unit.elements if n not in NOT_HEADER]
        for k, (w, g) in enumerate(zip(want, trace, strict=False)):
            assert w == g, f"{where}, element {k}: ffmpeg (name, value, bit) {w}, conform {g}"
        assert len(want) == len(trace), f"{where}: ffmpeg has {len(want)} elements, conform {len(trace)}"
        fields += len(trace)
    assert fields > 0
