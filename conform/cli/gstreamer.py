"""``conform gstreamer``: GStreamer's v4l2codecs on rust-visl and upstream visl, stream by stream."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "gstreamer",
        help="decode the suites with GStreamer on rust-visl (shim) and c-visl (guest) and compare",
        description="Decode every suite stream with gst-launch-1.0 (v4l2slh264dec, v4l2slh265dec, "
        "v4l2slvp8dec, v4l2slmpeg2dec) on rust-visl through the device-node shim and on upstream "
        "visl in one kernel-tier guest; compare the frames, and (by default) the controls GStreamer "
        "set against conform's own request stream of the same stream, field by field.",
    )
    p.add_argument("--suites", default="all", help="suites: all or a comma list")
    p.add_argument("--filter", default="", help="only streams whose SUITE/NAME contains this text")
    p.add_argument("--no-controls", action="store_true",
                   help="compare frames only: no trace, no conform request streams in the guest")  # fmt: skip
    p.add_argument("--timeout", type=float, default=1800, help="seconds for the whole guest run")
    p.add_argument("--out", type=Path,
                   help="where summary.txt and results.json go (reports/gstreamer-TIME)")  # fmt: skip
    p.set_defaults(func=run_gstreamer)


def run_gstreamer(args: argparse.Namespace) -> int:
    from conform.clients import gstreamer
    from conform.clients.verdict import Totals, judge, summary
    from conform.run.vector import repo_root

    missing = gstreamer.available()
    if missing:
        print(f"conform gstreamer: {missing}", file=sys.stderr)
        return 2
    suites = None if args.suites == "all" else args.suites.split(",")
    streams = [s for s in gstreamer.suite_streams(suites) if args.filter in s.name]
    if not streams:
        print("conform gstreamer: no stream matches", file=sys.stderr)
        return 2
    print(f"GStreamer on rust-visl (shim): {len(streams)} streams", file=sys.stderr)
    rust = {r.name: r for r in gstreamer.decode_rust_visl(streams)}
    print(f"GStreamer on c-visl (one guest boot): {len(streams)} streams", file=sys.stderr)
    c = {r.name: r for r in gstreamer.decode_c_visl(streams, controls=not args.no_controls,
                                                     timeout=args.timeout)}  # fmt: skip
    totals = Totals()
    judged = [judge(stream, rust[stream.name], c[stream.name], totals) for stream in streams]
    text = "\n".join([*(j.line for j in judged), summary(totals)])
    print(text)
    out = args.out or repo_root() / "reports" / time.strftime("gstreamer-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.txt").write_text(text + "\n")
    (out / "results.json").write_text(json.dumps([j.record for j in judged], indent=1) + "\n")
    print(f"conform gstreamer: results in {out}", file=sys.stderr)
    return 0 if totals.passed == totals.streams else 1
