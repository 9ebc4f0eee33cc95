"""Re-running a command inside the kernel tier's guest for drivers that live there."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` module parameters from the command line."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"conform: --param wants NAME=VALUE, got {pair!r}")
        params[name] = value
    return params


def rerun_in_guest(argv: Sequence[str], params: dict[str, str], timeout: float) -> int:
    """Run ``conform ARGV`` with the host's Python inside the guest; relay output and status."""
    from conform.kernel import run_in_guest

    run = run_in_guest([sys.executable, "-m", "conform", *argv], params=params, timeout=timeout)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    if run.oops:
        print(
            "conform: the guest kernel reported an oops; see `conform kernel run --console`", file=sys.stderr
        )
    return run.returncode
