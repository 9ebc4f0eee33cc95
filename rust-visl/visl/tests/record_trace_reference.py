"""Records what upstream visl's trace events print, as reference data for trace_reference.rs.

Run on the host from the repository root:

    python3 rust-visl/visl/tests/record_trace_reference.py

It boots the kernel tier's guest (Debian's 6.12 kernel with upstream visl) and runs itself
there with ``--guest``.  Per codec and payload variant, the guest opens a fresh visl file
handle, sets every control the codec's trace events read (``default``: nothing set, the
core's defaults; the other variants: each field in turn given a chosen value, kept when
TRY_EXT_CTRLS accepts it), decodes one job with the codec's event system enabled, and
reports the controls' stored values (G_EXT_CTRLS after the job, so any sanitising by the
core is included) and the events the kernel printed, split out of
/sys/kernel/tracing/trace.  The host writes them to tests/data/trace-reference.json.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "data" / "trace-reference.json"
TRACING = "/sys/kernel/tracing"

# codec -> (pixelformat name, event system, [(control id name, cffi struct, dynamic array)])
CODECS: dict[str, tuple[str, str, list[tuple[str, str, bool]]]] = {
    "fwht": ("V4L2_PIX_FMT_FWHT_STATELESS", "visl_fwht_controls", [
        ("V4L2_CID_STATELESS_FWHT_PARAMS", "struct v4l2_ctrl_fwht_params", False),
    ]),
    "mpeg2": ("V4L2_PIX_FMT_MPEG2_SLICE", "visl_mpeg2_controls", [
        ("V4L2_CID_STATELESS_MPEG2_SEQUENCE", "struct v4l2_ctrl_mpeg2_sequence", False),
        ("V4L2_CID_STATELESS_MPEG2_PICTURE", "struct v4l2_ctrl_mpeg2_picture", False),
        ("V4L2_CID_STATELESS_MPEG2_QUANTISATION", "struct v4l2_ctrl_mpeg2_quantisation", False),
    ]),
    "vp8": ("V4L2_PIX_FMT_VP8_FRAME", "visl_vp8_controls", [
        ("V4L2_CID_STATELESS_VP8_FRAME", "struct v4l2_ctrl_vp8_frame", False),
    ]),
    "vp9": ("V4L2_PIX_FMT_VP9_FRAME", "visl_vp9_controls", [
        ("V4L2_CID_STATELESS_VP9_FRAME", "struct v4l2_ctrl_vp9_frame", False),
        ("V4L2_CID_STATELESS_VP9_COMPRESSED_HDR", "struct v4l2_ctrl_vp9_compressed_hdr", False),
    ]),
    "h264": ("V4L2_PIX_FMT_H264_SLICE", "visl_h264_controls", [
        ("V4L2_CID_STATELESS_H264_SPS", "struct v4l2_ctrl_h264_sps", False),
        ("V4L2_CID_STATELESS_H264_PPS", "struct v4l2_ctrl_h264_pps", False),
        ("V4L2_CID_STATELESS_H264_SCALING_MATRIX", "struct v4l2_ctrl_h264_scaling_matrix", False),
        ("V4L2_CID_STATELESS_H264_SLICE_PARAMS", "struct v4l2_ctrl_h264_slice_params", False),
        ("V4L2_CID_STATELESS_H264_DECODE_PARAMS", "struct v4l2_ctrl_h264_decode_params", False),
        ("V4L2_CID_STATELESS_H264_PRED_WEIGHTS", "struct v4l2_ctrl_h264_pred_weights", False),
    ]),
    "hevc": ("V4L2_PIX_FMT_HEVC_SLICE", "visl_hevc_controls", [
        ("V4L2_CID_STATELESS_HEVC_SPS", "struct v4l2_ctrl_hevc_sps", False),
        ("V4L2_CID_STATELESS_HEVC_PPS", "struct v4l2_ctrl_hevc_pps", False),
        ("V4L2_CID_STATELESS_HEVC_SLICE_PARAMS", "struct v4l2_ctrl_hevc_slice_params", True),
        ("V4L2_CID_STATELESS_HEVC_SCALING_MATRIX", "struct v4l2_ctrl_hevc_scaling_matrix", False),
        ("V4L2_CID_STATELESS_HEVC_DECODE_PARAMS", "struct v4l2_ctrl_hevc_decode_params", False),
    ]),
    "av1": ("V4L2_PIX_FMT_AV1_FRAME", "visl_av1_controls", [
        ("V4L2_CID_STATELESS_AV1_SEQUENCE", "struct v4l2_ctrl_av1_sequence", False),
        ("V4L2_CID_STATELESS_AV1_FRAME", "struct v4l2_ctrl_av1_frame", False),
        ("V4L2_CID_STATELESS_AV1_FILM_GRAIN", "struct v4l2_ctrl_av1_film_grain", False),
        ("V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY", "struct v4l2_ctrl_av1_tile_group_entry", True),
    ]),
}  # fmt: skip
VARIANTS = ("default", "varied", "ones", "small")
# One trace record's first line: "<task>-<pid> [cpu] <flags> <secs>.<usecs>: <event>: ".
RECORD = re.compile(r"^ *\S.*?-\d+ +\[\d+\] \S+ +\d+\.\d+: (\w+): ", re.M)


def host() -> None:
    from conform.kernel import run_in_guest

    root = HERE.parents[2]
    run = run_in_guest([sys.executable, str(Path(__file__).resolve()), "--guest"],
                       env={"PYTHONPATH": str(root)}, timeout=1800, cwd=str(root))  # fmt: skip
    start = run.stdout.find("{")
    if start < 0:
        sys.exit(f"no JSON from the guest:\n{run.stdout}\n{getattr(run, 'stderr', '')}")
    data = json.loads(run.stdout[start:])
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{len(data['cases'])} cases written to {OUTPUT}")


def _leaves(ctype: Any, prefix: str = "") -> list[tuple[str, Any, int]]:
    """(path, primitive ctype, element count) of every scalar or scalar-array field."""
    from conform.uapi import ffi

    out = []
    for name, field in ctype.fields or ():
        path = f"{prefix}{name}"
        t = field.type
        if t.kind == "struct":
            out += _leaves(t, path + ".")
        elif t.kind == "array":
            dims, item = [], t
            while item.kind == "array":
                dims.append(item.length)
                item = item.item
            if item.kind == "struct":
                if t.item.kind == "struct":  # (visl's controls have no 2-D arrays of structs)
                    for i in range(t.length):
                        out += _leaves(t.item, f"{path}[{i}].")
            else:
                out.append((path, item, ffi.sizeof(t) // ffi.sizeof(item)))
        elif t.kind == "primitive":
            out.append((path, t, 1))
    return out


def _limits(ctype: Any) -> tuple[int, int]:
    from conform.uapi import ffi

    bits = 8 * ffi.sizeof(ctype)
    signed = ctype.cname in ("int8_t", "int16_t", "int32_t", "int64_t", "signed char", "short", "int",
                             "long", "long long")  # fmt: skip
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def _value(rng: random.Random, variant: str, path: str, ctype: Any, attempt: int) -> int:
    low, high = _limits(ctype)
    if variant == "ones" or (attempt == 0 and path.endswith(("flags", "fields"))):
        return -1 if low < 0 else high
    if variant == "small" or attempt > 0:
        return max(low, min(high, rng.randint(-3 if low < 0 else 1, 5)))
    if rng.random() < 0.5:
        return rng.randint(low, high)
    return max(low, min(high, rng.randint(-40 if low < 0 else 1, 40)))


def _assign(buf: Any, path: str, ctype: Any, count: int, values: list[int]) -> None:
    from conform.uapi import ffi

    target: Any = buf[0]
    parts = path.replace("[", ".[").split(".")
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else getattr(target, part)
    last = parts[-1]
    if count == 1:
        setattr(target, last, values[0])
        return
    flat = ffi.cast(f"{ctype.cname} *", ffi.addressof(target, last))
    for i, v in enumerate(values):
        flat[i] = v


def _build(controls: Any, cid: int, struct: str, default: bytes, variant: str, seed: int) -> bytes:
    """A payload with as many fields as the core accepts set to the variant's values."""
    from conform.device import ControlsError, ControlValue
    from conform.uapi import ffi

    rng = random.Random(seed)
    buf = ffi.new(f"{struct} *")
    ffi.memmove(buf, default, len(default))
    for path, ctype, count in _leaves(ffi.typeof(struct)):
        if path.split(".")[-1].startswith(("reserved", "padding")):
            continue
        for attempt in range(3):
            saved = bytes(ffi.buffer(buf))
            values = [_value(rng, variant, path, ctype, attempt) for _ in range(count)]
            _assign(buf, path, ctype, count, values)
            try:
                controls.try_([ControlValue(cid, bytes(ffi.buffer(buf)))])
                break
            except ControlsError:
                ffi.memmove(buf, saved, len(saved))
    return bytes(ffi.buffer(buf))


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _drain_pipe() -> str:
    """What trace_pipe holds now (read without blocking; reading consumes it)."""
    fd = os.open(f"{TRACING}/trace_pipe", os.O_RDONLY | os.O_NONBLOCK)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode()


