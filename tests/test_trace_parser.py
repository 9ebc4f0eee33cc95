"""trace_pipe text, kernel-prefixed (c-visl) and bare (embedded rust-visl), parses to the
same (event name, payload) pairs; no guest needed."""

from __future__ import annotations

import errno

import pytest

from conform.device.trace import LOST, TraceEvent, TracePipe, parse_trace
from conform.parity.explain import explain
from conform.probe.decode import rust_visl_params
from conform.transport import TransportError

# Shaped like 6.12 visl records: a single-line event, a multi-line one whose payload starts
# with a newline, a hex dump, and keys that themselves end in a colon (AV1).
EVENTS = [
    TraceEvent("v4l2_ctrl_fwht_params", "backward_ref_ts 0 version 3 width 640 height 360 flags I_FRAME"),
    TraceEvent("v4l2_ctrl_h264_pps", "\npic_parameter_set_id 4\npic_init_qp_minus26 -61\nflags WEIGHTED"),
    TraceEvent("v4l2_ctrl_h264_scaling_matrix", "\nscaling_list_4x4 {\n02 03 04\n05 06 07\n}\n"),
    TraceEvent("v4l2_h264_dpb_entry", "[0]: reference_ts 2000, pic_num 0 frame_num 0 fields  flags "),
    TraceEvent("v4l2_ctrl_av1_sequence", "\nflags ENABLE_CDEF\nseq_profile: 0\nbit_depth: 8\n"),
    TraceEvent("v4l2_ctrl_av1_tile_group_entry", "\ntile_offset: 0\n tile_size: 51\n tile_row: 0\n"),
]
PREFIXES = [
    "          python-97      [000] .....    12.345678: ",
    "     kworker/0:1-12      [000] ...1.    12.400001: ",
    "  <...>-1234    [001] d..2. 99999.000001: ",
    " my task-name-5 [000] .N... 1.000000: ",
    "          python-97      (     97) [000] .....    12.345678: ",
]


def embedded_text(events: list[TraceEvent]) -> str:
    return "".join(f"{e.name}: {e.payload}\n" for e in events)


def kernel_text(events: list[TraceEvent]) -> str:
    return "".join(f"{PREFIXES[i % len(PREFIXES)]}{e.name}: {e.payload}\n" for i, e in enumerate(events))


def test_bare_records_parse_back() -> None:
    assert parse_trace(embedded_text(EVENTS)) == EVENTS


def test_kernel_records_parse_to_the_same_events() -> None:
    assert parse_trace(kernel_text(EVENTS)) == EVENTS


def test_empty_text_has_no_events() -> None:
    assert parse_trace("") == []


def test_kernel_prefix_starts_a_record_whatever_the_event() -> None:
    text = PREFIXES[0] + "sched_switch: prev_comm=a\n" + PREFIXES[1] + "v4l2_ctrl_vp8_entropy: \nx 1\n"
    assert parse_trace(text) == [TraceEvent("sched_switch", "prev_comm=a"),
                                 TraceEvent("v4l2_ctrl_vp8_entropy", "\nx 1")]  # fmt: skip


def test_unknown_bare_name_continues_the_payload() -> None:
    """AV1 prints "key: value" lines; only known event names start a bare record."""
    text = "v4l2_ctrl_av1_frame: \nsuperres_denom: 9\norder_hint: 2\n"
    assert parse_trace(text) == [TraceEvent("v4l2_ctrl_av1_frame", "\nsuperres_denom: 9\norder_hint: 2")]


def test_lost_events_are_kept() -> None:
    text = "CPU:0 [LOST 12 EVENTS]\n" + embedded_text(EVENTS[:1])
    assert parse_trace(text) == [TraceEvent(LOST, "cpu 0: 12"), EVENTS[0]]


def test_text_before_a_record_is_visible() -> None:
    assert parse_trace("stray\n" + embedded_text(EVENTS[:1])) == [TraceEvent("", "stray"), EVENTS[0]]


class _FakePipe:
    """A transport whose read returns queued chunks, then EAGAIN."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.opened: list[tuple[str, int]] = []

    def open(self, path: str, flags: int) -> int:
        self.opened.append((path, flags))
        return 3

    def read(self, fd: int, count: int) -> bytes:
        if not self.chunks:
            raise TransportError(errno.EAGAIN, "read")
        return self.chunks.pop(0)[:count]

    def close(self, fd: int) -> None:
        pass


def test_pipe_reads_until_eagain_and_joins_split_records() -> None:
    import os

    text = kernel_text(EVENTS).encode()
    fake = _FakePipe([text[:50], text[50:]])
    pipe = TracePipe(fake)  # type: ignore[arg-type]
    assert fake.opened == [("/sys/kernel/tracing/trace_pipe", os.O_RDONLY | os.O_NONBLOCK)]
    assert pipe.read_events() == EVENTS
    assert pipe.read_events() == []


def test_other_read_errors_propagate() -> None:
    class Broken(_FakePipe):
        def read(self, fd: int, count: int) -> bytes:
            raise TransportError(errno.EIO, "read")

    with pytest.raises(TransportError):
        TracePipe(Broken([])).read_text()  # type: ignore[arg-type]


def test_rust_visl_params_from_the_kernel_command_line() -> None:
    cmdline = ("console=ttyS0 ro visl.bitstream_trace_frame_start=1 panic=-1 visl.keep_bitstream_buffers=1"
               " -- /work/main/c-visl/guest-init.sh visl.not_this=1\n")  # fmt: skip
    assert rust_visl_params(cmdline) == "bitstream_trace_frame_start=1 keep_bitstream_buffers=1"
    assert rust_visl_params("console=ttyS0 ro\n") == ""


def test_explain_names_job_event_and_line() -> None:
    ref = {"jobs": [{"trace": [["v4l2_ctrl_h264_pps", "\nid 4\nqp -61"]], "capture": None}]}
    cand = {"jobs": [{"trace": [["v4l2_ctrl_h264_pps", "\nid 4\nqp 195"]], "capture": None}]}
    assert explain(ref, cand) == (
        ".jobs[0].trace[0] (v4l2_ctrl_h264_pps)[1] line 2: reference 'qp -61', candidate 'qp 195'"
    )
    assert explain({"a": [1, 2]}, {"a": [1]}) == ".a: 2 items in reference, 1 in candidate"
