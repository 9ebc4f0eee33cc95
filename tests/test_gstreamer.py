"""GStreamer's v4l2codecs decoders on rust-visl (through the shim) and on upstream visl.

One guest boot decodes every suite stream with GStreamer on c-visl with visl's trace on,
then conform's own request stream of it, laid out as GStreamer lays it; the host decodes
the same streams with GStreamer on rust-visl through the device-node shim.  Frames must be
equal stream by stream, and every field where GStreamer and conform gave upstream visl
different controls must be a reviewed one (conform/clients/known.py says which side is
right and why); a stream GStreamer cannot decode must fail the documented way.
"""

from __future__ import annotations

import pytest

from conform.clients import gstreamer, verdict

pytestmark = pytest.mark.kernel

STREAMS = gstreamer.suite_streams()
Decoded = dict[str, dict[str, gstreamer.GstResult]]


@pytest.fixture(scope="module")
def decoded() -> Decoded:
    missing = gstreamer.available()
    assert missing is None, missing
    rust = {r.name: r for r in gstreamer.decode_rust_visl(STREAMS)}
    c = {r.name: r for r in gstreamer.decode_c_visl(STREAMS, controls=True)}
    return {"rust-visl": rust, "c-visl": c}


@pytest.mark.parametrize("stream", STREAMS, ids=[s.name for s in STREAMS])
def test_frames_equal(decoded: Decoded, stream: gstreamer.GstStream) -> None:
    c, rust = decoded["c-visl"][stream.name], decoded["rust-visl"][stream.name]
    assert (rust.outcome, len(rust.frames)) == (c.outcome, len(c.frames)), (
        f"c-visl: {c.outcome}, {len(c.frames)} frames\n{c.log[-1500:]}\n"
        f"rust-visl: {rust.outcome}, {len(rust.frames)} frames\n{rust.log[-1500:]}"
    )
    first = next((n for n, (a, b) in enumerate(zip(c.frames, rust.frames, strict=True)) if a != b), None)
    assert first is None, f"frame {first} differs: c-visl {c.frames[first]}, rust-visl {rust.frames[first]}"


@pytest.mark.parametrize("stream", STREAMS, ids=[s.name for s in STREAMS])
def test_controls_match_gstreamer(decoded: Decoded, stream: gstreamer.GstStream) -> None:
    """conform's request stream gives the driver what GStreamer gives it, field by field."""
    result = decoded["c-visl"][stream.name]
    assert not result.conform_error, f"conform's own request stream failed on c-visl: {result.conform_error}"
    checked = verdict.review(stream, result)
    if result.outcome != "decoded":
        limit = checked.limitation
        assert limit is not None, f"GStreamer: {result.outcome}, not a known limitation\n{result.log[-1500:]}"
        return
    gst, ours = checked.gst, checked.ours
    assert len(gst) == len(ours) > 0, f"GStreamer ran {len(gst)} jobs, conform {len(ours)}"
    unexplained = checked.unexplained
    diffs = len(unexplained) + len(checked.explained)
    shown = "\n".join(d.line()[:300] for d in unexplained[:12])
    assert not unexplained, f"{len(unexplained)} of {diffs} differences are not reviewed:\n{shown}"
