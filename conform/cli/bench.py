"""``conform bench``: speed figures as JSON, ratios measured in the same run."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="measure rust-visl, conform and the kernel tier; JSON out",
        description="rust-visl jobs/s against a plain copy of the frame bytes, conform's "
        "per-frame overhead, requests built per second, 1 vs 2 worker scaling, kernel-tier "
        "boot and rust-visl against c-visl per job in one guest.",
    )
    p.add_argument("--no-kernel", action="store_true", help="skip the kernel-tier figures")
    p.add_argument("--no-scaling", action="store_true", help="skip the 1 vs 2 worker suite runs")
    p.add_argument("--out", type=Path, help="write the JSON here too (default: reports/bench-<time>.json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conform.bench import REPO, run_all

    result = run_all(kernel=not args.no_kernel, scaling=not args.no_scaling)
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    out = args.out or REPO / "reports" / time.strftime("bench-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    sys.stdout.write(text)
    return 0 if all(b["holds"] for b in result["bounds"].values()) else 1
