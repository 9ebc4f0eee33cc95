"""``conform probe``: show a driver's device (and optionally decode a few smoke requests)."""

from __future__ import annotations

import argparse
import json
import sys

from conform.cli.guest import parse_params, rerun_in_guest
from conform.drivers import driver_names, in_guest, resolve_driver
from conform.uapi import fourcc


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "probe",
        help="describe a driver's device: capabilities, formats, controls, topology",
        description="Print the device as a V4L2 developer wants to see it. For c-visl the command "
        "runs itself again inside the kernel tier's QEMU guest.",
    )
    p.add_argument(
        "--driver",
        default="rust-visl",
        help=f"driver to probe ({', '.join(driver_names())}); "
        "kernel:/dev/videoN for any node (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="visl module parameter for the guest kernel (c-visl only; repeatable)",
    )
    p.add_argument("--timeout", type=float, default=600, help="guest timeout in seconds (c-visl)")
    p.add_argument(
        "--decode",
        type=int,
        default=0,
        metavar="N",
        help="also decode N synthetic H.264 requests and check each frame against the visl spec",
    )
    p.add_argument(
        "--size", default="640x480", metavar="WxH", help="coded size for --decode (default: %(default)s)"
    )
    p.add_argument("--capture", default="NV12", choices=("NV12", "YU12"), help="CAPTURE format for --decode")
    p.add_argument(
        "--findings",
        action="store_true",
        help="run the reproducers of upstream visl's known defects (conform/probe/findings.py)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    driver = resolve_driver(args.driver)
    if driver.needs_guest and not in_guest():
        argv = (
            [
                "probe",
                "--driver",
                args.driver,
                "--decode",
                str(args.decode),
                "--size",
                args.size,
                "--capture",
                args.capture,
            ]
            + (["--json"] if args.json else [])
            + (["--findings"] if args.findings else [])
        )
        return rerun_in_guest(argv, parse_params(args.param), args.timeout)
    from conform.probe.describe import describe
    from conform.probe.text import render

    nodes = driver.connect()
    if args.findings:
        from conform.probe.findings import report as findings_report

        sys.stdout.write(findings_report(nodes))
        return 0
    desc = describe(nodes)
    if args.json:
        json.dump(desc.as_json(), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(desc))
    if not args.decode:
        return 0
    from conform.probe.smoke import run_smoke

    width, _, height = args.size.partition("x")
    report = run_smoke(nodes, int(width), int(height), fourcc(args.capture), args.decode)
    sys.stdout.write(report.text())
    return 0 if report.ok else 1
