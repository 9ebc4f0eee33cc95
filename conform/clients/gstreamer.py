"""GStreamer's v4l2codecs decoders as a reference client of both drivers.

``gst-launch-1.0`` decodes a suite's stream with ``v4l2slh264dec``, ``v4l2slh265dec``,
``v4l2slvp8dec`` or ``v4l2slmpeg2dec`` into ``checksumsink``, which prints the md5 of every
decoded frame with its presentation time.  On rust-visl the decoder sees the driver through
the device-node shim (``udev=True``: v4l2codecs finds decoders through libudev); on c-visl
one guest boot decodes every stream, optionally with visl's trace events on, so the
controls GStreamer set can be held against conform's own request stream.

The plugin path holds only the five plugins a pipeline needs: the registry is rebuilt on
every run (the guest has no persistent cache) and the machine's other plugins stay out of
the comparison.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conform.codecs.stream import DecodeMode, SliceMode, StartCode
from conform.errors import ConformError
from conform.run.suite import Codec

PLUGIN_DIR = Path("/usr/lib/x86_64-linux-gnu/gstreamer-1.0")
PLUGINS = ("coreelements", "videoparsersbad", "ivfparse", "v4l2codecs", "debugutilsbad")
# Parser and decoder per codec; the parsers hand the decoders whole access units.
ELEMENTS = {
    Codec.H264: ("h264parse", "v4l2slh264dec"),
    Codec.H265: ("h265parse", "v4l2slh265dec"),
    Codec.VP8: ("ivfparse", "v4l2slvp8dec"),
    Codec.MPEG2_VIDEO: ("mpegvideoparse", "v4l2slmpeg2dec"),
}
RESULT_PREFIX = "CONFORM-GST "
# visl's control events and the core's qbuf event, whose timestamps give the decode order.
TRACE_EVENTS = ("visl_h264_controls", "visl_hevc_controls", "visl_vp8_controls", "visl_mpeg2_controls",
                "v4l2/v4l2_qbuf")  # fmt: skip
TRACE_BUFFER_KB = 65536
TRACE = Path("/sys/kernel/tracing/trace")
# Seconds one decode may take in the (TCG) guest before it counts as hung.
GUEST_STREAM_TIMEOUT = 300
ERROR_REASON = re.compile(r"streaming stopped, reason ([\w-]+)")
# GStreamer keeps the driver's decode mode and start code, which on visl are slice-based
# and none: conform's side of the control comparison builds the same layout.
GSTREAMER_MODE = SliceMode(DecodeMode.SLICE_BASED, StartCode.NONE)


class GstreamerError(ConformError):
    """GStreamer is missing or could not be set up."""


@dataclass(frozen=True, slots=True)
class GstStream:
    """One stream to decode: its vector name, codec and file."""

    name: str
    codec: Codec
    path: Path


@dataclass(slots=True)
class GstResult:
    """What one ``gst-launch-1.0`` decode gave: frame md5s in output order, its status.

    With the guest's trace on, ``trace`` holds visl's events of GStreamer's decode and
    ``conform`` conform's own jobs of the same stream on the same driver (OUTPUT timestamp
    and trace events each), or ``conform_error`` why there are none.
    """

    name: str
    returncode: int
    frames: list[str] = field(default_factory=list)
    log: str = ""
    trace: str = ""
    conform: list[dict[str, Any]] = field(default_factory=list)
    conform_error: str = ""

    @property
    def outcome(self) -> str:
        """How the decode ended, in words two drivers can be compared by.

        A pipeline that fails its negotiation may also hang on teardown (a GStreamer 1.22
        race, seen on both drivers): its error, not its exit status, is the outcome.
        """
        if self.returncode == 0:
            return "decoded"
        reason = ERROR_REASON.search(self.log)
        if reason:
            return f"error: {reason.group(1)}"
        if self.returncode < 0:
            return "hung" if self.returncode == -signal.SIGKILL else f"killed by signal {-self.returncode}"
        return f"exit status {self.returncode}"

    def to_json(self) -> dict[str, object]:
        """As JSON, the trace and conform's jobs (megabytes on long streams) zlib-compressed."""
        data = asdict(self)
        data["trace"] = _pack(self.trace)
        data["conform"] = _pack(json.dumps(self.conform))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GstResult:
        return cls(data["name"], data["returncode"], data["frames"], data["log"], _unpack(data["trace"]),
                   json.loads(_unpack(data["conform"])), data["conform_error"])  # fmt: skip


