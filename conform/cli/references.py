"""``conform references record``: refresh vectors/references/ from upstream visl in the kernel tier."""

from __future__ import annotations

import argparse
import sys
import time

from conform.cli.run import REPO
from conform.run.record import RunDir, Status
from conform.run.references import REFERENCES, write


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "references",
        help="record the references of upstream visl",
        description="Run the probes (and vector suites) on c-visl in the kernel tier and write "
        "each record, with its kernel, parameters and command, to vectors/references/.",
    )
    sub2 = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    rec = sub2.add_parser("record", help="run on c-visl and write the references")
    rec.add_argument(
        "--driver", default="c-visl", choices=("c-visl",), help="references come from upstream visl"
    )
    rec.add_argument("--probes", default="all", help="probes: all, none, or a comma list")
    rec.add_argument("--suites", default="all", help="vector suites: all, none, or a comma list")
    rec.add_argument("--filter", default="", help="only items whose name contains this text")
    rec.add_argument("--timeout", type=float, default=600, help="seconds per item")
    rec.set_defaults(func=record)


def record(args: argparse.Namespace) -> int:
    from conform.cli.run import run_c_visl

    run_dir = RunDir(REPO / "reports" / time.strftime("references-%Y%m%d-%H%M%S"))
    args.resume, args.workers = False, 1
    run_c_visl(args, run_dir)
    command = "conform " + " ".join(sys.argv[1:])
    failed = 0
    for rec in run_dir.records("c-visl"):
        if rec.status is not Status.OK:
            print(f"conform: {rec.item.name}: {rec.status.value}, not recorded: {rec.error}", file=sys.stderr)
            failed += 1
            continue
        print(f"  {write(REFERENCES, rec, command).relative_to(REPO)}")
    return 1 if failed else 0
