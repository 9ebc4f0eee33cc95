"""``conform kernel``: build the guest kernel, run commands in the guest."""

from __future__ import annotations

import argparse
import sys

from conform.cli.guest import parse_params


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "kernel",
        help="the kernel tier: upstream visl in a QEMU guest",
        description="Build (once, cached) a small kernel from Debian's linux-source-6.12 with visl built "
        "in, and run commands inside it with the host's root shared read-only.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="fetch, configure and build the guest kernel (cached)")
    build.add_argument("--force", action="store_true", help="rebuild even if a cached kernel exists")
    build.set_defaults(func=run_build)
    run = actions.add_parser(
        "run",
        help="run a command inside the guest and exit with its status",
        description="Boot the guest and run CMD as root in the host's current directory; stdout and "
        "stderr come back separately as they are written, the exit status is the command's.",
    )
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="visl module parameter on the kernel command line (repeatable)")  # fmt: skip
    run.add_argument("--timeout", type=float, default=600, help="seconds before the guest is killed")
    run.add_argument("--console", action="store_true", help="also print the guest's kernel log (to stderr)")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command to run")
    run.set_defaults(func=run_command)


def run_build(args: argparse.Namespace) -> int:
    from conform.kernel import build_info, ensure_kernel, kernel_image

    cached = kernel_image().is_file() and not args.force
    image = ensure_kernel(force=args.force)
    info = build_info()
    print(f"{image} ({'cached' if cached else 'built'}; Linux {info.get('release')}, {info.get('pin')})")
    return 0


def _relay(stream: str, text: str) -> None:
    out = sys.stdout if stream == "stdout" else sys.stderr
    out.write(text)
    out.flush()


def run_command(args: argparse.Namespace) -> int:
    from conform.kernel import run_in_guest

    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        print("conform kernel run: no command given (conform kernel run -- CMD ...)", file=sys.stderr)
        return 2
    run = run_in_guest(cmd, params=parse_params(args.param), timeout=args.timeout, on_output=_relay)
    if args.console:
        sys.stderr.write(run.console)
    print(
        f"conform kernel: Linux {run.kernel_release}, command started {run.boot_to_command_s:.1f} s after "
        f"QEMU, whole run {run.wall_s:.1f} s" + (", KERNEL OOPS in the log" if run.oops else ""),
        file=sys.stderr,
    )
    return run.returncode