def _split(trace: str) -> list[dict[str, str]]:
    """The events of a trace file's text: name and payload (without ftrace's final newline)."""
    lines = trace.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):  # the header comes first, and only there
        lines.pop(0)
    body = "".join(lines)
    starts = list(RECORD.finditer(body))
    events = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(body)
        text = body[m.end() : end]
        assert text.endswith("\n"), text
        events.append({"name": m.group(1), "payload": text[:-1]})
    return events


def guest() -> None:
    from conform.codecs.stream import DecodeRequest, StreamFormat
    from conform.device import ControlsError, ControlValue
    from conform.drivers import resolve_driver
    from conform.run.session import DecodeSession
    from conform.uapi import C

    if not os.path.exists(f"{TRACING}/trace"):
        os.system(f"mount -t tracefs nodev {TRACING}")
    nodes = resolve_driver("c-visl").connect()
    cases = []
    raw_examples: dict[str, str] = {}
    pipe_examples: dict[str, str] = {}
    for seed, (codec, (fmt, system, ctrls)) in enumerate(CODECS.items()):
        for variant in VARIANTS:
            session = DecodeSession(nodes, StreamFormat(getattr(C, fmt), 64, 64))
            try:
                for n, (cid_name, struct, dynamic) in enumerate(ctrls):
                    cid = getattr(C, cid_name)
                    if variant == "default":
                        continue
                    default = session.controls.get([cid], which=C.V4L2_CTRL_WHICH_DEF_VAL)[0].value
                    assert isinstance(default, bytes)
                    size = len(default)
                    payload = _build(session.controls, cid, struct, default, variant, seed * 100 + n)
                    if dynamic:
                        # A second element, different from the first: visl prints element 0.
                        second = bytes((b + 17) & 0xFF for b in payload[:4]) + payload[4:size]
                        try:
                            session.controls.try_([ControlValue(cid, payload + second)])
                            payload += second
                        except ControlsError:
                            pass
                    session.controls.set([ControlValue(cid, payload)])
                _write(f"{TRACING}/trace", "")
                _write(f"{TRACING}/events/{system}/enable", "1")
                request = DecodeRequest(controls=(), payload=bytes(range(64)), timestamp_ns=1_000_000)
                frames = list(session.decode([request]))
                assert len(frames) == 1
                _write(f"{TRACING}/events/{system}/enable", "0")
                with open(f"{TRACING}/trace") as f:
                    trace = f.read()
                pipe = _drain_pipe()
                stored = {}
                for cid_name, _struct, _dynamic in ctrls:
                    cid = getattr(C, cid_name)
                    session.controls.query(cid)  # a dynamic array's element count changed
                    value = session.controls.get([cid])[0].value
                    assert isinstance(value, bytes)
                    stored[cid_name] = {"id": cid, "payload": value.hex()}
            finally:
                session.close()
            if variant == "default":
                raw_examples[codec] = trace
                pipe_examples[codec] = pipe
            cases.append({"codec": codec, "pixelformat": fmt, "fourcc": getattr(C, fmt), "variant": variant,
                          "controls": stored,
                          "events": _split(trace)})  # fmt: skip
            print(f"{codec} {variant}: {len(cases[-1]['events'])} events", file=sys.stderr, flush=True)
    print(
        json.dumps(
            {
                "kernel": os.uname().release,
                "cases": cases,
                "raw_trace_examples": raw_examples,
                "raw_trace_pipe_examples": pipe_examples,
            }
        )
    )


if __name__ == "__main__":
    guest() if sys.argv[1:] == ["--guest"] else host()
