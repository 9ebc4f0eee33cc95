"""``conform shim -- CMD``: run a command with rust-visl behind /dev/video0 and /dev/media0."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "shim",
        help="run an unmodified program on rust-visl through the device-node shim",
        description="Run CMD with an LD_PRELOAD shim that answers opens of the video and media nodes "
        "with the embedded driver library (rust-visl by default), as v4l2-compliance or GStreamer "
        "would open a kernel driver's nodes.",
    )
    p.add_argument("--video", default="/dev/video0", help="the path programs open for the video node")
    p.add_argument("--media", default="/dev/media0", help="the path programs open for the media node")
    p.add_argument("--library", type=Path, help="a vdev driver library (default: rust-visl, built if stale)")
    p.add_argument("--udev", action="store_true",
                   help="also show the nodes to libudev (GStreamer's v4l2codecs finds decoders through it): "
                   "run CMD in a mount namespace with the shim's sysfs tree overlaid on /sys")  # fmt: skip
    p.add_argument("--print-env", action="store_true",
                   help="print the shim's environment as shell assignments, do not run CMD")  # fmt: skip
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command to run")
    p.set_defaults(func=run_shim)


def run_shim(args: argparse.Namespace) -> int:
    import shlex

    from conform.shim import ShimConfig, run, shim_env

    config = ShimConfig(video=args.video, media=args.media)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if args.print_env:
        from conform.drivers.rust_visl import build_library

        env = shim_env(args.library or build_library(), config, base={})
        for name, value in env.items():
            print(f"export {name}={shlex.quote(value)}")
        return 0
    if not cmd:
        print("conform shim: no command given (conform shim -- CMD ...)", file=sys.stderr)
        return 2
    try:
        return run(cmd, library=args.library, config=config, udev=args.udev).returncode
    except FileNotFoundError as exc:
        print(f"conform shim: {exc}", file=sys.stderr)
        return 127
