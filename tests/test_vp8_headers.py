"""The VP8 header oracle: every frame header conform parses, element by element, against
``ffmpeg -bsf:v trace_headers`` (Debian trixie's 7.1, whose cbs_vp8 prints the uncompressed
chunk and the first partition's frame header).

Names, subscripts and values are compared for every element ffmpeg prints; bit positions
for the uncompressed chunk only (ffmpeg's positions inside the boolean-coded header are
not bit positions of the partition).  Skip-free: if ffmpeg cannot be fetched, every case
fails saying why.

A difference found and kept: ffmpeg 7.1's cbs_vp8 (libavcodec/cbs_vp8_syntax_template.c)
reads each ``mv_prob_update_flag`` at probability 128, where RFC 6386 §17.2 (and libvpx,
and ffmpeg's own decoder in vp8.c) read it at ``vp8_mv_update_probs[i][j]``; from the first
MV update on, its trace of an inter frame is not the stream's syntax.  The oracle run
therefore parses with the flag probabilities set to 128 (:data:`FFMPEG_MV_UPDATE_PROBS`),
which reproduces ffmpeg's trace element for element; every element before the MV section
is the same in both parses, and the MV section's syntax (flag, 7-bit ``x``, ``p = x ? x << 1
: 1``) is what the oracle confirms.  tests/test_vp8_requests.py checks the real MV updates.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conform.codecs import ffmpeg
from conform.codecs.vp8 import parser
from conform.codecs.vp8.parser import BoolDecoder, trace_frames
from conform.run.suite import Codec, load_suites
from conform.run.vector import Vector, search_path

# ffmpeg's spelling -> the RFC 6386 §19 name conform traces.
FFMPEG_SPELLING = {
    "profile": "version",
    "first_partition_length_in_bytes": "first_part_size",
    "start_code_0": "start_code",
    "start_code_1": "start_code",
    "start_code_2": "start_code",
    "segmentation_enable": "segmentation_enabled",
    "update_segment_map": "update_mb_segmentation_map",
    "segment_qp": "quantizer_update_value",
    "segment_loop_filter_level": "lf_update_value",
    "segment_probs": "segment_prob",
    "loop_filter_type": "filter_type",
    "loop_filter_sharpness": "sharpness_level",
    "mode_ref_lf_delta_enable": "loop_filter_adj_enable",
    "ref_lf_deltas": "ref_frame_delta",
    "mode_lf_deltas": "mb_mode_delta",
    "log2_token_partitions": "log2_nbr_of_dct_partitions",
    "base_qindex": "y_ac_qi",
    "y1dc_delta_q": "y_dc_delta",
    "y2dc_delta_q": "y2_dc_delta",
    "y2ac_delta_q": "y2_ac_delta",
    "uvdc_delta_q": "uv_dc_delta",
    "uvac_delta_q": "uv_ac_delta",
    "ref_frame_sign_bias_golden": "sign_bias_golden",
    "ref_frame_sign_bias_alternate": "sign_bias_alternate",
    "refresh_last_frame": "refresh_last",
    "mb_no_skip_coeff": "mb_no_coeff_skip",
    "prob_golden": "prob_gf",
    "intra_chrome_prob": "intra_chroma_prob",
}
# Flags conform reads (and traces) that ffmpeg reads without printing: the presence and
# update flags in front of optional values.
NOT_PRINTED_BY_FFMPEG = {
    "quantizer_update", "loop_filter_update", "segment_prob_update", "mode_ref_lf_delta_update",
    "ref_frame_delta_update_flag", "mb_mode_delta_update_flag", "y_dc_delta_present",
    "y2_dc_delta_present", "y2_ac_delta_present", "uv_dc_delta_present", "uv_ac_delta_present",
    "coeff_prob_update_flag", "intra_16x16_prob_update_flag", "intra_chroma_prob_update_flag",
    "mv_prob_update_flag",
}  # fmt: skip
UNCOMPRESSED = {"frame_type", "version", "show_frame", "first_part_size", "start_code", "width",
                "horizontal_scale", "height", "vertical_scale"}  # fmt: skip

# trace_headers' element line; VP8's boolean-coded elements may print an empty bit string.
ELEMENT = re.compile(r"^(\d+)\s+(\S+)\s+[01]*\s+=\s+(-?\d+)$")
SUBSCRIPTS = re.compile(r"^([^\[]+)(.*)$")

FFMPEG_MV_UPDATE_PROBS = ((128,) * 19,) * 2
"""What ffmpeg 7.1's cbs_vp8 reads ``mv_prob_update_flag`` with (see the module docstring)."""

