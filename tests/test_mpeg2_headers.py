"""The header oracle: every MPEG-2 header conform parses, element by element and bit
position by bit position, against ``ffmpeg -bsf:v trace_headers`` (Debian trixie's 7.1).

Skip-free: if ffmpeg cannot be fetched, every case fails saying why.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conform.codecs import ffmpeg
from conform.codecs.mpeg2.parser import HEADER_TITLES, trace_headers
from conform.codecs.mpeg2.requests import pictures
from conform.run.suite import Codec, load_suites
from conform.run.vector import Vector, search_path

# ffmpeg's spelling -> the spec's (ISO/IEC 13818-2 §6.2.4).
FFMPEG_SPELLING = {"slice_extension_flag": "intra_slice_flag"}
_ELEMENT = re.compile(r"^(\d+)\s+(\S+)\s+[01]+\s+=\s+(-?\d+)$")
_PREFIX = re.compile(r"^\[trace_headers @ 0x[0-9a-f]+\] ")

VECTORS = [v for s in load_suites(codec=Codec.MPEG2_VIDEO) for v in s.resolve(search_path()).test_vectors]

Unit = tuple[str, list[tuple[str, int, int]]]


def ffmpeg_units(text: str) -> list[Unit]:
    """trace_headers' units after the extradata: a unit begins at an element at bit 0 and
    takes the last title printed inside it (``Extension Data`` is followed by the extension's)."""
    out: list[Unit] = []
    title = ""
    in_packets = False
    for line in text.splitlines():
        line = _PREFIX.sub("", line)
        if line.startswith("Packet:"):
            in_packets = True
            continue
        m = _ELEMENT.match(line)
        if m is None:
            if line and not line[0].isspace() and in_packets:
                title = line
                if out and out[-1][0] == "Extension Data":
                    out[-1] = (title, out[-1][1])
            continue
        if not in_packets:
            continue
        pos, name, value = int(m.group(1)), m.group(2), int(m.group(3))
        if pos == 0:
            out.append((title, []))
        out[-1][1].append((FFMPEG_SPELLING.get(name, name), value, pos))
    return out


@pytest.fixture(scope="session")
def ffmpeg_root() -> Path:
    try:
        root = ffmpeg.install()
        ffmpeg.version(root)
    except Exception as exc:  # any failure to get the oracle fails the test, never skips it
        pytest.fail(f"the header oracle needs Debian trixie's ffmpeg and could not get it: {exc}")
    return root


def test_suite_covers_the_streams() -> None:
    names = {v.name for v in VECTORS}
    assert {"ffmpeg-ipb", "ffmpeg-tools", "ffmpeg-odd-50x34", "mpeg2enc-pulldown"} <= names
    assert len(VECTORS) >= 7


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_headers_match_ffmpeg(vector: Vector, ffmpeg_root: Path) -> None:
    assert vector.path is not None
    text = ffmpeg.trace_headers(vector.path, ffmpeg_root)
    theirs = [u for u in ffmpeg_units(text) if u[0] in HEADER_TITLES.values()]
    data = vector.read()
    ours = list(trace_headers(data))
    # ffmpeg's MPEG-2 parser packetises by frame; these streams hold frame pictures only.
    assert len(list(pictures(data))) == ffmpeg.packet_count(text), f"{vector.name}: picture count"
    assert len(ours) == len(theirs), f"{vector.name}: ffmpeg has {len(theirs)} headers, conform {len(ours)}"
    fields = 0
    for index, ((title, want), (unit, our_title, trace)) in enumerate(zip(theirs, ours, strict=True)):
        where = f"{vector.name} header {index} ({our_title} at byte offset {unit.offset})"
        assert title == our_title, f"{where}: ffmpeg has a {title}"
        got = [(n.split("[")[0] if "matrix[" in n else n, v, p) for n, v, p in trace]
        want = [(n.split("[")[0] if "matrix[" in n else n, v, p) for n, v, p in want]
        for k, (w, g) in enumerate(zip(want, got, strict=False)):
            assert w == g, f"{where}, element {k}: ffmpeg (name, value, bit) {w}, conform {g}"
        assert len(want) == len(got), f"{where}: ffmpeg has {len(want)} elements, conform {len(got)}"
        fields += len(got)
    assert fields > 0