def _pack(text: str) -> str:
    return base64.b64encode(zlib.compress(text.encode(), 6)).decode()


def _unpack(packed: str) -> str:
    return zlib.decompress(base64.b64decode(packed)).decode()


def suite_streams(suites: Sequence[str] | None = None) -> list[GstStream]:
    """The streams of the named suites (all when None) that GStreamer has a decoder for."""
    from conform.run.suite import load_suites
    from conform.run.vector import search_path

    out = []
    for suite in load_suites():
        if (suites is not None and suite.name not in suites) or suite.codec not in ELEMENTS:
            continue
        for vector in suite.resolve(search_path()).test_vectors:
            assert vector.path is not None
            out.append(GstStream(f"{suite.name}/{vector.name}", suite.codec, vector.path))
    return out


def available() -> str | None:
    """Why GStreamer's v4l2codecs cannot run here, or None when it can."""
    if shutil.which("gst-launch-1.0") is None:
        return "gst-launch-1.0 is missing (Debian: gstreamer1.0-tools)"
    missing = [p for p in PLUGINS if not (PLUGIN_DIR / f"libgst{p}.so").is_file()]
    if missing:
        return f"GStreamer plugins missing from {PLUGIN_DIR}: {', '.join(missing)} (gstreamer1.0-plugins-bad)"
    return None


def pipeline(stream: GstStream) -> list[str]:
    """The ``gst-launch-1.0`` command that decodes ``stream`` into per-frame md5s."""
    if stream.codec not in ELEMENTS:
        raise GstreamerError(f"{stream.name}: GStreamer has no stateless decoder for {stream.codec.value}")
    parser, decoder = ELEMENTS[stream.codec]
    # --no-fault: a crashing decoder exits (status -11) instead of waiting for a debugger.
    return ["gst-launch-1.0", "-q", "--no-fault", "filesrc", f"location={stream.path}", "!", parser,
            "!", decoder, "!", "checksumsink", "hash=md5"]  # fmt: skip


def gst_env(scratch: Path) -> dict[str, str]:
    """Environment for a fresh registry in ``scratch`` over only the plugins we use."""
    plugins = scratch / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    for name in PLUGINS:
        link = plugins / f"libgst{name}.so"
        if not link.is_symlink():
            link.symlink_to(PLUGIN_DIR / link.name)
    return {
        "GST_REGISTRY": str(scratch / "registry.bin"),
        "GST_REGISTRY_FORK": "no",
        "GST_PLUGIN_SYSTEM_PATH": str(plugins),
        "GST_PLUGIN_PATH": "",
    }


def parse_frames(stdout: str) -> list[str]:
    """checksumsink's lines (``<pts> <md5>``) as md5s, in output order."""
    frames = []
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[1]) == 32 and ":" in parts[0]:
            frames.append(parts[1])
    return frames


def _timed_out(exc: subprocess.TimeoutExpired) -> subprocess.CompletedProcess[str]:
    """A decode that hung, as a result: what it printed, status -9 (it was killed)."""
    out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
    return subprocess.CompletedProcess(exc.cmd, -9, f"{out}\ntimed out after {exc.timeout:.0f} s", "")


def _result(stream: GstStream, done: subprocess.CompletedProcess[str]) -> GstResult:
    log = "\n".join(line for line in done.stdout.splitlines() if not parse_frames(line))
    return GstResult(stream.name, done.returncode, parse_frames(done.stdout), log[-4000:])


def decode_rust_visl(streams: Sequence[GstStream], timeout: float = 30,
                     library: Path | None = None) -> Iterator[GstResult]:  # fmt: skip
    """Decode each stream with GStreamer on rust-visl (or ``library``) through the shim.

    ``timeout`` is per stream: a decode takes well under a second, and a pipeline that hangs
    on teardown after an error (GstResult.outcome) should not hold the run up for long.
    """
    from conform.drivers.rust_visl import build_library
    from conform.shim import run

    library = library or build_library()
    with tempfile.TemporaryDirectory(prefix="conform-gst-") as tmp:
        env = gst_env(Path(tmp))
        for stream in streams:
            try:
                argv = pipeline(stream)
                done = run(argv, library=library, timeout=timeout, capture=True, udev=True, env=env)
            except subprocess.TimeoutExpired as exc:
                done = _timed_out(exc)
            yield _result(stream, done)