VECTORS = [(s.name, v) for s in load_suites(codec=Codec.VP8) for v in s.resolve(search_path()).test_vectors]

Element = tuple[str, int, int]


def ffmpeg_frames(text: str) -> list[list[Element]]:
    """The elements of each ``Frame`` trace_headers printed, names in conform's spelling."""
    out: list[list[Element]] = []
    for line in text.splitlines():
        if line == "Frame":
            out.append([])
            continue
        m = ELEMENT.match(line)
        if m is None or not out:
            continue
        base, subscripts = SUBSCRIPTS.match(m.group(2)).groups()  # type: ignore[union-attr]
        name = FFMPEG_SPELLING.get(base, base) + subscripts
        out[-1].append((name, int(m.group(3)), int(m.group(1))))
    return out


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
    assert len(VECTORS) == 47
    assert {"vp80-00-comprehensive-001", "vp80-05-sharpness-1440", "test-25fps", "libvpx-resize"} <= names


@pytest.mark.parametrize(("suite", "vector"), VECTORS, ids=[f"{s}/{v.name}" for s, v in VECTORS])
def test_headers_match_ffmpeg(
    suite: str, vector: Vector, ffmpeg_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert vector.path is not None
    text = ffmpeg.trace_headers(vector.path, ffmpeg_root)
    theirs = ffmpeg_frames(text)
    real = trace_frames(vector.read())
    monkeypatch.setattr(parser, "MV_UPDATE_PROBS", FFMPEG_MV_UPDATE_PROBS)
    # Misread MV flags can run a header past its partition; ffmpeg's reader then goes on
    # into the bytes after it.
    monkeypatch.setattr(parser, "check_header_end", lambda *_: None)
    monkeypatch.setattr(
        parser, "BoolDecoder", lambda data, start, _end, off: BoolDecoder(data, start, len(data), off)
    )
    ours = trace_frames(vector.read())
    for (_, a), (_, b) in zip(real, ours, strict=True):  # the parses part at the MV updates only
        mv = next((k for k, e in enumerate(a) if e[0] == "mv_prob_update_flag"), len(a))
        assert a[:mv] == b[:mv]
    assert ffmpeg.packet_count(text) == len(theirs), f"{vector.name}: a packet without a traced frame"
    assert len(ours) == len(theirs), f"{vector.name}: ffmpeg traced {len(theirs)} frames, conform {len(ours)}"
    fields = 0
    for index, (want, (hdr, trace)) in enumerate(zip(theirs, ours, strict=True)):
        where = f"{vector.name} frame {index} (at byte offset {hdr.offset})"
        got = [(n, v, p) for n, v, p in trace if n not in NOT_PRINTED_BY_FFMPEG]
        for k, (w, g) in enumerate(zip(want, got, strict=False)):
            if w[0] in UNCOMPRESSED:
                assert w == g, f"{where}, element {k}: ffmpeg (name, value, bit) {w}, conform {g}"
            else:
                assert w[:2] == g[:2], f"{where}, element {k}: ffmpeg (name, value) {w[:2]}, conform {g[:2]}"
        assert len(want) == len(got), f"{where}: ffmpeg has {len(want)} elements, conform {len(got)}"
        fields += len(got)
    assert fields > 0
