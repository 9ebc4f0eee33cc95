"""``conform run``: probes and vectors as items on a driver, parity, verdict and reports."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conform.drivers import driver_names, in_guest, resolve_driver
from conform.run.record import RunDir

REPO = Path(__file__).resolve().parents[2]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run probes and vectors on a driver and judge it against upstream visl",
        description="Run conform's items (probes, vector suites) on a driver as pytest items in "
        "parallel, persist each record as it finishes, compare with the references recorded from "
        "upstream visl (or a live c-visl run) and write the reports and the verdict under "
        "reports/<run-id>/.",
    )
    p.add_argument(
        "--driver",
        default="rust-visl",
        help=f"driver under test ({', '.join(driver_names())}; "
        "kernel:/dev/videoN for a real node; default: %(default)s)",
    )
    p.add_argument(
        "--against",
        default="references",
        choices=("references", "c-visl", "none"),
        help="what to compare with: the committed references of upstream visl, a live c-visl "
        "run in the kernel tier, or nothing (default: %(default)s)",
    )
    p.add_argument("--probes", default="all", help="probes to run: all, none, or a comma list")
    p.add_argument(
        "--suites",
        default="all",
        help="vector suites to run: all, none, or a comma list (conform vectors list; default: %(default)s)",
    )
    p.add_argument("--filter", default="", help="only items whose name contains this text")
    p.add_argument(
        "-n",
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="parallel workers (default: all cores, %(default)s)",
    )
    p.add_argument("--run-id", help="run directory name under reports/ (default: date and driver)")
    p.add_argument("--resume", action="store_true", help="continue a run: items with a record are kept")
    p.add_argument("--timeout", type=float, default=600, help="seconds per item (default: %(default)s)")
    p.add_argument("--in-guest-batch", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def pytest_command(args: argparse.Namespace, run_dir: Path, driver: str, extra: list[str]) -> list[str]:
    workers = max(0, args.workers if args.workers > 1 else 0)
    return [
        sys.executable,
        "-m",
        "pytest",
        str(run_dir / "collect"),
        "-c",
        os.devnull,
        "--rootdir",
        str(run_dir),
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "-n",
        str(workers),
        *(["--dist", "worksteal"] if workers else []),
        "--conform-driver",
        driver,
        "--conform-run-dir",
        str(run_dir),
        "--conform-probes",
        args.probes,
        "--conform-suites",
        ",".join(suite_names(args.suites)),
        "--conform-filter",
        args.filter,
        "--conform-timeout",
        str(args.timeout),
        *(["--conform-resume"] if args.resume else []),
        *extra,
    ]


def run(args: argparse.Namespace) -> int:
    if args.in_guest_batch:
        return guest_batch(args)
    run_id = args.run_id or time.strftime("%Y%m%d-%H%M%S-") + args.driver.replace("/", "_").replace(":", "_")
    run_dir = RunDir(REPO / "reports" / run_id)
    (run_dir.path / "collect").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.against == "c-visl" or resolve_driver(args.driver).needs_guest:
        run_c_visl(args, run_dir)
    if not resolve_driver(args.driver).needs_guest:
        if args.driver == "rust-visl":
            from conform.drivers.rust_visl import build_library

            build_library()
        subprocess.run(pytest_command(args, run_dir.path, args.driver, []), check=False)
    from conform.cli.report import report_run

    code = report_run(run_dir, args.driver, args.against, " ".join(["conform", *sys.argv[1:]]))
    print(f"conform: run {run_id} took {time.monotonic() - started:.0f} s; reports in {run_dir.path}")
    return code


def suite_names(spec: str) -> list[str]:
    """``all``, ``none`` or a comma list, as the names the plugin takes."""
    if spec == "none":
        return []
    if spec == "all":
        from conform.run.suite import load_suites

        return [s.name for s in load_suites()]
    return [s for s in spec.split(",") if s]


def run_c_visl(args: argparse.Namespace, run_dir: RunDir) -> None:
    """The items on c-visl in the kernel tier (the guest runs the same selection)."""
    from conform.drivers.rust_visl import build_library
    from conform.run.decode import vector_items
    from conform.run.guest import run_in_kernel_tier
    from conform.run.items import probe_items

    build_library()
    items = (
        []
        if args.probes == "none"
        else list(probe_items(None if args.probes == "all" else [p for p in args.probes.split(",") if p]))
    )
    items += vector_items(suite_names(args.suites))
    items = [i for i in items if args.filter in i.name]
    if args.resume:
        items = [i for i in items if run_dir.read("c-visl", i) is None]
    selection = [
        "--suites",
        ",".join(suite_names(args.suites)) or "none",
        "--filter",
        args.filter,
        "--timeout",
        str(args.timeout),
    ]
    if items:
        run_in_kernel_tier(run_dir, items, selection, timeout=3600)


def guest_batch(args: argparse.Namespace) -> int:
    """Inside the guest: the c-visl items of one parameter set, records streamed to stdout."""
    if not in_guest():
        raise SystemExit("conform: --in-guest-batch is for the kernel tier's guest")
    run_dir = Path(tempfile.mkdtemp(prefix="conform-run-"))
    (run_dir / "collect").mkdir()
    args.workers = 1
    cmd = pytest_command(
        args, run_dir, "c-visl", ["-s", "--conform-emit", "--conform-params-set", args.in_guest_batch]
    )
    return subprocess.run(cmd, check=False).returncode