def decode_here(streams: Sequence[GstStream], timeout: float = GUEST_STREAM_TIMEOUT) -> Iterator[GstResult]:
    """Decode each stream with GStreamer on this machine's kernel devices (in the guest: c-visl)."""
    with tempfile.TemporaryDirectory(prefix="conform-gst-") as tmp:
        env = {**os.environ, **gst_env(Path(tmp))}
        for stream in streams:
            try:
                done = subprocess.run(pipeline(stream), env=env, text=True, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, timeout=timeout)  # fmt: skip
            except subprocess.TimeoutExpired as exc:
                done = _timed_out(exc)
            yield _result(stream, done)


def decode_c_visl(
    streams: Sequence[GstStream], controls: bool = False, timeout: float = 1800
) -> list[GstResult]:
    """Decode every stream with GStreamer on upstream visl, in one guest boot.

    ``controls`` also keeps visl's trace and decodes conform's request streams (``GstResult``).
    """
    from conform.kernel import run_in_guest

    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="conform-gst-", delete=False) as listing:
        json.dump([{"name": s.name, "codec": s.codec.value, "path": str(s.path)} for s in streams], listing)
    try:
        argv = [
            sys.executable,
            "-m",
            "conform.clients.gstreamer",
            listing.name,
            *(["--controls"] if controls else []),
        ]
        run = run_in_guest(argv, timeout=timeout)
    finally:
        os.unlink(listing.name)
    results = [GstResult.from_json(json.loads(line[len(RESULT_PREFIX):]))
               for line in run.stdout.splitlines() if line.startswith(RESULT_PREFIX)]  # fmt: skip
    if run.returncode != 0 or len(results) != len(streams):
        raise GstreamerError(f"the guest decoded {len(results)} of {len(streams)} streams "
                             f"(status {run.returncode}):\n{run.stderr[-2000:]}")  # fmt: skip
    return results


def _enable_tracing() -> None:
    root = Path("/sys/kernel/tracing")
    (root / "buffer_size_kb").write_text(str(TRACE_BUFFER_KB))
    for event in TRACE_EVENTS:
        (root / "events" / event / "enable").write_text("1")


def _conform_jobs(stream: GstStream) -> list[dict[str, Any]]:
    """conform's request stream of ``stream``, laid out as GStreamer lays it, decoded on c-visl."""
    from conform.codecs.frontend import build_request_stream
    from conform.drivers import resolve_driver
    from conform.run.decode import decode_stream

    built = build_request_stream(stream.codec.value, stream.path.read_bytes(), GSTREAMER_MODE)
    evidence = decode_stream(resolve_driver("c-visl").connect(), built.format, built.requests)
    if "error" in evidence:
        raise ConformError(str(evidence["error"]))
    return [{"timestamp": job["output"]["timestamp"], "trace": job["trace"]} for job in evidence["jobs"]]


def _guest_main(listing: Path, controls: bool) -> int:
    """In the guest: decode the listed streams on /dev/video0, one result line each.

    With ``controls``, visl's trace of each GStreamer decode is kept, and conform's own
    request stream of the stream is decoded after it, traced too.
    """
    streams = [
        GstStream(d["name"], Codec(d["codec"]), Path(d["path"])) for d in json.loads(listing.read_text())
    ]
    if controls:
        _enable_tracing()
        TRACE.write_text("")
    # The generator decodes a stream only when asked for it: the trace read and cleared
    # between two results holds exactly one GStreamer decode.
    for stream, result in zip(streams, decode_here(streams), strict=True):
        if controls:
            result.trace = TRACE.read_text()
            try:
                result.conform = _conform_jobs(stream)
            except ConformError as exc:
                result.conform_error = str(exc)
            TRACE.write_text("")
        print(RESULT_PREFIX + json.dumps(result.to_json()), flush=True)
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    raise SystemExit(_guest_main(Path(args[0]), "--controls" in args[1:]))
