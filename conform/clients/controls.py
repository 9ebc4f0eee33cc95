"""GStreamer as the reference userspace: its controls against conform's, picture by picture.

Upstream visl prints every control of every job as trace events.  GStreamer's trace (one
guest boot, ``decode_c_visl(trace=True)``) is split into jobs at the codec's first event;
conform's jobs are the recorded c-visl references of the same vectors.  Each side names
pictures by its own OUTPUT timestamps (GStreamer: ``v4l2_qbuf`` events in queue order;
conform: the job's OUTPUT buffer), so every timestamp field is rewritten as the decode
index of the picture it names before the events are compared line by line.

GStreamer numbers its first frame 0, which is also what an unused reference slot holds:
conform's "no picture" (0, not a timestamp it queued) therefore equals GStreamer's
picture 0.  A real difference behind that shows in the entry's flags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conform.device.trace import EVENT_NAMES, TraceEvent, parse_trace
from conform.run.suite import Codec

FIRST_EVENT = {
    Codec.H264: "v4l2_ctrl_h264_sps",
    Codec.H265: "v4l2_ctrl_hevc_sps",
    Codec.VP8: "v4l2_ctrl_vp8_frame",
    Codec.MPEG2_VIDEO: "v4l2_ctrl_mpeg2_sequence",
}
TIMESTAMP_FIELDS = ("reference_ts", "timestamp", "last_frame_ts", "golden_frame_ts", "alt_frame_ts",
                    "backward_ref_ts", "forward_ref_ts")  # fmt: skip
# "key value" on its own line (multi-line events) or "key value," inside a one-line entry.
TIMESTAMP = re.compile(r"\b(" + "|".join(TIMESTAMP_FIELDS) + r") (\d+)\b")
QBUF_OUTPUT = re.compile(r"type = VIDEO_OUTPUT\w*, .*?timestamp = (\d+),")
NO_PICTURE = "none"
CLOCK_TIME_NONE = (1 << 64) - 1
"""GStreamer's "no picture" (GST_CLOCK_TIME_NONE), where conform sends 0."""


@dataclass(frozen=True, slots=True)
class Job:
    """One job's control events, its timestamps already rewritten as decode indexes."""

    events: tuple[TraceEvent, ...]


@dataclass(frozen=True, slots=True)
class Difference:
    """One field (or event, or job count) where GStreamer and conform gave the driver different values."""

    vector: str
    job: int
    event: str
    field: str
    gstreamer: str
    conform: str

    def line(self) -> str:
        where = f"{self.vector} job {self.job} {self.event} {self.field}"
        return f"{where}: gstreamer {self.gstreamer}, conform {self.conform}"


def _picture_names(order: list[int]) -> dict[int, str]:
    """Each OUTPUT timestamp as the decode index of its picture (the slices of a picture share one)."""
    names: dict[int, str] = {}
    for ts in order:
        names.setdefault(ts, f"pic {len(names)}")
    return names


def _rewrite(event: TraceEvent, names: dict[int, str]) -> TraceEvent:
    def name(match: re.Match[str]) -> str:
        value = int(match.group(2))
        if value in (0, CLOCK_TIME_NONE) and value not in names:
            return f"{match.group(1)} {NO_PICTURE}"
        return f"{match.group(1)} {names.get(value, f'unknown {value}')}"

    return TraceEvent(event.name, TIMESTAMP.sub(name, event.payload))


def _split(events: Iterable[TraceEvent], codec: Codec, names: dict[int, str]) -> list[Job]:
    first = FIRST_EVENT[codec]
    jobs: list[list[TraceEvent]] = []
    for event in events:
        if event.name not in EVENT_NAMES:
            continue
        if event.name == first or not jobs:
            jobs.append([])
        jobs[-1].append(_rewrite(event, names))
    return [Job(tuple(job)) for job in jobs]


def gstreamer_jobs(trace: str, codec: Codec) -> list[Job]:
    """GStreamer's jobs from a guest trace holding visl's events and ``v4l2_qbuf``."""
    events = parse_trace(trace)
    order = [
        int(m.group(1)) for e in events if e.name == "v4l2_qbuf" and (m := QBUF_OUTPUT.search(e.payload))
    ]
    return _split(events, codec, _picture_names(order))


def conform_jobs(jobs: list[dict[str, Any]]) -> list[Job]:
    """conform's jobs as the guest recorded them: OUTPUT ``timestamp`` and ``trace`` events each."""
    names = _picture_names([job["timestamp"] for job in jobs])
    return [
        Job(tuple(_rewrite(TraceEvent(n, p), names) for n, p in job["trace"] if n in EVENT_NAMES))
        for job in jobs
    ]


def _fields(payload: str) -> list[tuple[str, str]]:
    """(field name, line) per line; rows of a ``name {`` ... ``}`` block are ``name[row k]``."""
    out: list[tuple[str, str]] = []
    block, row = "", 0
    for line in payload.split("\n"):
        if not line:
            continue
        if line.endswith("{"):
            block, row = line[:-1].strip(), 0
        elif line == "}":
            block = ""
        elif block:
            out.append((f"{block}[row {row}]", line))
            row += 1
            continue
        out.append((line.split(" ", 1)[0].rstrip(","), line))
    return out


def _same(gst: str, ours: str) -> bool:
    if gst == ours:
        return True
    # conform's "no picture" and GStreamer's picture 0 are both timestamp 0 (module doc).
    return re.sub(r"\bpic 0\b", NO_PICTURE, gst) == ours


def compare(vector: str, gst: list[Job], ours: list[Job]) -> list[Difference]:
    """Every field where the two request streams differ, job by job, event by event."""
    diffs: list[Difference] = []
    if len(gst) != len(ours):
        diffs.append(Difference(vector, min(len(gst), len(ours)), "-", "jobs", str(len(gst)), str(len(ours))))
    for number, (g, o) in enumerate(zip(gst, ours, strict=False)):
        g_names = [e.name for e in g.events]
        o_names = [e.name for e in o.events]
        if g_names != o_names:
            diffs.append(Difference(vector, number, "-", "events", ",".join(g_names), ",".join(o_names)))
            continue
        for ge, oe in zip(g.events, o.events, strict=True):
            gl, ol = _fields(ge.payload), _fields(oe.payload)
            for (name, gline), (_, oline) in zip(gl, ol, strict=False):
                if not _same(gline, oline):
                    diffs.append(Difference(vector, number, ge.name, name, gline, oline))
            if len(gl) != len(ol):
                diffs.append(Difference(vector, number, ge.name, "lines", str(len(gl)), str(len(ol))))
    return diffs
