"""``conform``: the command line.  Each subcommand lives in its own module with ``register``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from conform.errors import ConformError


def build_parser() -> argparse.ArgumentParser:
    from conform.cli import bench, fluster, gstreamer, kernel, probe, references, report, run, shim, vectors

    parser = argparse.ArgumentParser(
        prog="conform",
        description="Drive V4L2 stateless decoders through the kernel ioctl ABI and compare "
        "rust-visl with upstream visl (c-visl, in a QEMU guest).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.register(sub)
    report.register(sub)
    references.register(sub)
    bench.register(sub)
    fluster.register(sub)
    probe.register(sub)
    kernel.register(sub)
    vectors.register(sub)
    shim.register(sub)
    gstreamer.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConformError as exc:
        print(f"conform: error: {exc}", file=sys.stderr)
        return 2
