"""visl's trace events as userspace reads them: tracefs ``enable`` files and ``trace_pipe``.

The kernel prints each record of ``trace_pipe`` after a ``<task>-<pid> [cpu] <flags>
<timestamp>: `` prefix; the embedded driver prints the same records without it
(DESIGN.md, the vdev ABI).  Either way a record is ``event_name: payload`` where a
multi-line payload continues on the following lines, so records are split at lines that
start one: a kernel prefix, or (without one) a known event name of visl-trace-events.md.
Only (event name, payload text) is compared.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass

from conform.device.node import OpenFile
from conform.transport import O_NONBLOCK, Transport, TransportError

TRACING_DIR = "/sys/kernel/tracing/"
TRACE_PIPE = TRACING_DIR + "trace_pipe"
# visl-behaviour §8: one trace system per codec.
TRACE_SYSTEMS = (
    "visl_fwht_controls", "visl_mpeg2_controls", "visl_vp8_controls", "visl_vp9_controls",
    "visl_h264_controls", "visl_hevc_controls", "visl_av1_controls",
)  # fmt: skip
# Every event of those systems (visl-trace-events.md), in the order each codec emits them.
EVENT_NAMES = frozenset(
    {
        "v4l2_ctrl_fwht_params",
        "v4l2_ctrl_mpeg2_sequence", "v4l2_ctrl_mpeg2_picture", "v4l2_ctrl_mpeg2_quantisation",
        "v4l2_ctrl_vp8_frame", "v4l2_ctrl_vp8_entropy",
        "v4l2_ctrl_vp9_frame", "v4l2_ctrl_vp9_compressed_hdr", "v4l2_ctrl_vp9_compressed_coeff",
        "v4l2_vp9_mv_probs",
        "v4l2_ctrl_h264_sps", "v4l2_ctrl_h264_pps", "v4l2_ctrl_h264_scaling_matrix",
        "v4l2_ctrl_h264_slice_params", "v4l2_h264_ref_pic_list0", "v4l2_h264_ref_pic_list1",
        "v4l2_ctrl_h264_decode_params", "v4l2_h264_dpb_entry", "v4l2_ctrl_h264_pred_weights",
        "v4l2_ctrl_hevc_sps", "v4l2_ctrl_hevc_pps", "v4l2_ctrl_hevc_slice_params",
        "v4l2_ctrl_hevc_scaling_matrix", "v4l2_ctrl_hevc_decode_params", "v4l2_hevc_dpb_entry",
        "v4l2_hevc_pred_weight_table",
        "v4l2_ctrl_av1_sequence", "v4l2_ctrl_av1_frame", "v4l2_ctrl_av1_film_grain",
        "v4l2_ctrl_av1_tile_group_entry",
    }
)  # fmt: skip
# kernel/trace/trace_output.c: "%16s-%-7d [%03d] <flags> %5lu.%06lu: " then the event's
# "name: " and its TP_printk text.  The task name may hold spaces and dashes.
KERNEL_RECORD = re.compile(r"^.*?-\d+\s+(?:\(\s*[-\d]+\)\s+)?\[\d+\]\s+\S+\s+\d+\.\d+: (\w+): ?(.*)$")
BARE_RECORD = re.compile(r"^(\w+): ?(.*)$")
LOST_EVENTS = re.compile(r"^CPU:(\d+) \[LOST (\d+) EVENTS\]$")
LOST = "LOST_EVENTS"
"""The name a ring-buffer overrun notice parses to, so that it is never silently dropped."""
READ_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One trace record: the event name and the text the driver printed after ``name: ``."""

    name: str
    payload: str

    def as_json(self) -> list[str]:
        return [self.name, self.payload]


def parse_trace(text: str) -> list[TraceEvent]:
    """Split ``trace_pipe`` text, kernel-prefixed or bare, into events.

    A line starts a record when it carries the kernel prefix (whatever the event), or,
    bare, when it starts with a known visl event name and ``: ``; any other line
    continues the payload of the record before it.  The newline ending each record is
    not part of its payload.
    """
    names: list[str] = []
    payloads: list[list[str]] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        lost = LOST_EVENTS.match(line)
        kernel = KERNEL_RECORD.match(line)
        bare = BARE_RECORD.match(line)
        if lost:
            names.append(LOST)
            payloads.append([f"cpu {lost.group(1)}: {lost.group(2)}"])
        elif kernel:
            names.append(kernel.group(1))
            payloads.append([kernel.group(2)])
        elif bare and bare.group(1) in EVENT_NAMES:
            names.append(bare.group(1))
            payloads.append([bare.group(2)])
        elif payloads:
            payloads[-1].append(line)
        else:
            # Text before any record: a read that began mid-record. Keep it visible.
            names.append("")
            payloads.append([line])
    return [TraceEvent(name, "\n".join(parts)) for name, parts in zip(names, payloads, strict=True)]


def enable_systems(transport: Transport, systems: tuple[str, ...] = TRACE_SYSTEMS) -> dict[str, object]:
    """Write ``1`` to each system's ``enable``; per system the bytes written or the errno name."""
    outcome: dict[str, object] = {}
    for system in systems:
        path = f"{TRACING_DIR}events/{system}/enable"
        try:
            fd = transport.open(path, os.O_WRONLY)
        except TransportError as exc:
            outcome[system] = ["open", errno.errorcode.get(exc.errno or 0, str(exc.errno))]
            continue
        try:
            outcome[system] = transport.write(fd, b"1")
        except TransportError as exc:
            outcome[system] = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        finally:
            transport.close(fd)
    return outcome


class TracePipe(OpenFile):
    """``trace_pipe`` opened ``O_RDONLY | O_NONBLOCK``: each ``read_events`` drains it."""

    def __init__(self, transport: Transport, path: str = TRACE_PIPE) -> None:
        super().__init__(transport, transport.open(path, os.O_RDONLY | O_NONBLOCK))

    def read_text(self) -> str:
        """Everything buffered now: read until EAGAIN (or end of file)."""
        chunks: list[bytes] = []
        while True:
            try:
                chunk = self.transport.read(self.fd, READ_CHUNK)
            except TransportError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    break
                raise
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")

    def read_events(self) -> list[TraceEvent]:
        return parse_trace(self.read_text())

    def drain(self) -> None:
        self.read_text()
