"""``conform fluster -- ARGS``: fluster's command line with conform's decoders registered."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "fluster",
        help="run fluster with conform-<codec> decoders registered",
        description="fluster's own command line (list, run, reference...) with one decoder per "
        "conform front-end, conform-<codec>, decoding on the V4L2 stateless node named by "
        "CONFORM_FLUSTER_DRIVER (default kernel:/dev/video0).",
    )
    p.add_argument(
        "--store-resources",
        type=Path,
        metavar="DIR",
        help="lay conform's vector store out in DIR as fluster's resources and pass -r DIR",
    )
    p.add_argument("args", nargs=argparse.REMAINDER, help="fluster's arguments, after --")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conform.run.fluster_decoders import run_fluster

    forwarded = args.args[1:] if args.args[:1] == ["--"] else args.args
    if args.store_resources:
        from conform.run.fluster_decoders import link_store

        forwarded = ["-r", str(link_store(args.store_resources)), *forwarded]
    return run_fluster(forwarded)
