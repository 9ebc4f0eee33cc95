"""Findings: inputs upstream visl mishandles, each a reproducer a maintainer can run.

av1-ref-frame-idx — visl-dec.c prints ``reference_frame_ts[ref_frame_idx[k]]`` for the
seven AV1 references without checking the index, and the control core does not range-check
``ref_frame_idx`` (s8).  An index outside 0..7 reads the 8 bytes at
``reference_frame_ts + 8 * idx``; for -128..8 those lie inside the same control payload,
so the value drawn into the frame is deterministic.  The reproducer decodes one AV1 job
with ``ref_frame_idx[0] = idx``, then one with the index in range and
``reference_frame_ts[0]`` set to the bytes an out-of-bounds read would find, and to 0:
upstream's frame equals the first (it read the neighbouring bytes), rust-visl's the second
(it prints 0 for an index outside the array).  Indices above 8 leave the payload (a read
past the heap object) and are not sent.

    conform probe --driver c-visl --findings      # in the kernel tier; or --driver rust-visl
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conform.codecs.stream import DecodeRequest
from conform.device import ControlValue
from conform.drivers import Nodes
from conform.probe.decode import DecodeCase, Shape
from conform.probe.payloads import Codec, Picture, av1_frame, controls_for
from conform.run.session import DecodeSession, SessionConfig
from conform.uapi import C, ffi

WIDTH, HEIGHT = 320, 240


def _frame_md5(nodes: Nodes, ref_frame_idx: int, reference_ts0: int | None) -> str:
    """One job's frame: ref_frame_idx[0] = ``ref_frame_idx`` and the others 0; or, with
    ``reference_ts0``, all in range with LAST showing ``reference_ts0`` and the other six
    references what they show in the first form."""
    case = DecodeCase(Codec.AV1, WIDTH, HEIGHT, "NV12", None, Shape.STREAM, 1)
    pic = Picture(0, WIDTH, HEIGHT, 1_000_000, ())
    frame = av1_frame(pic)
    frame.ref_frame_idx = [ref_frame_idx, 0, 0, 0, 0, 0, 0]
    if reference_ts0 is not None:
        frame.reference_frame_ts[1] = frame.reference_frame_ts[0]
        frame.reference_frame_ts[0] = reference_ts0
        frame.ref_frame_idx = [0, 1, 1, 1, 1, 1, 1]
    controls = tuple(c for c in controls_for(Codec.AV1, pic) if c.id != C.V4L2_CID_STATELESS_AV1_FRAME)
    request = DecodeRequest(
        (*controls, ControlValue.of(C.V4L2_CID_STATELESS_AV1_FRAME, frame)),
        case.payload(0, 0),
        pic.timestamp_ns,
    )
    session = DecodeSession(nodes, case.format(), SessionConfig())
    try:
        frames = list(session.decode([request]))
    finally:
        session.close()
    return frames[0].md5


def _neighbour_bytes(ref_frame_idx: int) -> int:
    """The u64 an out-of-bounds read of reference_frame_ts[idx] finds in the same payload."""
    frame = av1_frame(Picture(0, WIDTH, HEIGHT, 1_000_000, ()))
    frame.ref_frame_idx = [ref_frame_idx, 0, 0, 0, 0, 0, 0]
    data = bytes(ffi.buffer(frame))
    offset = ffi.offsetof("struct v4l2_ctrl_av1_frame", "reference_frame_ts") + 8 * ref_frame_idx
    return int.from_bytes(data[offset : offset + 8], "little")


def out_of_range_indices(count: int = 4) -> list[int]:
    """Indices outside 0..7 whose out-of-bounds read stays in the payload and finds non-zero
    bytes, so the two possible behaviours draw different frames."""
    candidates = [8, *range(-1, -129, -1)]
    return [idx for idx in candidates if _neighbour_bytes(idx) != 0][:count]


def av1_ref_frame_idx(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    for idx in out_of_range_indices():
        shown = _frame_md5(nodes, idx, None)
        neighbour = _neighbour_bytes(idx)
        if shown == _frame_md5(nodes, 0, neighbour):
            reads = f"the payload's bytes at reference_frame_ts[{idx}] (0x{neighbour:016x})"
        elif shown == _frame_md5(nodes, 0, 0):
            reads = "0 (the index is outside the array)"
        else:
            reads = "something else"
        yield f"av1-ref-frame-idx {idx}", {"ref_last_ts shows": reads}


def cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    yield from av1_ref_frame_idx(nodes)


def report(nodes: Nodes) -> str:
    lines = ["Findings (upstream visl defects, conform/probe/findings.py):"]
    for name, outcome in cases(nodes):
        lines.append(f"  {name}: ref_last_ts shows {outcome['ref_last_ts shows']}")
    return "\n".join(lines) + "\n"
